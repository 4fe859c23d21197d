"""Template duplication as the documents describe it (Meta DE/FR, 360dialog, Sinch, Meta's template-migration page);
pure: which templates qualify, the destination's limit and the order that fills it, the calls that copy them."""

from __future__ import annotations

import math
from dataclasses import dataclass

STANDARD_LIMIT, VERIFIED_LIMIT = 250, 6000  # template names per WABA; translations of a name count once
MAX_PER_CALL = 500  # templates per migration call, by page (`count`) or by `template_ids`
CATEGORY_ORDER = {"AUTHENTICATION": 0, "UTILITY": 1, "MARKETING": 2}
STATUS_REASONS = {
    "PENDING": "Meta is still reviewing it; once it is approved, retry the templates.",
    "REJECTED": "Meta rejected it; fix it and submit it on the destination.",
    "PAUSED": "Meta paused it for low quality; it is copied once it is active and rated GREEN again.",
    "DISABLED": "Meta disabled it after repeated low quality; re-create it on the destination.",
    "IN_APPEAL": "Its rejection is under appeal; retry the templates once Meta approves it.",
    "LIMIT_EXCEEDED": "The source WABA was over its template limit when it was submitted; submit it again.",
}
QUALITY_REASONS = {
    "YELLOW": "Its quality is medium (YELLOW); only templates of high quality (GREEN) are copied.",
    "RED": "Its quality is low (RED); only templates of high quality (GREEN) are copied.",
    "UNKNOWN": "Meta has not rated its quality yet; only templates rated GREEN are copied. Retry once it is.",
}


@dataclass(frozen=True)
class Template:
    """A template as a WABA lists it: one name in one language."""

    id: str
    name: str
    language: str
    category: str = "UTILITY"
    status: str = "APPROVED"
    quality: str = "UNKNOWN"

    @property
    def key(self) -> tuple[str, str]:
        return self.name, language_key(self.language)


@dataclass(frozen=True)
class Decision:
    """What numport does with one source template: migrate it, or why not."""

    template: Template
    outcome: str  # migrate | already_present | skipped | left_out
    reason_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Call:
    """One migration call: a page of the source's templates (`page_number`, `count`), or exact `template_ids`."""

    page_number: int | None
    count: int
    template_ids: tuple[str, ...] = ()


def language_key(language: str) -> str:
    """Meta's webhooks write en-US where the Graph API writes en_US: one spelling to compare by."""
    return language.replace("-", "_")


def skip_reason(t: Template) -> tuple[str, str] | None:
    """Only templates with status APPROVED and quality GREEN are duplicated (all three documents)."""
    if t.status != "APPROVED":
        return f"STATUS_{t.status}", STATUS_REASONS.get(t.status, f"Its status is {t.status}; only APPROVED "
                                                                   "templates are copied.")
    if t.quality != "GREEN":
        return f"QUALITY_{t.quality}", QUALITY_REASONS.get(t.quality, f"Its quality is {t.quality}; only GREEN "
                                                                      "templates are copied.")
    return None


def template_limit(business_verified: bool, approved_name: bool) -> int:
    """250 names per WABA; 6,000 when its business is verified and a number of the WABA has an approved name."""
    return VERIFIED_LIMIT if business_verified and approved_name else STANDARD_LIMIT


def names_in_order(eligible: list[Template]) -> list[str]:
    """The order in which new names take the destination's free slots: authentication first (a missing one-time
    code template locks customers out), then utility (orders, accounts), then marketing; A to Z within a category.
    A name ranks by its most important language, and all its languages go together: they share one slot."""
    rank: dict[str, int] = {}
    for t in eligible:
        rank[t.name] = min(rank.get(t.name, len(CATEGORY_ORDER)), CATEGORY_ORDER.get(t.category, len(CATEGORY_ORDER)))
    return sorted(rank, key=lambda name: (rank[name], name))


def decide(source: list[Template], destination: list[Template], limit: int) -> list[Decision]:
    """Every source template's fate, in the source's order. A name already on the destination takes no new slot."""
    present, names_there = {t.key for t in destination}, {t.name for t in destination}
    eligible = [t for t in source if skip_reason(t) is None and t.key not in present]
    room = max(0, limit - len(names_there))
    fits = names_there | set([n for n in names_in_order(eligible) if n not in names_there][:room])
    left_out = ("LIMIT", f"The destination holds {limit} template names and had room for {room} more; the rest "
                          "went first (authentication, utility, marketing; A to Z). Delete unused templates on the "
                          "destination and retry, or re-create this one.")
    decisions = []
    for t in source:
        if (why := skip_reason(t)) is not None:
            decisions.append(Decision(t, "skipped", *why))
        elif t.key in present:
            decisions.append(Decision(t, "already_present", "ALREADY_PRESENT",
                                      "The destination already has this name in this language."))
        else:
            decisions.append(Decision(t, "migrate") if t.name in fits else Decision(t, "left_out", *left_out))
    return decisions


def meta_would_copy(t: Template) -> bool:
    """Meta's template-migration call copies APPROVED templates of GREEN or not yet rated (UNKNOWN) quality."""
    return t.status == "APPROVED" and t.quality in ("GREEN", "UNKNOWN")


def calls(source: list[Template], decisions: list[Decision], size: int, exact: bool = False) -> list[Call]:
    """The migration calls of a round. Pages (`page_number`/`count`) when Meta's own pick over the whole source is
    exactly ours, so paging copies nothing we decided against; otherwise, and for retries, exact `template_ids`."""
    wanted = [d.template.id for d in decisions if d.outcome == "migrate"]
    size = max(1, min(size, MAX_PER_CALL))
    if not wanted:
        return []
    if not exact and set(wanted) == {t.id for t in source if meta_would_copy(t)}:
        return [Call(page, size) for page in range(math.ceil(len(source) / size))]
    return by_ids(wanted, size)


def by_ids(ids: list[str], size: int) -> list[Call]:
    return [Call(None, len(chunk), tuple(chunk)) for chunk in (ids[i:i + size] for i in range(0, len(ids), size))]


def failures(answer: dict) -> dict[str, str]:
    """Meta's `failed_templates`: an id → reason map in its example, a list in its syntax block; read both."""
    raw = answer.get("failed_templates") or {}
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    found: dict[str, str] = {}
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            ident = item.get("id") or item.get("template_id") or item.get("source_id")
            reason = item.get("reason") or item.get("error_message") or item.get("message")
            if ident is not None:
                found[str(ident)] = str(reason or "Meta gave no reason")
        else:
            found[str(item)] = "Meta gave no reason"
    return found


def meta_refusal(reason: str) -> tuple[str, str]:
    """Outcome and code of a template Meta did not copy: its limit reached means left out, anything else failed."""
    return ("left_out", "META_LIMIT") if "limit" in reason.lower() else ("failed", "META_FAILED")
