"""`GET /v1/billing/report`: the calling partner's billed messages per day and pricing category.

Read from billing's documented SQL views in the same database (see the README's Billing section): the totals are
already per partner, so the gateway filters on the caller and adds nothing of its own.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from services.billing.reports import daily_report
from services.gateway.api import ERRORS, Partner

router = APIRouter(tags=["billing"])
LONGEST = 366  # days one answer covers


class BillingDay(BaseModel):
    day: date = Field(description="UTC day the messages were sent on (Meta's timestamps).")
    pricing_category: str = Field(description="Meta's pricing category.")
    messages: int = Field(description="Messages attributed to you for that day and category.")
    billable: int = Field(description="Of those, how many are charged (regular pricing, not failed).")


class BillingReport(BaseModel):
    partner_id: str
    start: date = Field(serialization_alias="from", description="First day, included.")
    end: date = Field(serialization_alias="to", description="Last day, included.")
    days: list[BillingDay]
    messages: int
    billable: int


@router.get("/v1/billing/report", response_model=BillingReport, response_model_by_alias=True, responses=ERRORS)
async def billing_report(request: Request, partner_id: Partner,
                         start: Annotated[date, Query(alias="from", description="First day, YYYY-MM-DD (UTC).")],
                         end: Annotated[date, Query(alias="to", description="Last day, YYYY-MM-DD (UTC).")]
                         ) -> BillingReport:
    """Messages billed to you by send instant, per day and pricing category; only your numbers' traffic."""
    if end < start or (end - start).days >= LONGEST:
        raise HTTPException(422, f"'to' must be on or after 'from', at most {LONGEST} days later.")
    lines = await daily_report(request.app.state.deps.pool, partner_id, start, end)
    days = [BillingDay(day=x.day, pricing_category=x.pricing_category, messages=x.messages, billable=x.billable)
            for x in lines]
    return BillingReport(partner_id=partner_id, start=start, end=end, days=days,
                         messages=sum(x.messages for x in days), billable=sum(x.billable for x in days))
