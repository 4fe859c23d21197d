"""Composition root of the registration service: saga runner, scheduler, Kafka handlers, internal API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr

from services.registration import domain, scheduler, solution_intent
from services.registration.api import create_api
from services.registration.handlers import RegistrationHandlers
from services.registration.meta_api import MetaRegistrationApi
from services.registration.saga import Registration
from services.registration.steps import Context
from shared import locks, topics
from shared.consumer import Subscription
from shared.events import EmbeddedSignupFinished, MetaWebhookChange, NumberEligible, TemplatesDuplicated
from shared.graph import GraphClient
from shared.secrets import Cipher
from shared.service import Runtime, ServiceSpec, Wired
from shared.settings import GraphSettings, ServiceSettings


class RegistrationSettings(ServiceSettings, GraphSettings):
    secrets_key: SecretStr = Field(description="Fernet key encrypting two-step PINs and API keys at rest.")
    internal_token: SecretStr = Field(description="Shared with the gateway for the internal API.")
    bsp_business_id: str = Field(description="Our business portfolio, whose credit line customers' WABAs share.")
    app_id: str = Field(description="Our Meta app, subscribed to each destination WABA's webhooks.")
    waba_currency: str = Field(default="USD", pattern="^(AUD|EUR|GBP|IDR|INR|USD)$")
    obo_poll_seconds: float = Field(default=10, gt=0)
    obo_reminder_seconds: float = Field(default=24 * 3600, gt=0)
    obo_expiry_seconds: float = Field(default=7 * 24 * 3600, gt=0)
    code_escalation_seconds: float = Field(default=3600, gt=0)
    setup_escalation_seconds: float = Field(default=3600, gt=0)
    wrong_codes_per_code: int = Field(default=3, ge=1, le=10)
    scheduler_tick_seconds: float = Field(default=0.5, gt=0, le=60)
    saga_concurrency: int = Field(default=8, ge=1, le=64, description="Migrations advanced side by side.")
    templates_wait_seconds: float = Field(default=900, ge=0, le=86400, description=(
        "How long the saga waits for TemplatesDuplicated before it registers anyway; 0 registers without waiting."))


def limits(s: RegistrationSettings, graph: GraphClient) -> domain.Limits:
    return domain.Limits(write_outcome_window=timedelta(seconds=graph.outcome_window),
                         obo_poll=timedelta(seconds=s.obo_poll_seconds),
                         obo_reminder=timedelta(seconds=s.obo_reminder_seconds),
                         obo_expiry=timedelta(seconds=s.obo_expiry_seconds),
                         code_escalation=timedelta(seconds=s.code_escalation_seconds),
                         setup_escalation=timedelta(seconds=s.setup_escalation_seconds),
                         wrong_codes_per_code=s.wrong_codes_per_code,
                         templates_wait=timedelta(seconds=s.templates_wait_seconds))


@contextlib.asynccontextmanager
async def wire(runtime: Runtime) -> AsyncIterator[Wired]:
    s = runtime.settings
    assert isinstance(s, RegistrationSettings)
    graph = GraphClient.from_settings(s)
    api, saga_limits = MetaRegistrationApi(graph), limits(s, graph)
    lock_pool = await locks.open_pool(s.database_url, s.saga_concurrency + 16)
    reg = Registration(runtime.pool, lambda now: Context(api, now, saga_limits, s.bsp_business_id, s.app_id,
                                                         s.waba_currency),
                       runtime.clock, Cipher(s.secrets_key.get_secret_value()), lock_pool)
    handlers = RegistrationHandlers(reg)

    async def run_scheduler() -> None:
        await scheduler.run(reg, s.scheduler_tick_seconds, s.saga_concurrency, s.database_url)

    try:
        yield Wired({"number_eligible": handlers.on_number_eligible, "signup_finished": handlers.on_signup_finished,
                     "templates_duplicated": handlers.on_templates_duplicated,
                     "partner_added": handlers.on_partner_added},
                    create_api(reg, s.internal_token.get_secret_value()), (run_scheduler,))
    finally:
        await graph.aclose()
        await lock_pool.close()


SPEC = ServiceSpec(
    name="registration",
    description="The migration saga per number: OBO, add, code, verify, register, credit line, webhooks, API key.",
    subscriptions=(
        Subscription("number_eligible", topics.PRECHECK_RESULTS, (NumberEligible,),
                     "Starts (or queues) the saga of an eligible number."),
        Subscription("signup_finished", topics.SIGNUP_EVENTS, (EmbeddedSignupFinished,),
                     "Continues an Embedded Signup migration with the new WABA and number ids."),
        Subscription("templates_duplicated", topics.TEMPLATE_EVENTS, (TemplatesDuplicated,),
                     "Registers a number waiting for its templates once they are on the destination."),
        Subscription("partner_added", topics.META_WEBHOOKS, (MetaWebhookChange,),  # type: ignore[arg-type]
                     "Meta's account_update PARTNER_ADDED: a saga waiting for its solution-migration intent reads it "
                     "at once.", decode=solution_intent.account_update),
    ),
    wire=wire,
    migrations=Path(__file__).with_name("migrations"),
    settings_model=RegistrationSettings,
)
