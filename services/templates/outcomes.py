"""What became of each template once Meta answered: the copy seen on the destination, Meta's webhooks about it
afterwards, and the template downtime; pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.templates.domain import Template, language_key, meta_refusal

RATING_WINDOW = timedelta(hours=24)  # copies start with quality UNKNOWN for their first 24 hours (Meta DE/FR)
ON_DESTINATION = ("migrated", "already_present", "rejected")  # outcomes of a template the destination holds


@dataclass(frozen=True)
class Settled:
    outcome: str
    reason_code: str | None = None
    reason: str | None = None
    template_id: str | None = None
    usable_at: datetime | None = None
    rating_window_ends_at: datetime | None = None


def settle(copy: Template | None, meta_reason: str | None, seen_at: datetime, may_resend: bool) -> Settled | None:
    """A template numport meant to copy, after the round's calls: on the destination it is migrated (rejected if
    Meta already rejected the copy), usable since `seen_at`; missing, Meta's reason decides. None: missing with
    no reason, after a call whose answer never came, so it is sent again by id."""
    if copy is not None:
        outcome = "rejected" if copy.status == "REJECTED" else "migrated"
        reason = ("INCORRECT_CATEGORY", "Meta re-checked its category and rejected the copy.") \
            if outcome == "rejected" else (None, None)
        return Settled(outcome, *reason, copy.id, seen_at, seen_at + RATING_WINDOW)
    if meta_reason:
        outcome, code = meta_refusal(meta_reason)
        return Settled(outcome, code, f"Meta did not copy it: {meta_reason}")
    if may_resend:
        return None
    return Settled("failed", "NOT_ON_DESTINATION", "Meta answered the call but the copy is not on the destination; "
                                                   "retry the templates.")


def counts(outcomes: list[str]) -> dict[str, int]:
    found = Counter(outcomes)
    return {o: found[o] for o in ("migrated", "already_present", "skipped", "left_out", "failed", "rejected")}


def downtime(registered_at: datetime, usable: list[datetime]) -> tuple[datetime | None, float]:
    """From registration to the moment the last template on the destination was usable; 0 when all came first.
    Meta gives the registration instant to the second, so the measure is in whole seconds: a template seen
    within the second of registration may have come first, and is not counted late."""
    last = max(usable, default=None)
    if last is None:
        return None, 0.0
    return last, max(0.0, (last.replace(microsecond=0) - registered_at).total_seconds())


@dataclass(frozen=True)
class TemplateChange:
    """What one of Meta's template webhooks says about a template."""

    name: str
    language: str
    template_id: str | None = None
    status: str | None = None
    category: str | None = None
    correct_category: str | None = None
    reason: str | None = None
    quality: str | None = None


def change_of(field: str, value: dict[str, Any]) -> TemplateChange | None:
    """The change a template webhook reports; None for other fields or a value without name and language."""
    name, language = value.get("message_template_name"), value.get("message_template_language")
    if not isinstance(name, str) or not isinstance(language, str):
        return None
    ident = str(value["message_template_id"]) if value.get("message_template_id") is not None else None
    base = {"name": name, "language": language_key(language), "template_id": ident}
    if field == "message_template_status_update":
        reason = value.get("reason")
        return TemplateChange(**base, status=value.get("event"), category=value.get("message_template_category"),
                              reason=None if reason in (None, "NONE") else str(reason))
    if field == "template_category_update":  # announced: correct_category + new_category; done: previous + new
        return TemplateChange(**base, category=value.get("new_category"),
                              correct_category=value.get("correct_category"))
    if field == "message_template_quality_update":
        return TemplateChange(**base, quality=value.get("new_quality_score"))
    return None


def outcome_after(current: str, change: TemplateChange) -> str:
    """A copy rejected after duplication becomes `rejected`; one approved again (an appeal won) is `migrated`."""
    if change.status == "REJECTED":
        return "rejected"
    if change.status in ("APPROVED", "REINSTATED") and current == "rejected":
        return "migrated"
    return current


def recategorised(change: TemplateChange, category_before: str | None) -> bool:
    """Meta's re-check after duplication: a rejection, an announced correct category, or a changed category."""
    return (change.status == "REJECTED" or change.correct_category is not None
            or (change.category is not None and change.status is None and change.category != category_before))
