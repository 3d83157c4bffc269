"""Account requests (审批表) and cross-division transfer requests (R-ACCOUNT-1..6).

Both follow one state machine: draft → submitted → approved / rejected → executed.
What differs is who files, who approves and what execution changes; the change takes
effect only at execution, inside the caller's transaction (R-ACCOUNT-6). Every step
writes an audit entry (R-AUDIT-1). Functions flush, never commit.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.clock import now
from portal.models import (
    ACCOUNT_CHANGES,
    DIVISION_ROLES,
    AccountRequest,
    AuditLog,
    Customer,
    Division,
    Role,
    TransferRequest,
    User,
)
from portal.services import BusinessRuleError
from portal.services.audit import record_change, record_event, snapshot
from portal.services.handover import check_receiver, hand_over, move_customers
from portal.services.signin import hash_password

ACCOUNT_PREFIX = "ZH"
TRANSFER_PREFIX = "KB"
USERNAME_RE = re.compile(r"[a-z0-9._]{3,50}")
FILERS = ("division_admin", "group_manager", "sysadmin")
# A request touching these roles is approved by group management, not the division head.
SENIOR_ROLES = ("division_admin", "division_head")
OPEN_STATES = ("draft", "submitted", "approved")
TEMP_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"

STATE_LABELS = {
    "draft": _l("草稿"),
    "submitted": _l("已提交"),
    "approved": _l("已批准"),
    "rejected": _l("已驳回"),
    "executed": _l("已执行"),
}
USER_STATE_LABELS = {"active": _l("正常"), "frozen": _l("冻结"), "deactivated": _l("停用")}
# The verbs of the workflow and the state each one starts from.
TRANSITIONS = {
    "submit": "draft",
    "approve": "submitted",
    "reject": "submitted",
    "execute": "approved",
}
# Text written to the audit log and printed on the forms is fixed Chinese, never the
# viewer's locale: a log entry and a signed paper form read the same for everyone.
RECORDED_STATES = {
    "draft": "草稿",
    "submitted": "已提交",
    "approved": "已批准",
    "rejected": "已驳回",
    "executed": "已执行",
}
RECORDED_USER_STATES = {"active": "正常", "frozen": "冻结", "deactivated": "停用"}
VERB_LABELS = {
    "submit": _l("提交"),
    "approve": _l("批准"),
    "reject": _l("驳回"),
    "execute": _l("执行"),
    "edit": _l("修改"),
    "delete": _l("删除"),
}

Request = AccountRequest | TransferRequest


@dataclass
class Execution:
    """What an execution did; the temporary password is shown once and never stored."""

    user: User | None = None
    temporary_password: str | None = None
    customers_moved: int = 0


# -- numbering ----------------------------------------------------------------------
def _next_number(session: Session, model, prefix: str) -> str:
    """ZH-2026-0001: per year; the unique constraint catches a simultaneous twin."""
    stem = f"{prefix}-{now().year}-"
    last = session.scalar(
        select(model.number)
        .where(model.number.like(f"{stem}%"))
        .order_by(func.length(model.number).desc(), model.number.desc())
        .limit(1)
    )
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{seq:04d}"


# -- small checks ---------------------------------------------------------------------
def _text(value: str | None, label, max_len: int, *, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise BusinessRuleError(_l("请填写%(field)s", field=label))
        return None
    if len(value) > max_len:
        raise BusinessRuleError(_l("%(field)s不能超过 %(n)s 个字", field=label, n=max_len))
    return value


def _role_code(role: Role | str | None) -> str | None:
    return role.code if isinstance(role, Role) else (role or None)


def _require_state(req: Request, verb: str) -> None:
    expected = TRANSITIONS[verb]
    if req.state != expected:
        raise BusinessRuleError(
            _l(
                "只有“%(expected)s”状态的申请可以%(verb)s（%(number)s 当前为“%(state)s”）",
                expected=STATE_LABELS[expected],
                verb=VERB_LABELS[verb],
                number=req.number,
                state=STATE_LABELS[req.state],
            )
        )


def _require_active(by: User) -> None:
    if by is None or by.state != "active":
        raise BusinessRuleError(_l("账号不是正常状态，不能办理审批"))


def _require_applicant(req: Request, by: User, verb: str) -> None:
    if by.id != req.applicant_id:
        raise BusinessRuleError(_l("只有申请人本人可以%(verb)s申请", verb=VERB_LABELS[verb]))


def _open_duplicate(session: Session, *conditions, exclude_id: int | None):
    stmt = select(AccountRequest.number).where(AccountRequest.state.in_(OPEN_STATES), *conditions)
    if exclude_id is not None:
        stmt = stmt.where(AccountRequest.id != exclude_id)
    return session.scalar(stmt.limit(1))


# -- account requests: the fields ---------------------------------------------------------
def _check_username(session: Session, username: str | None, *, exclude_id: int | None) -> str:
    username = (username or "").strip()
    if not username:
        raise BusinessRuleError(_l("新建账号须填写用户名"))
    if not USERNAME_RE.fullmatch(username):
        raise BusinessRuleError(_l("用户名须为 3–50 位小写字母、数字、点或下划线"))
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise BusinessRuleError(_l("用户名 %(u)s 已被使用", u=username))
    twin = _open_duplicate(
        session,
        AccountRequest.change_type == "create",
        AccountRequest.username == username,
        exclude_id=exclude_id,
    )
    if twin:
        raise BusinessRuleError(_l("用户名 %(u)s 已在审批表 %(n)s 中申请", u=username, n=twin))
    return username


def _check_role(role_code: str | None) -> str:
    if not role_code:
        raise BusinessRuleError(_l("请选择申请角色"))
    if role_code not in DIVISION_ROLES:
        raise BusinessRuleError(_l("审批表只能申请版块内的角色：业务人员、版块负责人或版块管理员"))
    return role_code


def _check_target(
    session: Session,
    change_type: str,
    target: User | None,
    division_id: int,
    *,
    by: User,
    exclude_id: int | None,
) -> User:
    if target is None:
        raise BusinessRuleError(_l("请选择要变更的账号"))
    if target.division_id != division_id:
        raise BusinessRuleError(_l("只能为本版块的账号提交审批表（R-SCOPE-1）"))
    if target.id == by.id:
        raise BusinessRuleError(_l("不能为自己的账号提交变更申请"))
    needed = {
        "role_change": ("active", "frozen"),
        "freeze": ("active",),
        "unfreeze": ("frozen",),
        "deactivate": ("active", "frozen"),
    }[change_type]
    if target.state not in needed:
        raise BusinessRuleError(
            _l(
                "账号 %(u)s 当前为“%(s)s”，不能办理此项变更",
                u=target.username,
                s=USER_STATE_LABELS.get(target.state, target.state),
            )
        )
    twin = _open_duplicate(
        session, AccountRequest.target_user_id == target.id, exclude_id=exclude_id
    )
    if twin:
        raise BusinessRuleError(
            _l("账号 %(u)s 已有未办结的审批表 %(n)s", u=target.username, n=twin)
        )
    return target


def _fill_account_fields(
    session: Session,
    req: AccountRequest,
    *,
    by: User,
    change_type: str,
    person_name: str | None,
    username: str | None,
    target_user: User | None,
    requested_role: Role | str | None,
    reason: str | None,
    handover_to: User | None,
) -> None:
    """Validate per change type and keep only the fields that type uses."""
    if change_type not in ACCOUNT_CHANGES:
        raise BusinessRuleError(_l("请选择变更类型"))
    exclude = req.id
    req.change_type = change_type
    req.person_name = _text(person_name, _l("人员姓名"), 50)
    req.reason = _text(reason, _l("申请理由"), 500)
    req.username = None
    req.target_user = None
    req.requested_role_code = None
    req.handover_to = None
    if change_type == "create":
        req.username = _check_username(session, username, exclude_id=exclude)
        req.requested_role_code = _check_role(_role_code(requested_role))
        return
    target = _check_target(
        session, change_type, target_user, req.division_id, by=by, exclude_id=exclude
    )
    req.target_user = target
    if change_type == "role_change":
        role = _check_role(_role_code(requested_role))
        if role == target.role_code:
            raise BusinessRuleError(_l("申请角色与账号当前角色相同"))
        req.requested_role_code = role
    elif change_type == "deactivate" and handover_to is not None:
        check_receiver(handover_to, req.division_id, giver=target)
        req.handover_to = handover_to


def _revalidate_account(session: Session, req: AccountRequest, by: User) -> None:
    """Data may have changed since filing: check again before submit and execute."""
    _fill_account_fields(
        session,
        req,
        by=req.applicant,
        change_type=req.change_type,
        person_name=req.person_name,
        username=req.username,
        target_user=req.target_user,
        requested_role=req.requested_role_code,
        reason=req.reason,
        handover_to=req.handover_to,
    )


def _filing_division(session: Session, by: User, division: Division | None) -> int:
    if by.role_code not in FILERS:
        raise BusinessRuleError(_l("账号审批表由版块管理员填写（R-ACCOUNT-1）"))
    if by.role_code == "division_admin":
        if division is not None and division.id != by.division_id:
            raise BusinessRuleError(_l("版块管理员只能为本版块填写审批表"))
        return by.division_id
    if division is None:
        raise BusinessRuleError(_l("请选择版块"))
    return division.id


def new_account_request(
    session: Session,
    *,
    by: User,
    change_type: str,
    person_name: str,
    username: str | None = None,
    target_user: User | None = None,
    requested_role: Role | str | None = None,
    reason: str,
    handover_to: User | None = None,
    division: Division | None = None,
    ip: str | None = None,
) -> AccountRequest:
    """File a draft 审批表 for the filer's division (global roles name the division)."""
    _require_active(by)
    req = AccountRequest(
        division_id=_filing_division(session, by, division),
        applicant_id=by.id,
        state="draft",
    )
    _fill_account_fields(
        session,
        req,
        by=by,
        change_type=change_type,
        person_name=person_name,
        username=username,
        target_user=target_user,
        requested_role=requested_role,
        reason=reason,
        handover_to=handover_to,
    )
    req.number = _next_number(session, AccountRequest, ACCOUNT_PREFIX)
    session.add(req)
    session.flush()
    record_event(session, "create", req, user=by, ip=ip)
    session.flush()
    return req


