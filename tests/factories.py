"""Events as tests need them, built through the same constructors the services use."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.events import MigrationRequested

ELIGIBLE_NUMBER = "+5511987654321"


def migration_requested(**overrides: Any) -> MigrationRequested:
    migration_id = overrides.pop("migration_id", uuid.uuid4())
    fields: dict[str, Any] = dict(
        migration_id=migration_id, correlation_id=migration_id, occurred_at=datetime.now(UTC),
        producer="tests", phone_number=ELIGIBLE_NUMBER, partner_id="partner-a",
        business_id="100000000000001", destination_waba_id="200000000000002", flow="programmatic",
        source="bsp_cloud_api", source_waba_id="200000000000001", phone_number_as_typed="+55 11 98765-4321",
        admin_access_confirmed=True,
    )
    fields.update(overrides)
    return MigrationRequested.create(**fields)
