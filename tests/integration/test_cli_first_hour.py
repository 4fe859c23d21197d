"""A partner's first hour with the CLI, against a running gateway: each trap the issue found, shown closed."""

from __future__ import annotations

import json
import os
import pty
import subprocess

import httpx

from deploy.local.processes import NUMPORT
from sandbox.state import read_scenario
from services.gateway.status import KEY_COLLECTED
from tests.integration.gateway_support import REQUEST, create_partner_with_cli
from tests.integration.saga_support import migrate_fully, start
from tests.integration.test_cli import REQUEST_FLAGS, numport

NUMBER = "+55 11 98765-4321"
HEADER = "phone_number,business_id,destination_waba_id,source_waba_id"  # the README's header


def test_a_dry_run_names_each_blocker_and_exits_non_zero(gateway_stack, eligible_world):
    eligible_world.load(read_scenario("five_blockers"))
    report = json.loads(numport(gateway_stack, "dry-run", "--phone", NUMBER, *REQUEST_FLAGS, "--json").stdout)
    shown = numport(gateway_stack, "dry-run", "--phone", NUMBER, *REQUEST_FLAGS, columns=80)
    assert shown.returncode == 3 and "ineligible" in shown.stdout and len(report["failed"]) == 5
    flat = " ".join(shown.stdout.split())  # wrapped at 80 columns, it reads back whole
    for check in (c for c in report["report"] if c["status"] == "fail"):
        assert all(word in flat for word in (check["message"] + " " + check["remedy"]).split()), check
    refused = numport(gateway_stack, "dry-run", "--phone", NUMBER, *REQUEST_FLAGS[:-1])  # no --admin-access
    assert "ADMIN_ACCESS_NOT_CONFIRMED" in refused.stdout  # the API's default, not a CLI-only "true"


def test_batch_list_filters_and_a_number_already_migrating(gateway_stack, tmp_path):
    numbers = tmp_path / "numbers.csv"
    numbers.write_text(f"{HEADER}\n{NUMBER},100000000000001,200000000000002,200000000000001\n"
                       "+49 1701 2345 6789 01,100000000000001,200000000000002,\n"
                       "+55 11 98765-4322,100000000000001,x,\n")
    batch = numport(gateway_stack, "batch", str(numbers), columns=80)
    assert batch.returncode == 1, batch.stderr
    assert "line 3 refused: phone_number: too long: 16 digits" in batch.stdout
    assert "line 4 refused: destination_waba_id:" in batch.stdout
    [listed] = json.loads(numport(gateway_stack, "list", "--phone", "0055 (11) 98765 4321", "--json").stdout)["data"]
    assert listed["id"] in numport(gateway_stack, "list", columns=80).stdout  # whole, even at 80 columns
    assert listed["id"] in batch.stdout

    again = numport(gateway_stack, "dry-run", "--phone", NUMBER, *REQUEST_FLAGS)
    assert again.returncode == 4 and "in progress" in again.stdout and listed["id"] in again.stdout
    bogus = numport(gateway_stack, "list", "--state", "bogus")
    assert bogus.returncode == 1 and "query.state" in bogus.stderr and "'awaiting_code'" in bogus.stderr

    with httpx.Client(base_url=gateway_stack.url, headers={"Authorization": f"Bearer {gateway_stack.key_a}"}) as api:
        found = api.get("/v1/migrations", params={"phone_number": "0055 11 98765-4321"}).json()["data"]
        refused = api.get("/v1/migrations", params={"state": "bogus"})
        dry = api.post("/v1/migrations:dry-run", json={**REQUEST, "phone_number": "0055 11 98765 4321"}).json()
    assert [m["id"] for m in found] == [listed["id"]] and dry["outcome"] == "in_progress" and dry["report"] == []
    [field] = refused.json()["error"]["fields"]
    assert refused.status_code == 422 and field["field"] == "query.state" and "'completed'" in field["problem"]