def revise_account_request(
    session: Session, req: AccountRequest, *, by: User, ip: str | None = None, **fields
) -> AccountRequest:
    """Change a draft; only its applicant may, and the same rules apply as at filing."""
    check_may(req, "edit", by)
    before = snapshot(req)
    _fill_account_fields(session, req, by=by, **fields)
    session.flush()
    record_change(session, req, before, user=by, ip=ip)
    session.flush()
    return req


# -- transfer requests -----------------------------------------------------------------
def _check_transfer(
    session: Session,
    *,
    from_division_id: int,
    customers: Iterable[Customer],
    to_division: Division | None,
    new_owner: User | None,
    exclude_id: int | None,
) -> list[Customer]:
    chosen = list({c.id: c for c in customers}.values())
    if not chosen:
        raise BusinessRuleError(_l("请选择要转出的客户"))
    if to_division is None:
        raise BusinessRuleError(_l("请选择转入版块"))
    if to_division.id == from_division_id:
        raise BusinessRuleError(_l("转入版块不能是本版块"))
    outside = [c.name for c in chosen if c.division_id != from_division_id]
    if outside:
        raise BusinessRuleError(
            _l("只能转出本版块的客户：%(names)s 不属于本版块", names="、".join(outside))
        )
    check_receiver(new_owner, to_division.id)
    busy = session.execute(
        select(Customer.name, TransferRequest.number)
        .select_from(TransferRequest)
        .join(TransferRequest.customers)
        .where(
            TransferRequest.state.in_(OPEN_STATES),
            Customer.id.in_([c.id for c in chosen]),
            TransferRequest.id != (exclude_id or 0),
        )
        .limit(1)
    ).first()
    if busy:
        raise BusinessRuleError(
            _l("客户 %(c)s 已在未办结的申请 %(n)s 中", c=busy.name, n=busy.number)
        )
    # One name per division (R-ENTRY-3): a clash would fail at execution otherwise.
    clashes = session.scalars(
        select(Customer.name).where(
            Customer.division_id == to_division.id,
            Customer.name.in_([c.name for c in chosen]),
        )
    ).all()
    if clashes:
        raise BusinessRuleError(
            _l("转入版块已有同名客户：%(names)s，请先更名或合并", names="、".join(clashes))
        )
    return chosen


