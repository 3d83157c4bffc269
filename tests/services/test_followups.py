"""Follow-up engine (R-FOLLOW-1..6, R-GRADE-1) on both databases."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models import Activity, AuditLog, FeedbackReason, Lead
from portal.services import BusinessRuleError
from portal.services.followups import (
    acknowledge_instruction,
    change_grade,
    complete_plan,
    ensure_initial_plan,
    plan_followups_for_order,
    satisfaction_day,
    sweep_followups,
    write_instruction,
)
from tests.factories import grade, make_customer, make_lead, make_order


def _feedback(session):
    return session.scalar(select(FeedbackReason.id).limit(1))


def _plans(session, **where):
    session.expire_all()
    stmt = select(Activity).order_by(Activity.planned_at)
    for key, value in where.items():
        stmt = stmt.where(getattr(Activity, key) == value)
    return session.scalars(stmt).all()


def test_new_customer_gets_a_48_hour_plan_once(session, world):
    at = datetime(2026, 3, 2, 9, 0)
    customer = make_customer(session, world["east.clerk1"])
    plan = ensure_initial_plan(session, customer, at=at)
    assert plan.planned_at == at + timedelta(hours=48)
    assert plan.owner_id == world["east.clerk1"].id and plan.template_code == "new_48h"
    assert ensure_initial_plan(session, customer, at=at) is None  # already has one
    lead = make_lead(session, world["east.clerk1"])
    assert ensure_initial_plan(session, lead, at=at).lead_id == lead.id


@pytest.mark.parametrize(
    ("code", "days"), [("O", 7), ("H", 2), ("A", 7), ("B", 14), ("C", 21), ("N", 30)]
)
def test_completion_creates_the_next_plan_from_the_grade(session, world, code, days):
    at = datetime(2026, 3, 2, 15, 0)
    customer = make_customer(session, world["east.clerk1"], grade_id=grade(session, code).id)
    plan = ensure_initial_plan(session, customer, at=at - timedelta(days=2))
    following = complete_plan(
        session,
        plan,
        by=world["east.clerk1"],
        feedback_reason_id=_feedback(session),
        result="已联系",
        at=at,
    )
    assert following.planned_at.date() == date(2026, 3, 2) + timedelta(days=days)
    assert plan.state == "done" and plan.done_at == at
    assert customer.last_followup_at == at and customer.next_followup_at == following.planned_at


def test_completion_needs_feedback(session, world):
    customer = make_customer(session, world["east.clerk1"])
    plan = ensure_initial_plan(session, customer)
    with pytest.raises(BusinessRuleError, match="客户反馈"):
        complete_plan(session, plan, by=world["east.clerk1"], feedback_reason_id=None)
    assert plan.state == "pending"


def test_next_date_earlier_allowed_later_refused(session, world):
    at = datetime(2026, 3, 2, 15, 0)
    customer = make_customer(session, world["east.clerk1"], grade_id=grade(session, "H").id)
    plan = ensure_initial_plan(session, customer, at=at - timedelta(days=1))
    with pytest.raises(BusinessRuleError, match="不能晚于 2026-03-04.*H 级客户最长间隔 2 天"):
        complete_plan(
            session,
            plan,
            by=world["east.clerk1"],
            feedback_reason_id=_feedback(session),
            next_at=datetime(2026, 3, 5, 10, 0),
            at=at,
        )
    assert plan.state == "pending"
    following = complete_plan(
        session,
        plan,
        by=world["east.clerk1"],
        feedback_reason_id=_feedback(session),
        next_at=datetime(2026, 3, 3, 9, 0),
        at=at,
    )
    assert following.planned_at == datetime(2026, 3, 3, 9, 0)


@pytest.mark.parametrize(
    ("signed", "satisfaction"),
    [
        (date(2026, 3, 1), date(2026, 3, 20)),
        (date(2026, 3, 15), date(2026, 3, 20)),
        (date(2026, 3, 16), date(2026, 4, 5)),
        (date(2026, 3, 31), date(2026, 4, 5)),
        (date(2026, 12, 20), date(2027, 1, 5)),
    ],
)
def test_satisfaction_call_day(signed, satisfaction):
    assert satisfaction_day(signed) == satisfaction


def test_order_creates_four_purchase_plans_once_and_cancel_cancels(session, world):
    customer = make_customer(session, world["east.clerk1"])
    order = make_order(session, customer, signed_on=date(2026, 3, 10))
    created = plan_followups_for_order(session, order)
    dates = {p.template_code: p.planned_at for p in created}
    assert dates == {
        "order_thanks_48h": datetime(2026, 3, 12, 10, 0),
        "order_maintenance_1w": datetime(2026, 3, 17, 10, 0),
        "order_satisfaction": datetime(2026, 3, 20, 10, 0),
        "order_usage_1m": datetime(2026, 4, 9, 10, 0),
    }
    assert plan_followups_for_order(session, order) == []  # saved again: no duplicates
    assert len(_plans(session, order_id=order.id)) == 4
    order.state = "cancelled"
    plan_followups_for_order(session, order)
    assert {p.state for p in _plans(session, order_id=order.id)} == {"cancelled"}


def test_grade_change_is_logged_and_moves_the_due_date(session, world):
    at = datetime(2026, 3, 2, 9, 0)
    customer = make_customer(
        session, world["east.clerk1"], grade_id=grade(session, "N").id, last_followup_at=at
    )
    plan = ensure_initial_plan(session, customer, at=at)
    plan.planned_at = at + timedelta(days=25)
    old = customer.grade_id
    customer.grade_id = grade(session, "H").id
    change_grade(session, customer, old, by=world["east.clerk1"], at=at)
    assert plan.planned_at == datetime(2026, 3, 4, 10, 0)
    assert session.scalar(select(AuditLog).where(AuditLog.action == "grade_change"))


def test_leader_instruction_written_by_head_acknowledged_by_assignee(session, world):
    customer = make_customer(session, world["east.clerk1"])
    plan = ensure_initial_plan(session, customer)
    with pytest.raises(BusinessRuleError):
        write_instruction(session, plan, "请尽快跟进", by=world["east.clerk1"])
    write_instruction(session, plan, "请尽快跟进", by=world["east.head"])
    with pytest.raises(BusinessRuleError, match="执行人"):
        acknowledge_instruction(session, plan, "收到", by=world["east.clerk2"])
    acknowledge_instruction(session, plan, "收到，今天下午打电话", by=world["east.clerk1"])
    assert plan.instruction_ack_at is not None and plan.instruction_reply.startswith("收到")
    with pytest.raises(BusinessRuleError, match="已回复"):
        acknowledge_instruction(session, plan, "再次", by=world["east.clerk1"])


def test_sweep_marks_overdue_escalates_and_flags_stale_once(session, world):
    day = date(2026, 3, 10)
    at = datetime.combine(day, datetime.min.time())
    clerk = world["east.clerk1"]
    customer = make_customer(session, clerk)
    late = Activity(
        kind="plan",
        subject="逾期1天",
        customer_id=customer.id,
        division_id=customer.division_id,
        owner_id=clerk.id,
        planned_at=at - timedelta(hours=10),
    )
    very_late = Activity(
        kind="plan",
        subject="逾期5天",
        customer_id=customer.id,
        division_id=customer.division_id,
        owner_id=clerk.id,
        planned_at=at - timedelta(days=5),
    )
    today = Activity(
        kind="plan",
        subject="今天",
        customer_id=customer.id,
        division_id=customer.division_id,
        owner_id=clerk.id,
        planned_at=at + timedelta(hours=15),
    )
    session.add_all([late, very_late, today])
    old_lead = make_lead(session, clerk, created_at=at - timedelta(days=40))
    session.flush()
    counts = sweep_followups(session, day)
    assert counts == {"overdue marked": 2, "escalated": 1, "stale flagged": 1}
    assert sweep_followups(session, day) == {
        "overdue marked": 0,
        "escalated": 0,
        "stale flagged": 0,
    }
    session.expire_all()
    assert session.get(Activity, today.id).overdue_at is None
    assert session.get(Activity, very_late.id).escalated_at == at
    assert session.get(Lead, old_lead.id).stale_since == at
