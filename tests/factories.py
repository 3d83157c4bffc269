"""Plain builders for test records: make_customer(session, owner=..., **fields)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal.clock import now
from portal.models import (
    Activity,
    Contact,
    Customer,
    Grade,
    Lead,
    Opportunity,
    Order,
    ServicePriority,
    ServiceRequest,
    ServiceType,
    Stage,
)
from portal.models.standing import UNRATED

_seq = itertools.count(1)


def _division(owner, division):
    return division.id if division is not None else owner.division_id


def grade(session, code: str) -> Grade:
    return session.scalar(select(Grade).where(Grade.code == code))


def make_customer(session, owner=None, *, division=None, name=None, **fields) -> Customer:
    """A customer of the owner's division (owner None + division → a pool customer).
    Value class and churn fields go to its standing row (created by the database)."""
    standing = {k: fields.pop(k) for k in list(fields) if k in UNRATED}
    customer = Customer(
        name=name or f"测试客户{next(_seq)}",
        division_id=_division(owner, division),
        owner_id=owner.id if owner else None,
        created_by_id=owner.id if owner else None,
        mobile=fields.pop("mobile", f"1380000{next(_seq):04d}"),
        **fields,
    )
    session.add(customer)
    session.flush()
    for key, value in standing.items():
        setattr(customer.standing, key, value)
    if standing:
        session.flush()
    return customer


def make_contact(session, customer, **fields) -> Contact:
    contact = Contact(
        customer_id=customer.id,
        division_id=customer.division_id,
        name=fields.pop("name", f"联系人{next(_seq)}"),
        **fields,
    )
    session.add(contact)
    session.flush()
    return contact


def make_lead(session, owner, **fields) -> Lead:
    lead = Lead(
        division_id=owner.division_id,
        owner_id=owner.id,
        created_by_id=owner.id,
        person_name=fields.pop("person_name", f"线索{next(_seq)}"),
        **fields,
    )
    session.add(lead)
    session.flush()
    return lead


def make_opportunity(session, customer, **fields) -> Opportunity:
    stage = session.scalar(select(Stage).where(Stage.code == fields.pop("stage", "lead")))
    opportunity = Opportunity(
        customer_id=customer.id,
        division_id=customer.division_id,
        owner_id=customer.owner_id,
        title=fields.pop("title", "测试商机"),
        stage_id=stage.id,
        amount=fields.pop("amount", Decimal("1000")),
        **fields,
    )
    session.add(opportunity)
    session.flush()
    return opportunity


def make_order(session, customer, **fields) -> Order:
    order = Order(
        customer_id=customer.id,
        division_id=customer.division_id,
        owner_id=customer.owner_id,
        number=fields.pop("number", f"T{next(_seq):06d}"),
        amount=fields.pop("amount", Decimal("10000")),
        signed_on=fields.pop("signed_on", date.today()),
        **fields,
    )
    session.add(order)
    session.flush()
    return order


def make_activity(session, customer, **fields) -> Activity:
    activity = Activity(
        customer_id=customer.id,
        division_id=customer.division_id,
        owner_id=fields.pop("owner_id", customer.owner_id),
        subject=fields.pop("subject", "电话回访"),
        planned_at=fields.pop("planned_at", now()),
        **fields,
    )
    session.add(activity)
    session.flush()
    return activity


def make_service_request(session, customer, **fields) -> ServiceRequest:
    request = ServiceRequest(
        customer_id=customer.id,
        division_id=customer.division_id,
        owner_id=customer.owner_id,
        type_id=session.scalar(select(ServiceType.id).limit(1)),
        priority_id=session.scalar(select(ServicePriority.id).limit(1)),
        summary=fields.pop("summary", "咨询"),
        **fields,
    )
    session.add(request)
    session.flush()
    return request


def set_pool_rule(session, division_id: int, **values):
    """The division's default pool rule (R-POOL-1) with the given values, committed."""
    from portal.models import PoolRule

    rule = session.scalar(
        select(PoolRule).where(PoolRule.division_id == division_id, PoolRule.grade_id.is_(None))
    )
    if rule is None:
        rule = PoolRule(division_id=division_id)
        session.add(rule)
    for key, value in values.items():
        setattr(rule, key, value)
    session.commit()
    return rule