def new_transfer_request(
    session: Session,
    *,
    by: User,
    customers: Iterable[Customer],
    to_division: Division | None,
    new_owner: User | None = None,
    reason: str,
    ip: str | None = None,
) -> TransferRequest:
    """A division head asks to move some of his customers to another division (R-ACCOUNT-5)."""
    _require_active(by)
    if by.role_code != "division_head" or by.division_id is None:
        raise BusinessRuleError(_l("跨版块分配申请由转出版块的负责人填写（R-SCOPE-5）"))
    chosen = _check_transfer(
        session,
        from_division_id=by.division_id,
        customers=customers,
        to_division=to_division,
        new_owner=new_owner,
        exclude_id=None,
    )
    req = TransferRequest(
        number=_next_number(session, TransferRequest, TRANSFER_PREFIX),
        from_division_id=by.division_id,
        to_division_id=to_division.id,
        new_owner_id=new_owner.id if new_owner is not None else None,
        reason=_text(reason, _l("申请理由"), 500),
        applicant_id=by.id,
        state="draft",
        customers=chosen,
    )
    session.add(req)
    session.flush()
    record_event(session, "create", req, user=by, ip=ip)
    session.flush()
    return req


def revise_transfer_request(
    session: Session,
    req: TransferRequest,
    *,
    by: User,
    customers: Iterable[Customer],
    to_division: Division | None,
    reason: str,
    ip: str | None = None,
) -> TransferRequest:
    check_may(req, "edit", by)
    chosen = _check_transfer(
        session,
        from_division_id=req.from_division_id,
        customers=customers,
        to_division=to_division,
        new_owner=req.new_owner,
        exclude_id=req.id,
    )
    req.customers = chosen
    req.to_division_id = to_division.id
    req.reason = _text(reason, _l("申请理由"), 500)
    record_event(session, "update", req, user=by, ip=ip)
    session.flush()
    return req


