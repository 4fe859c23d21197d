"""The partner API's request and response bodies (wire models, separate from events and table rows)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StrictBool, field_serializer, field_validator
from pydantic_core import PydanticCustomError

from services.gateway.patterns import GRAPH_ID, PHONE
from services.gateway.status import RANK
from shared.events import CheckOutcome, Flow, SourceKind
from shared.phone import InvalidPhoneNumber, to_e164

INTERNATIONAL = re.compile(PHONE)
State = Literal[tuple(RANK)]  # type: ignore[valid-type]  # every state the read model can reach


def international(value: str) -> str:
    """The documented pattern, enforced here so that a refusal says what is wrong (too short, too long, an
    unknown country code) rather than quoting the pattern."""
    try:
        to_e164(value)
    except InvalidPhoneNumber as error:
        raise PydanticCustomError("phone_number_format", str(error)) from None
    if not INTERNATIONAL.fullmatch(value):
        raise PydanticCustomError("phone_number_format", "Not a phone number in international format: '+' or "
                                  "'00', the country code, then the number with as many digits as that country "
                                  "uses.")
    return value


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, list | tuple) and any(map(_holds_nul, value))


NO_NUL = "^[^\\x00]*$"


def _state_no_nul(schema: dict[str, Any]) -> None:
    """The document says it too: a free-text field without a pattern of its own gets one that excludes NUL."""
    for prop in schema.get("properties", {}).values():
        for option in prop.get("anyOf", [prop]):
            if option.get("type") == "string" and "pattern" not in option and "format" not in option:
                option["pattern"] = NO_NUL


class Inbound(BaseModel):
    """A request body. PostgreSQL's text cannot hold a NUL character, so one anywhere is refused here, naming its
    field, instead of surfacing at the database as our fault."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_state_no_nul)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _holds_nul(value):
            raise PydanticCustomError("nul_character", "Contains a NUL character (U+0000), which no field accepts.")
        return value


class MigrationRequest(Inbound):

    phone_number: str = Field(
        description="The number as the customer typed it, in international format: an optional '+' or '00', the "
                    "country code, then as many digits as the country's numbering plan allows (libphonenumber's "
                    "metadata); spaces, dots, dashes and brackets may separate digits, and '(0)' may stand for a trunk "
                    "prefix.",
        examples=["+55 11 98765-4321"], max_length=32, json_schema_extra={"pattern": PHONE})
    business_id: str = Field(description="Meta Business Manager ID of the customer.", pattern=GRAPH_ID)
    destination_waba_id: str = Field(description="WABA the number moves to.", pattern=GRAPH_ID)
    flow: Flow = Field(default="programmatic", description="Meta migration flow.")
    source: SourceKind = Field(default="bsp_cloud_api", description="Where the number is served today.")
    source_waba_id: str | None = Field(default=None, description="WABA holding the number now.", pattern=GRAPH_ID)
    display_name: str | None = Field(default=None, max_length=75)
    website: HttpUrl | None = Field(default=None, description="Business website as listed in Business Manager.")
    admin_access_confirmed: StrictBool = Field(default=False, description="The requester has admin access to BM; "
                                                                          "true or false, nothing else.")

    @field_validator("phone_number")
    @classmethod
    def _international(cls, value: str) -> str:
        return international(value)

    @field_serializer("website")
    def _website_text(self, website: HttpUrl | None) -> str | None:
        return str(website) if website else None

    @property
    def e164(self) -> str:
        return to_e164(self.phone_number)


class MigrationView(BaseModel):
    id: uuid.UUID
    url: str
    phone_number: str
    phone_number_as_typed: str
    business_id: str
    destination_waba_id: str
    source_waba_id: str | None
    flow: Flow
    source: SourceKind
    state: State
    next_action: str
    detail: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TimelineEntry(BaseModel):
    event_id: uuid.UUID
    type: str
    occurred_at: datetime
    payload: dict[str, Any]


class Timeline(BaseModel):
    migration_id: uuid.UUID
    events: list[TimelineEntry]


class MigrationPage(BaseModel):
    data: list[MigrationView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class BatchRequest(Inbound):
    items: list[dict[str, Any]] = Field(min_length=1, max_length=500,
                                        description="Migration requests (each one a MigrationRequest), validated "
                                                    "one by one: a row that is not valid is rejected in the answer, "
                                                    "not the whole batch.")


class FieldError(BaseModel):
    field: str = Field(description="Where the problem is: a body field (dotted path), or query./path./header. and "
                                   "the parameter; `body` for the body as a whole.")
    code: str = Field(description="Stable, for scripts: e.g. missing, string_pattern_mismatch, bool_type, "
                                  "phone_number_format, number_already_migrating, malformed_body.")
    problem: str = Field(description="What is wrong, for people.")


class BatchRow(BaseModel):
    index: int
    phone_number: str | None
    status: Literal["accepted", "rejected"]
    migration: MigrationView | None = None
    queue_position: int | None = Field(default=None, description="1 = first of its destination WABA; numbers of "
                                                                 "one WABA migrate one after another.")
    errors: list[FieldError] = Field(default_factory=list)


class BatchResult(BaseModel):
    accepted: int
    rejected: int
    rows: list[BatchRow]


class DryRunReport(BaseModel):
    outcome: Literal["eligible", "ineligible", "add_directly", "already_moved", "in_progress"] = Field(
        description="in_progress: the number already has an unfinished migration; nothing was checked.")
    phone_number: str
    message: str | None = None
    failed: list[str]
    report: list[CheckOutcome]


class ApiError(BaseModel):
    """Every 4xx and 5xx answer of the partner API carries one of these in `error`."""

    code: str = Field(description="Stable, for scripts: e.g. invalid_request, not_found, number_already_migrating, "
                                  "meta_busy, service_unavailable, registration_unavailable, internal_error.")
    message: str = Field(description="What happened and what to do, for people.")
    fields: list[FieldError] = Field(default_factory=list, description="The fields at fault, when there are any.")
    request_id: str | None = Field(default=None, description="Also in the X-Request-Id header; quote it to support.")


class ErrorBody(BaseModel):
    error: ApiError
