"""Customers through the portal (issue #2): create with primary contact, validation in
Chinese keeping what was typed, search, edit, escaping, optimistic locking, bad input."""

import re

import pytest
from sqlalchemy import select

from portal.models import AuditLog, Contact, Customer
from tests.factories import make_customer


def _new_customer_form(**overrides):
    data = {
        "name": "杭州西湖茶叶有限公司",
        "kind": "company",
        "status": "intent",
        "mobile": "13912345678",
        "postcode": "310000",
        "email": "tea@example.cn",
        "region_code": "330106",
        "address": "杭州市西湖区龙井路1号",
        "contacts-0-name": "王建国",
        "contacts-0-mobile": "13800138000",
        "contacts-0-gender": "male",
        "contacts-0-is_primary": "y",
    }
    data.update(overrides)
    return data


def test_clerk_creates_customer_with_primary_contact(login, session, world):
    client = login("east.clerk1")
    response = client.post("/admin/customer/new/", data=_new_customer_form())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    customer = session.scalar(select(Customer).where(Customer.name == "杭州西湖茶叶有限公司"))
    assert customer.owner_id == world["east.clerk1"].id
    assert customer.division_id == world["east.clerk1"].division_id
    assert customer.created_by_id == world["east.clerk1"].id
    assert customer.region_code == "330106"
    contact = session.scalar(select(Contact).where(Contact.customer_id == customer.id))
    assert (contact.name, contact.is_primary, contact.division_id, contact.owner.id) == (
        "王建国",
        True,
        customer.division_id,
        customer.owner_id,
    )
    assert session.scalar(
        select(AuditLog).where(AuditLog.action == "create", AuditLog.record_id == customer.id)
    )


def test_first_contact_becomes_primary_when_none_is_marked(login, session, world):
    client = login("east.clerk1")
    form = _new_customer_form(**{"contacts-1-name": "李四"})
    del form["contacts-0-is_primary"]
    assert client.post("/admin/customer/new/", data=form).status_code == 302
    contacts = session.scalars(select(Contact).order_by(Contact.id)).all()
    assert [c.is_primary for c in contacts] == [True, False]


