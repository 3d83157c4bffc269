"""Service-request lifecycle, SLA escalation and metrics (R-SERVICE-1..3), on both databases."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.clock import now
from portal.models import AuditLog, ServicePriority, ServiceRequest, ServiceType
from portal.services import BusinessRuleError
from portal.services import service_requests as sr
from tests.factories import make_customer, make_service_request


def _type(session, code):
    return session.scalar(select(ServiceType).where(ServiceType.code == code))


def _priority(session, code):
    return session.scalar(select(ServicePriority).where(ServicePriority.code == code))


def _open(session, world, *, by="east.clerk1", type_code="complaint", priority="normal"):
    clerk = world[by]
    customer = make_customer(session, clerk)
    return sr.open_request(
        session,
        by=clerk,
        customer=customer,
        type=_type(session, type_code),
        priority=_priority(session, priority),
        summary="维修等待时间过长",
    )


def _request(session, customer, **fields) -> ServiceRequest:
    """A request with any field set (the shared factory fixes type and priority)."""
    req = make_service_request(session, customer)
    for name, value in fields.items():
        setattr(req, name, value)
    session.flush()
    return req


def _audit_actions(session, req) -> list[str]:
    return list(
        session.scalars(
            select(AuditLog.action)
            .where(AuditLog.model == "ServiceRequest", AuditLog.record_id == req.id)
            .order_by(AuditLog.id)
        )
    )


def _snapshot(session, req) -> tuple:
    session.flush()
    session.expire_all()
    fresh = session.get(ServiceRequest, req.id)
    log = session.scalar(select(func.count()).select_from(AuditLog))
    return (
        fresh.status,
        fresh.handler_id,
        fresh.assigned_at,
        fresh.handling_at,
        fresh.resolved_at,
        fresh.responded_at,
        fresh.archived_at,
        fresh.satisfaction,
        fresh.reopened_count,
        fresh.version,
        log,
    )


# -- the lifecycle ---------------------------------------------------------------------------
def test_complaint_goes_round_once_then_is_archived(session, world):
    head, clerk1, clerk2 = world["east.head"], world["east.clerk1"], world["east.clerk2"]
    req = _open(session, world)
    assert (req.status, req.owner_id, req.created_by_id) == ("new", clerk1.id, clerk1.id)

    sr.assign(session, req, clerk2, by=head)
    assert (req.status, req.handler_id) == ("assigned", clerk2.id) and req.assigned_at
    sr.start_handling(session, req, by=clerk2)
    assert req.status == "handling" and req.handling_at
    first_start = req.handling_at
    sr.resolve(session, req, by=clerk2, notes="已联系维修站", result="安排加急维修")
    assert req.resolved_at and req.result == "安排加急维修" and "已联系维修站" in req.handling_notes

    assert sr.record_feedback(session, req, by=clerk1, satisfaction=2, note="仍未修好") is False
    assert req.status == "handling" and req.resolved_at is None
    assert (req.reopened_count, req.feedback_note, req.satisfaction) == (1, "仍未修好", 2)

    sr.resolve(session, req, by=clerk2, result="更换配件，已修复")
    assert sr.record_feedback(session, req, by=clerk1, satisfaction=4) is True
    assert req.status == "responded" and req.responded_at and req.satisfaction == 4
    sr.archive(session, req, by=clerk1)
    assert req.status == "archived" and req.archived_at
    assert req.handling_at == first_start  # the response time ends at the first start
    assert _audit_actions(session, req) == [
        "create",
        "service_assign",
        "service_start",
        "service_resolve",
        "service_reopen",
        "service_resolve",
        "service_feedback",
        "service_archive",
    ]


def test_creator_may_take_his_own_request_when_the_rule_allows(session, world):
    clerk1, clerk2 = world["east.clerk1"], world["east.clerk2"]
    req = _open(session, world)
    with pytest.raises(BusinessRuleError, match="R-SERVICE-1"):
        sr.assign(session, req, clerk1, by=clerk1, self_assign=False)
    with pytest.raises(BusinessRuleError, match="只能把服务单分配给自己"):
        sr.assign(session, req, clerk2, by=clerk1)
    with pytest.raises(BusinessRuleError):
        sr.assign(session, req, clerk1, by=clerk2)  # not his request
    sr.assign(session, req, clerk1, by=clerk1)
    assert (req.status, req.handler_id) == ("assigned", clerk1.id)


def test_handler_must_be_an_active_member_of_the_division(session, world):
    req = _open(session, world)
    before = _snapshot(session, req)
    for handler in (world["west.clerk1"], world["east.admin"]):
        with pytest.raises(BusinessRuleError, match="处理人须为本版块"):
            sr.assign(session, req, handler, by=world["east.head"])
    with pytest.raises(BusinessRuleError):
        sr.assign(session, req, world["east.clerk2"], by=world["west.head"])
    assert _snapshot(session, req) == before


@pytest.mark.parametrize(
    "step",
    ["start_early", "resolve_early", "feedback_early", "archive_early", "wrong_people"],
)
def test_out_of_order_or_wrong_role_is_refused_and_changes_nothing(session, world, step):
    head, clerk1, clerk2 = world["east.head"], world["east.clerk1"], world["east.clerk2"]
    req = _open(session, world)
    if step == "start_early":
        calls = [lambda: sr.start_handling(session, req, by=clerk1)]
    elif step == "resolve_early":
        sr.assign(session, req, clerk2, by=head)
        calls = [lambda: sr.resolve(session, req, by=clerk2, result="x")]
    elif step == "feedback_early":
        sr.assign(session, req, clerk2, by=head)
        sr.start_handling(session, req, by=clerk2)
        calls = [lambda: sr.record_feedback(session, req, by=clerk1, satisfaction=5)]
    elif step == "archive_early":
        sr.assign(session, req, clerk2, by=head)
        sr.start_handling(session, req, by=clerk2)
        sr.resolve(session, req, by=clerk2, result="已处理")
        calls = [lambda: sr.archive(session, req, by=clerk1)]
    else:
        sr.assign(session, req, clerk2, by=head)
        calls = [
            lambda: sr.start_handling(session, req, by=clerk1),  # not the handler
            lambda: sr.start_handling(session, req, by=head),
            lambda: sr.assign(session, req, clerk1, by=world["east.admin"]),
            lambda: sr.start_handling(session, req, by=world["gm"]),
        ]
    before = _snapshot(session, req)
    for call in calls:
        with pytest.raises(BusinessRuleError, match="R-SERVICE"):
            call()
    assert _snapshot(session, req) == before


def test_feedback_rules(session, world):
    head, clerk1, clerk2 = world["east.head"], world["east.clerk1"], world["east.clerk2"]
    req = _open(session, world)
    sr.assign(session, req, clerk2, by=head)
    sr.start_handling(session, req, by=clerk2)
    sr.resolve(session, req, by=clerk2, result="已处理")
    before = _snapshot(session, req)
    for score in (0, 6, "abc", None):
        with pytest.raises(BusinessRuleError, match="1–5"):
            sr.record_feedback(session, req, by=clerk1, satisfaction=score)
    with pytest.raises(BusinessRuleError, match="须填写原因"):
        sr.record_feedback(session, req, by=clerk1, satisfaction=1, note="  ")
    with pytest.raises(BusinessRuleError, match="R-SERVICE-2"):
        sr.record_feedback(session, req, by=clerk2, satisfaction=5)  # the handler is no judge
    assert _snapshot(session, req) == before
    assert sr.record_feedback(session, req, by=head, satisfaction=3) is True  # 3 is enough
    sr.archive(session, req, by=head)
    assert req.status == "archived"
    with pytest.raises(BusinessRuleError, match="已归档"):
        sr.check_editable(req)


def test_opening_needs_a_customer_the_creator_may_work_on(session, world):
    other = make_customer(session, world["east.clerk2"])
    with pytest.raises(BusinessRuleError, match="可见范围"):
        sr.open_request(
            session,
            by=world["east.clerk1"],
            customer=other,
            type=_type(session, "consult"),
            priority=_priority(session, "normal"),
            summary="咨询",
        )
    assert session.scalar(select(func.count()).select_from(ServiceRequest)) == 0


# -- SLA ----------------------------------------------------------------------------------------
def test_sweep_escalates_complaints_past_their_sla_once(session, world):
    customer = make_customer(session, world["east.clerk1"])
    at = now()
    complaint, consult = _type(session, "complaint"), _type(session, "consult")
    urgent, normal = _priority(session, "urgent"), _priority(session, "normal")

    def make(type_, priority, hours_ago, **fields):
        return _request(
            session,
            customer,
            type_id=type_.id,
            priority_id=priority.id,
            created_at=at - timedelta(hours=hours_ago),
            **fields,
        )

    late = make(complaint, urgent, 5)  # urgent: 4 hours to respond
    in_time = make(complaint, urgent, 3)
    normal_late = make(complaint, normal, 30)  # normal: 24 hours
    not_complaint = make(consult, urgent, 5)
    started_late = make(
        complaint, urgent, 30, status="handling", handling_at=at - timedelta(hours=29)
    )  # responded in time but not resolved within 24 hours
    done = make(
        complaint,
        urgent,
        50,
        status="responded",
        handling_at=at - timedelta(hours=49),
        resolved_at=at - timedelta(hours=48),
    )
    session.commit()

    counts = sr.sweep_service(session, at.date())
    assert counts["complaints escalated"] == 3
    session.expire_all()
    escalated = set(
        session.scalars(select(ServiceRequest.id).where(ServiceRequest.escalated_at.is_not(None)))
    )
    assert escalated == {late.id, normal_late.id, started_late.id}
    assert {in_time.id, not_complaint.id, done.id}.isdisjoint(escalated)
    assert counts["requests overdue"] == 3  # late, normal_late, not_complaint
    stamps = dict(session.execute(select(ServiceRequest.id, ServiceRequest.escalated_at)).all())

    again = sr.sweep_service(session, at.date())
    assert again["complaints escalated"] == 0
    session.expire_all()
    assert dict(session.execute(select(ServiceRequest.id, ServiceRequest.escalated_at)).all()) == (
        stamps
    )
    queue = session.scalars(select(ServiceRequest.id).where(sr.escalated_open()))
    assert set(queue) == escalated


def test_overdue_list_uses_the_priority_sla(session, world):
    customer = make_customer(session, world["east.clerk1"])
    at = datetime(2026, 3, 10, 12, 0)
    urgent = _priority(session, "urgent")
    old = _request(
        session, customer, priority_id=urgent.id, created_at=at - timedelta(hours=4, minutes=1)
    )
    _request(
        session, customer, priority_id=urgent.id, created_at=at - timedelta(hours=3, minutes=59)
    )
    ids = set(session.scalars(select(ServiceRequest.id).where(sr.response_overdue(session, at))))
    assert ids == {old.id}


# -- metrics (R-SERVICE-3) ----------------------------------------------------------------------
@pytest.fixture
def metrics_fixture(session, world):
    """Five requests with hand-chosen times (hours after creation):

    id  handler  type       month    start  resolved  satisfaction
    r1  clerk1   complaint  2026-01  2      10        4
    r2  clerk1   consult    2026-01  4      —         —
    r3  clerk2   complaint  2026-02  1      7         2
    r4  —        consult    2026-02  —      —         —
    r5  clerk2   consult    2026-02  3      5         5
    plus one of west (out of an east head's scope) and one created outside the period.
    """
    clerk1, clerk2 = world["east.clerk1"], world["east.clerk2"]
    customer = make_customer(session, clerk1)
    west = make_customer(session, world["west.clerk1"])
    complaint, consult = _type(session, "complaint"), _type(session, "consult")

    def make(customer, handler, type_, created, start=None, resolved=None, satisfaction=None):
        return _request(
            session,
            customer,
            type_id=type_.id,
            handler_id=handler.id if handler else None,
            created_at=created,
            handling_at=created + timedelta(hours=start) if start is not None else None,
            resolved_at=created + timedelta(hours=resolved) if resolved is not None else None,
            satisfaction=satisfaction,
            status="handling" if start is not None else "new",
        )

    make(customer, clerk1, complaint, datetime(2026, 1, 5, 9), 2, 10, 4)
    make(customer, clerk1, consult, datetime(2026, 1, 20, 9), 4)
    make(customer, clerk2, complaint, datetime(2026, 2, 3, 9), 1, 7, 2)
    make(customer, None, consult, datetime(2026, 2, 10, 9))
    make(customer, clerk2, consult, datetime(2026, 2, 27, 23, 30), 3, 5, 5)
    make(west, world["west.clerk1"], complaint, datetime(2026, 1, 8, 9), 100, 200, 1)
    make(customer, clerk1, complaint, datetime(2025, 12, 31, 9), 50, 90, 1)
    session.commit()
    return world


def _by_label(result):
    return {row.label: row for row in result["rows"]}


def test_metrics_per_handler_match_the_hand_computation(session, metrics_fixture):
    world = metrics_fixture
    result = sr.service_metrics(
        session, world["east.head"], start=date(2026, 1, 1), end=date(2026, 2, 28)
    )
    total = result["total"]
    assert (total.requests, total.resolved, total.rated, total.complaints) == (5, 3, 3, 2)
    assert total.resolution_rate == 0.6
    assert total.avg_response_hours == pytest.approx((2 + 4 + 1 + 3) / 4)
    assert total.avg_resolution_hours == pytest.approx((10 + 7 + 5) / 3, abs=0.01)
    assert total.avg_satisfaction == pytest.approx((4 + 2 + 5) / 3, abs=0.01)
    assert total.avg_complaint_hours == pytest.approx((10 + 7) / 2)
    rows = _by_label(result)
    assert set(rows) == {"东区业务员一", "东区业务员二", ""}
    one, two, nobody = rows["东区业务员一"], rows["东区业务员二"], rows[""]
    assert (one.requests, one.resolved, one.avg_response_hours, one.avg_resolution_hours) == (
        2,
        1,
        3.0,
        10.0,
    )
    assert (one.resolution_rate, one.avg_satisfaction, one.complaints) == (0.5, 4.0, 1)
    assert (two.requests, two.resolved, two.avg_response_hours, two.avg_resolution_hours) == (
        2,
        2,
        2.0,
        6.0,
    )
    assert (two.avg_satisfaction, two.avg_complaint_hours) == (3.5, 7.0)
    assert (nobody.requests, nobody.resolved, nobody.avg_response_hours) == (1, 0, None)


def test_metrics_per_type_and_month(session, metrics_fixture):
    head = metrics_fixture["east.head"]
    period = {"start": date(2026, 1, 1), "end": date(2026, 2, 28)}
    by_type = _by_label(sr.service_metrics(session, head, group_by="type", **period))
    assert by_type["投诉"].requests == 2 and by_type["投诉"].avg_resolution_hours == 8.5
    assert by_type["咨询"].requests == 3 and by_type["咨询"].avg_response_hours == 3.5
    by_month = _by_label(sr.service_metrics(session, head, group_by="month", **period))
    assert set(by_month) == {"2026-01", "2026-02"}
    assert by_month["2026-01"].requests == 2 and by_month["2026-02"].requests == 3
    assert by_month["2026-02"].avg_satisfaction == 3.5


def test_metrics_respect_scope_and_division(session, metrics_fixture):
    world = metrics_fixture
    period = {"start": date(2026, 1, 1), "end": date(2026, 2, 28)}
    gm = sr.service_metrics(session, world["gm"], **period)["total"]
    assert gm.requests == 6
    east_only = sr.service_metrics(
        session, world["gm"], division_id=world["east.head"].division_id, **period
    )
    assert east_only["total"].requests == 5
    west_head = sr.service_metrics(session, world["west.head"], **period)["total"]
    assert (west_head.requests, west_head.avg_response_hours) == (1, 100.0)
    clerk2 = sr.service_metrics(session, world["east.clerk2"], **period)["total"]
    assert clerk2.requests == 2  # only those he handles: the customer is clerk1's
    assert sr.dashboard_service_metrics(session, world["east.clerk1"]) is None
    assert sr.dashboard_service_metrics(session, world["east.head"], today=date(2026, 2, 28))[
        "total"
    ].requests == (3)