def _revalidate_transfer(session: Session, req: TransferRequest) -> None:
    _check_transfer(
        session,
        from_division_id=req.from_division_id,
        customers=req.customers,
        to_division=req.to_division,
        new_owner=req.new_owner,
        exclude_id=req.id,
    )


# -- who may do what ------------------------------------------------------------------------
def _is_senior(req: AccountRequest) -> bool:
    target_role = req.target_user.role_code if req.target_user is not None else None
    return req.requested_role_code in SENIOR_ROLES or target_role in SENIOR_ROLES


def _check_decider(req: Request, by: User) -> None:
    """Who approves or rejects (R-ACCOUNT-1/5); never the applicant himself."""
    if isinstance(req, TransferRequest):
        if by.role_code != "group_manager":
            raise BusinessRuleError(_l("跨版块分配申请须由集团管理层审批（R-ACCOUNT-5）"))
    elif _is_senior(req):
        if by.role_code != "group_manager":
            raise BusinessRuleError(_l("涉及版块负责人或版块管理员的申请须由集团管理层审批"))
    elif by.role_code != "division_head" or by.division_id != req.division_id:
        raise BusinessRuleError(
            _l("此申请须由%(division)s的版块负责人审批", division=req.division.name)
        )
    if by.id == req.applicant_id:
        raise BusinessRuleError(_l("申请人不能审批自己的申请"))


def _check_executor(req: Request, by: User) -> None:
    if isinstance(req, TransferRequest):
        if by.role_code not in ("sysadmin", "group_manager"):
            raise BusinessRuleError(_l("跨版块分配只能由系统管理员或集团管理层执行"))
    elif by.role_code != "sysadmin":
        raise BusinessRuleError(_l("审批表只能由系统管理员执行（R-ACCOUNT-1）"))


def check_may(req: Request, verb: str, by: User) -> None:
    """State and actor rules of a verb (not the data checks); raises BusinessRuleError."""
    _require_active(by)
    if verb in ("edit", "delete"):
        if req.state != "draft":
            raise BusinessRuleError(
                _l("申请已提交，不能%(verb)s（%(n)s）", verb=VERB_LABELS[verb], n=req.number)
            )
        _require_applicant(req, by, verb)
        return
    _require_state(req, verb)
    if verb == "submit":
        _require_applicant(req, by, verb)
    elif verb in ("approve", "reject"):
        _check_decider(req, by)
    elif verb == "execute":
        _check_executor(req, by)


