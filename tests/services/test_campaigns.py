"""Campaign results (R-REPORT-7): leads, conversions, revenue since the lead, cost, ROI."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from portal.models import Campaign
from portal.services.campaigns import campaign_results
from tests.factories import make_customer, make_lead, make_order


@pytest.fixture
def campaign(session, world):
    """By hand: 4 campaign leads (2 converted), revenue 8 000 + 6 000 + 4 000 = 18 000,
    cost 10 000 → ROI (18 000 − 10 000) / 10 000 = 0.8."""
    head, clerk1, clerk2 = world["east.head"], world["east.clerk1"], world["east.clerk2"]
    campaign = Campaign(
        division_id=head.division_id,
        owner_id=head.id,
        name="春季品鉴会",
        actual_cost=Decimal("10000"),
        budget=Decimal("12000"),
    )
    session.add(campaign)
    session.flush()
    x = make_customer(session, clerk1, name="活动客户X")
    y = make_customer(session, clerk2, name="活动客户Y")
    other = make_customer(session, clerk1, name="非活动客户")
    reported = datetime(2026, 3, 1, 15, 30)

    def lead(owner, **fields):
        return make_lead(session, owner, campaign_id=campaign.id, created_at=reported, **fields)

    lead(clerk1, status="converted", customer_id=x.id)
    lead(clerk1, status="new")
    lead(clerk2, status="converted", customer_id=y.id)
    lead(clerk2, status="invalid")
    make_lead(session, clerk1, status="converted", customer_id=other.id)  # no campaign
    make_order(session, x, amount=Decimal("8000"), signed_on=date(2026, 3, 1))  # that day
    make_order(session, x, amount=Decimal("6000"), signed_on=date(2026, 5, 2))
    make_order(session, x, amount=Decimal("100000"), signed_on=date(2026, 2, 28))  # before
    make_order(session, x, amount=Decimal("50000"), signed_on=date(2026, 4, 1), state="cancelled")
    make_order(session, y, amount=Decimal("4000"), signed_on=date(2026, 6, 1))
    make_order(session, other, amount=Decimal("70000"), signed_on=date(2026, 6, 1))
    session.commit()
    return campaign


def test_results_of_the_division(session, world, campaign):
    results = campaign_results(session, world["east.head"], campaign)
    assert (results.leads, results.converted, results.conversion_rate) == (4, 2, Decimal("0.5"))
    assert (results.customers, results.orders) == (2, 3)
    assert results.revenue == Decimal("18000.00")
    assert results.cost == Decimal("10000.00")
    assert results.roi == Decimal("0.8")
    assert campaign_results(session, world["gm"], campaign).revenue == Decimal("18000.00")


def test_a_clerk_sees_what_his_own_leads_brought(session, world, campaign):
    results = campaign_results(session, world["east.clerk1"], campaign)
    assert (results.leads, results.converted, results.revenue) == (2, 1, Decimal("14000.00"))
    assert results.roi == Decimal("0.4")
    west = campaign_results(session, world["west.head"], campaign)
    assert (west.leads, west.converted, west.revenue) == (0, 0, Decimal("0.00"))
    assert west.conversion_rate is None


@pytest.mark.parametrize("cost", [None, Decimal("0")])
def test_no_roi_without_a_cost(session, world, campaign, cost):
    campaign.actual_cost = cost
    session.commit()
    results = campaign_results(session, world["east.head"], campaign)
    assert results.roi is None and results.revenue == Decimal("18000.00")
