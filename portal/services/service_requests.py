"""Service requests (客户服务, R-SERVICE-1..3): the lifecycle, its SLA and its metrics.

创建 → 分配 → 处理 → (解决) → 反馈 → 归档. Status codes: new → assigned → handling →
responded → archived. A request being handled is "resolved" once the handler records the
result (resolved_at set); it then waits for the customer's feedback. Feedback below 3
sends it back to handling (resolved_at cleared, reopened_count + 1, the reason kept).
Each step checks the state and the actor, stamps its time and writes an audit entry;
functions flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Float,
    and_,
    case,
    cast,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from portal import scope
from portal.clock import now
from portal.models import (
    Contact,
    Customer,
    ServicePriority,
    ServiceRequest,
    ServiceType,
    User,
)
from portal.services import BusinessRuleError
from portal.services.audit import record_event

COMPLAINT = "complaint"  # ServiceType.code of 投诉
HANDLER_ROLES = ("clerk", "division_head")
# R-SERVICE-1 lets the division decide whether a creator may take his own request.
# One setting for now (no schema change): the views pass current_app.config's
# SERVICE_SELF_ASSIGN, default True; a per-division rule would need a column.
SELF_ASSIGN_DEFAULT = True
OPEN_STATUSES = ("new", "assigned", "handling")

STATUS_LABELS = {
    "new": _l("新建"),
    "assigned": _l("已分配"),
    "handling": _l("处理中"),
    "responded": _l("已反馈"),
    "archived": _l("已归档"),
}
VERB_LABELS = {
    "assign": _l("分配"),
    "start": _l("开始处理"),
    "resolve": _l("登记处理结果"),
    "feedback": _l("登记客户反馈"),
    "archive": _l("归档"),
}
VERBS = tuple(VERB_LABELS)


# -- who may do what, when ---------------------------------------------------------------
def _is_head_of(req: ServiceRequest, user: User) -> bool:
    return user.role_code == "group_manager" or (
        user.role_code == "division_head" and user.division_id == req.division_id
    )


def _is_requester(req: ServiceRequest, user: User) -> bool:
    return user.id in (req.owner_id, req.created_by_id)


def _require_status(req: ServiceRequest, verb: str, *allowed: str) -> None:
    if req.status not in allowed:
        raise BusinessRuleError(
            _l(
                "只有“%(expected)s”状态的服务单可以%(verb)s（当前为“%(state)s”，R-SERVICE-1）",
                expected="/".join(str(STATUS_LABELS[s]) for s in allowed),
                verb=VERB_LABELS[verb],
                state=STATUS_LABELS.get(req.status, req.status),
            )
        )


def check_may(
    req: ServiceRequest, verb: str, by: User, *, self_assign: bool = SELF_ASSIGN_DEFAULT
) -> None:
    """Raise BusinessRuleError naming the rule when `by` may not do `verb` on `req` now."""
    if by is None or by.state != "active":
        raise BusinessRuleError(_l("账号不是正常状态，不能办理服务单"))
    if verb == "assign":
        _require_status(req, verb, "new", "assigned")
        creator_takes_own = self_assign and by.role_code == "clerk" and by.id == req.created_by_id
        if not (_is_head_of(req, by) or creator_takes_own):
            raise BusinessRuleError(
                _l("只有版块负责人或集团管理层可以分配服务单；创建人可以自己接手（R-SERVICE-1）")
            )
    elif verb == "start":
        _require_status(req, verb, "assigned")
        if by.id != req.handler_id:
            raise BusinessRuleError(_l("只有处理人本人可以开始处理（R-SERVICE-1）"))
    elif verb == "resolve":
        _require_status(req, verb, "handling")
        if req.resolved_at is not None:
            raise BusinessRuleError(_l("处理结果已登记，正在等待客户反馈（R-SERVICE-2）"))
        if by.id != req.handler_id:
            raise BusinessRuleError(_l("只有处理人本人可以登记处理结果（R-SERVICE-1）"))
    elif verb == "feedback":
        _require_status(req, verb, "handling")
        if req.resolved_at is None:
            raise BusinessRuleError(_l("处理人登记处理结果后才能登记客户反馈（R-SERVICE-2）"))
        if not (_is_requester(req, by) or _is_head_of(req, by)):
            raise BusinessRuleError(
                _l("只有服务单的创建人、负责人或版块负责人可以登记客户反馈（R-SERVICE-2）")
            )
    elif verb == "archive":
        _require_status(req, verb, "responded")
        if not (_is_requester(req, by) or _is_head_of(req, by)):
            raise BusinessRuleError(
                _l("只有服务单的创建人、负责人或版块负责人可以归档（R-SERVICE-1）")
            )
    else:
        raise ValueError(verb)


def may(
    req: ServiceRequest, verb: str, by: User, *, self_assign: bool = SELF_ASSIGN_DEFAULT
) -> bool:
    """Whether to offer the verb's button to this user now."""
    try:
        check_may(req, verb, by, self_assign=self_assign)
    except BusinessRuleError:
        return False
    return True


