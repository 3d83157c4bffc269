"""资料共享人 through the portal (R-SCOPE-2, R-SCOPE-4, issue #3): the owner shares on the
customer's page; the colleague sees it (list, details, contacts, opportunities), edits it only
with a read-write share, and loses it after the end date or on revocation (404)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import now
from portal.models import AuditLog, Customer, CustomerShare
from tests.factories import make_contact, make_customer, make_opportunity

URL = "/admin/customer"


@pytest.fixture
def records(session, world):
    owner = world["east.clerk1"]
    shared = make_customer(session, owner, name="共享的客户")
    other = make_customer(session, owner, name="未共享的客户")
    ids = {
        "shared": shared.id,
        "other": other.id,
        "contact": make_contact(session, shared, name="共享客户的联系人").id,
        "other_contact": make_contact(session, other, name="未共享客户的联系人").id,
        "opportunity": make_opportunity(session, shared, title="共享客户的商机").id,
        "other_opportunity": make_opportunity(session, other, title="未共享客户的商机").id,
    }
    session.commit()
    return ids


def _share(client, customer_id, user, **data):
    return client.post(f"{URL}/{customer_id}/share", data={"user": str(user.id), **data})


def _shares(session):
    session.expire_all()
    return session.scalars(select(CustomerShare)).all()


def _edit(client, customer_id, name):
    return client.post(
        f"{URL}/edit/?id={customer_id}",
        data={"name": name, "kind": "company", "status": "following", "seen_version": "1"},
    )


def test_owner_sees_the_share_form_and_shares_read_only(login, session, world, records):
    owner = login("east.clerk1")
    page = owner.get(f"{URL}/details/?id={records['shared']}").get_data(as_text=True)
    assert 'id="customer-shares"' in page and "east.clerk2" in page
    assert "west.clerk1" not in page and "east.admin" not in page  # only colleagues to pick

    response = _share(owner, records["shared"], world["east.clerk2"])
    assert response.status_code == 302
    [share] = _shares(session)
    assert (share.user_id, share.can_edit, share.until) == (world["east.clerk2"].id, False, None)
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert "只读" in page and "长期" in page

    colleague = login("east.clerk2")
    listing = colleague.get(f"{URL}/").get_data(as_text=True)
    assert "共享的客户" in listing and "未共享的客户" not in listing
    assert colleague.get(f"{URL}/details/?id={records['shared']}").status_code == 200
    assert colleague.get(f"{URL}/details/?id={records['other']}").status_code == 404
    contacts = colleague.get("/admin/contact/").get_data(as_text=True)
    assert "共享客户的联系人" in contacts and "未共享客户的联系人" not in contacts
    assert colleague.get(f"/admin/contact/details/?id={records['contact']}").status_code == 200
    assert (
        colleague.get(f"/admin/contact/details/?id={records['other_contact']}").status_code == 404
    )
    opportunities = colleague.get("/admin/opportunity/").get_data(as_text=True)
    assert "共享客户的商机" in opportunities and "未共享客户的商机" not in opportunities
    # Read-only: the edit form is not there and a hand-made POST changes nothing.
    assert colleague.get(f"{URL}/edit/?id={records['shared']}").status_code == 404
    assert _edit(colleague, records["shared"], "改名").status_code == 404
    session.expire_all()
    assert session.get(Customer, records["shared"]).name == "共享的客户"
    # The shared colleague is not offered the share card.
    page = colleague.get(f"{URL}/details/?id={records['shared']}").get_data(as_text=True)
    assert 'id="customer-shares"' not in page


def test_read_write_share_lets_the_colleague_edit_but_not_take_the_customer(
    login, session, world, records
):
    owner = world["east.clerk1"]
    _share(login("east.clerk1"), records["shared"], world["east.clerk2"], can_edit="y")
    colleague = login("east.clerk2")
    assert colleague.get(f"{URL}/edit/?id={records['shared']}").status_code == 200
    response = _edit(colleague, records["shared"], "共享客户改名")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    session.expire_all()
    customer = session.get(Customer, records["shared"])
    assert customer.name == "共享客户改名"
    assert customer.owner_id == owner.id and customer.division_id == owner.division_id
    # Still not the colleague's other customers, and no owner change by a hand-made POST.
    assert _edit(colleague, records["other"], "偷改").status_code == 404
    colleague.post(
        f"{URL}/edit/?id={records['shared']}",
        data={
            "name": "共享客户改名",
            "kind": "company",
            "status": "following",
            "seen_version": str(customer.version),
            "owner": str(world["east.clerk2"].id),
        },
    )
    session.expire_all()
    assert session.get(Customer, records["shared"]).owner_id == owner.id
    assert session.get(Customer, records["other"]).name == "未共享的客户"


def test_share_ends_after_its_date(login, session, world, records):
    today = now().date()
    _share(login("east.clerk1"), records["shared"], world["east.clerk2"], until=str(today))
    colleague = login("east.clerk2")
    assert colleague.get(f"{URL}/details/?id={records['shared']}").status_code == 200
    [share] = _shares(session)
    share.until = today - timedelta(days=1)  # the day has passed
    session.commit()
    assert colleague.get(f"{URL}/details/?id={records['shared']}").status_code == 404
    assert "共享的客户" not in colleague.get(f"{URL}/").get_data(as_text=True)
    assert colleague.get(f"/admin/contact/details/?id={records['contact']}").status_code == 404
    page = login("east.clerk1").get(f"{URL}/details/?id={records['shared']}")
    assert "已过期" in page.get_data(as_text=True)


def test_revocation_answers_404_at_once(login, session, world, records):
    owner = login("east.clerk1")
    _share(owner, records["shared"], world["east.clerk2"], can_edit="y")
    colleague = login("east.clerk2")
    assert colleague.get(f"{URL}/details/?id={records['shared']}").status_code == 200
    [share] = _shares(session)
    head = login("east.head")  # the division head may revoke too
    response = head.post(f"{URL}/{records['shared']}/shares/{share.id}/revoke")
    assert response.status_code == 302
    assert _shares(session) == []
    assert colleague.get(f"{URL}/details/?id={records['shared']}").status_code == 404
    assert colleague.get(f"{URL}/edit/?id={records['shared']}").status_code == 404
    actions = session.scalars(
        select(AuditLog.action)
        .where(AuditLog.record_id == records["shared"], AuditLog.model == "Customer")
        .order_by(AuditLog.id)
    ).all()
    assert actions == ["share", "unshare"]


def test_refused_shares_change_nothing(login, session, world, records):
    # A colleague who is not the owner, even with a read-write share, cannot share further.
    _share(login("east.clerk1"), records["shared"], world["east.clerk2"], can_edit="y")
    colleague = login("east.clerk2")
    response = _share(colleague, records["shared"], world["east.clerk1"])
    assert response.status_code == 302
    page = colleague.get(response.headers["Location"]).get_data(as_text=True)
    assert "只有客户负责人或本版块负责人可以设置共享" in page
    # Another division's user cannot be picked (he is not in the picker's scope).
    owner = login("east.clerk1")
    response = _share(owner, records["shared"], world["west.clerk1"])
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert "请选择本版块的同事" in page
    # A west clerk or head does not even learn that the customer exists.
    assert _share(login("west.head"), records["shared"], world["west.clerk1"]).status_code == 404
    assert _share(login("west.clerk1"), records["shared"], world["west.clerk2"]).status_code == 404
    # The division admin only reads: no share card, and a POST is refused.
    admin = login("east.admin")
    page = admin.get(f"{URL}/details/?id={records['shared']}").get_data(as_text=True)
    assert 'id="customer-shares"' not in page
    _share(admin, records["shared"], world["east.clerk2"])
    # A past end date is refused with a message.
    owner.post(
        f"{URL}/{records['other']}/share",
        data={"user": str(world["east.clerk2"].id), "until": "2000-01-01"},
    )
    owner.post(
        f"{URL}/{records['other']}/share",
        data={"user": str(world["east.clerk2"].id), "until": "not-a-date"},
    )
    shares = _shares(session)
    assert [(s.customer_id, s.user_id) for s in shares] == [
        (records["shared"], world["east.clerk2"].id)
    ]


def test_revoking_a_share_of_another_customer_is_404(login, session, world, records):
    owner = login("east.clerk1")
    _share(owner, records["shared"], world["east.clerk2"])
    [share] = _shares(session)
    # The share id with the wrong customer in the URL, or a colleague's customer.
    assert owner.post(f"{URL}/{records['other']}/shares/{share.id}/revoke").status_code == 404
    foreign = make_customer(session, world["west.clerk1"], name="西区客户")
    session.commit()
    assert owner.post(f"{URL}/{foreign.id}/shares/{share.id}/revoke").status_code == 404
    assert len(_shares(session)) == 1


def test_share_posts_without_csrf_token_change_nothing(login, session, world, records):
    owner = login("east.clerk1")
    response = owner.post(
        f"{URL}/{records['shared']}/share",
        data={"user": str(world["east.clerk2"].id)},
        csrf=False,
    )
    assert response.status_code == 400
    assert _shares(session) == []
    _share(owner, records["shared"], world["east.clerk2"])
    [share] = _shares(session)
    response = owner.post(f"{URL}/{records['shared']}/shares/{share.id}/revoke", csrf=False)
    assert response.status_code == 400
    assert len(_shares(session)) == 1


def test_pool_details_page_has_no_share_card(login, session, world):
    pool = make_customer(session, None, division=world["east.head"].division, name="公海客户")
    session.commit()
    page = login("east.head").get(f"/admin/pool/details/?id={pool.id}")
    assert page.status_code == 200
    assert 'id="customer-shares"' not in page.get_data(as_text=True)


def test_read_write_share_lets_the_colleague_add_a_contact(login, session, world):
    from portal.models import Contact

    customer = make_customer(session, world["east.clerk1"], name="共享加联系人")
    session.add(
        CustomerShare(customer_id=customer.id, user_id=world["east.clerk2"].id, can_edit=True)
    )
    session.commit()
    response = login("east.clerk2").post(
        "/admin/contact/new/",
        data={"customer": str(customer.id), "name": "共享联系人", "gender": "unknown"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    contact = session.scalar(select(Contact).where(Contact.name == "共享联系人"))
    assert contact.owner.id == world["east.clerk1"].id
