"""The partner API's request and response bodies (wire models, separate from events and table rows)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_serializer, field_validator

from shared.events import CheckOutcome, Flow, SourceKind
from shared.phone import InvalidPhoneNumber, to_e164


class MigrationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number: str = Field(description="The number exactly as the customer typed it, with country code.",
                              examples=["+55 11 98765-4321"], pattern=r"^\+?[0-9][0-9 ().-]{4,31}$")
    business_id: str = Field(description="Meta Business Manager ID of the customer.", pattern=r"^[0-9]{1,20}$")
    destination_waba_id: str = Field(description="WABA the number moves to.", pattern=r"^[0-9]{1,20}$")
    flow: Flow = Field(description="Meta migration flow.")
    source: SourceKind = Field(description="Where the number is served today.")
    source_waba_id: str | None = Field(default=None, description="WABA holding the number now.",
                                       pattern=r"^[0-9]{1,20}$")
    display_name: str | None = Field(default=None, max_length=75)
    website: HttpUrl | None = Field(default=None, description="Business website as listed in Business Manager.")
    admin_access_confirmed: bool = Field(default=False, description="The requester has admin access to BM.")

    @field_validator("phone_number")
    @classmethod
    def _international(cls, value: str) -> str:
        try:
            to_e164(value)
        except InvalidPhoneNumber as error:
            raise ValueError(str(error)) from None
        return value

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
    flow: str
    source: str
    state: str
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


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[dict[str, Any]] = Field(min_length=1, max_length=500,
                                        description="Migration requests, each validated on its own.")


class BatchRow(BaseModel):
    index: int
    phone_number: str | None
    status: Literal["accepted", "rejected"]
    migration: MigrationView | None = None
    queue_position: int | None = Field(default=None, description="1 = first of its destination WABA; numbers of "
                                                                 "one WABA migrate one after another.")
    errors: list[dict[str, str]] = Field(default_factory=list)


class BatchResult(BaseModel):
    accepted: int
    rejected: int
    rows: list[BatchRow]


class DryRunReport(BaseModel):
    outcome: Literal["eligible", "ineligible", "add_directly", "already_moved"]
    phone_number: str
    message: str | None = None
    failed: list[str]
    report: list[CheckOutcome]


class ApiError(BaseModel):
    code: str = Field(description="Stable, for scripts: e.g. invalid_request, not_found, number_already_migrating, "
                                  "meta_busy, service_unavailable, registration_unavailable, internal_error.")
    message: str = Field(description="What happened and what to do, for people.")
    fields: list[dict[str, str]] = Field(default_factory=list)
    request_id: str | None = Field(default=None, description="Also in the X-Request-Id header; quote it to support.")


class ErrorBody(BaseModel):
    error: ApiError
