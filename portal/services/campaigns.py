"""Campaign results (市场活动, R-REPORT-7): leads, conversions, revenue, cost and ROI.

Counted within the viewer's scope (R-SCOPE-4): a clerk sees what his own leads brought,
a division head the whole division's. Revenue is the valid orders of the customers the
campaign's leads converted into, signed on or after the day the first such lead was
reported: a lead linked to an existing customer does not claim that customer's earlier
orders. ROI = (revenue − cost) / cost, undefined without a cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from portal import scope
from portal.models import Campaign, Lead, Order

CENT = Decimal("0.01")


@dataclass
class CampaignResults:
    leads: int
    converted: int
    conversion_rate: Decimal | None  # 0–1
    customers: int  # customers with campaign revenue
    orders: int
    revenue: Decimal
    cost: Decimal | None
    roi: Decimal | None  # (revenue − cost) / cost, e.g. 0.25 = 25 %


def _decimal(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def campaign_results(
    session: Session, user, campaign: Campaign, *, owner_id: int | None = None
) -> CampaignResults:
    """What the campaign brought, as far as the user may see (two queries); with
    `owner_id`, what the leads of that clerk brought."""
    leads_here = [Lead.campaign_id == campaign.id, scope.visible(Lead, user)]
    if owner_id is not None:
        leads_here.append(Lead.owner_id == owner_id)
    total, converted = session.execute(
        select(func.count(Lead.id), func.count(case((Lead.status == "converted", 1)))).where(
            *leads_here
        )
    ).one()
    first_lead = (
        select(Lead.customer_id, func.min(Lead.created_at).label("since"))
        .where(*leads_here, Lead.status == "converted", Lead.customer_id.is_not(None))
        .group_by(Lead.customer_id)
        .subquery("first_lead")
    )
    revenue, orders, customers = session.execute(
        select(
            func.coalesce(func.sum(Order.amount), 0),
            func.count(Order.id),
            func.count(func.distinct(Order.customer_id)),
        )
        .join(first_lead, first_lead.c.customer_id == Order.customer_id)
        .where(
            Order.state == "valid",
            Order.signed_on >= func.date(first_lead.c.since),
            scope.visible(Order, user),
        )
    ).one()
    revenue = _decimal(revenue)
    cost = None if campaign.actual_cost is None else _decimal(campaign.actual_cost)
    roi = ((revenue - cost) / cost).quantize(Decimal("0.0001")) if cost else None
    rate = (Decimal(converted) / Decimal(total)).quantize(Decimal("0.0001")) if total else None
    return CampaignResults(
        leads=total,
        converted=converted,
        conversion_rate=rate,
        customers=customers,
        orders=orders,
        revenue=revenue,
        cost=cost,
        roi=roi,
    )