def test_a_batch_refuses_a_file_that_is_not_utf8_and_shows_progress_only_on_a_terminal(gateway_stack, tmp_path):
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(f"{HEADER},display_name\n{NUMBER},1,2,3,Padaria São João\n".encode("latin-1"))
    refused = numport(gateway_stack, "batch", str(latin))
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1 and "not UTF-8" in refused.stderr
    numbers = tmp_path / "numbers.csv"
    numbers.write_text(f"{HEADER}\n{NUMBER},100000000000001,200000000000002,200000000000001\n")
    assert "starting migrations" in on_a_terminal(gateway_stack, "batch", str(numbers))
    assert "starting migrations" not in on_a_terminal(gateway_stack, "batch", str(numbers), "--json")


def on_a_terminal(stack, *args: str) -> str:
    """What the CLI wrote to stderr when stderr is a terminal (stdout stays a pipe, as in `… | jq`)."""
    main, side = pty.openpty()
    env = {**os.environ, "NUMPORT_API_URL": stack.url, "NUMPORT_API_KEY": stack.key_a, "COLUMNS": "120"}
    with subprocess.Popen([NUMPORT, "migrate", *args], env=env, stdout=subprocess.PIPE, stderr=side) as process:
        os.close(side)
        process.communicate(timeout=60)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other side is closed: everything was read
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    return seen.decode(errors="replace")


def test_partner_create_refuses_an_existing_id_unless_adding_a_key(gateway_stack, service_env):
    env = {**os.environ, **service_env}
    taken = subprocess.run([NUMPORT, "partner", "create", "partner-a", "--name", "Again"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert taken.returncode == 1 and taken.stdout == "" and len(taken.stderr.splitlines()) == 1
    assert "partner partner-a exists already" in taken.stderr and "--add-key" in taken.stderr
    added = subprocess.run([NUMPORT, "partner", "create", "partner-a", "--name", "A", "--add-key"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert added.returncode == 0 and added.stdout.startswith("np_partner-a_")
    assert numport(gateway_stack, "list", key=added.stdout.strip()).returncode == 0
    assert create_partner_with_cli(service_env, "partner-new").startswith("np_partner-new_")


async def test_watch_follows_a_migration_to_its_end_and_status_shows_the_key_collected(services, eligible_world):
    env = {**os.environ, "NUMPORT_API_URL": services.url, "NUMPORT_API_KEY": services.key}
    async with services.client() as api:
        migration_id = await start(api)
        follow = [NUMPORT, "migrate", "watch", "--json", "--every", "0.2", "--timeout", "90"]
        with subprocess.Popen([*follow, migration_id], env=env, stdout=subprocess.PIPE, text=True) as watching, \
                subprocess.Popen([*follow, "--waba", "200000000000002"], env=env, stdout=subprocess.PIPE,
                                 text=True) as watching_waba:
            first = watching.stdout.readline()  # the saga waits at awaiting_obo for the customer at the latest
            first_counts = json.loads(watching_waba.stdout.readline())["counts"]
            await migrate_fully(api, eligible_world, migration_id)
            followed = first + watching.communicate(timeout=60)[0]
            counted = watching_waba.communicate(timeout=60)[0]
        states = [json.loads(line)["state"] for line in followed.splitlines()]
        assert watching.returncode == 0 and states[-1] == "completed", followed
        assert watching_waba.returncode == 0 and first_counts != {"completed": 1}, counted
        assert json.loads(counted.splitlines()[-1])["counts"] == {"completed": 1}
        # the first look sees it waiting; how many states pass between two looks depends on the machine's speed
        assert states[0] in ("requested", "eligible", "queued", "awaiting_obo") and len(states) >= 2, followed
        assert len(states) == len(set(states))  # a line per change, not per look

        key = numport(services, "api-key", migration_id, key=services.key)
        assert key.returncode == 0 and "wa_" in key.stdout
        status = numport(services, "status", migration_id, key=services.key)
        assert "API key: collected at" in status.stdout and KEY_COLLECTED in " ".join(status.stdout.split())
        assert (await api.get(f"/v1/migrations/{migration_id}")).json()["next_action"] == KEY_COLLECTED