def _text(value: str | None, label, max_len: int, *, required: bool) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise BusinessRuleError(_l("请填写%(field)s", field=label))
        return None
    if len(value) > max_len:
        raise BusinessRuleError(_l("%(field)s不能超过 %(n)s 个字", field=label, n=max_len))
    return value


def _log(session: Session, action: str, req: ServiceRequest, by: User, ip, changes: dict):
    record_event(session, action, req, user=by, ip=ip, changes=changes)
    session.flush()


# -- the lifecycle -------------------------------------------------------------------------
def open_request(
    session: Session,
    *,
    by: User,
    customer: Customer,
    type: ServiceType,
    priority: ServicePriority,
    summary: str,
    contact: Contact | None = None,
    channel: str = "phone",
    direction: str = "inbound",
    description: str | None = None,
    ip: str | None = None,
) -> ServiceRequest:
    """创建: a new request of a customer the creator may work on; the creator owns it."""
    if customer is None or type is None or priority is None:
        raise BusinessRuleError(_l("请填写客户、服务类型和优先级"))
    visible = session.scalar(
        select(Customer.id).where(scope.editable(Customer, by), Customer.id == customer.id)
    )
    if visible is None or customer.owner_id is None:
        raise BusinessRuleError(_l("客户不在您的可见范围内"))
    if contact is not None and contact.customer_id != customer.id:
        raise BusinessRuleError(_l("联系人不属于该客户"))
    req = ServiceRequest(
        division_id=customer.division_id,
        owner_id=by.id,
        created_by_id=by.id,
        customer_id=customer.id,
        contact_id=contact.id if contact is not None else None,
        type_id=type.id,
        priority_id=priority.id,
        channel=channel,
        direction=direction,
        summary=_text(summary, _l("摘要"), 200, required=True),
        description=(description or "").strip() or None,
        status="new",
    )
    session.add(req)
    session.flush()
    _log(session, "create", req, by, ip, {"status": [None, "new"]})
    return req


def assign(
    session: Session,
    req: ServiceRequest,
    handler: User | None,
    *,
    by: User,
    self_assign: bool = SELF_ASSIGN_DEFAULT,
    ip: str | None = None,
) -> None:
    """分配 to an active clerk or head of the request's division (again, before handling)."""
    check_may(req, "assign", by, self_assign=self_assign)
    if handler is None:
        raise BusinessRuleError(_l("请选择处理人"))
    if not _is_head_of(req, by) and handler.id != by.id:
        raise BusinessRuleError(_l("创建人只能把服务单分配给自己（R-SERVICE-1）"))
    if (
        handler.division_id != req.division_id
        or handler.state != "active"
        or handler.role_code not in HANDLER_ROLES
    ):
        raise BusinessRuleError(_l("处理人须为本版块在职的业务人员或负责人（R-SERVICE-1）"))
    before = (req.status, req.handler_id)
    req.handler_id = handler.id
    req.status = "assigned"
    req.assigned_at = now()
    _log(
        session,
        "service_assign",
        req,
        by,
        ip,
        {"status": [before[0], "assigned"], "handler_id": [before[1], handler.id]},
    )


def start_handling(
    session: Session, req: ServiceRequest, *, by: User, ip: str | None = None
) -> None:
    """处理: the handler starts; the first start is the response time's end."""
    check_may(req, "start", by)
    req.status = "handling"
    req.handling_at = req.handling_at or now()
    _log(session, "service_start", req, by, ip, {"status": ["assigned", "handling"]})


def resolve(
    session: Session,
    req: ServiceRequest,
    *,
    by: User,
    result: str | None,
    notes: str | None = None,
    ip: str | None = None,
) -> None:
    """The handler records notes and the result; the request waits for feedback."""
    check_may(req, "resolve", by)
    result = _text(result, _l("处理结果"), 2000, required=True)
    notes = _text(notes, _l("处理记录"), 2000, required=False)
    if notes:
        stamp = now().strftime("%Y-%m-%d %H:%M")
        req.handling_notes = "\n".join(filter(None, [req.handling_notes, f"[{stamp}] {notes}"]))
    req.result = result
    req.resolved_at = now()
    _log(session, "service_resolve", req, by, ip, {"result": [None, result]})


