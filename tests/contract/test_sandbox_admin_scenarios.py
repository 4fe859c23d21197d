"""The admin API loads a scenario document as the scenario files are read: `base:` expanded, `patch:` applied."""

from __future__ import annotations

import httpx
import pytest

from sandbox.app import create_app
from sandbox.state import SCENARIOS, World, read_scenario


async def post_scenario(world: World, text: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(create_app(world)), base_url="http://sandbox") as admin:
        return await admin.post("/_sandbox/scenario", content=text.encode())


async def test_a_posted_scenario_with_base_and_patch_loads_like_its_file():
    posted, from_file = World(), World()
    answer = await post_scenario(posted, (SCENARIOS / "five_blockers.yaml").read_text())
    from_file.load(read_scenario("five_blockers"))
    assert answer.status_code == 200 and answer.json()["numbers"] == len(from_file.numbers) > 0
    assert posted.numbers == from_file.numbers and posted.wabas == from_file.wabas
    assert posted.numbers["500000000000001"].pin == "135790"  # the patch, not the base's number
    assert posted.businesses["100000000000001"].verification_status == "pending"


@pytest.mark.parametrize("text, says", [
    ("base: no_such_scenario\n", "no scenario named 'no_such_scenario'"),
    ('patch: {"500000000000001": {pin: "1"}}\n', "names none"),
])
async def test_a_scenario_that_cannot_be_expanded_is_refused_not_loaded_empty(text, says):
    world = World()
    world.load(read_scenario("eligible"))
    answer = await post_scenario(world, text)
    assert answer.status_code == 422 and says in answer.text
    assert world.numbers  # the world as it was
