"""资料共享人 (R-SCOPE-2, issue #3): who may share a customer with whom, and what it grants."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import scope
from portal.clock import now
from portal.models import (
    Activity,
    AuditLog,
    Contact,
    Customer,
    CustomerShare,
    Opportunity,
    Order,
    ServiceRequest,
)
from portal.services import BusinessRuleError
from portal.services.sharing import (
    end_shares,
    revoke_share,
    share_candidates,
    share_customer,
    share_lines,
)
from tests.factories import (
    make_activity,
    make_contact,
    make_customer,
    make_opportunity,
    make_order,
    make_service_request,
)


def _visible_ids(session, model, user, *, for_edit=False) -> set[int]:
    return set(
        session.scalars(select(model.id).where(scope.visible(model, user, for_edit=for_edit)))
    )


@pytest.fixture
def customer(session, world):
    return make_customer(session, world["east.clerk1"], name="共享客户")


def test_owner_shares_read_only_and_the_colleague_sees_the_customer_and_its_records(
    session, world, customer
):
    colleague = world["east.clerk2"]
    contact = make_contact(session, customer)
    opportunity = make_opportunity(session, customer)
    order = make_order(session, customer)
    activity = make_activity(session, customer)
    service = make_service_request(session, customer)
    assert customer.id not in _visible_ids(session, Customer, colleague)

    share_customer(session, customer, colleague, by=world["east.clerk1"])

    assert customer.id in _visible_ids(session, Customer, colleague)
    assert contact.id in _visible_ids(session, Contact, colleague)
    assert opportunity.id in _visible_ids(session, Opportunity, colleague)
    assert order.id in _visible_ids(session, Order, colleague)
    assert activity.id in _visible_ids(session, Activity, colleague)
    assert service.id in _visible_ids(session, ServiceRequest, colleague)
    # Read-only: nothing of it is editable.
    assert customer.id not in _visible_ids(session, Customer, colleague, for_edit=True)
    assert contact.id not in _visible_ids(session, Contact, colleague, for_edit=True)


def test_read_write_share_makes_the_customer_editable(session, world, customer):
    colleague = world["east.clerk2"]
    share_customer(session, customer, colleague, by=world["east.clerk1"], can_edit=True)
    assert customer.id in _visible_ids(session, Customer, colleague, for_edit=True)


def test_share_does_not_open_the_owners_other_customers(session, world, customer):
    other = make_customer(session, world["east.clerk1"], name="不共享的客户")
    share_customer(session, customer, world["east.clerk2"], by=world["east.clerk1"])
    seen = _visible_ids(session, Customer, world["east.clerk2"])
    assert customer.id in seen and other.id not in seen


def test_share_ends_after_its_date(session, world, customer):
    colleague = world["east.clerk2"]
    today = now().date()
    share = share_customer(session, customer, colleague, by=world["east.clerk1"], until=today)
    assert customer.id in _visible_ids(session, Customer, colleague)  # the last day counts
    share.until = today - timedelta(days=1)  # as if that day had passed
    session.flush()
    assert customer.id not in _visible_ids(session, Customer, colleague)
    assert [line.expired for line in share_lines(session, customer)] == [True]


def test_revocation_ends_the_share_and_is_logged(session, world, customer):
    colleague = world["east.clerk2"]
    share = share_customer(session, customer, colleague, by=world["east.clerk1"])
    revoke_share(session, share, by=world["east.head"], ip="10.0.0.9")
    assert session.scalars(select(CustomerShare)).all() == []
    assert customer.id not in _visible_ids(session, Customer, colleague)
    entries = session.scalars(
        select(AuditLog).where(AuditLog.record_id == customer.id).order_by(AuditLog.id)
    ).all()
    assert [e.action for e in entries] == ["share", "unshare"]
    assert entries[1].user_id == world["east.head"].id and entries[1].ip == "10.0.0.9"
    assert json.loads(entries[1].changes) == {"shared_with": ["east.clerk2", None]}


def test_sharing_again_changes_the_terms_and_logs_old_and_new(session, world, customer):
    colleague, owner = world["east.clerk2"], world["east.clerk1"]
    until = now().date() + timedelta(days=30)
    share_customer(session, customer, colleague, by=owner)
    share_customer(session, customer, colleague, by=owner, can_edit=True, until=until)
    share = session.scalars(select(CustomerShare)).one()
    assert share.can_edit is True and share.until == until
    last = session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).one()
    assert json.loads(last.changes) == {
        "can_edit": [False, True],
        "until": [None, until.isoformat()],
        "shared_with": [None, "east.clerk2"],
    }


def test_division_head_may_share_any_customer_of_his_division(session, world, customer):
    share_customer(session, customer, world["east.clerk2"], by=world["east.head"])
    assert customer.id in _visible_ids(session, Customer, world["east.clerk2"])


@pytest.mark.parametrize(
    ("by", "colleague", "message"),
    [
        ("east.clerk1", "west.clerk1", "只能与本版块的同事共享"),  # outside the division
        ("east.clerk1", "east.clerk1", "不能与自己共享"),  # oneself
        ("east.head", "east.head", "不能与自己共享"),
        ("east.clerk2", "east.clerk1", "只有客户负责人或本版块负责人"),  # not the owner
        ("east.admin", "east.clerk2", "只有客户负责人或本版块负责人"),
        ("west.head", "east.clerk2", "只有客户负责人或本版块负责人"),
        ("gm", "east.clerk2", "只有客户负责人或本版块负责人"),
        ("east.head", "east.clerk1", "是该客户的负责人"),
        ("east.clerk1", "east.admin", "已能看到本版块的全部客户"),
    ],
)
def test_refused_shares(session, world, customer, by, colleague, message):
    with pytest.raises(BusinessRuleError, match=message):
        share_customer(session, customer, world[colleague], by=world[by])
    assert session.scalars(select(CustomerShare)).all() == []


def test_a_clerk_with_a_read_write_share_cannot_share_further(session, world, customer):
    share_customer(session, customer, world["east.clerk2"], by=world["east.clerk1"], can_edit=True)
    share = session.scalars(select(CustomerShare)).one()
    with pytest.raises(BusinessRuleError, match="只有客户负责人"):
        revoke_share(session, share, by=world["east.clerk2"])


def test_pool_customers_and_past_dates_and_frozen_colleagues_are_refused(session, world):
    owner, colleague = world["east.clerk1"], world["east.clerk2"]
    pool = make_customer(session, None, division=owner.division)
    with pytest.raises(BusinessRuleError, match="公海客户"):
        share_customer(session, pool, colleague, by=world["east.head"])
    customer = make_customer(session, owner)
    with pytest.raises(BusinessRuleError, match="不能早于今天"):
        share_customer(
            session, customer, colleague, by=owner, until=now().date() - timedelta(days=1)
        )
    colleague.state = "frozen"
    with pytest.raises(BusinessRuleError, match="冻结或停用"):
        share_customer(session, customer, colleague, by=owner)


def test_candidates_are_the_active_clerks_of_the_division_but_the_owner(session, world, customer):
    names = [u.username for u in share_candidates(session, customer, by=world["east.head"])]
    assert names == ["east.clerk2"]
    world["east.clerk2"].state = "frozen"
    session.flush()
    assert share_candidates(session, customer, by=world["east.clerk1"]) == []


def test_end_shares_drops_every_share_of_the_customers(session, world, customer):
    share_customer(session, customer, world["east.clerk2"], by=world["east.clerk1"])
    assert end_shares(session, [customer.id]) == 1
    assert customer.id not in _visible_ids(session, Customer, world["east.clerk2"])