def record_feedback(
    session: Session,
    req: ServiceRequest,
    *,
    by: User,
    satisfaction,
    note: str | None = None,
    ip: str | None = None,
) -> bool:
    """反馈: satisfaction 1–5; below 3 goes back to handling with the reason (R-SERVICE-2).

    Returns True when the request is now responded (closed for the customer)."""
    check_may(req, "feedback", by)
    try:
        score = int(satisfaction)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise BusinessRuleError(_l("满意度须为 1–5 分（R-SERVICE-2）"))
    note = _text(note, _l("反馈说明"), 500, required=False)
    if score < 3 and not note:
        raise BusinessRuleError(_l("满意度低于 3 分须填写原因，服务单将退回处理（R-SERVICE-2）"))
    req.satisfaction = score
    if score < 3:
        req.feedback_note = note
        req.reopened_count = (req.reopened_count or 0) + 1
        req.resolved_at = None
        changes = {"satisfaction": [None, score], "status": ["handling", "handling"]}
        _log(session, "service_reopen", req, by, ip, {**changes, "feedback_note": [None, note]})
        return False
    if note:
        req.feedback_note = note
    req.status = "responded"
    req.responded_at = now()
    changes = {"satisfaction": [None, score], "status": ["handling", "responded"]}
    _log(session, "service_feedback", req, by, ip, changes)
    return True


def archive(session: Session, req: ServiceRequest, *, by: User, ip: str | None = None) -> None:
    """归档: the end of the lifecycle."""
    check_may(req, "archive", by)
    req.status = "archived"
    req.archived_at = now()
    _log(session, "service_archive", req, by, ip, {"status": ["responded", "archived"]})


def check_editable(req: ServiceRequest) -> None:
    """The request's own fields may be corrected until it is archived."""
    if req.status == "archived":
        raise BusinessRuleError(_l("已归档的服务单不能修改（R-SERVICE-1）"))


# -- SLA: overdue lists and the complaint escalation ----------------------------------------
def as_of(day: date) -> datetime:
    """The moment a sweep of `day` looks from: now for today, the day's end otherwise."""
    current = now()
    return current if day == current.date() else datetime.combine(day, time(23, 59, 59))


def _priorities(session: Session) -> list[tuple[int, int, int]]:
    return list(
        session.execute(
            select(
                ServicePriority.id, ServicePriority.response_hours, ServicePriority.resolve_hours
            )
        )
    )


def response_overdue(session: Session, at: datetime):
    """超时未响应: not started within the priority's response hours (SLA as lookup data).

    One branch per priority (a handful of rows) keeps the comparison index-friendly and
    identical on SQLite and PostgreSQL."""
    branches = [
        and_(ServiceRequest.priority_id == pid, ServiceRequest.created_at < at - timedelta(hours=h))
        for pid, h, _resolve in _priorities(session)
    ]
    return and_(
        ServiceRequest.status.in_(("new", "assigned")),
        ServiceRequest.handling_at.is_(None),
        or_(*branches) if branches else false(),
    )


def resolve_overdue(session: Session, at: datetime):
    """Not resolved within the priority's resolve hours."""
    branches = [
        and_(ServiceRequest.priority_id == pid, ServiceRequest.created_at < at - timedelta(hours=h))
        for pid, _response, h in _priorities(session)
    ]
    return and_(
        ServiceRequest.status.in_(OPEN_STATUSES),
        ServiceRequest.resolved_at.is_(None),
        or_(*branches) if branches else false(),
    )


def handler_todo(user):
    """分配给我: assigned to the user and not yet resolved."""
    return and_(
        ServiceRequest.handler_id == user.id,
        ServiceRequest.status.in_(("assigned", "handling")),
        ServiceRequest.resolved_at.is_(None),
    )


def waiting_feedback():
    return and_(ServiceRequest.status == "handling", ServiceRequest.resolved_at.is_not(None))


def escalated_open():
    """The division head's queue: escalated complaints not yet answered."""
    return and_(ServiceRequest.escalated_at.is_not(None), ServiceRequest.status.in_(OPEN_STATUSES))


def sweep_service(session: Session, day: date) -> dict[str, int]:
    """Complaints breaching their response or resolve SLA go to the head's queue once."""
    at = as_of(day)
    complaint_type = select(ServiceType.id).where(ServiceType.code == COMPLAINT)
    stmt = (
        update(ServiceRequest)
        .where(
            ServiceRequest.escalated_at.is_(None),
            ServiceRequest.type_id.in_(complaint_type.scalar_subquery()),
            or_(response_overdue(session, at), resolve_overdue(session, at)),
        )
        .values(escalated_at=at)
        .execution_options(synchronize_session=False)
    )
    escalated = session.execute(stmt).rowcount
    overdue = session.scalar(
        select(func.count()).select_from(ServiceRequest).where(response_overdue(session, at))
    )
    return {"complaints escalated": escalated, "requests overdue": overdue or 0}


# -- metrics (R-SERVICE-3) -------------------------------------------------------------------
class hours_between(FunctionElement):
    """Hours from the first timestamp to the second, as a float, in SQL."""

    type = Float()
    inherit_cache = True


