"""The event contract: one envelope and every domain event numport's services exchange on Kafka.

Events are frozen and versioned; their ids are derived from what they are about, so an event emitted twice
(a retried handler, a replayed outbox row) carries the same id and deduplicates downstream.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, field_validator

NAMESPACE = uuid.UUID("6f1c1f4e-6d0f-5a43-9c59-6e756d706f72")
SUPPORTED_SCHEMA_VERSIONS = (1,)

PhoneKey = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164 phone number, the Kafka key.")]


def derive_id(*parts: object) -> uuid.UUID:
    """A uuid5 over the parts: the same facts always give the same id."""
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


class Event(BaseModel):
    """Envelope shared by every event; subclasses add the payload and pin `type`."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    identity_fields: ClassVar[tuple[str, ...]] = ()

    event_id: uuid.UUID = Field(description="Deterministic id (uuid5 of migration, type and identity fields).")
    type: str = Field(description="Event type name, past tense; selects the payload schema.")
    schema_version: Literal[1] = Field(default=1, description="Payload schema version; bumped only on breaking change.")
    occurred_at: AwareDatetime = Field(description="When the fact happened, timezone-aware UTC.")
    migration_id: uuid.UUID = Field(description="The migration this event belongs to.")
    phone_number: PhoneKey
    correlation_id: uuid.UUID = Field(description="Id shared by every event of one migration request.")
    causation_id: uuid.UUID | None = Field(default=None, description="event_id of the event that caused this one.")
    producer: str = Field(description="Service that emitted the event.")

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @classmethod
    def create(cls, *, cause: Event | None = None, **fields: Any) -> Any:
        """Build the event with its derived id, inheriting migration, number and correlation from `cause`."""
        if cause is not None:
            fields.setdefault("migration_id", cause.migration_id)
            fields.setdefault("phone_number", cause.phone_number)
            fields.setdefault("correlation_id", cause.correlation_id)
            fields.setdefault("causation_id", cause.event_id)
        kind = cls.model_fields["type"].default
        identity = [fields[name] for name in cls.identity_fields]
        fields["event_id"] = derive_id(fields["migration_id"], kind, *identity)
        return cls(type=kind, **fields)


Flow = Literal["programmatic", "embedded_signup"]
SourceKind = Literal["bsp_cloud_api", "bsp_on_premises", "own_on_premises"]
Actor = Literal["customer", "current_bsp", "numport"]


class MigrationRequested(Event):
    """A partner asked to migrate a number to us.

    The request as the partner made it, after the API validated it; precheck consumes it.
    """

    type: Literal["MigrationRequested"] = Field("MigrationRequested", description="Event type name.")
    partner_id: str = Field(description="Our partner (reseller or platform team) that asked for the migration.")
    business_id: str = Field(description="Meta Business Manager ID the customer gave.")
    destination_waba_id: str = Field(description="WABA the number moves to.")
    flow: Flow = Field(description="Meta migration flow to run.")
    source: SourceKind = Field(description="Where the number is served today.")
    source_waba_id: str | None = Field(default=None, description="WABA that holds the number now, when known.")
    display_name: str | None = Field(default=None, description="Display name the customer expects to keep.")
    website: str | None = Field(default=None, description="Business website listed in Business Manager.")
    phone_number_as_typed: str = Field(description="The number exactly as the customer typed it.")
    admin_access_confirmed: bool = Field(description="Requester confirms admin access to Business Manager.")


class CheckOutcome(BaseModel):
    """One precheck item: passed, failed (with why, how to fix and who must act) or not applicable."""

    model_config = ConfigDict(frozen=True)
    check: str = Field(description="Stable name of the check.")
    status: Literal["pass", "fail", "not_applicable"] = Field(description="Result of the check.")
    reason_code: str | None = Field(default=None, description="Stable code of the failure.")
    message: str | None = Field(default=None, description="What is wrong, in plain words.")
    remedy: str | None = Field(default=None, description="What to do about it.")
    actor: Actor | None = Field(default=None, description="Who must act to fix it.")


