"""Event changes cannot break subscribers: within one schema_version only additions pass."""

from __future__ import annotations

import json
import shutil
from typing import Literal

from pydantic import BaseModel, Field

from shared.compatibility import breaking_changes
from shared.event_snapshots import FOLDER, problems


class Shipped(BaseModel):
    migration_id: str
    step: str
    attempt: int
    outcome: Literal["done", "refused"]
    note: str | None = None


def changes(new: type[BaseModel]) -> list[str]:
    return breaking_changes(Shipped.model_json_schema(), new.model_json_schema())


def test_an_added_optional_field_or_enum_value_or_wider_number_passes():
    class Grown(BaseModel):
        migration_id: str
        step: str
        attempt: float
        outcome: Literal["done", "refused", "skipped"]
        note: str | None = None
        hint: str | None = Field(default=None, description="added later")

    assert changes(Grown) == []


def test_removed_renamed_narrowed_newly_required_and_lost_enum_values_break():
    class Broken(BaseModel):
        migration_id: int
        stage: str
        attempt: int
        outcome: Literal["done"]
        note: str = Field(pattern="^[a-z]+$")
        reason: str

    found = changes(Broken)
    assert any(f.startswith("step: removed or renamed") for f in found)
    assert any(f.startswith("stage: newly required") for f in found)
    assert any(f.startswith("reason: newly required") for f in found)
    assert any(f.startswith("migration_id: type changed from string to integer") for f in found)
    assert any(f.startswith("outcome: enum values removed: ['refused']") for f in found)
    assert any(f.startswith("note: no longer accepts null") for f in found)
    assert any("note" in f and "pattern" in f for f in found)


def test_the_shipped_events_match_their_snapshots():
    assert problems() == [], "\n".join(problems())


def test_a_breaking_change_to_a_real_event_fails_the_check(tmp_path):
    shutil.copytree(FOLDER, tmp_path, dirs_exist_ok=True)
    snapshot = tmp_path / "PhoneRegistered.v1.json"
    promised = json.loads(snapshot.read_text())
    promised["properties"]["billing_region"] = {"type": "string"}  # a field the code no longer has
    promised["properties"]["completed_at"]["format"] = "date"  # ... and a format it no longer promises
    snapshot.write_text(json.dumps(promised))
    (tmp_path / "OboAccepted.v1.json").unlink()
    found = problems(tmp_path)
    assert "PhoneRegistered v1: billing_region: removed or renamed; subscribers would break: bump schema_version " \
           "instead" in found
    assert any(f.startswith("PhoneRegistered v1: completed_at: format now 'date-time'") for f in found)
    assert any(f.startswith("OboAccepted v1: no snapshot yet") for f in found)
