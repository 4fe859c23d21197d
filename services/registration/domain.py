"""The registration saga's rules, in Meta's order; pure: states, next steps, waits, limits, the support ticket.

Programmatic flow (Meta's programmatic guide, 360dialog, Sinch): OBO request and acceptance, add the number
with the migrate flag, 6-digit code by SMS or voice, verify, register on Cloud API with a new two-step PIN,
share the credit line, subscribe to webhooks, issue the API key. Embedded Signup v2 (Meta DE/FR): the signup
session created the WABA and proved ownership; we share the credit line, subscribe webhooks and register.
Solution-migration intent (Meta's Multi-Partner Solutions guides): for a number precheck found qualifying, the
intent on the source WABA replaces the OBO request and the code; once the customer accepted it, the number is added
and registered with no code. A refused, rejected or expired intent falls back to the programmatic (code) flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared import attempts
from shared.events import SolutionMigrationQualification

STEPS = {
    "programmatic": ("obo", "add_number", "request_code", "awaiting_code", "awaiting_templates", "register",
                     "credit_line", "webhooks", "api_key", "completed"),
    "embedded_signup": ("awaiting_signup", "credit_line", "webhooks", "awaiting_templates", "register", "api_key",
                        "completed"),
    "solution_intent": ("intent", "awaiting_intent", "add_number", "awaiting_templates", "register", "credit_line",
                        "webhooks", "api_key", "completed"),
}
WAITING = frozenset({"queued", "awaiting_obo", "awaiting_code", "awaiting_signup", "awaiting_templates",
                     "setting_up", "awaiting_intent"})
FINISHED = frozenset({"completed", "failed"})
LANGUAGE_BY_COUNTRY_CODE = {"55": "pt_BR", "351": "pt_PT", "49": "de_DE", "33": "fr_FR", "34": "es_ES", "52": "es_MX",
                            "54": "es_AR", "57": "es_CO", "39": "it_IT", "44": "en_GB", "1": "en_US"}


@dataclass(frozen=True)
class Limits:
    """How long and how often the saga waits on people and on Meta (all configurable)."""

    obo_poll: timedelta = timedelta(seconds=10)
    obo_reminder: timedelta = timedelta(hours=24)
    obo_expiry: timedelta = timedelta(days=7)
    code_escalation: timedelta = timedelta(hours=1)
    setup_escalation: timedelta = timedelta(hours=1)
    setup_poll: timedelta = timedelta(minutes=1)
    wrong_codes_per_code: int = 3
    write_outcome_window: timedelta = timedelta(seconds=35)  # how long Meta may still act on a write we sent
    templates_wait: timedelta = timedelta(minutes=15)  # 0: register without waiting for the templates


def still_in_flight(sent_at: datetime, now: datetime, limits: Limits) -> timedelta | None:
    """A write sent but never answered is Meta's until its outcome window has passed (see shared.attempts)."""
    return attempts.still_in_flight(sent_at, now, limits.write_outcome_window)


def waits_for_templates(templates_ready: bool, limits: Limits) -> bool:
    """Meta advises copying the templates before registering (Meta DE/FR, "template downtime"): registration waits
    for them, for at most `templates_wait`, so the number never works without its templates."""
    return not templates_ready and limits.templates_wait > timedelta(0)


def queues(flow: str) -> bool:
    """Programmatic migrations wait for their WABA's turn; an Embedded Signup session is the customer's own."""
    return flow in ("programmatic", "solution_intent")


def flow_for(requested: str, qualification: SolutionMigrationQualification | None) -> str:
    """A programmatic migration of a number precheck found qualifying takes the no-code path, automatically."""
    qualifies = qualification is not None and qualification.qualifies and qualification.solution_id
    return "solution_intent" if requested == "programmatic" and qualifies else requested


def path_chosen(requested: str, qualification: SolutionMigrationQualification | None) -> tuple[str, str, str] | None:
    """(path, reason code, message) for the timeline of a programmatic migration; None for Embedded Signup."""
    if requested != "programmatic":
        return None
    if qualification is None:
        return "pin", "NOT_ASSESSED", "Precheck did not assess the no-code path for this number: the code path runs."
    path = "solution_intent" if flow_for(requested, qualification) == "solution_intent" else "pin"
    return path, qualification.reason_code, qualification.message


def first_state(flow: str) -> str:
    return "queued" if queues(flow) else "awaiting_signup"


def after(flow: str, step: str) -> str:
    """The state that follows a finished step; `awaiting_obo` sits between the OBO request and adding the number."""
    if step == "obo":
        return "awaiting_obo"
    if step == "awaiting_obo":
        return "add_number"
    order = STEPS[flow]
    return order[order.index(step) + 1]


def is_active(state: str) -> bool:
    """Holds the WABA's turn: numbers of one WABA migrate one after another (the customer reads one code at a time)."""
    return state not in FINISHED and state != "queued"


def may_start(waba_states: list[str]) -> bool:
    return not any(is_active(s) for s in waba_states)


def queue_position(ahead: int) -> int:
    """1 = next to start (or started); each number ahead in the same WABA adds one."""
    return ahead + 1


def language_for(e164: str) -> str:
    """The customer's language for the SMS or call, from the number's country calling code."""
    digits = e164.lstrip("+")
    for length in (3, 2, 1):
        if digits[:length] in LANGUAGE_BY_COUNTRY_CODE:
            return LANGUAGE_BY_COUNTRY_CODE[digits[:length]]
    return "en_US"


@dataclass(frozen=True)
class CodeVerdict:
    accept_entry: bool
    attempts_left: int


def code_entry(wrong_so_far: int, limits: Limits) -> CodeVerdict:
    """A code may be tried a few times; after that only a new code (resend) opens the door again."""
    left = max(0, limits.wrong_codes_per_code - wrong_so_far)
    return CodeVerdict(accept_entry=left > 0, attempts_left=left)


def obo_timers(now: datetime, limits: Limits) -> dict[str, datetime]:
    return {"obo_poll": now + limits.obo_poll, "obo_reminder": now + limits.obo_reminder,
            "obo_expiry": now + limits.obo_expiry}


INFRASTRUCTURE = {"CLOUD_API": "Cloud API", "ON_PREMISE": "On-Premises"}


def support_ticket(*, current_bsp: str, business_verified: bool, platform: str, number_status: str,
                   waba_id: str, business_id: str, phone_number: str) -> dict[str, str]:
    """Exactly what a BSP onboarding team asks for (Sinch's ticket list), plus the number itself; `platform` and
    `number_status` are Meta's live answer, never what the partner declared."""
    return {
        "current_bsp": current_bsp,
        "business_verified": "yes" if business_verified else "no",
        "infrastructure": INFRASTRUCTURE.get(platform, f"unknown (Meta reports {platform or 'nothing'})"),
        "number_status": number_status,
        "waba_id": waba_id,
        "business_manager_id": business_id,
        "phone_number": phone_number,
    }
