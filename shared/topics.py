"""Kafka topics, the events each carries, and which services produce and consume them (the pipes)."""

from __future__ import annotations

from dataclasses import dataclass

from shared import events as ev


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    events: tuple[type[ev.Event], ...]
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    partitions: int = 3  # the most replicas any consumer of this topic may run (one member reads a partition)

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"


MIGRATION_REQUESTS = Topic(
    "numport.migration.requests",
    "A partner asked to migrate a number; keyed by the E.164 number.",
    (ev.MigrationRequested,),
    producers=("gateway",),
    consumers=("precheck", "partner_change"),
)
PRECHECK_RESULTS = Topic(
    "numport.precheck.results",
    "Outcome of the precheck: eligible, ineligible with every blocker, or no migration needed.",
    (ev.NumberEligible, ev.NumberIneligible, ev.MigrationNotNeeded),
    producers=("precheck",),
    consumers=("registration", "templates", "gateway", "partner_change"),
)
REGISTRATION_EVENTS = Topic(
    "numport.registration.events",
    "Every step of the registration saga, from the OBO request to the completed migration, failure or escalation.",
    (ev.MigrationQueued, ev.OboRequested, ev.OboReminderSent, ev.OboAccepted, ev.PhoneNumberAdded,
     ev.VerificationCodeRequested, ev.VerificationCodeRejected, ev.PhoneNumberVerified, ev.PhoneRegistered,
     ev.CreditLineShared, ev.WebhooksSubscribed, ev.ApiKeyIssued, ev.MigrationCompleted, ev.MigrationFailed,
     ev.MigrationEscalated, ev.TemplateWaitExpired, ev.MigrationPathChosen),
    producers=("registration",),
    consumers=("templates", "billing", "gateway", "partner_change"),
)
SIGNUP_EVENTS = Topic(
    "numport.embedded-signup.events",
    "What a customer's Embedded Signup session returned (new WABA and number ids), as the front end posted it.",
    (ev.EmbeddedSignupFinished,),
    producers=("gateway",),
    consumers=("registration", "templates"),
)
TEMPLATE_EVENTS = Topic(
    "numport.templates.events",
    "Templates copied to the destination WABA (migrated, skipped, left out, failed), Meta's re-categorisations "
    "after the copy, and the template downtime measured after registration.",
    (ev.TemplatesDuplicated, ev.TemplateRecategorised, ev.TemplateDowntimeMeasured),
    producers=("templates",),
    consumers=("registration", "gateway"),
)
TEMPLATE_REQUESTS = Topic(
    "numport.templates.requests",
    "A partner's manual retry of a migration's templates: copy again whatever is still missing on the destination.",
    (ev.TemplatesRetryRequested,),
    producers=("gateway",),
    consumers=("templates",),
)

META_WEBHOOKS = Topic(
    "numport.meta.webhooks",
    "Meta's webhooks as delivered (signature checked), one record per change; keyed by the business number, else "
    "by the WABA. Meta redelivers for days, so consumers deduplicate on the record's content-derived id.",
    (ev.MetaWebhookChange,),  # type: ignore[arg-type] - a wire record, not a migration event
    producers=("gateway",),
    consumers=("templates", "billing", "registration", "partner_change"),
    partitions=6,
)

BILLING_ATTRIBUTIONS = Topic(
    "numport.billing.attributions",
    "Every message billed to one partner by its send instant, and the reversal of an attribution that later facts "
    "(an earlier status, a late holder change, a failure) corrected; keyed by the business number.",
    (ev.MessageAttributed,),
    producers=("billing",),
    consumers=(),
    partitions=6,
)

PARTNER_CHANGE_EVENTS = Topic(
    "numport.partner-change.events",
    "A customer's WABA changing integration partner: requested, approved or declined, every number transferred at "
    "one instant (one record per number, keyed by it), and the new partner's permissions.",
    (ev.PartnerChangeRequested, ev.PartnerChangeApproved, ev.PartnerChangeDeclined, ev.PartnerChangeCompleted,
     ev.PartnerPermissionsGranted),
    producers=("partner_change",),
    consumers=("billing",),
)

PORT_OUT_REQUESTS = Topic(
    "numport.port-out.requests",
    "A customer or its new BSP asked to take a number away from us; keyed by the E.164 number.",
    (ev.PortOutRequested,),
    producers=("gateway",),
    consumers=("partner_change",),
)
PORT_OUT_EVENTS = Topic(
    "numport.port-out.events",
    "A port-out's steps: what must happen, reminders and escalation of the two-step ticket, two-step verification "
    "off, and the number's departure (a holder change for billing); keyed by the E.164 number.",
    (ev.PortOutStarted, ev.PortOutReminderSent, ev.PortOutEscalated, ev.TwoStepVerificationOff, ev.PhoneDeparted),
    producers=("partner_change",),
    consumers=("billing",),
)

ALL = (MIGRATION_REQUESTS, PRECHECK_RESULTS, REGISTRATION_EVENTS, TEMPLATE_EVENTS, TEMPLATE_REQUESTS, SIGNUP_EVENTS,
       META_WEBHOOKS, BILLING_ATTRIBUTIONS, PARTNER_CHANGE_EVENTS,
       PORT_OUT_REQUESTS, PORT_OUT_EVENTS)


def topic_of(event: ev.Event) -> Topic:
    """The one topic an event type is published to."""
    for topic in ALL:
        if type(event) in topic.events:
            return topic
    raise LookupError(f"no topic carries {type(event).__name__}")
