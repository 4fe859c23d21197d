"""`numport customer create`: a customer business's key, which reaches only its own WABAs (partner changes)."""

from __future__ import annotations

import asyncio

import typer

from services.gateway.cli import fail

customer = typer.Typer(no_args_is_help=True, help="Manage customers (businesses) and their API keys.")


@customer.command()
def create(customer_id: str, business_id: str = typer.Option(..., help="The customer's Meta business portfolio id."),
           name: str | None = typer.Option(None, help="Display name.")) -> None:
    """Create a customer (or give it another key) and print the key: shown once, only its hash is stored."""
    from services.gateway.callers import create_customer_at
    from shared.settings import ServiceSettings, load

    class DatabaseOnly(ServiceSettings):
        kafka_bootstrap: str = ""

    try:
        key = asyncio.run(create_customer_at(load(DatabaseOnly).database_url, customer_id, business_id, name))
    except ValueError as error:
        fail(str(error))
    except Exception as error:  # an unreachable database: one line, no traceback
        fail(f"customer not created: {type(error).__name__}: {error}")
    print(key)
