"""The Discord bot: a thin front end over `retrieval/` and `ingest/`.

`app` builds the bot (`make_bot`), `runner` runs it (`run_bot`, the `newsdesk bot` command), `cogs/` hold the
commands and listeners, `answering` is the one path from question to reply, `render` fits replies into Discord's
limits, `views` the buttons, `feedback` the votes store and its export, `limits` and `workers` the rate limits and
the bounded work queue, `logs` the secret redaction. Importing this package creates nothing.
"""
