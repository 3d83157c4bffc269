"""Contacts list: a contact's owner is its customer's (schema 0010, R-SCOPE-1, R-POOL-4)."""

from portal.services import pool
from tests.factories import make_contact, make_customer


def _names(page: str, *names: str) -> list[str]:
    return [name for name in names if name in page]


def test_head_filters_contacts_by_their_customers_owner(login, session, world):
    one, two = world["east.clerk1"], world["east.clerk2"]
    make_contact(session, make_customer(session, one, name="甲公司"), name="甲联系人")
    make_contact(session, make_customer(session, two, name="乙公司"), name="乙联系人")
    session.commit()
    client = login("east.head")

    page = client.get(f"/admin/contact/?flt0_0={two.id}").get_data(as_text=True)
    assert _names(page, "甲联系人", "乙联系人") == ["乙联系人"]
    assert two.display_name in page.split("乙联系人", 1)[1]

    page = client.get(f"/admin/contact/?flt0_0={one.id}").get_data(as_text=True)
    assert _names(page, "甲联系人", "乙联系人") == ["甲联系人"]


def test_a_released_customers_contacts_have_no_owner(login, session, world):
    clerk = world["east.clerk1"]
    customer = make_customer(session, clerk, name="放回公司")
    contact = make_contact(session, customer, name="放回联系人")
    session.commit()
    assert contact.owner.id == clerk.id

    pool.release(session, customer, by=clerk, reason="客户不再需要")
    session.commit()
    session.expire_all()
    assert contact.owner is None
    page = login("east.head").get(f"/admin/contact/?flt0_0={clerk.id}").get_data(as_text=True)
    assert "放回联系人" not in page
