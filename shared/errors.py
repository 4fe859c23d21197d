"""The two error kinds every service acts on: transient (retry with backoff) and permanent (record and move on)."""

from __future__ import annotations


class TransientError(Exception):
    """Worth retrying: the outside world may answer differently later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Retrying will not help; the caller records a failure event or dead-letters the input."""


class DuplicateEvent(Exception):
    """The consumer has already processed this event; its effects are committed."""
