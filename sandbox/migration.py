"""What Meta does with templates and numbers on a migration: copy what qualifies, re-check the copies' categories,
and move a registered number to its destination WABA."""

from __future__ import annotations

from dataclasses import replace

from sandbox import rules
from sandbox.state import PhoneNumber, Template, Waba, World

Notice = tuple[str, str, dict]  # (WABA id, webhook field, value)
AUTOMATIC = "registration"  # copied_by of Meta's own duplication when a migrated number registers


def limit_of(world: World, waba: Waba) -> int:
    owner = world.businesses.get(waba.business_id)
    named = any(n.name_status == "APPROVED" for n in world.numbers_of(waba.id))
    return rules.template_limit(waba.template_limit, owner is not None and owner.verification_status == "verified",
                                named)


def copy_templates(world: World, source_id: str, destination_id: str, eligible=rules.duplicable,
                   only: set[str] | None = None,
                   by: str = AUTOMATIC) -> tuple[list[tuple[Template, Template]], dict[str, str]]:
    """Copy what fits, with the source's status; quality starts UNKNOWN and the category re-check comes later."""
    source = [t for t in world.templates_of(source_id) if only is None or t.id in only]
    planned, failed = rules.plan_duplication(source, world.templates_of(destination_id),
                                             limit_of(world, world.wabas[destination_id]), eligible)
    copies = []
    for original in planned:
        copy = replace(original, id=world.new_id(), waba_id=destination_id, quality_score="UNKNOWN", copied_by=by,
                       quality_date=int(world.now().timestamp()), under_review=True)
        world.templates[copy.id] = copy
        copies.append((original, copy))
    return copies, failed


def webhook_language(language: str) -> str:
    """Meta's template webhooks write languages as en-US (its example), the Graph API as en_US."""
    return language.replace("_", "-")


def _names(t: Template) -> dict:
    return {"message_template_id": int(t.id), "message_template_name": t.name,
            "message_template_language": webhook_language(t.language)}


def template_notices(copies: list[tuple[Template, Template]]) -> list[Notice]:
    return [(copy.waba_id, "message_template_status_update", {
        "event": copy.status, **_names(copy), "message_template_category": copy.category, "reason": "NONE"})
        for _, copy in copies]


def review(world: World, waba_id: str | None = None) -> list[Notice]:
    """Meta re-checks the categories of copies: a `rejected_share` (a stable pick) turns out wrongly categorised and
    is REJECTED; Meta announces the right category, then the rejection."""
    notices: list[Notice] = []
    for copy in [t for t in world.templates.values() if t.under_review and waba_id in (None, t.waba_id)]:
        copy.under_review = False
        if not rules.recategorised_rejected(copy, world.limits.rejected_share):
            continue
        correct = "MARKETING" if copy.category != "MARKETING" else "UTILITY"
        copy.status = "REJECTED"
        notices += [(copy.waba_id, "template_category_update", {
            **_names(copy), "correct_category": correct, "new_category": copy.category,
            "category_update_timestamp": int(world.now().timestamp())}),
            (copy.waba_id, "message_template_status_update", {
                "event": "REJECTED", **_names(copy), "message_template_category": copy.category,
                "reason": "INCORRECT_CATEGORY",
                "rejection_info": {"reason": "INCORRECT_CATEGORY", "recommendation": f"Submit it as {correct}."}})]
    return notices


def complete_migration(world: World, number: PhoneNumber) -> list[Notice]:
    """Re-home the number on its destination WABA and copy the templates that qualify."""
    source_id, destination_id = number.waba_id, number.migrating_to
    assert destination_id is not None
    copies, _ = copy_templates(world, source_id, destination_id)
    number.waba_id, number.migrating_to = destination_id, None
    quality = (destination_id, "phone_number_quality_update", {
        "display_phone_number": number.e164_digits, "event": "ONBOARDING",
        "current_limit": number.messaging_limit_tier})
    return [quality, *template_notices(copies)]
