"""Kafka-facing handlers: they keep the map of the numbers we serve (WABA, customer, partner, migrating or not)."""

from __future__ import annotations

from services.partner_change import repository
from shared.consumer import Unit
from shared.events import MigrationFailed, MigrationNotNeeded, MigrationRequested, NumberIneligible, PhoneRegistered


async def on_migration_requested(event: MigrationRequested, unit: Unit) -> None:
    await unit.once(*repository.migration_requested(event.phone_number, event.migration_id, event.destination_waba_id,
                                                    event.business_id, event.partner_id))


async def on_registered(event: PhoneRegistered, unit: Unit) -> None:
    await unit.once(*repository.migration_registered(event.phone_number, event.migration_id,
                                                     event.destination_waba_id, event.destination_partner))


async def on_migration_ended(event: MigrationFailed | NumberIneligible | MigrationNotNeeded, unit: Unit) -> None:
    """A migration that stopped short: the number is no longer busy."""
    await unit.once(*repository.migration_ended(event.phone_number, event.migration_id))


async def on_registration_event(event: PhoneRegistered | MigrationFailed, unit: Unit) -> None:
    if isinstance(event, PhoneRegistered):
        await on_registered(event, unit)
    else:
        await on_migration_ended(event, unit)
