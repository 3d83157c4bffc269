"""The customer's 360° page (issue #6 item 6, R-REPORT-6): every section, scope on each
(R-SCOPE-4), escaping, a bounded number of queries; churn decisions and lists (R-CHURN-1)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from portal.clock import now
from portal.models import Customer, CustomerShare, OwnershipChange, ValueClassChange
from portal.services import churn
from tests.factories import (
    make_activity,
    make_contact,
    make_customer,
    make_opportunity,
    make_order,
    make_service_request,
)

MARKS = {
    "contact": "联系人-王五",
    "activity": "回访-试驾安排",
    "feedback": "客户嫌价格高",
    "instruction": "请经理亲自跟进",
    "opportunity": "商机-车队采购",
    "order": "ORD-360-1",
    "service": "服务-保养咨询",
    "ownership": "从公海领取",
}


@pytest.fixture
def customer(session, world):
    clerk1, head = world["east.clerk1"], world["east.head"]
    customer = make_customer(session, clerk1, name="三百六十度客户")
    make_contact(session, customer, name=MARKS["contact"], is_primary=True, mobile="13912345678")
    make_activity(
        session,
        customer,
        subject=MARKS["activity"],
        state="done",
        done_at=now(),
        result="已电话沟通",
        feedback=MARKS["feedback"],
        instruction=MARKS["instruction"],
        instruction_by_id=head.id,
        instruction_at=now(),
    )
    make_opportunity(session, customer, title=MARKS["opportunity"])
    make_order(session, customer, number=MARKS["order"], amount=Decimal("12345.60"))
    make_service_request(session, customer, summary=MARKS["service"])
    session.add(
        OwnershipChange(
            customer_id=customer.id,
            division_id=customer.division_id,
            kind="claim",
            to_owner_id=clerk1.id,
            by_id=clerk1.id,
            at=now() - timedelta(days=3),
            reason=MARKS["ownership"],
        )
    )
    session.add(
        ValueClassChange(
            customer_id=customer.id,
            at=now(),
            from_class="C",
            to_class="B",
            amount_12m=Decimal("12345.60"),
        )
    )
    # Records that hang off this customer but belong elsewhere must never show through it.
    west = world["west.head"].division_id
    make_activity(session, customer, subject="WEST-SECRET 活动").division_id = west
    make_service_request(session, customer, summary="WEST-SECRET 服务").division_id = west
    session.commit()
    return customer


def _page(client, customer) -> str:
    response = client.get(f"/admin/customer/details/?id={customer.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["east.clerk1", "east.head"])
def test_every_section_shows_what_the_user_may_see(login, customer, username):
    page = _page(login(username), customer)
    for mark in MARKS.values():
        assert mark in page, mark
    for section in (
        "customer-care",
        "value-history",
        "customer-contacts",
        "customer-activities",
        "customer-opportunities",
        "customer-orders",
        "customer-service",
        "customer-ownership",
    ):
        assert f'id="{section}"' in page
    assert "¥12,345.60" in page and "东区负责人" in page
    assert "WEST-SECRET" not in page


def test_other_divisions_and_colleagues_get_404(login, session, customer, world):
    for username in ("east.clerk2", "west.head", "west.clerk1"):
        response = login(username).get(f"/admin/customer/details/?id={customer.id}")
        assert response.status_code == 404, username
    session.add(CustomerShare(customer_id=customer.id, user_id=world["east.clerk2"].id))
    session.commit()
    page = _page(login("east.clerk2"), customer)
    assert MARKS["order"] in page and "WEST-SECRET" not in page


def test_division_admin_sees_masked_mobiles(login, customer):
    page = _page(login("east.admin"), customer)
    assert "139****5678" in page and "13912345678" not in page


def test_text_is_escaped(login, session, customer):
    make_contact(session, customer, name="<img src=x onerror=alert(1)>")
    session.commit()
    page = _page(login("east.clerk1"), customer)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def _queries(response) -> int:
    return int(re.search(r'desc="(\d+) queries"', response.headers["Server-Timing"]).group(1))


def test_the_page_does_not_query_per_record(login, session, customer, world):
    client = login("east.clerk1")
    few = _queries(client.get(f"/admin/customer/details/?id={customer.id}"))
    for i in range(15):
        make_order(session, customer, number=f"ORD-MORE-{i}")
        make_activity(session, customer, subject=f"更多回访{i}", owner_id=world["east.clerk2"].id)
        make_service_request(session, customer, summary=f"更多服务{i}")
        make_opportunity(session, customer, title=f"更多商机{i}")
    session.commit()
    assert _queries(client.get(f"/admin/customer/details/?id={customer.id}")) == few


# -- churn on the page and in the lists (R-CHURN-1) ------------------------------------------
def _warn(session, customer):
    standing = session.get(Customer, customer.id).standing
    standing.churn_state = "warning"
    standing.churn_warned_at = now()
    session.commit()


def test_owner_retains_a_warned_customer_on_the_page(login, session, customer):
    _warn(session, customer)
    client = login("east.clerk1")
    page = _page(client, customer)
    assert 'id="churn-retain-form"' in page and 'id="churn-lose-form"' in page
    until = (now().date() + timedelta(days=10)).isoformat()
    response = client.post(
        f"/admin/customer/{customer.id}/churn/retain",
        data={"measure": "赠送保养券", "until": until},
        follow_redirects=True,
    )
    assert "已暂缓流失" in response.get_data(as_text=True)
    session.expire_all()
    fresh = session.get(Customer, customer.id)
    assert (fresh.churn_state, fresh.churn_measure, fresh.churn_measure_on.isoformat()) == (
        "retained",
        "赠送保养券",
        until,
    )
    # a new order clears it (what the order form's save calls)
    order = make_order(session, fresh, number="ORD-NEW", signed_on=now().date())
    assert churn.on_order_recorded(session, order)
    session.commit()
    assert "正常" in _page(client, customer)


def test_churn_decisions_are_refused_to_others(login, session, customer):
    _warn(session, customer)
    url = f"/admin/customer/{customer.id}/churn/lose"
    assert login("east.clerk2").post(url, data={"reason": "x"}).status_code == 404
    assert login("west.head").post(url, data={"reason": "x"}).status_code == 404
    refused = login("east.admin").post(url, data={"reason": "x"}, follow_redirects=True)
    assert "您的角色不能处理流失预警" in refused.get_data(as_text=True)
    blank = login("east.clerk1").post(url, data={"reason": " "}, follow_redirects=True)
    assert "请填写流失原因" in blank.get_data(as_text=True)
    assert login("east.clerk1").post(url, data={"reason": "x"}, csrf=False).status_code == 400
    session.expire_all()
    assert session.get(Customer, customer.id).churn_state == "warning"
    lost = login("east.head").post(url, data={"reason": "转向竞品"}, follow_redirects=True)
    assert "已确认流失" in lost.get_data(as_text=True)
    session.expire_all()
    assert session.get(Customer, customer.id).churn_state == "lost"


def test_churn_preset_lists(login, session, world, customer):
    others = {}
    for state in ("warning", "retained", "lost"):
        c = make_customer(session, world["east.clerk1"], name=f"LIST-{state}", churn_state=state)
        others[state] = c
    session.commit()
    client = login("east.head")
    for state in ("warning", "retained", "lost"):
        html = client.get(f"/admin/customer/?preset=churn_{state}").get_data(as_text=True)
        listed = {s for s in ("warning", "retained", "lost") if f"LIST-{s}" in html}
        assert listed == {state}
        assert customer.name not in html
    menu = client.get("/admin/customer/").get_data(as_text=True)
    assert "流失预警客户" in menu and "我的客户" in menu
