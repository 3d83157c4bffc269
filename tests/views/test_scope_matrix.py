"""The scope matrix (R-SCOPE-1..4): every view × role × verb, with records of two divisions
and two clerks, asserting on responses and on the database. Expectations are written out by
hand below (not computed with portal.scope), so a view that forgets the scope fails here."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import (
    Activity,
    Campaign,
    Contact,
    Customer,
    Lead,
    Opportunity,
    Order,
    ServiceRequest,
)
from tests.factories import (
    make_activity,
    make_contact,
    make_customer,
    make_lead,
    make_opportunity,
    make_order,
    make_service_request,
)

# Records are tagged E1 (east.clerk1), E2 (east.clerk2), W1 (west.clerk1), W2 (west.clerk2),
# EP / WP (pool customers of east / west); campaigns EC / WC.
ALL_TAGS = {"E1", "E2", "W1", "W2"}
EXPECTED = {  # role account → tags of owned records it may see
    "east.clerk1": {"E1"},
    "east.clerk2": {"E2"},
    "west.clerk1": {"W1"},
    "east.head": {"E1", "E2"},
    "east.admin": {"E1", "E2"},
    "west.head": {"W1", "W2"},
    "gm": ALL_TAGS,
    "admin": ALL_TAGS,
}
POOL_EXPECTED = {
    "east.clerk1": {"EP"},
    "east.clerk2": {"EP"},
    "west.clerk1": {"WP"},
    "east.head": {"EP"},
    "east.admin": {"EP"},
    "west.head": {"WP"},
    "gm": {"EP", "WP"},
    "admin": {"EP", "WP"},
}
CAMPAIGN_EXPECTED = {
    "east.clerk1": {"EC"},
    "east.clerk2": {"EC"},
    "west.clerk1": {"WC"},
    "east.head": {"EC"},
    "east.admin": {"EC"},
    "west.head": {"WC"},
    "gm": {"EC", "WC"},
    "admin": {"EC", "WC"},
}
# endpoint → (model, attribute that carries the tag, expectation table)
VIEWS = {
    "customer": (Customer, "name", EXPECTED),
    "pool": (Customer, "name", POOL_EXPECTED),
    "contact": (Contact, "name", EXPECTED),
    "lead": (Lead, "person_name", EXPECTED),
    "opportunity": (Opportunity, "title", EXPECTED),
    "activity": (Activity, "subject", EXPECTED),
    "order": (Order, "number", EXPECTED),
    "service_request": (ServiceRequest, "summary", EXPECTED),
    "campaign": (Campaign, "name", CAMPAIGN_EXPECTED),
}
ROLES = list(EXPECTED)
TAG_RE = re.compile(r"TAG-(E1|E2|W1|W2|EP|WP|EC|WC)\b")


@pytest.fixture
def records(session, world):
    """One full set of records per clerk, a pool customer and a campaign per division."""
    ids: dict[str, dict[str, int]] = {}
    for tag, owner in (
        ("E1", "east.clerk1"),
        ("E2", "east.clerk2"),
        ("W1", "west.clerk1"),
        ("W2", "west.clerk2"),
    ):
        user = world[owner]
        customer = make_customer(session, user, name=f"TAG-{tag} 客户")
        ids[tag] = {
            "customer": customer.id,
            "contact": make_contact(session, customer, name=f"TAG-{tag} 联系人").id,
            "lead": make_lead(session, user, person_name=f"TAG-{tag} 线索").id,
            "opportunity": make_opportunity(session, customer, title=f"TAG-{tag} 商机").id,
            "activity": make_activity(session, customer, subject=f"TAG-{tag} 回访").id,
            "order": make_order(session, customer, number=f"TAG-{tag}").id,
            "service_request": make_service_request(
                session, customer, summary=f"TAG-{tag} 服务"
            ).id,
        }
    for tag, division_key in (("EP", "east.head"), ("WP", "west.head")):
        pool = make_customer(
            session, None, division=world[division_key].division, name=f"TAG-{tag} 公海客户"
        )
        ids[tag] = {"pool": pool.id}
    for tag, head in (("EC", "east.head"), ("WC", "west.head")):
        campaign = Campaign(
            name=f"TAG-{tag} 活动", division_id=world[head].division_id, owner_id=world[head].id
        )
        session.add(campaign)
        session.flush()
        ids[tag] = {"campaign": campaign.id}
    session.commit()
    return ids


def _tags(html: str) -> set[str]:
    return set(TAG_RE.findall(html))


def _counts(session) -> dict[str, int]:
    session.expire_all()
    return {
        m.__name__: session.scalar(select(func.count()).select_from(m))
        for m in (Customer, Contact, Lead, Opportunity, Activity, Order, ServiceRequest, Campaign)
    }


@pytest.mark.parametrize("role", ROLES)
def test_lists_details_and_edit_forms_show_only_the_scope(login, records, role):
    client = login(role)
    for endpoint, (_model, _attr, expected) in VIEWS.items():
        allowed = expected[role]
        listing = client.get(f"/admin/{endpoint}/")
        assert listing.status_code == 200, (role, endpoint)
        assert _tags(listing.get_data(as_text=True)) == allowed, (role, endpoint)
        for tag, by_view in records.items():
            if endpoint not in by_view:
                continue
            pk = by_view[endpoint]
            details = client.get(f"/admin/{endpoint}/details/?id={pk}")
            assert details.status_code == (200 if tag in allowed else 404), (role, endpoint, tag)
            edit = client.get(f"/admin/{endpoint}/edit/?id={pk}")
            if tag not in allowed:
                assert edit.status_code in (404, 302), (role, endpoint, tag)
                if edit.status_code == 302:  # read-only roles are sent back, never shown
                    assert TAG_RE.search(
                        client.get(edit.headers["Location"]).get_data(as_text=True) or ""
                    ) is None or tag not in _tags(
                        client.get(edit.headers["Location"]).get_data(as_text=True)
                    )


@pytest.mark.parametrize("role", ["east.clerk1", "west.clerk1", "east.head", "west.head"])
def test_out_of_scope_posts_change_nothing(login, session, records, role):
    client = login(role)
    before = _counts(session)
    for endpoint, (_model, attr, expected) in VIEWS.items():
        for tag, by_view in records.items():
            if endpoint not in by_view or tag in expected[role]:
                continue
            pk = by_view[endpoint]
            edit = client.post(
                f"/admin/{endpoint}/edit/?id={pk}", data={attr: "HACKED", "seen_version": "1"}
            )
            assert edit.status_code in (302, 404), (role, endpoint, tag)
            delete = client.post(f"/admin/{endpoint}/delete/", data={"id": str(pk)})
            assert delete.status_code in (302, 404), (role, endpoint, tag)
            action = client.post(
                f"/admin/{endpoint}/action/", data={"action": "delete", "rowid": [str(pk)]}
            )
            assert action.status_code in (302, 404), (role, endpoint, tag)
    assert _counts(session) == before
    for model, attr, _ in VIEWS.values():
        hacked = session.scalar(
            select(func.count()).select_from(model).where(getattr(model, attr) == "HACKED")
        )
        assert hacked == 0


@pytest.mark.parametrize("role", ["east.clerk1", "east.head", "gm"])
def test_exports_hold_only_the_scope(login, records, role):
    client = login(role)
    for endpoint, (_model, _attr, expected) in VIEWS.items():
        response = client.get(f"/admin/{endpoint}/export/csv/")
        if response.status_code != 200:
            continue  # this role may not export here; covered by the permission test
        assert _tags(response.get_data(as_text=True)) <= expected[role], (role, endpoint)


@pytest.mark.parametrize("role", ["east.clerk1", "west.clerk1", "east.head"])
def test_relation_pickers_offer_only_the_scope(login, records, role):
    client = login(role)
    pickers = [
        ("contact", "customer"),
        ("opportunity", "customer"),
        ("order", "customer"),
        ("activity", "customer"),
        ("activity", "lead"),
        ("activity", "opportunity"),
        ("service_request", "customer"),
        ("service_request", "contact"),
        ("lead", "referrer_customer"),
        ("order", "opportunity"),
    ]
    for endpoint, field in pickers:
        response = client.get(
            f"/admin/{endpoint}/ajax/lookup/", query_string={"name": field, "query": "TAG"}
        )
        assert response.status_code == 200, (endpoint, field)
        found = _tags(response.get_data(as_text=True))
        assert found <= EXPECTED[role], (role, endpoint, field, found)
        assert found, (role, endpoint, field)


def test_owner_filter_offers_only_users_in_scope(login, records, world):
    html = login("east.head").get("/admin/customer/").get_data(as_text=True)
    assert world["east.clerk1"].display_name in html
    assert world["west.clerk1"].display_name not in html


def test_hand_made_post_cannot_move_a_record_out_of_scope(login, session, records, world):
    """A clerk cannot give his customer to someone else or to another division."""
    client = login("east.clerk1")
    pk = records["E1"]["customer"]
    response = client.post(
        f"/admin/customer/edit/?id={pk}",
        data={
            "name": "TAG-E1 客户",
            "kind": "company",
            "status": "intent",
            "seen_version": "1",
            "owner": str(world["west.clerk1"].id),
            "division": str(world["west.head"].division_id),
        },
    )
    assert response.status_code in (200, 302)
    session.expire_all()
    customer = session.get(Customer, pk)
    assert customer.owner_id == world["east.clerk1"].id
    assert customer.division_id == world["east.clerk1"].division_id
    # A head may not hand a customer to a user of another division either.
    head = login("east.head")
    head.post(
        f"/admin/customer/edit/?id={pk}",
        data={
            "name": "TAG-E1 客户",
            "kind": "company",
            "status": "intent",
            "seen_version": "1",
            "owner": str(world["west.clerk1"].id),
        },
    )
    session.expire_all()
    assert session.get(Customer, pk).owner_id == world["east.clerk1"].id


def test_picking_an_out_of_scope_customer_in_a_form_is_refused(login, session, records):
    client = login("east.clerk1")
    response = client.post(
        "/admin/opportunity/new/",
        data={"customer": str(records["W1"]["customer"]), "title": "偷来的商机", "stage": "1"},
    )
    assert response.status_code == 200
    assert session.scalar(select(Opportunity).where(Opportunity.title == "偷来的商机")) is None


def test_dashboard_counts_respect_scope(login, records):
    html = login("east.clerk1").get("/admin/").get_data(as_text=True)
    figures = dict(
        re.findall(r'data-figure="(\w+)".*?<div class="h3 mb-0">(\d+)</div>', html, re.S)
    )
    assert figures["customers"] == "1" and figures["pool"] == "1"
