"""Service requests through the portal (R-SERVICE-1..3, R-SCOPE-4, R-AUDIT-1): the issue's
walk-through, refusals that change nothing, preset lists, metrics, CSRF and escaping."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.clock import now
from portal.models import AuditLog, ServicePriority, ServiceRequest, ServiceType
from portal.services import service_requests as sr
from tests.factories import make_customer, make_service_request

URL = "/admin/service_request"


def _code_id(session, model, code) -> int:
    return session.scalar(select(model.id).where(model.code == code))


def _fresh(session, pk) -> ServiceRequest:
    session.expire_all()
    return session.get(ServiceRequest, pk)


def _step(client, pk, verb, **data):
    return client.post(f"{URL}/{pk}/{verb}", data=data, follow_redirects=True)


def _log_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditLog))


def _state(session, pk) -> tuple:
    r = _fresh(session, pk)
    return (r.status, r.handler_id, r.resolved_at, r.satisfaction, r.version, _log_count(session))


def _complaint(session, login, world, summary="投诉：维修等待时间过长") -> int:
    customer = make_customer(session, world["east.clerk1"], name=f"投诉客户{summary[:20]}")
    session.commit()
    response = login("east.clerk1").post(
        f"{URL}/new/",
        data={
            "customer": str(customer.id),
            "type": str(_code_id(session, ServiceType, "complaint")),
            "priority": str(_code_id(session, ServicePriority, "urgent")),
            "channel": "phone",
            "direction": "inbound",
            "summary": summary,
            "description": "客户来电，车辆送修三天未取",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    session.expire_all()
    return session.scalar(select(ServiceRequest.id).where(ServiceRequest.summary == summary))


def test_the_issue_walk_through(session, login, world):
    """east.clerk1 logs a complaint, east.head assigns it, the handler resolves it, feedback
    2 sends it back, feedback 4 lets it be archived, and the times appear in the metrics."""
    pk = _complaint(session, login, world)
    req = _fresh(session, pk)
    clerk1_id = world["east.clerk1"].id
    assert (req.status, req.owner_id, req.created_by_id) == ("new", clerk1_id, clerk1_id)
    clerk1, clerk2, head = login("east.clerk1"), login("east.clerk2"), login("east.head")

    page = head.get(f"{URL}/details/?id={pk}").get_data(as_text=True)
    assert 'id="assign-form"' in page and "东区业务员二" in page
    assigned = _step(head, pk, "assign", handler=world["east.clerk2"].id)
    assert "服务单已分配" in assigned.get_data(as_text=True)
    assert _fresh(session, pk).handler_id == world["east.clerk2"].id

    assert 'id="start-form"' in clerk2.get(f"{URL}/details/?id={pk}").get_data(as_text=True)
    _step(clerk2, pk, "start")
    _step(clerk2, pk, "resolve", notes="联系维修站", result="已安排加急")
    assert _fresh(session, pk).resolved_at is not None
    assert 'id="feedback-form"' in clerk1.get(f"{URL}/details/?id={pk}").get_data(as_text=True)

    back = _step(clerk1, pk, "feedback", satisfaction="2", note="车还没修好")
    assert "服务单已退回处理" in back.get_data(as_text=True)
    req = _fresh(session, pk)
    assert (req.status, req.reopened_count, req.resolved_at) == ("handling", 1, None)

    _step(clerk2, pk, "resolve", result="已修复并交车")
    _step(clerk1, pk, "feedback", satisfaction="4")
    assert _fresh(session, pk).status == "responded"
    _step(clerk1, pk, "archive")
    req = _fresh(session, pk)
    assert req.status == "archived" and req.satisfaction == 4
    assert all(
        (req.assigned_at, req.handling_at, req.resolved_at, req.responded_at, req.archived_at)
    )
    actions = list(
        session.scalars(
            select(AuditLog.action).where(
                AuditLog.record_id == pk, AuditLog.model == "ServiceRequest"
            )
        )
    )
    assert actions.count("service_resolve") == 2 and "service_reopen" in actions

    metrics = head.get(f"{URL}/metrics/").get_data(as_text=True)
    assert 'id="service-metrics"' in metrics and "东区业务员二" in metrics
    row = sr.service_metrics(session, world["east.head"], start=now().date(), end=now().date())[
        "total"
    ]
    assert (row.requests, row.resolved, row.complaints) == (1, 1, 1)
    assert row.avg_response_hours is not None and row.avg_satisfaction == 4.0


def test_wrong_role_or_order_changes_nothing(session, login, world):
    pk = _complaint(session, login, world)
    before = _state(session, pk)
    clerk2 = login("east.clerk2")  # no share, not the handler: the request is out of his scope
    assert (
        clerk2.post(f"{URL}/{pk}/assign", data={"handler": world["east.clerk2"].id}).status_code
        == 404
    )
    west = login("west.head")
    for verb in ("assign", "start", "resolve", "feedback", "archive"):
        assert west.post(f"{URL}/{pk}/{verb}", data={}).status_code == 404
    clerk1 = login("east.clerk1")
    assert "R-SERVICE-1" in _step(clerk1, pk, "start").get_data(as_text=True)
    assert "R-SERVICE" in _step(clerk1, pk, "feedback", satisfaction="5").get_data(as_text=True)
    refused = _step(login("east.admin"), pk, "assign", handler=world["east.clerk1"].id)
    assert "您的角色不能办理此操作" in refused.get_data(as_text=True)
    assert _state(session, pk) == before


def test_creator_takes_his_own_request_unless_the_setting_forbids(app, session, login, world):
    pk = _complaint(session, login, world)
    clerk1 = login("east.clerk1")
    page = clerk1.get(f"{URL}/details/?id={pk}").get_data(as_text=True)
    assert "我来处理" in page
    app.config["SERVICE_SELF_ASSIGN"] = False
    try:
        assert "我来处理" not in clerk1.get(f"{URL}/details/?id={pk}").get_data(as_text=True)
        _step(clerk1, pk, "assign", handler=world["east.clerk1"].id)
        assert _fresh(session, pk).status == "new"
    finally:
        app.config.pop("SERVICE_SELF_ASSIGN")
    _step(clerk1, pk, "assign", handler=world["east.clerk1"].id)
    assert _fresh(session, pk).handler_id == world["east.clerk1"].id
    # but never someone else
    other = _complaint(session, login, world, summary="另一张")
    _step(clerk1, other, "assign", handler=world["east.clerk2"].id)
    assert _fresh(session, other).status == "new"


def test_preset_lists(session, login, world):
    customer = make_customer(session, world["east.clerk1"])
    complaint = _code_id(session, ServiceType, "complaint")
    urgent = _code_id(session, ServicePriority, "urgent")

    def make(summary, **fields):
        req = make_service_request(session, customer, summary=summary)
        for name, value in fields.items():
            setattr(req, name, value)
        session.flush()
        return req

    at = now()
    clerk2 = world["east.clerk2"].id
    make("PRESET-ASSIGNED", status="assigned", handler_id=clerk2, created_at=at)
    make(
        "PRESET-WAITING",
        status="handling",
        handler_id=clerk2,
        handling_at=at,
        resolved_at=at,
        created_at=at,
    )
    consult = _code_id(session, ServiceType, "consult")
    make("PRESET-LATE", type_id=consult, priority_id=urgent, created_at=at - timedelta(hours=5))
    make(
        "PRESET-ESCALATED",
        type_id=complaint,
        priority_id=urgent,
        created_at=at - timedelta(hours=6),
    )
    session.commit()
    sr.sweep_service(session, at.date())
    session.commit()

    def listed(client, preset):
        html = client.get(f"{URL}/?preset={preset}").get_data(as_text=True)
        return {s for s in ("ASSIGNED", "WAITING", "LATE", "ESCALATED") if f"PRESET-{s}" in html}

    clerk2_client = login("east.clerk2")
    assert listed(clerk2_client, "assigned_to_me") == {"ASSIGNED"}
    head = login("east.head")
    assert listed(head, "waiting_feedback") == {"WAITING"}
    assert "待客户反馈" in head.get(f"{URL}/?preset=waiting_feedback").get_data(as_text=True)
    assert listed(head, "overdue") == {"LATE", "ESCALATED"}
    assert listed(head, "escalated") == {"ESCALATED"}
    assert listed(login("west.head"), "escalated") == set()


def test_posts_need_the_csrf_token_and_text_is_escaped(session, login, world):
    pk = _complaint(session, login, world, summary="<script>alert(1)</script>")
    head = login("east.head")
    response = head.post(
        f"{URL}/{pk}/assign", data={"handler": world["east.clerk1"].id}, csrf=False
    )
    assert response.status_code == 400
    assert _fresh(session, pk).status == "new"
    page = head.get(f"{URL}/details/?id={pk}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_archived_request_cannot_be_edited(session, login, world):
    customer = make_customer(session, world["east.clerk1"])
    req = make_service_request(session, customer, summary="已归档的单")
    req.status = "archived"
    session.commit()
    response = login("east.clerk1").post(
        f"{URL}/edit/?id={req.id}",
        data={
            "customer": str(customer.id),
            "type": str(req.type_id),
            "priority": str(req.priority_id),
            "channel": "phone",
            "direction": "inbound",
            "summary": "改过的摘要",
            "seen_version": str(req.version),
        },
        follow_redirects=True,
    )
    assert "已归档的服务单不能修改" in response.get_data(as_text=True)
    assert _fresh(session, req.id).summary == "已归档的单"