def may(req: Request, verb: str, by: User) -> bool:
    """Whether to offer the verb's button to this user now."""
    try:
        check_may(req, verb, by)
    except BusinessRuleError:
        return False
    return True


# -- the workflow ------------------------------------------------------------------------------
def _revalidate(session: Session, req: Request, by: User) -> None:
    if isinstance(req, TransferRequest):
        _revalidate_transfer(session, req)
    else:
        _revalidate_account(session, req, by)


def submit(session: Session, req: Request, *, by: User, ip: str | None = None) -> None:
    """draft → submitted, by the applicant; the data is checked again."""
    check_may(req, "submit", by)
    _revalidate(session, req, by)
    req.state = "submitted"
    req.submitted_at = now()
    record_event(session, "request_submit", req, user=by, ip=ip)
    session.flush()


def approve(
    session: Session,
    req: Request,
    *,
    by: User,
    note: str | None = None,
    new_owner: User | None = None,
    ip: str | None = None,
) -> None:
    """submitted → approved. For a transfer the group manager may name the new owner."""
    check_may(req, "approve", by)
    if new_owner is not None:
        if not isinstance(req, TransferRequest):
            raise BusinessRuleError(_l("只有跨版块分配申请可以指定新负责人"))
        check_receiver(new_owner, req.to_division_id)
        req.new_owner = new_owner
    req.state = "approved"
    req.decided_by_id = by.id
    req.decided_at = now()
    req.decision_note = _text(note, _l("审批意见"), 500, required=False)
    record_event(session, "request_approve", req, user=by, ip=ip, summary=_summary(req))
    session.flush()


def reject(
    session: Session, req: Request, *, by: User, note: str | None, ip: str | None = None
) -> None:
    """submitted → rejected, with the reason the applicant will read."""
    check_may(req, "reject", by)
    req.decision_note = _text(note, _l("驳回理由"), 500)
    req.state = "rejected"
    req.decided_by_id = by.id
    req.decided_at = now()
    record_event(session, "request_reject", req, user=by, ip=ip, summary=_summary(req))
    session.flush()


def execute(session: Session, req: Request, *, by: User, ip: str | None = None) -> Execution:
    """approved → executed: the change takes effect now, in the caller's transaction."""
    check_may(req, "execute", by)
    _revalidate(session, req, by)
    at = now()
    if isinstance(req, TransferRequest):
        changes = _transfer_plan(session, req)
        result = Execution(
            customers_moved=move_customers(
                session,
                [c.id for c in req.customers],
                to_division_id=req.to_division_id,
                to_owner=req.new_owner,
                by=by,
                reason=f"{req.number} {req.reason}",
                at=at,
            )
        )
    else:
        changes = account_plan(session, req)
        result = _apply_account_change(session, req, by=by, ip=ip)
    req.state = "executed"
    req.executed_by_id = by.id
    req.executed_at = at
    record_event(
        session, "request_execute", req, user=by, ip=ip, summary=_summary(req), changes=changes
    )
    session.flush()
    return result


def decision_label(req: Request) -> str:
    """批准 / 驳回 once decided, else empty (the printed form's 审批结论)."""
    if req.decided_at is None:
        return ""
    return "驳回" if req.state == "rejected" else "批准"


def _summary(req: Request) -> str:
    return f"{req.number} {RECORDED_STATES[req.state]}"


def temporary_password() -> str:
    """12 characters without look-alikes (0/O, 1/l/I), shown once to the executor."""
    while True:
        password = "".join(secrets.choice(TEMP_PASSWORD_ALPHABET) for _ in range(12))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _apply_account_change(
    session: Session, req: AccountRequest, *, by: User, ip: str | None
) -> Execution:
    if req.change_type == "create":
        password = temporary_password()
        user = User(
            username=req.username,
            display_name=req.person_name,
            role_code=req.requested_role_code,
            division_id=req.division_id,
            password_hash=hash_password(password),
            state="active",
            must_change_password=True,  # the temporary password is only for the first sign-in
        )
        session.add(user)
        session.flush()
        record_event(session, "create", user, user=by, ip=ip, summary=f"{user} ({req.number})")
        return Execution(user=user, temporary_password=password)
    user = req.target_user
    if req.change_type == "role_change":
        user.role_code = req.requested_role_code
        # The session token stays: permissions are read on every request anyway.
    elif req.change_type == "freeze":
        user.state = "frozen"
        user.rotate_session_token()  # every open session ends now (R-ACCOUNT-3)
    elif req.change_type == "unfreeze":
        user.state = "active"
    elif req.change_type == "deactivate":
        user.state = "deactivated"
        user.rotate_session_token()
        moved = hand_over(
            session,
            user,
            req.handover_to,
            by=by,
            reason=f"{req.number} 停用交接",
        )
        session.flush()
        return Execution(user=user, customers_moved=moved)
    session.flush()
    return Execution(user=user)


