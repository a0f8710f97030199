"""Errors the front ends turn into short messages for users."""


class StoreUnavailable(RuntimeError):
    """The knowledge base (a Chroma server) cannot be reached right now; retrying later may work."""


class BadQuestion(ValueError):
    """The question cannot be answered as asked (empty, for instance); the message says why."""
