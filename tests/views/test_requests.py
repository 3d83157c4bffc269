"""Account and transfer requests through the portal (R-ACCOUNT-1..6, R-SCOPE-4, R-AUDIT-1)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from sqlalchemy import select

from portal.models import (
    AccountRequest,
    AuditLog,
    Contact,
    Customer,
    Division,
    OwnershipChange,
    TransferRequest,
    User,
)
from portal.services import accounts as wf
from tests.factories import make_contact, make_customer, make_opportunity

ACCOUNTS = "/admin/account_request"
TRANSFERS = "/admin/transfer_request"
NEW_CLERK = {
    "change_type": "create",
    "person_name": "王新",
    "username": "east.wang",
    "requested_role": "clerk",
    "reason": "新入职业务员",
}


def _fresh(session, model, pk):
    session.expire_all()
    return session.get(model, pk)


def _only(session, model):
    session.expire_all()
    return session.scalars(select(model)).one()


def _file(client, **overrides):
    data = {**NEW_CLERK, **overrides}
    response = client.post(f"{ACCOUNTS}/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    return response


def _step(client, pk, verb, url=ACCOUNTS, **data):
    return client.post(f"{url}/{pk}/{verb}", data=data, follow_redirects=True)


def _filed_request(session, login, **overrides) -> tuple[int, object]:
    admin = login("east.admin")
    _file(admin, **overrides)
    req = _only(session, AccountRequest)
    return req.id, admin


def _submitted(session, login, **overrides) -> int:
    pk, admin = _filed_request(session, login, **overrides)
    assert _step(admin, pk, "submit").status_code == 200
    assert _fresh(session, AccountRequest, pk).state == "submitted"
    return pk


def _approved(session, login, approver="east.head", **overrides) -> int:
    pk = _submitted(session, login, **overrides)
    _step(login(approver), pk, "approve", note="同意")
    assert _fresh(session, AccountRequest, pk).state == "approved"
    return pk


# -- the lifecycle -------------------------------------------------------------------------
def test_new_clerk_lifecycle_ends_with_a_working_sign_in(app, session, login):
    admin = login("east.admin")
    form = admin.get(f"{ACCOUNTS}/new/").get_data(as_text=True)
    assert "东区业务员一" in form and "西区业务员一" not in form  # pickers within scope
    _file(admin)
    req = _only(session, AccountRequest)
    assert req.state == "draft" and re.fullmatch(r"ZH-\d{4}-0001", req.number)

    _step(admin, req.id, "submit")
    page = _step(login("east.head"), req.id, "approve", note="同意").get_data(as_text=True)
    assert "已批准" in page
    page = _step(login("admin"), req.id, "execute").get_data(as_text=True)
    password = re.search(r"临时密码：([A-Za-z0-9]+)", page).group(1)

    req = _fresh(session, AccountRequest, req.id)
    assert req.state == "executed"
    user = session.scalar(select(User).where(User.username == "east.wang"))
    assert (user.role_code, user.division_id) == ("clerk", req.division_id)
    newcomer = app.test_client()
    assert newcomer.login("east.wang", password).status_code == 302
    # The temporary password is replaced first; then the portal opens.
    assert newcomer.get("/admin/").headers["Location"].endswith("/password")
    changed = {"old_password": password, "new_password": "Eigen#2026", "repeat": "Eigen#2026"}
    assert newcomer.post("/password", data=changed).status_code == 302
    assert newcomer.get("/admin/").status_code == 200
    # The password is shown once: the details page does not repeat it.
    assert password not in login("admin").get(f"{ACCOUNTS}/details/?id={req.id}").get_data(
        as_text=True
    )


def test_out_of_order_steps_are_refused_and_change_nothing(session, login):
    pk, admin = _filed_request(session, login)
    page = _step(login("admin"), pk, "execute").get_data(as_text=True)
    assert "只有“已批准”状态的申请可以执行" in page
    _step(login("east.head"), pk, "approve", note="")
    assert _fresh(session, AccountRequest, pk).state == "draft"
    assert session.scalar(select(User).where(User.username == "east.wang")) is None
    _step(admin, pk, "submit")
    page = _step(admin, pk, "submit").get_data(as_text=True)
    assert "只有“草稿”状态的申请可以提交" in page


def test_wrong_approvers_are_refused(session, login):
    pk = _submitted(session, login)
    # Clerks have no access to requests; another division's head cannot see it.
    assert login("east.clerk1").post(f"{ACCOUNTS}/{pk}/approve", data={}).status_code == 404
    assert login("west.head").post(f"{ACCOUNTS}/{pk}/approve", data={}).status_code == 404
    page = _step(login("east.admin"), pk, "approve").get_data(as_text=True)
    assert "您的角色不能批准此申请" in page
    assert _fresh(session, AccountRequest, pk).state == "submitted"


def test_division_head_request_needs_the_group_manager(session, login):
    pk = _submitted(session, login, requested_role="division_head")
    page = _step(login("east.head"), pk, "approve", note="同意").get_data(as_text=True)
    assert "须由集团管理层审批" in page
    assert _fresh(session, AccountRequest, pk).state == "submitted"
    _step(login("gm"), pk, "approve", note="同意")
    assert _fresh(session, AccountRequest, pk).state == "approved"


def test_reject_with_a_note(session, login):
    pk = _submitted(session, login)
    head = login("east.head")
    page = _step(head, pk, "reject", note="").get_data(as_text=True)
    assert "请填写驳回理由" in page
    _step(head, pk, "reject", note="编制已满")
    req = _fresh(session, AccountRequest, pk)
    assert (req.state, req.decision_note) == ("rejected", "编制已满")


def test_buttons_shown_are_the_ones_the_user_may_use(session, login):
    pk = _submitted(session, login)
    url = f"{ACCOUNTS}/details/?id={pk}"
    head_page = login("east.head").get(url).get_data(as_text=True)
    assert f"{pk}/approve" in head_page and f"{pk}/reject" in head_page
    for name in ("east.admin", "admin", "gm"):
        page = login(name).get(url).get_data(as_text=True)
        assert f"{pk}/approve" not in page and f"{pk}/execute" not in page, name
        assert f"{pk}/print" in page
    _step(login("east.head"), pk, "approve", note="")
    assert f"{pk}/execute" in login("admin").get(url).get_data(as_text=True)


def test_drafts_are_edited_by_the_applicant_and_not_deleted_after_submit(session, login):
    pk, admin = _filed_request(session, login)
    assert admin.get(f"{ACCOUNTS}/edit/?id={pk}").status_code == 200
    response = admin.post(f"{ACCOUNTS}/edit/?id={pk}", data={**NEW_CLERK, "person_name": "王小新"})
    assert response.status_code == 302
    assert _fresh(session, AccountRequest, pk).person_name == "王小新"
    update = session.scalars(select(AuditLog).where(AuditLog.action == "update")).one()
    assert json.loads(update.changes) == {"person_name": ["王新", "王小新"]}
    other = login("gm")
    assert other.get(f"{ACCOUNTS}/edit/?id={pk}").status_code == 302  # back to details
    _step(admin, pk, "submit")
    assert admin.get(f"{ACCOUNTS}/edit/?id={pk}").status_code == 302
    admin.post(f"{ACCOUNTS}/delete/", data={"id": pk})
    req = _fresh(session, AccountRequest, pk)
    assert req is not None and req.person_name == "王小新"


def test_list_offers_edit_only_on_own_drafts(session, login):
    pk, admin = _filed_request(session, login)
    mine = admin.get(f"{ACCOUNTS}/").get_data(as_text=True)
    assert "ZH-" in mine and f"edit/?id={pk}" in mine and f"{pk}/print" in mine
    theirs = login("gm").get(f"{ACCOUNTS}/").get_data(as_text=True)
    assert "ZH-" in theirs and f"edit/?id={pk}" not in theirs


def test_a_draft_is_deleted_by_its_applicant(session, login):
    pk, admin = _filed_request(session, login)
    admin.post(f"{ACCOUNTS}/delete/", data={"id": pk})
    assert _fresh(session, AccountRequest, pk) is None


def test_invalid_request_keeps_the_form_and_says_why(session, login):
    admin = login("east.admin")
    response = admin.post(f"{ACCOUNTS}/new/", data={**NEW_CLERK, "username": "Bad Name"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "小写字母" in page and "新入职业务员" in page
    assert session.scalars(select(AccountRequest)).first() is None


# -- what execution changes -------------------------------------------------------------------
def test_freezing_ends_the_frozen_users_session_at_once(session, login, world):
    clerk = login("east.clerk2")
    assert clerk.get("/admin/").status_code == 200
    target = world["east.clerk2"].id
    pk = _approved(
        session,
        login,
        change_type="freeze",
        person_name="东区业务员二",
        username="",
        target_user=target,
        requested_role="",
    )
    _step(login("admin"), pk, "execute")
    assert _fresh(session, User, target).state == "frozen"
    response = clerk.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert clerk.login("east.clerk2").status_code == 200  # frozen: sign-in refused


@pytest.mark.parametrize("heir", ["east.clerk1", None])
def test_deactivation_hands_records_over_in_the_same_step(session, login, world, heir):
    leaver = world["east.clerk2"]
    customer = make_customer(session, leaver)
    contact = make_contact(session, customer)
    opportunity = make_opportunity(session, customer)
    ids = (customer.id, contact.id, opportunity.id)
    session.commit()
    heir_id = world[heir].id if heir else None
    pk = _approved(
        session,
        login,
        change_type="deactivate",
        person_name="东区业务员二",
        username="",
        target_user=leaver.id,
        requested_role="",
        handover_to=heir_id or "",
    )
    page = _step(login("admin"), pk, "execute").get_data(as_text=True)
    assert "1 位客户已交接" in page

    session.expire_all()
    assert session.get(User, leaver.id).state == "deactivated"
    customer = session.get(Customer, ids[0])
    assert customer.owner_id == heir_id
    owner = session.get(Contact, ids[1]).owner  # the customer's, None in the pool
    assert getattr(owner, "id", None) == heir_id
    change = session.scalars(select(OwnershipChange)).one()
    assert (change.customer_id, change.kind, change.from_owner_id, change.to_owner_id) == (
        ids[0],
        "handover",
        leaver.id,
        heir_id,
    )
    if heir is None:
        assert customer.previous_owner_id == leaver.id and customer.in_pool_since is not None


# -- scope and printing -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["west.admin", "west.head", "west.clerk1", "east.clerk1"])
def test_requests_of_another_division_answer_404(session, login, name):
    pk, _ = _filed_request(session, login)
    client = login(name)
    assert client.get(f"{ACCOUNTS}/details/?id={pk}").status_code == 404
    assert client.get(f"{ACCOUNTS}/{pk}/print").status_code == 404
    assert client.post(f"{ACCOUNTS}/{pk}/submit", data={}).status_code == 404
    listing = client.get(f"{ACCOUNTS}/")
    assert listing.status_code == 404 or "ZH-" not in listing.get_data(as_text=True)


def _pdf_text(tmp_path, data: bytes) -> tuple[str, str]:
    path = tmp_path / "form.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return fonts.stdout, text.stdout


def _embedded_cjk(fonts: str) -> bool:
    rows = fonts.splitlines()[2:]
    return any("PortalCJK" in row and row.split()[-5] == "yes" for row in rows)


def test_printed_form_is_a_pdf_with_number_state_and_signature_blocks(session, login, tmp_path):
    pk = _approved(session, login, requested_role="division_admin", approver="gm")
    number = _fresh(session, AccountRequest, pk).number
    response = login("east.head").get(f"{ACCOUNTS}/{pk}/print")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"inline; filename={number}.pdf"
    assert response.data.startswith(b"%PDF")
    fonts, text = _pdf_text(tmp_path, response.data)
    assert _embedded_cjk(fonts), fonts
    flat = "".join(text.split())
    for expected in (number, "信息系统用户管理及权限变更审批表", "示范集团有限公司", "已批准"):
        assert expected in flat
    for block in ("申请人", "版块负责人", "审批部门"):
        assert block in flat
    assert "角色—→版块管理员" in flat  # before → after
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "print")).one()
    assert (entry.model, entry.record_id, entry.user.username) == (
        "AccountRequest",
        pk,
        "east.head",
    )


def test_every_print_is_logged(session, login):
    pk, admin = _filed_request(session, login)
    admin.get(f"{ACCOUNTS}/{pk}/print")
    admin.get(f"{ACCOUNTS}/{pk}/print")
    prints = session.scalars(select(AuditLog).where(AuditLog.action == "print")).all()
    assert len(prints) == 2


# -- transfer requests ----------------------------------------------------------------------------
def _division(session, code):
    return session.scalar(select(Division).where(Division.code == code))


def test_transfer_lifecycle(session, login, world, tmp_path):
    moving = make_customer(session, world["east.clerk1"], name="迁移客户甲")
    contact = make_contact(session, moving)
    staying = make_customer(session, world["east.clerk1"], name="留下客户乙")
    make_customer(session, world["west.clerk1"], name="西部客户丙")
    session.commit()
    west = _division(session, "west")
    ids = (moving.id, contact.id, staying.id)

    head = login("east.head")
    form = head.get(f"{TRANSFERS}/new/").get_data(as_text=True)
    choices = re.search(r'<select[^>]*id="to_division".*?</select>', form, re.S).group(0)
    assert "西部版块" in choices and "华东版块" not in choices
    lookup = head.get(f"{TRANSFERS}/ajax/lookup/?name=customers&query=客户").get_json()
    assert sorted(name for _, name in lookup) == ["留下客户乙", "迁移客户甲"]  # own division only
    response = head.post(
        f"{TRANSFERS}/new/",
        data={"customers": str(ids[0]), "to_division": str(west.id), "reason": "客户搬迁到西部"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    req = _only(session, TransferRequest)
    assert req.number.startswith("KB-") and [c.id for c in req.customers] == [ids[0]]
    pk = req.id
    assert head.get(f"{TRANSFERS}/edit/?id={pk}").status_code == 200

    _step(head, pk, "submit", url=TRANSFERS)
    page = _step(login("west.head"), pk, "approve", url=TRANSFERS).get_data(as_text=True)
    assert "您的角色不能批准此申请" in page
    gm = login("gm")
    assert "west.clerk1" in gm.get(f"{TRANSFERS}/details/?id={pk}").get_data(as_text=True)
    _step(gm, pk, "approve", url=TRANSFERS, note="同意", new_owner=str(world["west.clerk1"].id))
    page = _step(head, pk, "execute", url=TRANSFERS).get_data(as_text=True)
    assert "您的角色不能执行此申请" in page
    page = _step(login("admin"), pk, "execute", url=TRANSFERS).get_data(as_text=True)
    assert "1 位客户已转入西部版块" in page

    session.expire_all()
    moved = session.get(Customer, ids[0])
    assert (moved.division_id, moved.owner_id) == (west.id, world["west.clerk1"].id)
    assert session.get(Contact, ids[1]).division_id == west.id
    assert session.get(Customer, ids[2]).division_id == world["east.clerk1"].division_id
    change = session.scalars(select(OwnershipChange)).one()
    assert (change.kind, change.from_owner_id) == ("transfer", world["east.clerk1"].id)
    # The east clerk no longer sees the customer; the west clerk does.
    assert login("east.clerk1").get(f"/admin/customer/details/?id={ids[0]}").status_code == 404
    assert login("west.clerk1").get(f"/admin/customer/details/?id={ids[0]}").status_code == 200

    response = head.get(f"{TRANSFERS}/{pk}/print")
    fonts, text = _pdf_text(tmp_path, response.data)
    flat = "".join(text.split())
    assert _embedded_cjk(fonts)
    for expected in (
        req.number,
        "跨版块客户分配申请表",
        "迁移客户甲",
        "东区业务员一",
        "西区业务员一",
    ):
        assert expected in flat
    assert session.scalars(select(AuditLog).where(AuditLog.action == "print")).one()


def test_transfer_of_foreign_customers_is_refused(session, login, world):
    foreign = make_customer(session, world["west.clerk1"])
    session.commit()
    head = login("east.head")
    response = head.post(
        f"{TRANSFERS}/new/",
        data={
            "customers": str(foreign.id),
            "to_division": str(_division(session, "west").id),
            "reason": "x",
        },
    )
    assert response.status_code == 200
    assert session.scalars(select(TransferRequest)).first() is None


def test_services_and_views_agree_on_the_verbs(app):
    """Every verb the workflow offers has a route and a row in the permission table."""
    from portal.permissions import ACTIONS

    for view in ("account_request", "transfer_request"):
        assert set(wf.TRANSITIONS) | {"print"} == set(ACTIONS[view])
        for verb in (*wf.TRANSITIONS, "print"):
            assert f"{view}.{verb}_view" in app.view_functions
