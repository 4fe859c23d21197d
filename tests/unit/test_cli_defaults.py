"""The CLI asks the API for what the API would assume anyway: every request option defaults as the API does."""

from __future__ import annotations

import pytest
import typer

from services.gateway.cli import migrate
from services.gateway.models import MigrationRequest

COMMANDS = typer.main.get_command(migrate).commands  # type: ignore[attr-defined]
FIELD_OF = {"admin_access": "admin_access_confirmed", "phone": "phone_number"}


@pytest.mark.parametrize("command", ["dry-run", "start"])
def test_request_options_default_as_the_api_does(command):
    fields = MigrationRequest.model_fields
    options = {FIELD_OF.get(p.name, p.name): p for p in COMMANDS[command].params if FIELD_OF.get(p.name, p.name)
               in fields}
    assert set(options) == set(fields)  # every request field is an option
    for name, option in options.items():
        if fields[name].is_required():
            assert option.required, name
        else:
            assert not option.required and option.default == fields[name].default, name
    assert fields["admin_access_confirmed"].default is False  # a confirmation is never assumed
