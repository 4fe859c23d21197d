"""What Meta does when a migrated number registers on the destination: move it and duplicate its templates."""

from __future__ import annotations

from dataclasses import replace

from sandbox import rules
from sandbox.state import PhoneNumber, Template, World

Notice = tuple[str, str, dict]  # (WABA id, webhook field, value)


def copy_templates(world: World, source_id: str, destination_id: str, eligible=rules.duplicable,
                   only: set[str] | None = None) -> tuple[list[tuple[Template, Template]], dict[str, str]]:
    """Copy what fits; copies start with quality UNKNOWN and a share is re-categorised to REJECTED."""
    destination = world.wabas[destination_id]
    source = [t for t in world.templates_of(source_id) if only is None or t.id in only]
    planned, failed = rules.plan_duplication(source, world.templates_of(destination_id),
                                             destination.template_limit, world.limits.rejected_share, eligible)
    copies = []
    for original in planned:
        rejected = rules.recategorised_rejected(original, world.limits.rejected_share)
        copy = replace(original, id=world.new_id(), waba_id=destination_id, quality_score="UNKNOWN",
                       status="REJECTED" if rejected else original.status)
        world.templates[copy.id] = copy
        copies.append((original, copy))
    return copies, failed


def template_notices(copies: list[tuple[Template, Template]]) -> list[Notice]:
    return [(copy.waba_id, "message_template_status_update", {
        "event": copy.status, "message_template_id": int(copy.id), "message_template_name": copy.name,
        "message_template_language": copy.language, "message_template_category": copy.category,
        "reason": "INCORRECT_CATEGORY" if copy.status == "REJECTED" else None}) for _, copy in copies]


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
