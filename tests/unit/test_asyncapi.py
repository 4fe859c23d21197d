"""The checked-in AsyncAPI documents are what the code generates today."""

from __future__ import annotations

from pathlib import Path

import yaml

from numport_cli.app import SERVICES, spec_of
from shared.asyncapi import render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"


def test_checked_in_documents_are_fresh():
    for service in SERVICES:
        assert (DOCS / f"{service}.yaml").read_text() == render(spec_of(service)), (
            f"docs/asyncapi/{service}.yaml is stale: run `numport asyncapi` and commit")


def test_document_names_consumed_and_produced_channels_with_dead_letters():
    doc = yaml.safe_load(render(spec_of("precheck")))
    assert doc["asyncapi"] == "3.0.0"
    assert {"numport.migration.requests", "numport.migration.requests.dlq", "numport.precheck.results"} <= set(
        doc["channels"])
    assert doc["operations"]["on_migration_requested"]["action"] == "receive"
    assert "phone_number" in doc["components"]["messages"]["MigrationRequested"]["payload"]["properties"]
