"""Lead conversion (R-CONVERT-1/2) on both databases, including two at the same moment."""

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Activity, Contact, Customer, Lead, Opportunity, User
from portal.services import BusinessRuleError
from portal.services.followups import ensure_initial_plan
from portal.services.leads import OpportunityDraft, convert_lead, convert_many, duplicate_customers
from tests.factories import make_customer, make_lead


def test_conversion_creates_customer_contact_opportunity_and_links(tx_session, world):
    session = tx_session
    clerk = session.get(User, world["east.clerk1"].id)
    lead = make_lead(
        session,
        clerk,
        person_name="赵建国",
        company="建国贸易有限公司",
        mobile="13811112222",
        remark="展会认识",
    )
    plan = ensure_initial_plan(session, lead)
    customer = convert_lead(
        session, lead, by=clerk, opportunity=OpportunityDraft("建国贸易首单", Decimal("50000"))
    )
    session.commit()
    assert (customer.name, customer.owner_id, customer.remark) == (
        "建国贸易有限公司",
        clerk.id,
        "展会认识",
    )
    lead = session.get(Lead, lead.id)
    assert lead.status == "converted" and lead.customer_id == customer.id
    contact = session.scalar(select(Contact).where(Contact.customer_id == customer.id))
    assert contact.name == "赵建国" and contact.is_primary
    opportunity = session.scalar(select(Opportunity).where(Opportunity.customer_id == customer.id))
    assert opportunity.title == "建国贸易首单" and lead.opportunity_id == opportunity.id
    # The lead's plan is visible from the customer now.
    assert session.get(Activity, plan.id).customer_id == customer.id


def test_converting_again_or_an_invalid_lead_is_refused(tx_session, world):
    session = tx_session
    clerk = session.get(User, world["east.clerk1"].id)
    lead = make_lead(session, clerk, person_name="一次性")
    convert_lead(session, lead, by=clerk)
    session.commit()
    with pytest.raises(BusinessRuleError, match="已转化"):
        convert_lead(session, lead, by=clerk)
    session.rollback()
    clerk = session.get(User, world["east.clerk1"].id)
    invalid = make_lead(session, clerk, person_name="无效线索", status="invalid")
    with pytest.raises(BusinessRuleError, match="无效"):
        convert_lead(session, invalid, by=clerk)


def test_duplicate_is_linked_not_copied(tx_session, world):
    session = tx_session
    clerk = session.get(User, world["east.clerk1"].id)
    existing = make_customer(session, clerk, name="老客户", mobile="13822223333")
    session.commit()
    lead = make_lead(session, clerk, person_name="老客户的采购", mobile="13822223333")
    assert duplicate_customers(session, lead) == [existing]
    with pytest.raises(BusinessRuleError, match="关联"):
        convert_lead(session, make_lead(session, clerk, person_name="老客户"), by=clerk)
    session.rollback()
    clerk = session.get(User, world["east.clerk1"].id)
    existing = session.get(Customer, existing.id)
    lead = make_lead(session, clerk, person_name="老客户的采购", mobile="13822223333")
    customer = convert_lead(session, lead, by=clerk, link_to=existing)
    assert customer.id == existing.id
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_mass_conversion_round_robin(tx_session, world):
    session = tx_session
    head = session.get(User, world["east.head"].id)
    clerks = [
        session.get(User, world["east.clerk1"].id),
        session.get(User, world["east.clerk2"].id),
    ]
    leads = [make_lead(session, clerks[0], person_name=f"批量{i}") for i in range(4)]
    customers = convert_many(session, leads, by=head, owners=clerks)
    session.commit()
    assert [c.owner_id for c in customers] == [clerks[0].id, clerks[1].id] * 2


def test_two_conversions_at_the_same_moment_convert_once(app, session, world):
    lead = make_lead(session, world["east.clerk1"], person_name="同时转化")
    session.commit()
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    barrier = threading.Barrier(2)
    results = []
    clerk_id, lead_id = world["east.clerk1"].id, lead.id

    def run():
        with Session(bind=engine) as own:
            clerk = own.get(User, clerk_id)
            target = own.get(Lead, lead_id)
            barrier.wait()
            try:
                convert_many(own, [target], by=clerk)
                own.commit()
                results.append("ok")
            except BusinessRuleError:
                own.rollback()
                results.append("refused")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["ok", "refused"]
    assert session.scalar(select(func.count()).select_from(Customer)) == 1