class SolutionMigrationQualification(BaseModel):
    """Whether the number may move by Meta's solution-migration intent (no ownership code, no downtime), and why."""

    model_config = ConfigDict(frozen=True)
    qualifies: bool = Field(description="True when the same business portfolio holds both WABAs, the destination "
                                        "solution is ACTIVE and the number is not also on the WhatsApp Business app.")
    reason_code: str = Field(description="QUALIFIES, or the stable code of the first condition not met.")
    message: str = Field(description="Why, in plain words.")
    solution_id: str | None = Field(default=None, description="The destination Multi-Partner Solution, when known.")


class NumberEligible(Event):
    """Precheck found nothing in the way: the number may migrate.

    Carries the whole request, so registration and templates can start without asking the gateway.
    """

    type: Literal["NumberEligible"] = Field("NumberEligible", description="Event type name.")
    report: tuple[CheckOutcome, ...] = Field(description="Every check with its outcome.")
    partner_id: str = Field(description="Our partner that asked for the migration.")
    business_id: str = Field(description="Meta Business Manager ID of the customer.")
    destination_waba_id: str = Field(description="WABA the number moves to.")
    flow: Flow = Field(description="Meta migration flow to run.")
    source: SourceKind = Field(description="Where the number is served today.")
    source_waba_id: str | None = Field(default=None, description="WABA that holds the number now.")
    phone_number_id: str | None = Field(default=None, description="Graph id of the number on the source WABA.")
    solution_migration: SolutionMigrationQualification | None = Field(
        default=None, description="Whether the no-code solution-migration path applies; absent from older verdicts.")


class NumberIneligible(Event):
    """Precheck found blockers; nothing was changed anywhere.

    Names every failed check with who must act and the remedy, so the partner can fix them all at once.
    """

    type: Literal["NumberIneligible"] = Field("NumberIneligible", description="Event type name.")
    report: tuple[CheckOutcome, ...] = Field(description="Every check with its outcome.")
    failed: tuple[str, ...] = Field(description="Reason codes of the failed checks.")


class MigrationNotNeeded(Event):
    """No migration is needed: the number is already ours, or can simply be added.

    Ends the request without touching Meta.
    """

    type: Literal["MigrationNotNeeded"] = Field("MigrationNotNeeded", description="Event type name.")
    outcome: Literal["add_directly", "already_moved"] = Field(description="Why no migration is needed.")
    message: str = Field(description="What the partner should do instead.")


class OboAccepted(Event):
    """The customer accepted our Message-on-Behalf request.

    From now on we may add the number to the destination WABA.
    """

    type: Literal["OboAccepted"] = Field("OboAccepted", description="Event type name.")
    business_id: str = Field(description="Customer business that accepted the Message-on-Behalf request.")
    destination_waba_id: str = Field(description="WABA the request was for.")
    accepted_at: AwareDatetime = Field(description="When the customer accepted.")


class PhoneRegistered(Event):
    """The number is registered on Cloud API in the destination WABA: the migration-complete instant.

    `completed_at` (Meta's `last_onboarded_time`) divides billing between the source and destination partners.
    """

    type: Literal["PhoneRegistered"] = Field("PhoneRegistered", description="Event type name.")
    phone_number_id: str = Field(description="Graph id of the number on the destination WABA.")
    destination_waba_id: str = Field(description="WABA the number now belongs to.")
    completed_at: AwareDatetime = Field(description="Migration-complete instant: when Meta accepted the registration.")
    source_partner: str = Field(description="Partner billed for messages sent before completed_at.")
    destination_partner: str = Field(description="Partner billed for messages sent at or after completed_at.")


TemplateFate = Literal["migrated", "already_present", "skipped", "left_out", "failed", "rejected"]


