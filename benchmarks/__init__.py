"""Benchmarks: newsdesk side by side with the naive LangChain pipeline (`python -m benchmarks.run --help`)."""
