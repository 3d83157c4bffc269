"""Django-style configuration check and page sweep (issue #2 items 6, 7, 9): every declared
column exists, every page answers 200 for a role that may see it and 404 for one that may
not, menus follow the roles, lists do not run a query per row, every POST needs CSRF."""

import re

import pytest
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import func, inspect, select

from portal.models import Customer, Grade
from portal.permissions import PERMISSIONS
from tests.factories import make_customer

ROLES = ["east.clerk1", "east.head", "east.admin", "gm", "admin"]
ROLE_OF = {
    "east.clerk1": "clerk",
    "east.head": "division_head",
    "east.admin": "division_admin",
    "gm": "group_manager",
    "admin": "sysadmin",
}


def _model_views(app):
    admin = app.extensions["admin"][0]
    return [v for v in admin._views if isinstance(v, ModelView)]


def test_declared_columns_exist(app):
    for view in _model_views(app):
        mapper = inspect(view.model)
        names = {a.key for a in mapper.attrs}
        for attr in (
            "column_list",
            "column_details_list",
            "column_export_list",
            "column_searchable_list",
        ):
            for column in getattr(view, attr) or ():
                name = column if isinstance(column, str) else column.key
                computed = name in (view.column_formatters or {})  # e.g. 距到期天数
                assert name in names or computed, (view.endpoint, attr, name)
        for column in view.form_columns or ():
            assert column in names or column in (view.form_extra_fields or {}), (
                view.endpoint,
                column,
            )
        assert view.permission in PERMISSIONS, view.endpoint


@pytest.mark.parametrize("username", ROLES)
def test_every_page_answers_for_its_roles(app, login, session, world, username):
    customer = make_customer(session, world["east.clerk1"], name="巡检客户")
    session.commit()
    client = login(username)
    role = ROLE_OF[username]
    for view in _model_views(app):
        verbs = PERMISSIONS[view.permission][role]
        listing = client.get(f"/admin/{view.endpoint}/")
        assert listing.status_code == (200 if "read" in verbs else 404), (username, view.endpoint)
        if "create" in verbs:
            assert client.get(f"/admin/{view.endpoint}/new/").status_code == 200, view.endpoint
        if "read" in verbs and view.endpoint == "customer":
            details = client.get(f"/admin/customer/details/?id={customer.id}")
            assert details.status_code == 200
    assert client.get("/admin/").status_code == 200


def test_menu_shows_only_what_the_role_uses(login):
    clerk = login("east.clerk1").get("/admin/").get_data(as_text=True)
    assert "/admin/customer/" in clerk and "/admin/pool/" in clerk
    assert "/admin/grade/" not in clerk and "/admin/audit_log/" not in clerk
    assert "/admin/user/" not in clerk
    sysadmin = login("admin").get("/admin/").get_data(as_text=True)
    assert "/admin/grade/" in sysadmin and "/admin/region" not in sysadmin.split("navbar")[1][:0]


def test_lookups_are_edited_by_sysadmin_only(login, session):
    grade = session.scalar(select(Grade).where(Grade.code == "N"))
    data = {
        "code": "N",
        "name": "N级",
        "follow_up_days": "45",
        "sort_order": "6",
        "active": "y",
        "description": "暂无购买计划",
    }
    assert login("gm").post(f"/admin/grade/edit/?id={grade.id}", data=data).status_code in (
        302,
        404,
    )
    session.expire_all()
    assert session.get(Grade, grade.id).follow_up_days == 30
    response = login("admin").post(f"/admin/grade/edit/?id={grade.id}", data=data)
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Grade, grade.id).follow_up_days == 45
    data["follow_up_days"] = "30"
    login("admin").post(f"/admin/grade/edit/?id={grade.id}", data=data)


def _query_count(response) -> int:
    return int(re.search(r'desc="(\d+) queries"', response.headers["Server-Timing"]).group(1))


def test_list_pages_do_not_query_per_row(login, session, world):
    client = login("east.head")
    make_customer(session, world["east.clerk1"])
    session.commit()
    few = {ep: _query_count(client.get(f"/admin/{ep}/")) for ep in ("customer", "contact")}
    for _ in range(30):
        make_customer(session, world["east.clerk2"])
    session.commit()
    many = {ep: _query_count(client.get(f"/admin/{ep}/")) for ep in ("customer", "contact")}
    assert many == few


def test_server_timing_header_on_every_response(client, world):
    response = client.get("/login")
    assert re.match(
        r"total;dur=[\d.]+, sql;dur=[\d.]+;desc=\"\d+ queries\"", response.headers["Server-Timing"]
    )


def test_posts_without_csrf_token_change_nothing(login, session, world):
    customer = make_customer(session, world["east.clerk1"], name="CSRF客户")
    session.commit()
    client = login("east.clerk1")
    attempts = [
        ("/admin/customer/new/", {"name": "伪造客户", "kind": "company", "status": "intent"}),
        (
            f"/admin/customer/edit/?id={customer.id}",
            {"name": "伪造修改", "kind": "company", "status": "intent"},
        ),
        ("/admin/customer/delete/", {"id": str(customer.id)}),
        ("/admin/customer/action/", {"action": "delete", "rowid": str(customer.id)}),
        ("/logout", {}),
        ("/locale", {"locale": "en"}),
        ("/password", {"old_password": "Demo#2026", "new_password": "x" * 10, "repeat": "x" * 10}),
    ]
    for url, data in attempts:
        response = client.post(url, data=data, csrf=False)
        assert response.status_code == 400, url
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Customer)) == 1
    assert session.get(Customer, customer.id).name == "CSRF客户"
    assert client.get("/admin/").status_code == 200  # still signed in


def test_region_picker_lists_children(login):
    client = login("east.clerk1")
    provinces = client.get("/admin/regions/children").get_json()
    assert {"code": "330000", "name": "浙江省"} in provinces
    cities = client.get("/admin/regions/children?parent=330000").get_json()
    assert {"code": "330100", "name": "杭州市"} in cities
    counties = client.get("/admin/regions/children?parent=330100").get_json()
    assert {"code": "330106", "name": "西湖区"} in counties
    assert client.get("/admin/regions/children?parent=abc").get_json() == []


def test_unknown_region_code_is_refused(login, session):
    response = login("east.clerk1").post(
        "/admin/customer/new/",
        data={
            "name": "地区错误客户",
            "kind": "company",
            "status": "intent",
            "region_code": "999999",
        },
    )
    assert "请选择有效的地区" in response.get_data(as_text=True)
    assert session.scalar(select(Customer.id)) is None
