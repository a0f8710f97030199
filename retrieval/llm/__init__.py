"""LLM-written answers with verified citations (optional: `LLM_PROVIDER` other than `none`).

Nothing here is imported unless an LLM provider is configured: `retrieval.answerers.make_answerer` imports
`retrieval.llm.answerer` only then, and each provider's integration package only inside its factory.
"""
