"""The audit and login logs (R-AUDIT-1/2, R-SCOPE-1, issue #3): what the portal records, and
who may read it — a division's head and admin their division, group management and
sysadmin everything, clerks nothing; changes read as 字段：旧 → 新 with mobiles masked."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from portal.models import AuditLog, Customer, LoginLog
from portal.services import accounts as wf
from portal.services.audit import record_event
from tests.factories import make_customer

AUDIT = "/admin/audit_log/"
LOGINS = "/admin/login_log/"
MOBILE = "13912345678"


def _entries(session, **where):
    session.expire_all()
    stmt = select(AuditLog).order_by(AuditLog.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditLog, key) == value)
    return session.scalars(stmt).all()


def _customer_form(**overrides):
    return {"name": "审计测试客户", "kind": "company", "status": "intent", **overrides}


# -- what is recorded ----------------------------------------------------------------------
def test_create_update_and_delete_through_the_portal_are_recorded(login, session, world):
    clerk = login("east.clerk1")
    assert clerk.post("/admin/customer/new/", data=_customer_form()).status_code == 302
    customer = session.scalar(select(Customer).where(Customer.name == "审计测试客户"))
    response = clerk.post(
        f"/admin/customer/edit/?id={customer.id}",
        data=_customer_form(name="审计测试客户改名", mobile=MOBILE, seen_version="1"),
    )
    assert response.status_code == 302
    head = login("east.head")
    response = head.post("/admin/customer/delete/", data={"id": str(customer.id)})
    assert response.status_code == 302

    entries = _entries(session, model="Customer", record_id=customer.id)
    assert [e.action for e in entries] == ["create", "update", "delete"]
    create, update, delete = entries
    assert create.user_id == world["east.clerk1"].id and delete.user_id == world["east.head"].id
    assert {e.division_id for e in entries} == {world["east.clerk1"].division_id}
    assert {e.ip for e in entries} == {"127.0.0.1"}
    changes = json.loads(update.changes)
    assert changes["name"] == ["审计测试客户", "审计测试客户改名"]
    assert changes["mobile"] == [None, "139****5678"]  # masked in the log itself
    assert MOBILE not in update.changes


def test_exports_and_prints_are_recorded(login, session, world):
    make_customer(session, world["east.clerk1"], name="导出的客户")
    req = wf.new_account_request(
        session,
        by=world["east.admin"],
        change_type="create",
        person_name="王新",
        username="east.wang",
        requested_role="clerk",
        reason="新入职业务员",
    )
    session.commit()
    head = login("east.head")
    assert head.get("/admin/customer/export/csv/").status_code == 200
    assert head.get(f"/admin/account_request/{req.id}/print").status_code == 200
    [export] = _entries(session, action="export")
    assert (export.user_id, export.model, export.ip) == (
        world["east.head"].id,
        "Customer",
        "127.0.0.1",
    )
    assert export.summary == "customer.csv: 1"
    [printed] = _entries(session, action="print")
    assert (printed.model, printed.record_id) == ("AccountRequest", req.id)
    assert printed.division_id == world["east.head"].division_id


def test_sign_ins_go_to_the_login_log_with_ip(app, session, world):
    client = app.test_client()
    client.login("east.clerk1", "wrong-password")
    client.login("nobody.here", "whatever")
    assert client.login("east.clerk1").status_code == 302
    session.expire_all()
    rows = session.scalars(select(LoginLog).order_by(LoginLog.id)).all()
    assert [(r.username, r.success, r.reason, r.ip) for r in rows] == [
        ("east.clerk1", False, "bad_password", "127.0.0.1"),
        ("nobody.here", False, "unknown_user", "127.0.0.1"),
        ("east.clerk1", True, "ok", "127.0.0.1"),
    ]


# -- who reads it --------------------------------------------------------------------------
@pytest.fixture
def logged(session, world):
    """One entry per division, with a change that names a mobile under another field."""
    east, west = world["east.clerk1"], world["west.clerk1"]
    e = make_customer(session, east, name="东区日志客户")
    w = make_customer(session, west, name="西区日志客户")
    record_event(
        session,
        "update",
        e,
        user=east,
        ip="10.1.1.1",
        changes={"name": ["东区旧名", "东区日志客户"], "remark": [None, f"客户手机 {MOBILE}"]},
    )
    record_event(session, "update", w, user=west, ip="10.2.2.2", changes={"name": ["a", "b"]})
    session.commit()
    return {
        "east": _entries(session, record_id=e.id)[0].id,
        "west": _entries(session, record_id=w.id)[0].id,
    }


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("east.head", {"east"}),
        ("east.admin", {"east"}),
        ("west.head", {"west"}),
        ("west.admin", {"west"}),
        ("gm", {"east", "west"}),
        ("admin", {"east", "west"}),
    ],
)
def test_audit_log_is_filtered_by_scope(login, logged, role, sees):
    client = login(role)
    html = client.get(AUDIT).get_data(as_text=True)
    assert ("东区日志客户" in html) == ("east" in sees), role
    assert ("西区日志客户" in html) == ("west" in sees), role
    for division, pk in logged.items():
        status = client.get(f"{AUDIT}details/?id={pk}").status_code
        assert status == (200 if division in sees else 404), (role, division)


def test_west_head_never_sees_east_entries_by_any_path(login, logged, world):
    client = login("west.head")
    east_division = world["east.head"].division_id
    for query in (
        {},
        {"search": "日志客户"},
        {"flt0_3": str(east_division)},  # the division filter
        {"sort": "0", "desc": "0"},
        {"page_size": "100"},
    ):
        html = client.get(AUDIT, query_string=query).get_data(as_text=True)
        assert "东区日志客户" not in html and "东区旧名" not in html, query
        assert "10.1.1.1" not in html, query
    assert client.get(f"{AUDIT}details/?id={logged['east']}").status_code == 404
    assert client.get(f"{AUDIT}export/csv/").status_code == 404


@pytest.mark.parametrize("role", ["east.clerk1", "west.clerk2"])
def test_clerks_see_no_logs(login, logged, role):
    client = login(role)
    assert client.get(AUDIT).status_code == 404
    assert client.get(f"{AUDIT}details/?id={logged['east']}").status_code == 404
    assert client.get(LOGINS).status_code == 404


def test_changes_are_readable_and_mobiles_masked(login, logged):
    client = login("east.head")
    for url in (AUDIT, f"{AUDIT}details/?id={logged['east']}"):
        html = client.get(url).get_data(as_text=True)
        assert "客户名称</strong>：东区旧名 → 东区日志客户" in html, url
        assert "备注</strong>：— → 客户手机 139****5678" in html, url
        assert MOBILE not in html, url
        assert "修改" in html  # the action's label, not its code


def test_sharing_entries_read_as_words(login, session, world):
    owner = login("east.clerk1")
    customer = make_customer(session, world["east.clerk1"], name="共享审计客户")
    session.commit()
    owner.post(
        f"/admin/customer/{customer.id}/share",
        data={"user": str(world["east.clerk2"].id), "can_edit": "y"},
    )
    [entry] = _entries(session, action="share")
    html = login("east.head").get(f"{AUDIT}details/?id={entry.id}").get_data(as_text=True)
    assert "允许编辑</strong>：— → 是" in html
    assert "共享给</strong>：— → east.clerk2" in html
    assert "共享" in html


def test_audit_log_cannot_be_changed(login, session, logged):
    before = session.scalar(select(func.count()).select_from(AuditLog))
    for role in ("east.head", "gm", "admin"):
        client = login(role)
        client.post(f"{AUDIT}delete/", data={"id": str(logged["east"])})
        client.post(f"{AUDIT}action/", data={"action": "delete", "rowid": [str(logged["east"])]})
        client.post(f"{AUDIT}edit/?id={logged['east']}", data={"summary": "篡改"})
        assert client.get(f"{AUDIT}edit/?id={logged['east']}").status_code in (302, 404)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditLog)) == before
    assert session.scalar(select(func.count()).where(AuditLog.summary == "篡改")) == 0


# -- the login log -------------------------------------------------------------------------
@pytest.fixture
def sign_ins(app, world):
    for username, password in (
        ("east.clerk1", "wrong-password"),
        ("west.clerk2", "wrong-password"),
        ("nobody.here", "whatever"),
    ):
        app.test_client().login(username, password)


@pytest.mark.parametrize(
    ("role", "sees", "hidden"),
    [
        ("east.head", {"east.clerk1"}, {"west.clerk2", "nobody.here"}),
        ("east.admin", {"east.clerk1"}, {"west.clerk2", "nobody.here"}),
        ("west.head", {"west.clerk2"}, {"east.clerk1", "nobody.here"}),
        ("gm", {"east.clerk1", "west.clerk2", "nobody.here"}, set()),
    ],
)
def test_login_log_is_visible_to_the_division_only(login, session, sign_ins, role, sees, hidden):
    client = login(role)
    html = client.get(LOGINS).get_data(as_text=True)
    for username in sees:
        assert username in html, (role, username)
    for username in hidden:
        assert username not in html, (role, username)
    assert "密码错误" in html and "127.0.0.1" in html
    session.expire_all()
    for row in session.scalars(select(LoginLog)):
        status = client.get(f"{LOGINS}details/?id={row.id}").status_code
        visible = row.username in sees or row.username == role
        assert status == (200 if visible else 404), (role, row.username)
