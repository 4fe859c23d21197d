"""Snapshots of every event's JSON Schema per `schema_version`, in `docs/events/`, and the check against them.

A snapshot is what subscribers were promised. The check fails on a change that would break them unless the
event's `schema_version` was bumped (the old version's snapshot stays, documenting what older records hold).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.compatibility import breaking_changes
from shared.events import ALL_EVENTS, MetaWebhookChange

FOLDER = Path(__file__).resolve().parents[1] / "docs" / "events"
RECORDS: tuple[type[Any], ...] = (*ALL_EVENTS, MetaWebhookChange)


def current() -> dict[str, tuple[int, dict[str, Any]]]:
    """type -> (schema_version, JSON Schema) as the code defines them now."""
    return {model.model_fields["type"].default: (model.model_fields["schema_version"].default,
                                                 model.model_json_schema()) for model in RECORDS}


def _path(folder: Path, kind: str, version: int) -> Path:
    return folder / f"{kind}.v{version}.json"


def problems(folder: Path = FOLDER) -> list[str]:
    """What stops the code from shipping: breaking changes within a version, and events without a snapshot."""
    found = []
    for kind, (version, schema) in current().items():
        snapshot = _path(folder, kind, version)
        if not snapshot.exists():
            found.append(f"{kind} v{version}: no snapshot yet; run `numport events snapshot` and commit it")
            continue
        for change in breaking_changes(json.loads(snapshot.read_text()), schema):
            found.append(f"{kind} v{version}: {change}; subscribers would break: bump schema_version instead")
    return found


def write(folder: Path = FOLDER) -> list[Path]:
    """Record the current schemas; refuses while a change would break subscribers of an existing version."""
    if breaking := [p for p in problems(folder) if "no snapshot yet" not in p]:
        raise ValueError("; ".join(breaking))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, (version, schema) in current().items():
        target = _path(folder, kind, version)
        text = json.dumps(schema, indent=1, sort_keys=True) + "\n"
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
            written.append(target)
    return written
