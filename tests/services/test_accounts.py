"""Account and transfer requests, hand-over (R-ACCOUNT-1..6, R-POOL-7): the services."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from portal.models import (
    AccountRequest,
    AuditLog,
    CustomerShare,
    Division,
    OwnershipChange,
    User,
)
from portal.services import BusinessRuleError
from portal.services import accounts as wf
from portal.services.handover import hand_over
from tests.factories import (
    make_activity,
    make_contact,
    make_customer,
    make_lead,
    make_opportunity,
    make_order,
    make_service_request,
)


def _division(session, code: str) -> Division:
    return session.scalar(select(Division).where(Division.code == code))


def _new_clerk_request(session, world, by="east.admin", **fields) -> AccountRequest:
    values = {
        "change_type": "create",
        "person_name": "王新",
        "username": "east.wang",
        "requested_role": "clerk",
        "reason": "新入职业务员",
    }
    values.update(fields)
    return wf.new_account_request(session, by=world[by], **values)


def _approved(session, world, req, approver="east.head"):
    wf.submit(session, req, by=req.applicant)
    wf.approve(session, req, by=world[approver], note="同意")
    return req


def _audit_actions(session, req) -> list[str]:
    return list(
        session.scalars(
            select(AuditLog.action)
            .where(AuditLog.model == type(req).__name__, AuditLog.record_id == req.id)
            .order_by(AuditLog.id)
        )
    )


# -- filing --------------------------------------------------------------------------
def test_numbers_count_up_per_year(session, world):
    first = _new_clerk_request(session, world)
    second = _new_clerk_request(session, world, username="east.li", person_name="李新")
    year = first.created_at.year
    assert first.number == f"ZH-{year}-0001"
    assert second.number == f"ZH-{year}-0002"
    assert first.state == "draft"
    assert first.division_id == world["east.admin"].division_id


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": None}, "用户名"),
        ({"username": "Bad Name"}, "小写字母"),
        ({"username": "ab"}, "小写字母"),
        ({"username": "east.clerk1"}, "已被使用"),
        ({"requested_role": None}, "申请角色"),
        ({"requested_role": "group_manager"}, "版块内的角色"),
        ({"reason": "  "}, "申请理由"),
    ],
)
def test_create_request_is_validated(session, world, fields, message):
    with pytest.raises(BusinessRuleError, match=message):
        _new_clerk_request(session, world, **fields)


def test_same_username_cannot_be_requested_twice(session, world):
    _new_clerk_request(session, world)
    with pytest.raises(BusinessRuleError, match="已在审批表"):
        _new_clerk_request(session, world)


def test_target_must_be_in_the_filers_division(session, world):
    with pytest.raises(BusinessRuleError, match="本版块"):
        wf.new_account_request(
            session,
            by=world["east.admin"],
            change_type="freeze",
            person_name="西区业务员一",
            target_user=world["west.clerk1"],
            reason="离岗",
        )


def test_only_division_admins_and_global_roles_file(session, world):
    with pytest.raises(BusinessRuleError, match="版块管理员"):
        _new_clerk_request(session, world, by="east.head")


def test_group_manager_files_for_a_chosen_division(session, world):
    west = _division(session, "west")
    req = wf.new_account_request(
        session,
        by=world["gm"],
        division=west,
        change_type="role_change",
        person_name="西区业务员一",
        target_user=world["west.clerk1"],
        requested_role="division_head",
        reason="晋升",
    )
    assert req.division_id == west.id


def test_fields_the_change_type_does_not_use_are_dropped(session, world):
    req = wf.new_account_request(
        session,
        by=world["east.admin"],
        change_type="freeze",
        person_name="东区业务员二",
        target_user=world["east.clerk2"],
        username="ignored",
        requested_role="division_head",
        handover_to=world["east.clerk1"],
        reason="长期休假",
    )
    assert (req.username, req.requested_role_code, req.handover_to_id) == (None, None, None)


# -- the state machine --------------------------------------------------------------------
def test_lifecycle_creates_an_account_with_a_temporary_password(session, world):
    req = _new_clerk_request(session, world)
    wf.submit(session, req, by=world["east.admin"])
    wf.approve(session, req, by=world["east.head"], note="同意")
    result = wf.execute(session, req, by=world["admin"])

    user = session.scalar(select(User).where(User.username == "east.wang"))
    assert result.user is user
    assert (user.role_code, user.division_id, user.state) == (
        "clerk",
        req.division_id,
        "active",
    )
    assert check_password_hash(user.password_hash, result.temporary_password)
    assert len(result.temporary_password) >= 12
    assert req.state == "executed" and req.executed_by_id == world["admin"].id
    assert _audit_actions(session, req) == [
        "create",
        "request_submit",
        "request_approve",
        "request_execute",
    ]


@pytest.mark.parametrize(
    ("verb", "message"),
    [("approve", "已提交"), ("reject", "已提交"), ("execute", "已批准")],
)
def test_out_of_order_steps_are_refused(session, world, verb, message):
    req = _new_clerk_request(session, world)
    actor = {"approve": "east.head", "reject": "east.head", "execute": "admin"}[verb]
    with pytest.raises(BusinessRuleError, match=message):
        getattr(wf, verb)(
            session, req, by=world[actor], **({"note": "x"} if verb != "execute" else {})
        )
    assert req.state == "draft"


def test_executed_request_cannot_run_twice(session, world):
    req = _approved(session, world, _new_clerk_request(session, world))
    wf.execute(session, req, by=world["admin"])
    with pytest.raises(BusinessRuleError, match="已批准"):
        wf.execute(session, req, by=world["admin"])


def test_only_the_applicant_submits(session, world):
    req = _new_clerk_request(session, world)
    with pytest.raises(BusinessRuleError, match="申请人本人"):
        wf.submit(session, req, by=world["gm"])


@pytest.mark.parametrize("approver", ["east.clerk1", "west.head", "east.admin", "admin"])
def test_ordinary_request_is_approved_by_its_division_head_only(session, world, approver):
    req = _new_clerk_request(session, world)
    wf.submit(session, req, by=world["east.admin"])
    with pytest.raises(BusinessRuleError, match="负责人审批"):
        wf.approve(session, req, by=world[approver], note="")
    assert req.state == "submitted"


def test_senior_role_needs_group_management(session, world):
    req = _new_clerk_request(session, world, requested_role="division_head")
    wf.submit(session, req, by=world["east.admin"])
    with pytest.raises(BusinessRuleError, match="集团管理层"):
        wf.approve(session, req, by=world["east.head"], note="")
    wf.approve(session, req, by=world["gm"], note="同意")
    assert req.state == "approved"


def test_freezing_a_division_admin_needs_group_management(session, world):
    req = wf.new_account_request(
        session,
        by=world["gm"],
        division=_division(session, "west"),
        change_type="freeze",
        person_name="西区管理员",
        target_user=world["west.admin"],
        reason="调查期间",
    )
    wf.submit(session, req, by=world["gm"])
    with pytest.raises(BusinessRuleError, match="集团管理层"):
        wf.approve(session, req, by=world["west.head"], note="")
    with pytest.raises(BusinessRuleError, match="不能审批自己"):
        wf.approve(session, req, by=world["gm"], note="")


def test_reject_needs_a_reason(session, world):
    req = _new_clerk_request(session, world)
    wf.submit(session, req, by=world["east.admin"])
    with pytest.raises(BusinessRuleError, match="驳回理由"):
        wf.reject(session, req, by=world["east.head"], note=" ")
    wf.reject(session, req, by=world["east.head"], note="编制已满")
    assert (req.state, req.decision_note) == ("rejected", "编制已满")
    with pytest.raises(BusinessRuleError):
        wf.execute(session, req, by=world["admin"])


def test_only_sysadmin_executes_account_requests(session, world):
    req = _approved(session, world, _new_clerk_request(session, world))
    for who in ("gm", "east.head", "east.admin"):
        with pytest.raises(BusinessRuleError, match="系统管理员"):
            wf.execute(session, req, by=world[who])
    assert session.scalar(select(User).where(User.username == "east.wang")) is None


def test_drafts_are_edited_by_the_applicant_only(session, world):
    req = _new_clerk_request(session, world)
    with pytest.raises(BusinessRuleError, match="申请人本人"):
        wf.revise_account_request(
            session,
            req,
            by=world["gm"],
            change_type="create",
            person_name="王新",
            username="east.wang2",
            target_user=None,
            requested_role="clerk",
            reason="x",
            handover_to=None,
        )
    wf.submit(session, req, by=world["east.admin"])
    with pytest.raises(BusinessRuleError, match="已提交"):
        wf.check_may(req, "delete", world["east.admin"])


# -- execution -------------------------------------------------------------------------------
def _state_request(
    session, world, change_type, target="east.clerk2", approver="east.head", **fields
):
    req = wf.new_account_request(
        session,
        by=world["east.admin"],
        change_type=change_type,
        person_name=world[target].display_name,
        target_user=world[target],
        reason="测试",
        **fields,
    )
    return _approved(session, world, req, approver)


def test_freeze_rotates_the_session_token_and_unfreeze_restores(session, world):
    clerk = world["east.clerk2"]
    token = clerk.session_token
    wf.execute(session, _state_request(session, world, "freeze"), by=world["admin"])
    assert clerk.state == "frozen" and clerk.session_token != token
    wf.execute(session, _state_request(session, world, "unfreeze"), by=world["admin"])
    assert clerk.state == "active"


def test_role_change_applies_and_prints_before_after(session, world):
    # A clerk becoming division head needs group management, not the division head.
    req = _state_request(
        session,
        world,
        "role_change",
        requested_role="division_head",
        target="east.clerk1",
        approver="gm",
    )
    assert wf.account_changes(session, req) == [("角色", "业务人员", "版块负责人")]
    wf.execute(session, req, by=world["admin"])
    assert world["east.clerk1"].role_code == "division_head"
    # After execution the form still shows what changed, from the audit log.
    assert wf.account_changes(session, req) == [("角色", "业务人员", "版块负责人")]
    logged = session.scalar(select(AuditLog.changes).where(AuditLog.action == "request_execute"))
    assert json.loads(logged) == {"role": ["业务人员", "版块负责人"]}


def _records_of(session, owner):
    customer = make_customer(session, owner)
    contact = make_contact(session, customer)
    opportunity = make_opportunity(session, customer)
    order = make_order(session, customer)
    pending = make_activity(session, customer)
    done = make_activity(session, customer, state="done")
    service = make_service_request(session, customer, handler_id=owner.id, status="assigned")
    lead = make_lead(session, owner)
    return customer, contact, opportunity, order, pending, done, service, lead


def test_deactivation_hands_everything_to_a_colleague(session, world):
    leaver, heir = world["east.clerk2"], world["east.clerk1"]
    customer, contact, opp, order, pending, done, service, lead = _records_of(session, leaver)
    second = make_customer(session, leaver)
    req = _state_request(session, world, "deactivate", handover_to=heir)
    result = wf.execute(session, req, by=world["admin"])

    assert result.customers_moved == 2
    assert leaver.state == "deactivated"
    session.expire_all()
    for record in (customer, second, contact, opp, order, pending, service, lead):
        assert record.owner.id == heir.id, type(record).__name__
    assert service.handler_id == heir.id
    assert done.owner_id == leaver.id  # history keeps its author
    assert customer.version == 2 and customer.previous_owner_id is None
    changes = session.scalars(select(OwnershipChange).order_by(OwnershipChange.customer_id)).all()
    assert [(c.customer_id, c.kind, c.from_owner_id, c.to_owner_id, c.by_id) for c in changes] == [
        (customer.id, "handover", leaver.id, heir.id, world["admin"].id),
        (second.id, "handover", leaver.id, heir.id, world["admin"].id),
    ]


def test_deactivation_without_heir_sends_customers_to_the_pool(session, world):
    leaver = world["east.clerk2"]
    customer, contact, *_ = _records_of(session, leaver)
    other = make_customer(session, world["east.clerk1"])
    req = _state_request(session, world, "deactivate")
    assert wf.account_changes(session, req)[1] == (
        "名下客户及资料",
        "1 位客户由 东区业务员二 负责",
        "交接给 本版块公海",
    )
    wf.execute(session, req, by=world["admin"])
    session.expire_all()
    assert customer.owner_id is None and contact.owner is None
    assert customer.previous_owner_id == leaver.id and customer.in_pool_since is not None
    assert other.owner_id == world["east.clerk1"].id
    change = session.scalar(select(OwnershipChange))
    assert (change.kind, change.to_owner_id) == ("handover", None)


def test_heir_must_be_an_active_colleague(session, world):
    with pytest.raises(BusinessRuleError, match="本版块"):
        _state_request(session, world, "deactivate", handover_to=world["west.clerk1"])
    with pytest.raises(BusinessRuleError, match="业务人员或版块负责人"):
        _state_request(session, world, "deactivate", handover_to=world["east.admin"])


def test_heir_frozen_after_approval_stops_the_execution(session, world):
    req = _state_request(session, world, "deactivate", handover_to=world["east.clerk1"])
    world["east.clerk1"].state = "frozen"
    with pytest.raises(BusinessRuleError, match="不是正常状态"):
        wf.execute(session, req, by=world["admin"])
    assert world["east.clerk2"].state == "active"


def test_hand_over_scales_with_set_based_statements(session, world):
    leaver = world["east.clerk2"]
    for _ in range(30):
        make_customer(session, leaver)
    statements = []
    from sqlalchemy import event

    engine = session.get_bind()

    def count(*args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        moved = hand_over(session, leaver, world["east.clerk1"], by=world["admin"], reason="测试")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert moved == 30
    assert len(statements) < 20
    assert session.scalar(select(func.count()).select_from(OwnershipChange)) == 30


# -- transfer requests --------------------------------------------------------------------------
def test_transfer_lifecycle_moves_customers_with_their_records(session, world):
    head, clerk = world["east.head"], world["east.clerk1"]
    customer, contact, opp, order, pending, done, service, _lead = _records_of(session, clerk)
    session.add(CustomerShare(customer_id=customer.id, user_id=world["east.clerk2"].id))
    converted = make_lead(session, clerk, customer_id=customer.id, status="converted")
    pool_customer = make_customer(session, None, division=_division(session, "east"))
    west = _division(session, "west")

    req = wf.new_transfer_request(
        session,
        by=head,
        customers=[customer, pool_customer],
        to_division=west,
        reason="客户迁往西部",
    )
    assert req.number.startswith("KB-") and req.state == "draft"
    wf.submit(session, req, by=head)
    with pytest.raises(BusinessRuleError, match="集团管理层"):
        wf.approve(session, req, by=world["west.head"], note="")
    wf.approve(session, req, by=world["gm"], note="同意", new_owner=world["west.clerk1"])
    with pytest.raises(BusinessRuleError, match="系统管理员或集团管理层"):
        wf.execute(session, req, by=head)
    result = wf.execute(session, req, by=world["admin"])

    assert result.customers_moved == 2
    session.expire_all()
    new_owner = world["west.clerk1"]
    for record in (customer, pool_customer, contact, opp, order, pending, service, converted):
        assert (record.division_id, record.owner.id) == (west.id, new_owner.id), record
    assert done.division_id == west.id and done.owner_id == clerk.id
    assert session.scalar(select(func.count()).select_from(CustomerShare)) == 0
    kinds = session.execute(
        select(
            OwnershipChange.kind, OwnershipChange.division_id, OwnershipChange.from_owner_id
        ).order_by(OwnershipChange.customer_id)
    ).all()
    assert kinds == [("transfer", west.id, clerk.id), ("transfer", west.id, None)]
    lines = wf.transfer_lines(session, req)
    assert [(x.customer, x.from_owner, x.to_division, x.to_owner) for x in lines] == [
        (customer.name, clerk.display_name, west.name, new_owner.display_name),
        (pool_customer.name, "公海", west.name, new_owner.display_name),
    ]


def test_transfer_without_owner_lands_in_the_target_pool(session, world):
    customer = make_customer(session, world["east.clerk1"])
    west = _division(session, "west")
    req = wf.new_transfer_request(
        session, by=world["east.head"], customers=[customer], to_division=west, reason="调整"
    )
    wf.submit(session, req, by=world["east.head"])
    wf.approve(session, req, by=world["gm"], note="")
    wf.execute(session, req, by=world["gm"])
    session.expire_all()
    assert (customer.division_id, customer.owner_id, customer.previous_owner_id) == (
        west.id,
        None,
        None,
    )
    assert customer.in_pool_since is not None


def test_transfer_rules(session, world):
    east_customer = make_customer(session, world["east.clerk1"])
    west_customer = make_customer(session, world["west.clerk1"])
    west, east = _division(session, "west"), _division(session, "east")

    def new(by, customers, to_division, reason="x"):
        return wf.new_transfer_request(
            session, by=world[by], customers=customers, to_division=to_division, reason=reason
        )

    with pytest.raises(BusinessRuleError, match="负责人填写"):
        new("east.admin", [east_customer], west)
    with pytest.raises(BusinessRuleError, match="不属于本版块"):
        new("east.head", [west_customer], west)
    with pytest.raises(BusinessRuleError, match="不能是本版块"):
        new("east.head", [east_customer], east)
    with pytest.raises(BusinessRuleError, match="请选择要转出的客户"):
        new("east.head", [], west)
    new("east.head", [east_customer], west)
    with pytest.raises(BusinessRuleError, match="未办结"):
        new("east.head", [east_customer], west, "y")


def test_transfer_refuses_a_name_taken_in_the_target_division(session, world):
    customer = make_customer(session, world["east.clerk1"], name="重名公司")
    west = _division(session, "west")
    req = wf.new_transfer_request(
        session, by=world["east.head"], customers=[customer], to_division=west, reason="x"
    )
    wf.submit(session, req, by=world["east.head"])
    wf.approve(session, req, by=world["gm"], note="")
    make_customer(session, world["west.clerk1"], name="重名公司")
    with pytest.raises(BusinessRuleError, match="同名客户"):
        wf.execute(session, req, by=world["admin"])
    assert customer.division_id == _division(session, "east").id
    twin = make_customer(session, world["east.clerk1"], name="另一重名")
    make_customer(session, world["west.clerk1"], name="另一重名")
    with pytest.raises(BusinessRuleError, match="同名客户"):
        wf.new_transfer_request(
            session, by=world["east.head"], customers=[twin], to_division=west, reason="x"
        )