def test_validation_messages_in_chinese_and_typed_values_kept(login, session):
    client = login("east.clerk1")
    form = _new_customer_form(
        name="", mobile="12345", postcode="31", email="not-mail", remark="这段备注不能丢"
    )
    response = client.post("/admin/customer/new/", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "请填写客户名" in html
    assert "请输入正确的11位手机号码" in html
    assert "邮政编码应为6位数字" in html
    assert "请输入正确的电子邮箱" in html
    assert 'value="12345"' in html and "这段备注不能丢" in html and "王建国" in html
    assert session.scalar(select(Customer.id)) is None  # nothing half-saved


@pytest.mark.parametrize(
    "mobile", ["12812345678", "1381234567", "138123456789", "1401234567a", "19412345678"]
)
def test_invalid_mobiles_are_refused(login, session, mobile):
    response = login("east.clerk1").post(
        "/admin/customer/new/", data=_new_customer_form(mobile=mobile)
    )
    assert "请输入正确的11位手机号码" in response.get_data(as_text=True)
    assert session.scalar(select(Customer.id)) is None


def test_over_long_name_is_refused(login, session):
    response = login("east.clerk1").post(
        "/admin/customer/new/", data=_new_customer_form(name="长" * 51)
    )
    assert response.status_code == 200
    assert session.scalar(select(Customer.id)) is None


def test_same_name_in_division_is_refused_beside_the_field(login, session, world):
    make_customer(session, world["east.clerk2"], name="重名客户")
    session.commit()
    response = login("east.clerk1").post(
        "/admin/customer/new/", data=_new_customer_form(name="重名客户")
    )
    html = response.get_data(as_text=True)
    assert "本版块已有同名客户，不能重复建档" in html
    assert (
        session.scalar(select(Customer.id).where(Customer.owner_id == world["east.clerk1"].id))
        is None
    )


def test_same_name_in_another_division_is_allowed(login, session, world):
    make_customer(session, world["west.clerk1"], name="跨版块同名")
    session.commit()
    response = login("east.clerk1").post(
        "/admin/customer/new/", data=_new_customer_form(name="跨版块同名")
    )
    assert response.status_code == 302


def test_text_is_trimmed_and_shown_escaped(login, session, world):
    client = login("east.clerk1")
    hostile = "<script>alert('x')</script>😀' OR 1=1 --"
    response = client.post(
        "/admin/customer/new/", data=_new_customer_form(name="  <b>粗体</b>公司  ", remark=hostile)
    )
    assert response.status_code == 302
    customer = session.scalar(select(Customer))
    assert customer.name == "<b>粗体</b>公司" and customer.remark == hostile
    for url in (
        "/admin/customer/",
        f"/admin/customer/details/?id={customer.id}",
        f"/admin/customer/edit/?id={customer.id}",
    ):
        html = client.get(url).get_data(as_text=True)
        assert "<b>粗体</b>" not in html and "<script>alert" not in html
        assert "&lt;b&gt;粗体&lt;/b&gt;" in html


def test_two_character_search_finds_the_customer(login, session, world):
    clerk = world["east.clerk1"]
    make_customer(session, clerk, name="张桂兰个体户")
    make_customer(session, clerk, name="李建国商行")
    make_customer(session, world["east.clerk2"], name="同事的桂兰公司")
    session.commit()
    html = login("east.clerk1").get("/admin/customer/?search=桂兰").get_data(as_text=True)
    assert "张桂兰个体户" in html
    assert "李建国商行" not in html
    assert "同事的桂兰公司" not in html  # a colleague's customer is never listed (R-SCOPE-2)


@pytest.mark.parametrize("term", ["%", "_", "'; DROP TABLE customers; --", "\\", "😀"])
def test_search_with_metacharacters_is_harmless(login, session, world, term):
    make_customer(session, world["east.clerk1"], name="普通客户")
    session.commit()
    response = login("east.clerk1").get("/admin/customer/", query_string={"search": term})
    assert response.status_code == 200
    assert "普通客户" not in response.get_data(as_text=True)


def test_clerk_edits_his_customer(login, session, world):
    customer = make_customer(session, world["east.clerk1"], name="待修改客户")
    session.commit()
    client = login("east.clerk1")
    page = client.get(f"/admin/customer/edit/?id={customer.id}").get_data(as_text=True)
    version = re.search(r'name="seen_version"[^>]*value="(\d+)"', page)
    assert version, "the edit form carries the version the user saw"
    response = client.post(
        f"/admin/customer/edit/?id={customer.id}",
        data={
            "name": "已修改客户",
            "kind": "company",
            "status": "following",
            "seen_version": version.group(1),
        },
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Customer, customer.id).name == "已修改客户"
    log = session.scalar(select(AuditLog).where(AuditLog.action == "update"))
    assert '"name": ["待修改客户", "已修改客户"]' in log.changes


def test_stale_form_is_refused_and_first_save_kept(login, session, world):
    customer = make_customer(session, world["east.clerk1"], name="并发客户")
    session.commit()
    first, second = login("east.clerk1"), login("east.head")
    seen = str(customer.version)
    assert (
        first.post(
            f"/admin/customer/edit/?id={customer.id}",
            data={
                "name": "第一次保存",
                "kind": "company",
                "status": "intent",
                "seen_version": seen,
            },
        ).status_code
        == 302
    )
    response = second.post(
        f"/admin/customer/edit/?id={customer.id}",
        data={"name": "第二次保存", "kind": "company", "status": "intent", "seen_version": seen},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已被他人修改" in html and "第二次保存" in html  # typed text kept
    session.expire_all()
    assert session.get(Customer, customer.id).name == "第一次保存"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/customer/details/?id=abc",
        "/admin/customer/details/?id=999999",
        "/admin/customer/edit/?id=1.5",
        "/admin/customer/details/?id=-1",
    ],
)
def test_unknown_or_malformed_ids_answer_404(login, url):
    assert login("east.clerk1").get(url).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=-1",
        "page=99999",
        "sort=zz",
        "desc=x",
        "flt0_0=abc",
        "page_size=10000",
        "preset=<script>",
    ],
)
def test_odd_query_strings_do_not_break_the_list(login, query):
    response = login("east.clerk1").get(f"/admin/customer/?{query}")
    assert response.status_code == 200
    assert (
        "<script>"
        not in response.get_data(as_text=True).split("<body", 1)[1].split("<script", 1)[0]
    )


def test_save_and_create_opportunity_opens_the_opportunity_form(login, session):
    client = login("east.clerk1")
    response = client.post(
        "/admin/customer/new/", data=_new_customer_form(_add_opportunity="保存并创建商机")
    )
    customer = session.scalar(select(Customer))
    assert response.status_code == 302
    assert f"/admin/opportunity/new/?customer_id={customer.id}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'data-json="[{customer.id}, ' in page  # the customer picker is preset


def test_save_and_add_another(login, session):
    response = login("east.clerk1").post(
        "/admin/customer/new/", data=_new_customer_form(_add_another="保存并新建")
    )
    assert response.status_code == 302
    assert "/admin/customer/new/" in response.headers["Location"]


def test_preset_lists(login, session, world):
    from datetime import timedelta

    from portal.clock import now

    clerk = world["east.clerk1"]
    fresh = make_customer(session, clerk, name="今天的客户")
    old = make_customer(session, clerk, name="去年的客户")
    old.created_at = old.updated_at = now() - timedelta(days=400)
    old.last_followup_at = now() - timedelta(days=10)
    fresh.last_followup_at = now()
    session.commit()
    client = login("east.clerk1")
    today = client.get("/admin/customer/?preset=today").get_data(as_text=True)
    assert "今天的客户" in today and "去年的客户" not in today
    stale = client.get("/admin/customer/?preset=nofollow3").get_data(as_text=True)
    assert "去年的客户" in stale and "今天的客户" not in stale
    recent = client.get("/admin/customer/?preset=updated30").get_data(as_text=True)
    assert "今天的客户" in recent and "去年的客户" not in recent