class TemplateOutcome(BaseModel):
    """One source template (a name in one language) and what became of it on the destination WABA."""

    model_config = ConfigDict(frozen=True)
    name: str = Field(description="Template name.")
    language: str = Field(description="Template language code, as the source WABA lists it (en_US).")
    category: str | None = Field(default=None, description="AUTHENTICATION, UTILITY or MARKETING, as last known.")
    outcome: TemplateFate = Field(description=(
        "migrated: numport copied it; already_present: the destination had it; skipped: not APPROVED and GREEN; "
        "left_out: no room under the destination's limit; failed: Meta did not copy it; rejected: copied, then "
        "rejected when Meta re-checked its category."))
    reason_code: str | None = Field(default=None, description="Stable code of why it was skipped, left out, failed "
                                                              "or rejected (STATUS_PAUSED, QUALITY_YELLOW, …).")
    reason: str | None = Field(default=None, description="The same, in plain words, with what to do about it.")
    template_id: str | None = Field(default=None, description="Graph id of the copy on the destination, when known.")
    rating_window_ends_at: AwareDatetime | None = Field(default=None, description=(
        "Copies start with quality UNKNOWN for 24 hours: when this copy's window ends and Meta rates it."))


class TemplatesDuplicated(Event):
    """Numport finished copying the source WABA's templates to the destination WABA (one round).

    Lists every template: migrated, already there, skipped with its reason, left out for the destination's limit,
    and failed. Registration waits for the first round before it registers the number (zero template downtime).
    """

    type: Literal["TemplatesDuplicated"] = Field("TemplatesDuplicated", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("round",)
    round: int = Field(default=0, ge=0, description="0: the duplication at the start; 1, 2, …: manual retries.")
    source_waba_id: str = Field(description="WABA the templates were copied from.")
    destination_waba_id: str = Field(description="WABA the templates were copied to.")
    template_limit: int | None = Field(default=None, description="The destination's template limit numport "
                                                                 "planned with (names, translations counted once).")
    templates: tuple[TemplateOutcome, ...] = Field(description="Every template considered, with its outcome.")
    template_counts: dict[str, int] = Field(default_factory=dict, description="How many templates got each outcome.")
    problem: str | None = Field(default=None, description="Why numport could copy nothing (the source WABA could "
                                                          "not be read, say); Meta's own copy at registration remains.")


class TemplateRecategorised(Event):
    """Meta re-checked a copied template after duplication and changed its category or rejected it.

    Names the template, so the customer knows which one to fix and submit again.
    """

    type: Literal["TemplateRecategorised"] = Field("TemplateRecategorised", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("name", "language", "status", "category", "correct_category")
    destination_waba_id: str = Field(description="WABA holding the copy.")
    template_id: str | None = Field(default=None, description="Graph id of the copy, as Meta's webhook named it.")
    name: str = Field(description="Template name.")
    language: str = Field(description="Template language code.")
    status: str = Field(description="The copy's status now (REJECTED after a failed category check).")
    category: str | None = Field(default=None, description="The copy's category now.")
    correct_category: str | None = Field(default=None, description="The category Meta says it belongs to, when "
                                                                   "Meta announced a change.")
    reason: str | None = Field(default=None, description="Meta's reason (INCORRECT_CATEGORY, …).")
    template_outcome: TemplateFate = Field(description="The template's outcome after this change.")


class TemplateDowntimeMeasured(Event):
    """How long the migrated number was registered while an eligible template was not yet usable on the destination.

    Zero when every template was duplicated before registration, which is what numport does by default.
    """

    type: Literal["TemplateDowntimeMeasured"] = Field("TemplateDowntimeMeasured", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("round",)
    round: int = Field(ge=0, description="The duplication round this measure follows.")
    registered_at: AwareDatetime = Field(description="PhoneRegistered.completed_at of the number.")
    last_usable_at: AwareDatetime | None = Field(description="When numport saw the last template usable on the "
                                                             "destination; null when there was none to copy.")
    template_downtime_seconds: float = Field(ge=0, description="Seconds from registration to that moment; 0 when "
                                                                "it came first.")
    templates_counted: int = Field(ge=0, description="Templates on the destination the measure covers.")


class TemplatesRetryRequested(Event):
    """A partner asked numport to copy again what is still missing on the destination (the documents' manual fix)."""

    type: Literal["TemplatesRetryRequested"] = Field("TemplatesRetryRequested", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("request_id",)
    request_id: uuid.UUID = Field(description="Id of this request; each request is one more round.")
    partner_id: str = Field(description="Our partner that asked.")


class TemplateWaitExpired(Event):
    """Registration stopped waiting for the templates and registers the number anyway.

    Template downtime may follow; the templates service measures it.
    """

    type: Literal["TemplateWaitExpired"] = Field("TemplateWaitExpired", description="Event type name.")
    waited_seconds: float = Field(ge=0, description="How long registration waited for TemplatesDuplicated.")
    message: str = Field(description="What this means for the customer, in plain words.")


class MigrationFailed(Event):
    """The migration stopped for good at one step.

    Carries the step, a stable reason code and a message in our words.
    """

    type: Literal["MigrationFailed"] = Field("MigrationFailed", description="Event type name.")
    step: str = Field(description="Saga step that failed.")
    reason_code: str = Field(description="Stable code of the failure.")
    message: str = Field(description="What went wrong, in plain words.")


class MigrationEscalated(Event):
    """A person has to look: the saga opened a support ticket and keeps waiting.

    Raised when no code came within an hour, or the number stayed in setup for an hour.
    """

    type: Literal["MigrationEscalated"] = Field("MigrationEscalated", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("reason_code",)
    reason_code: str = Field(description="Why a human must step in.")
    ticket: dict[str, str] = Field(description="Support-ticket fields an onboarding team asks for.")


class MigrationCompleted(Event):
    """The migration is done: registered, paid through our credit line, webhooks on, API key issued.

    The last event of a successful migration.
    """

    type: Literal["MigrationCompleted"] = Field("MigrationCompleted", description="Event type name.")
    phone_number_id: str = Field(description="Graph id of the number on the destination WABA.")
    completed_at: AwareDatetime = Field(description="Same instant as PhoneRegistered.completed_at.")


class MigrationPathChosen(Event):
    """Which way the number moves, and why: Meta's solution-migration intent (no code) or the 6-digit code path.

    Emitted when the saga starts, when the intent is set and when it is accepted, and when the saga falls back.
    """

    type: Literal["MigrationPathChosen"] = Field("MigrationPathChosen", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("path", "reason_code")
    path: Literal["solution_intent", "pin"] = Field(description="solution_intent: moved by an accepted intent, no "
                                                                "ownership code; pin: the code (PIN) path.")
    reason_code: str = Field(description="QUALIFIES or a qualification code (see NumberEligible), INTENT_SET, "
                                         "INTENT_ACCEPTED, INTENT_REFUSED, INTENT_REJECTED, INTENT_EXPIRED or "
                                         "INTENT_DESTINATION_MISMATCH.")
    message: str = Field(description="Why, in plain words.")
    migration_intent_id: str | None = Field(default=None, description="Meta's id of the intent, once set.")


class MigrationQueued(Event):
    """The number waits for earlier numbers of the same destination WABA.

    The customer reads one code at a time, so one WABA's numbers migrate one after another.
    """

    type: Literal["MigrationQueued"] = Field("MigrationQueued", description="Event type name.")
    destination_waba_id: str = Field(description="WABA whose numbers migrate one after another.")
    position: int = Field(ge=1, description="1 = next to start; the customer reads one code at a time.")


class OboRequested(Event):
    """We asked the customer's business for Message-on-Behalf access to its WABA.

    An admin of the customer's business must accept it in Business Manager.
    """

    type: Literal["OboRequested"] = Field("OboRequested", description="Event type name.")
    obo_request_id: str = Field(description="Graph id of the on-behalf-of request sent to the customer.")
    destination_waba_id: str = Field(description="WABA the request is for.")


class OboReminderSent(Event):
    """The OBO request is still not accepted; the customer was reminded.

    Reminders repeat until the request expires.
    """

    type: Literal["OboReminderSent"] = Field("OboReminderSent", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("reminder",)
    reminder: int = Field(ge=1, description="How many reminders so far, this one included.")


class PhoneNumberAdded(Event):
    """The number was added to the destination WABA with the migrate flag.

    Its new Graph id on the destination is in the event.
    """

    type: Literal["PhoneNumberAdded"] = Field("PhoneNumberAdded", description="Event type name.")
    phone_number_id: str = Field(description="Graph id of the number, added with the migrate flag.")
    destination_waba_id: str = Field(description="WABA the number was added to.")


class VerificationCodeRequested(Event):
    """Meta was asked to send the 6-digit ownership code by SMS or voice call.

    Sent in the customer's language; the code itself never travels on Kafka.
    """

    type: Literal["VerificationCodeRequested"] = Field("VerificationCodeRequested", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("attempt",)
    attempt: int = Field(ge=1, description="Which code request this is.")
    method: Literal["SMS", "VOICE"] = Field(description="How Meta delivers the code.")
    language: str = Field(description="Language of the SMS or call.")


class VerificationCodeRejected(Event):
    """A code the customer entered was not the one Meta sent.

    Counts the wrong tries; after the last one only a new code helps.
    """

    type: Literal["VerificationCodeRejected"] = Field("VerificationCodeRejected", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("wrong_attempts", "code_attempt")
    code_attempt: int = Field(ge=1, description="Which code request the wrong entries were for.")
    wrong_attempts: int = Field(ge=1, description="Wrong entries of the current code so far.")
    attempts_left: int = Field(ge=0, description="Entries left before a new code must be requested.")


class PhoneNumberVerified(Event):
    """Meta accepted the ownership code.

    The number can now be registered on Cloud API.
    """

    type: Literal["PhoneNumberVerified"] = Field("PhoneNumberVerified", description="Event type name.")
    phone_number_id: str = Field(description="Graph id of the number whose ownership is proven.")


class CreditLineShared(Event):
    """Our credit line now pays for the destination WABA's messages.

    Shared once per WABA.
    """

    type: Literal["CreditLineShared"] = Field("CreditLineShared", description="Event type name.")
    destination_waba_id: str = Field(description="WABA now paying through our credit line.")
    allocation_config_id: str = Field(description="Graph id of the credit allocation.")


class WebhooksSubscribed(Event):
    """Our app receives the destination WABA's webhooks.

    Message statuses and template updates reach numport from here on.
    """

    type: Literal["WebhooksSubscribed"] = Field("WebhooksSubscribed", description="Event type name.")
    destination_waba_id: str = Field(description="WABA whose webhooks reach our app.")


class ApiKeyIssued(Event):
    """The number's API key exists and waits to be collected once.

    Only its recognisable prefix is in the event; the key is shown once over the API.
    """

    type: Literal["ApiKeyIssued"] = Field("ApiKeyIssued", description="Event type name.")
    key_prefix: str = Field(description="Recognisable start of the key; the key itself is never in an event.")


class EmbeddedSignupFinished(Event):
    """The customer finished an Embedded Signup session.

    Carries the WABA and number ids the session created; registration continues from them.
    """

    type: Literal["EmbeddedSignupFinished"] = Field("EmbeddedSignupFinished", description="Event type name.")
    waba_id: str = Field(description="The WABA Embedded Signup created for the customer.")
    phone_number_id: str = Field(description="The number's Graph id, as the signup session returned it.")


class MessageAttributed(Event):
    """One message billed to one partner (or a reversal of an earlier attribution), decided by its send instant.

    `occurred_at` is the message's send instant (Meta's timestamp), never the time billing processed it. A correction
    is a reversal (`correction_of` names the attribution it cancels) followed by a new attribution.
    """

    type: Literal["MessageAttributed"] = Field("MessageAttributed", description="Event type name.")
    migration_id: uuid.UUID | None = Field(  # type: ignore[assignment] - a number without migration has none
        default=None, description="The migration whose completion instant decided the partner; none for no_migration.")
    kind: Literal["attribution", "reversal"] = Field(description="A new attribution, or the reversal of one.")
    message_id: str = Field(description="Meta's message id (wamid); with the number, the message's identity.")
    partner: str = Field(description="Who pays: our partner id, `business:<id>` for a source business, or "
                                     "`waba:<id>` for a number whose holder numport never saw change.")
    rule: str = Field(description="Why this partner: sent_before_completion, sent_after_completion, no_migration, "
                                  "or the before/after rule of another kind of holder change.")
    sent_at: AwareDatetime = Field(description="When the message was sent: its earliest status's Meta timestamp.")
    delivered_at: AwareDatetime | None = Field(default=None, description="Its first delivered or read status, when "
                                                                         "known at attribution time.")
    pricing_category: str = Field(description="Meta's pricing category (marketing, utility, authentication, …).")
    pricing_type: str | None = Field(default=None, description="Meta's pricing type (regular, free_customer_service, "
                                                               "free_entry_point), when Meta sent one.")
    billable: bool = Field(description="Whether the message is charged: priced as regular (or billable when no type "
                                       "is given) and not failed undelivered.")
    version: int = Field(ge=1, description="Which attribution of this message this is (a reversal repeats it).")
    correction_of: uuid.UUID | None = Field(default=None, description="On a reversal: the event_id of the "
                                                                      "attribution it cancels.")



class PartnerChangeRequested(Event):
    """A customer asked to move every number of one WABA from its integration partner to another one.

    `migration_id` is the change's id; the record is keyed by the WABA's first number (every number is listed).
    """

    type: Literal["PartnerChangeRequested"] = Field("PartnerChangeRequested", description="Event type name.")
    waba_id: str = Field(description="The WABA whose numbers all move.")
    business_id: str = Field(description="The customer business that owns the WABA and asked for the change.")
    phone_numbers: list[PhoneKey] = Field(description="Every number of the WABA, in E.164: the list that moves.")
    source_partner: str = Field(description="The partner that holds the WABA now.")
    destination_partner: str = Field(description="The partner the WABA moves to.")


class PartnerChangeApproved(Event):
    """The destination partner approved the change (or approves every change automatically).

    `transfer_at` is fixed here, so a restart before completion still moves every number at this one instant.
    """

    type: Literal["PartnerChangeApproved"] = Field("PartnerChangeApproved", description="Event type name.")
    waba_id: str = Field(description="The WABA whose numbers all move.")
    approval: Literal["auto", "manual"] = Field(description="How the destination partner approved.")
    transfer_at: AwareDatetime = Field(description="The one instant every number of the WABA changes partner.")


class PartnerChangeDeclined(Event):
    """The change ended without moving anything: the destination partner declined, or nobody approved in time."""

    type: Literal["PartnerChangeDeclined"] = Field("PartnerChangeDeclined", description="Event type name.")
    waba_id: str = Field(description="The WABA that stays with its partner.")
    reason_code: Literal["declined_by_partner", "approval_expired"] = Field(description="Why the change ended.")
    message: str = Field(description="What this means for the customer and what to do, in plain words.")


class PartnerChangeCompleted(Event):
    """One number of the WABA changed integration partner at the change's one instant (one record per number).

    Billing reads it as a holder change: messages sent before `transferred_at` stay with the old partner.
    """

    type: Literal["PartnerChangeCompleted"] = Field("PartnerChangeCompleted", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("phone_number",)
    waba_id: str = Field(description="The WABA whose numbers all moved.")
    phone_numbers: list[PhoneKey] = Field(description="Every number that moved with this one, in E.164.")
    transferred_at: AwareDatetime = Field(description="The instant every number of the WABA changed partner.")
    old_partner: str = Field(description="Partner billed for messages sent before transferred_at.")
    new_partner: str = Field(description="Partner billed for messages sent at or after transferred_at.")


class PartnerPermissionsGranted(Event):
    """The customer let the new partner manage some of the WABA's numbers; the others it may only read."""

    type: Literal["PartnerPermissionsGranted"] = Field("PartnerPermissionsGranted", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("grant",)
    grant: int = Field(ge=1, description="Sequence number of this grant within the change.")
    waba_id: str = Field(description="The WABA the numbers belong to.")
    partner_id: str = Field(description="The partner that may now manage the numbers listed.")
    managed_numbers: list[PhoneKey] = Field(description="Every number the partner manages after this grant.")


PortOutPath = Literal["customer_switches_off", "operations_ticket"]
Detection = Literal["read", "webhook"]


class PortOutRequested(Event):
    """The customer (or its new BSP, through our partner) asked to take the number away from us.

    `migration_id` is the port-out's id; partner_change decides what must happen before the number can leave.
    """

    type: Literal["PortOutRequested"] = Field("PortOutRequested", description="Event type name.")
    partner_id: str = Field(description="Our partner that holds the number today (billing stops for it).")
    requested_by: str = Field(description="Who asked: 'partner:<id>' or 'customer:<id>'.")
    waba_id: str = Field(description="Our WABA that holds the number today.")
    phone_number_id: str | None = Field(default=None, description="Graph id of the number on our WABA, when the "
                                                                   "asker knows it; else read from the WABA.")


class PortOutStarted(Event):
    """What must happen before the number can leave: who switches two-step verification off, and by when.

    Owned WABAs: the customer's admin in WhatsApp Manager. Shared WABAs: our operations team, through a ticket.
    """

    type: Literal["PortOutStarted"] = Field("PortOutStarted", description="Event type name.")
    path: PortOutPath = Field(description="customer_switches_off (owned WABA) or operations_ticket (shared WABA).")
    waba_id: str = Field(description="Our WABA that holds the number today.")
    steps: tuple[str, ...] = Field(description="What the customer (or our operations team) must do, in order.")
    ticket: dict[str, str] | None = Field(default=None, description="The '2FA disable request' ticket, shared WABAs.")
    due_at: AwareDatetime | None = Field(default=None, description="When the ticket's service level runs out.")


class PortOutReminderSent(Event):
    """The two-step verification ticket is still open: operations were reminded before its deadline."""

    type: Literal["PortOutReminderSent"] = Field("PortOutReminderSent", description="Event type name.")
    identity_fields: ClassVar[tuple[str, ...]] = ("reminder",)
    reminder: int = Field(ge=1, description="How many reminders so far, this one included.")
    due_at: AwareDatetime = Field(description="When the ticket's service level runs out.")


class PortOutEscalated(Event):
    """The ticket's service level ran out with two-step verification still on: a lead must step in."""

    type: Literal["PortOutEscalated"] = Field("PortOutEscalated", description="Event type name.")
    reason_code: str = Field(description="Why a human must step in.")
    due_at: AwareDatetime = Field(description="The deadline that passed.")


class TwoStepVerificationOff(Event):
    """Meta shows two-step verification off for the number: the new BSP can take it; any ticket is closed."""

    type: Literal["TwoStepVerificationOff"] = Field("TwoStepVerificationOff", description="Event type name.")
    detected_by: Detection = Field(description="read (is_pin_enabled false) or webhook (security PIN_REQUEST_SUCCESS).")
    ticket_closed: bool = Field(description="Whether a '2FA disable request' ticket was open and is now closed.")


class PhoneDeparted(Event):
    """The number is on another WABA: it left us. Our billing for it stops at `departed_at`.

    A holder change for billing: messages sent before `departed_at` stay ours, those at or after are not.
    """

    type: Literal["PhoneDeparted"] = Field("PhoneDeparted", description="Event type name.")
    departed_at: AwareDatetime = Field(description="When the number left: Meta's onboarding instant on the new WABA.")
    waba_id: str = Field(description="Our WABA the number left.")
    partner_id: str = Field(description="Our partner whose billing for the number stops at departed_at.")
    detected_by: Detection = Field(description="read (our WABA no longer lists it) or webhook (ONBOARDING elsewhere).")
    subscription: Literal["customer_told_to_cancel", "cancelled"] = Field(
        description="What happened to the customer's subscription with us.")


class MetaWebhookChange(BaseModel):
    """One change of a webhook delivery from Meta, whose signature the gateway checked, with Meta's value untouched.

    Not a migration event: Meta's webhooks belong to numbers and WABAs. Its id is derived from the content, so
    Meta's redeliveries of the same change carry the same id and deduplicate in every consumer's inbox.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID = Field(description="uuid5 of the field, the WABA and the change's canonical JSON.")
    type: Literal["MetaWebhookChange"] = Field("MetaWebhookChange", description="Record type name.")
    schema_version: Literal[1] = Field(default=1, description="Record schema version; bumped only on breaking change.")
    received_at: AwareDatetime = Field(description="When the gateway accepted the delivery (not when it happened).")
    field: str = Field(description="Meta's webhook field: messages, message_template_status_update, security, …")
    waba_id: str = Field(description="The entry's id: the WABA the change belongs to.")
    entry_time: int | None = Field(default=None, description="The entry's `time`, epoch seconds, as Meta sent it.")
    phone_number: PhoneKey | None = Field(default=None, description="The business number in E.164, when the change "
                                                                    "names one (metadata.display_phone_number).")
    phone_number_id: str | None = Field(default=None, description="The business number's Graph id, when named.")
    value: dict[str, Any] = Field(description="The change's value exactly as Meta sent it.")

    @property
    def key(self) -> bytes:
        """Kafka key: the number, so one number's statuses stay in order; else the WABA."""
        return (self.phone_number or self.waba_id).encode()


webhook_change_adapter: TypeAdapter[MetaWebhookChange] = TypeAdapter(MetaWebhookChange)


def parse_webhook_change(raw: bytes | str) -> MetaWebhookChange:
    return webhook_change_adapter.validate_json(raw)


ALL_EVENTS: tuple[type[Event], ...] = (
    MigrationRequested, NumberEligible, NumberIneligible, MigrationNotNeeded, MigrationQueued, OboRequested,
    OboReminderSent, OboAccepted, PhoneNumberAdded, VerificationCodeRequested, VerificationCodeRejected,
    PhoneNumberVerified, PhoneRegistered, CreditLineShared, WebhooksSubscribed, ApiKeyIssued, MigrationCompleted,
    MigrationFailed, MigrationEscalated, TemplatesDuplicated, EmbeddedSignupFinished, TemplateRecategorised,
    TemplateDowntimeMeasured, TemplatesRetryRequested, TemplateWaitExpired, MessageAttributed,
    PartnerChangeRequested, PartnerChangeApproved, PartnerChangeDeclined, PartnerChangeCompleted,
    PartnerPermissionsGranted, PortOutRequested, PortOutStarted, PortOutReminderSent, PortOutEscalated,
    TwoStepVerificationOff, PhoneDeparted, MigrationPathChosen,
)
EVENT_TYPES: dict[str, type[Event]] = {cls.model_fields["type"].default: cls for cls in ALL_EVENTS}
DomainEvent = Annotated[Union[ALL_EVENTS], Field(discriminator="type")]  # noqa: UP007 - built from a tuple
_adapter: TypeAdapter[Event] = TypeAdapter(DomainEvent)


def parse_event(raw: bytes | str) -> Event:
    """Decode a wire event; raises pydantic.ValidationError on anything we do not understand."""
    return _adapter.validate_json(raw)


def dump_event(event: Event) -> bytes:
    return event.model_dump_json().encode()
