"""Who is calling, as internal APIs are told it: the gateway authenticates the key and names the caller in one
header; the service behind reads the same value back. One type on both sides keeps the two from drifting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HEADER = "X-Numport-Party"


@dataclass(frozen=True)
class Party:
    """A partner (by its id), or a customer business (its customer id and Meta business portfolio)."""

    kind: Literal["partner", "customer"]
    id: str
    business_id: str | None = None

    @property
    def header(self) -> str:
        """`partner:<id>` or `customer:<id>:<business id>`."""
        return f"{self.kind}:{self.id}" + (f":{self.business_id}" if self.business_id else "")

    @classmethod
    def parse(cls, header: str) -> Party:
        kind, ident, *business = header.split(":")
        if kind not in ("partner", "customer") or not ident or (kind == "customer") != bool(business):
            raise ValueError("malformed party")
        return cls(kind, ident, business[0] if business else None)  # type: ignore[arg-type]
