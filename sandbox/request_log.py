"""The sandbox's log of Graph writes: what Meta received and applied, apart from what the client was answered."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

DROPPED = "dropped"  # the sandbox cut the connection instead of answering
CLIENT_GONE = "client gone"  # the answer was ready but the client had already disconnected


@dataclass
class WriteRecord:
    operation: str
    path: str
    target: str  # the number or WABA the write changes
    received_at: datetime
    fault: str | None = None  # the injected mode, None when the call ran as Meta normally does
    outcome: int | None = None  # the status Meta's own handling produced; None until (unless) it ran
    applied_at: datetime | None = None  # when that handling succeeded; None if it never did
    answered: int | str | None = None  # status sent, DROPPED or CLIENT_GONE; None while the call is in flight

    def as_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


def applied(records: Iterable[WriteRecord], operation: str) -> Counter[str]:
    """Writes of one operation Meta applied, per target, whatever the client heard back."""
    return Counter(r.target for r in records if r.operation == operation and r.applied_at is not None)