# -- what changes (printed before/after, R-ACCOUNT-6) ------------------------------------------
def _role_name(session: Session, code: str | None) -> str:
    if not code:
        return "—"
    role = session.get(Role, code)
    return role.name if role is not None else code


def account_plan(session: Session, req: AccountRequest) -> dict[str, list]:
    """{field: [before, after]} as plain text, from the current data."""
    if req.change_type == "create":
        return {
            "username": [None, req.username],
            "role": [None, _role_name(session, req.requested_role_code)],
            "state": [None, RECORDED_USER_STATES["active"]],
        }
    user = req.target_user
    state = RECORDED_USER_STATES.get(user.state, user.state)
    if req.change_type == "role_change":
        return {
            "role": [
                _role_name(session, user.role_code),
                _role_name(session, req.requested_role_code),
            ]
        }
    if req.change_type == "freeze":
        return {"state": [state, RECORDED_USER_STATES["frozen"]]}
    if req.change_type == "unfreeze":
        return {"state": [state, RECORDED_USER_STATES["active"]]}
    held = session.scalar(
        select(func.count()).select_from(Customer).where(Customer.owner_id == user.id)
    )
    receiver = (
        f"{req.handover_to.display_name}（{req.handover_to.username}）"
        if req.handover_to is not None
        else "本版块公海"
    )
    return {
        "state": [state, RECORDED_USER_STATES["deactivated"]],
        "customers": [
            f"{held} 位客户由 {user.display_name} 负责",
            f"交接给 {receiver}",
        ],
    }


PLAN_LABELS = {
    "username": "账号",
    "role": "角色",
    "state": "账号状态",
    "customers": "名下客户及资料",
}


def _executed_changes(session: Session, req: Request) -> dict | None:
    text = session.scalar(
        select(AuditLog.changes)
        .where(
            AuditLog.action == "request_execute",
            AuditLog.model == type(req).__name__,
            AuditLog.record_id == req.id,
        )
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    return json.loads(text) if text else None


def account_changes(session: Session, req: AccountRequest) -> list[tuple[str, str, str]]:
    """Rows (item, before, after); once executed, what was recorded at execution."""
    plan = (_executed_changes(session, req) if req.state == "executed" else None) or (
        account_plan(session, req)
    )
    return [
        (PLAN_LABELS.get(key, key), before or "—", after or "—")
        for key, (before, after) in plan.items()
    ]


def _owner_text(user: User | None, pool_label: str) -> str:
    return user.display_name if user is not None else pool_label


def _transfer_plan(session: Session, req: TransferRequest) -> dict[str, list]:
    return {
        str(c.id): [
            _owner_text(c.owner, "公海"),
            _owner_text(req.new_owner, "转入版块公海"),
        ]
        for c in req.customers
    }


@dataclass
class TransferLine:
    customer: str
    from_division: str
    from_owner: str
    to_division: str
    to_owner: str


def transfer_lines(session: Session, req: TransferRequest) -> list[TransferLine]:
    """Each customer with its division and owner before and after (R-ACCOUNT-6); once
    executed, the owners recorded at execution (the customers have moved since)."""
    plan = (_executed_changes(session, req) if req.state == "executed" else None) or (
        _transfer_plan(session, req)
    )
    return [
        TransferLine(
            customer=c.name,
            from_division=req.from_division.name,
            from_owner=plan.get(str(c.id), ["—", "—"])[0],
            to_division=req.to_division.name,
            to_owner=plan.get(str(c.id), ["—", "—"])[1],
        )
        for c in sorted(req.customers, key=lambda c: c.id)
    ]
