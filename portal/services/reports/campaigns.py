"""Campaign results (R-REPORT-7): leads, conversions, revenue, cost, ROI per campaign.

The figures of one campaign are services/campaigns.py's `campaign_results` (two aggregate
queries), so the report and the campaign's own page agree; this module picks the
campaigns of the period within scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.models import Campaign
from portal.services.campaigns import CampaignResults, campaign_results
from portal.services.reports.criteria import ReportFilter


@dataclass
class CampaignLine:
    campaign_id: int
    name: str
    channel: str | None
    starts_on: date | None
    ends_on: date | None
    budget: Decimal | None
    results: CampaignResults


def campaign_results_of_period(
    session: Session, f: ReportFilter, *, limit: int = 200
) -> list[CampaignLine]:
    """Campaigns in scope and division running at some time in the period (newest first),
    each with what it brought so far, as far as the viewer may see; with a clerk chosen,
    what that clerk's leads brought."""
    campaigns = session.scalars(
        select(Campaign)
        .where(
            *f.where(Campaign, by_clerk=False),
            or_(Campaign.starts_on.is_(None), Campaign.starts_on <= f.end),
            or_(Campaign.ends_on.is_(None), Campaign.ends_on >= f.start),
        )
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
        .limit(limit)
    ).all()
    return [
        CampaignLine(
            campaign_id=c.id,
            name=c.name,
            channel=c.channel,
            starts_on=c.starts_on,
            ends_on=c.ends_on,
            budget=c.budget,
            results=campaign_results(session, f.user, c, owner_id=f.clerk_id),
        )
        for c in campaigns
    ]
