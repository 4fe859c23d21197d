"""The second demo (`numport demo-partner-change`): a number migrates to us for local-partner, then its customer
moves the whole WABA to another integration partner, 360dialog's partner change, end to end.

The customer asks with its own key, reviews the numbers, accepts the terms and confirms a payment method (the new
partner asks for one); the new partner approves with its key; every number moves at one instant; the old partner
sees the WABA leave but nothing of where it went; the customer grants the new partner the numbers it manages.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

import httpx

from deploy.local import stack
from deploy.local.demo import CUSTOMER, READY, cli, console, step, wait_for_state
from deploy.local.processes import NUMPORT
from services.gateway.callers import create_customer_at
from services.gateway.partners import create_partners_at

NEW_PARTNER, WABA, BUSINESS = "new-partner", "200000000000002", "100000000000001"


def change_cli(local: stack.LocalStack, key: str, *args: str) -> dict:
    """One `numport partner-change` command as its caller (the key); its JSON answer when asked with --json."""
    env = {**os.environ, "NUMPORT_API_URL": local.api_url, "NUMPORT_API_KEY": key,
           "NUMPORT_DATABASE_URL": local.infra.database_url}
    console.print(f"[dim]$ numport partner-change {' '.join(args)}[/]")
    done = subprocess.run([NUMPORT, "partner-change", *args], env=env, text=True, capture_output=True, check=False)
    if done.returncode != 0 or "--json" not in args:
        console.print(done.stdout if done.returncode == 0 else f"[red]{done.stderr}[/]")
    return json.loads(done.stdout) if done.returncode == 0 and "--json" in args else {}


def number(local: stack.LocalStack, key: str, phone: str) -> dict:
    found = httpx.get(f"{local.api_url}/v1/numbers/{phone}", headers={"Authorization": f"Bearer {key}"}).json()
    console.print(f"{phone} as the new partner sees it: {found}")
    return found


def migrated(local: stack.LocalStack) -> str | None:
    """Steps 1-3 of the main demo, briefly: the number is ours, held by local-partner in the customer's WABA."""
    created = cli(local, "start", "--phone", READY, *CUSTOMER, "--json", capture=True)
    if created.returncode != 0:
        return None
    migration_id = json.loads(created.stdout)["id"]
    current = wait_for_state(local, migration_id, {"awaiting_obo"})
    httpx.post(f"{local.sandbox_url}/_sandbox/obo/{current['detail']['obo_request_id']}/accept")
    current = wait_for_state(local, migration_id, {"awaiting_code"})
    number_id = current["detail"]["phone_number_id"]
    cli(local, "code", migration_id, httpx.get(f"{local.sandbox_url}/_sandbox/numbers/{number_id}/code").json()["code"])
    done = wait_for_state(local, migration_id, {"completed"})
    return done["phone_number"] if done["state"] == "completed" else None


def run(local: stack.LocalStack) -> bool:
    step(f"1. A migration: {READY} comes to us for local-partner, in the customer's WABA {WABA}")
    phone = migrated(local)
    if phone is None:
        return False
    step("2. The customer gets its own key; the new partner has a key and takes changes by hand, with payment")
    customer = asyncio.run(create_customer_at(local.infra.database_url, "acme", BUSINESS, "Acme"))
    new_key = asyncio.run(create_partners_at(local.infra.database_url, NEW_PARTNER, add_key=True))[0]
    change_cli(local, "", "terms", NEW_PARTNER, "--approval", "manual", "--payment-method-required")
    step("3. The customer asks to move every number of its WABA, reviews them, accepts the terms, confirms payment")
    change = change_cli(local, customer, "request", "--waba-id", WABA, "--to", NEW_PARTNER, "--legal-name",
                        "Acme Ltda", "--country", "BR", "--json")
    change_cli(local, customer, "review", change["id"], "--phone", phone)
    change_cli(local, customer, "accept-terms", change["id"])
    change_cli(local, customer, "confirm-payment-method", change["id"])
    step("4. The old partner sees its WABA leaving, not where it goes, and cannot block it")
    change_cli(local, local.api_key, "status", change["id"])
    step("5. The new partner approves with its own key: every number moves at one instant")
    change_cli(local, new_key, "approve", change["id"])
    deadline = time.monotonic() + 30
    while change_cli(local, customer, "status", change["id"], "--json").get("state") != "completed":
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    change_cli(local, customer, "status", change["id"])
    step("6. Until the customer grants it, the new partner may only read the number; then it manages it")
    number(local, new_key, phone)
    change_cli(local, customer, "grant", change["id"], "--phone", phone)
    return number(local, new_key, phone).get("access") == "manage"


def main() -> int:
    started = time.monotonic()
    step("numport partner-change demo: starting PostgreSQL, Kafka, the sandbox and the services")
    with stack.running(scenario="demo") as local:
        ok = run(local)
    console.print(f"Everything the demo started is stopped. Total {time.monotonic() - started:.1f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
