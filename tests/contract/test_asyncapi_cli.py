"""The AsyncAPI documents pass the official AsyncAPI CLI, and the check can fail."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deploy.local.node_tools import validate_asyncapi
from shared import asyncapi
from shared.events import Event

DOCUMENTS = sorted((Path(__file__).resolve().parents[2] / "docs" / "asyncapi").glob("*.yaml"))


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.stem for d in DOCUMENTS])
def test_every_document_is_valid_for_the_asyncapi_cli(document):
    checked = validate_asyncapi(document)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "is valid" in checked.stdout


def test_a_message_without_a_summary_fails_the_cli(tmp_path):
    broken = yaml.safe_load(DOCUMENTS[0].read_text())
    name = next(iter(broken["components"]["messages"]))
    broken["components"]["messages"][name]["summary"] = None
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))
    checked = validate_asyncapi(tmp_path / "broken.yaml")
    assert checked.returncode != 0 and f"components.messages.{name}.summary" in checked.stdout


def test_the_generator_refuses_an_event_without_a_docstring():
    class Undocumented(Event):
        pass

    Undocumented.__doc__ = None
    with pytest.raises(ValueError, match="Undocumented has no docstring"):
        asyncapi.explained(Undocumented)