@compiles(hours_between, "sqlite")
def _hours_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 24.0)"
    )


@compiles(hours_between)
def _hours_default(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
        f"{compiler.process(start, **kw)})) / 3600.0)"
    )


class year_month(FunctionElement):
    """'YYYY-MM' of a timestamp, in SQL."""

    inherit_cache = True


@compiles(year_month, "sqlite")
def _month_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(list(element.clauses)[0], **kw)})"


@compiles(year_month)
def _month_default(element, compiler, **kw):
    return f"to_char({compiler.process(list(element.clauses)[0], **kw)}, 'YYYY-MM')"


@dataclass
class MetricsRow:
    """One line of the service metrics; times in hours, rates 0–1, None when undefined."""

    key: object
    label: str
    requests: int
    resolved: int
    resolution_rate: float | None
    avg_response_hours: float | None
    avg_resolution_hours: float | None
    avg_satisfaction: float | None
    rated: int
    complaints: int
    avg_complaint_hours: float | None


GROUPS = ("handler", "type", "month")


def _round(value, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def service_metrics(
    session: Session,
    user,
    *,
    start: date,
    end: date,
    division_id: int | None = None,
    handler_id: int | None = None,
    group_by: str = "handler",
) -> dict[str, object]:
    """Response time (created → handling start), resolution time (created → resolved),
    resolution rate, average satisfaction and complaint handling time (created → resolved)
    of the requests created in [start, end], within the user's scope (and of one handler
    if `handler_id` is given), in one GROUP BY.

    Returns {"rows": [MetricsRow…], "total": MetricsRow}; a report or the dashboard
    renders them as they are."""
    if group_by not in GROUPS:
        raise ValueError(group_by)
    sr = ServiceRequest
    is_complaint = ServiceType.code == COMPLAINT
    response = hours_between(sr.created_at, sr.handling_at)
    resolution = hours_between(sr.created_at, sr.resolved_at)
    measures = [
        func.count(sr.id).label("requests"),
        func.count(sr.resolved_at).label("resolved"),
        func.avg(response).label("avg_response"),
        func.avg(resolution).label("avg_resolution"),
        func.avg(cast(sr.satisfaction, Float)).label("avg_satisfaction"),
        func.count(sr.satisfaction).label("rated"),
        func.sum(case((is_complaint, 1), else_=0)).label("complaints"),
        func.avg(case((is_complaint, resolution), else_=None)).label("avg_complaint"),
    ]
    if group_by == "handler":
        key, label = sr.handler_id, func.max(User.display_name)
    elif group_by == "type":
        key, label = sr.type_id, func.max(ServiceType.name)
    else:
        key = year_month(sr.created_at)
        label = key
    criteria = [
        scope.visible(sr, user),
        sr.created_at >= datetime.combine(start, time.min),
        sr.created_at < datetime.combine(end + timedelta(days=1), time.min),
    ]
    if division_id is not None:
        criteria.append(sr.division_id == division_id)
    if handler_id is not None:
        criteria.append(sr.handler_id == handler_id)
    base = select(*measures).select_from(sr).join(ServiceType, ServiceType.id == sr.type_id)
    grouped = (
        base.add_columns(key.label("key"), label.label("label"))
        .outerjoin(User, User.id == sr.handler_id)
        .where(*criteria)
        .group_by(key)
        .order_by(key)
    )
    rows = [_metrics_row(r, r.key, r.label) for r in session.execute(grouped)]
    total = _metrics_row(session.execute(base.where(*criteria)).one(), None, "")
    return {"rows": rows, "total": total}


def _metrics_row(r, key, label) -> MetricsRow:
    requests = int(r.requests or 0)
    resolved = int(r.resolved or 0)
    return MetricsRow(
        key=key,
        label=label or "",
        requests=requests,
        resolved=resolved,
        resolution_rate=round(resolved / requests, 4) if requests else None,
        avg_response_hours=_round(r.avg_response),
        avg_resolution_hours=_round(r.avg_resolution),
        avg_satisfaction=_round(r.avg_satisfaction),
        rated=int(r.rated or 0),
        complaints=int(r.complaints or 0),
        avg_complaint_hours=_round(r.avg_complaint),
    )


DASHBOARD_ROLES = ("division_head", "group_manager")
DASHBOARD_DAYS = 30


def dashboard_service_metrics(session: Session, user, *, today: date | None = None):
    """The head's dashboard card: the last 30 days per handler, or None for other roles."""
    if getattr(user, "role_code", None) not in DASHBOARD_ROLES:
        return None
    today = today or now().date()
    return service_metrics(
        session, user, start=today - timedelta(days=DASHBOARD_DAYS - 1), end=today
    )
