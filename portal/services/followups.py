"""Follow-up plans (R-FOLLOW, R-GRADE): the 48-hour plan, completion with feedback and the
next plan from the grade's interval, purchase plans from templates, grade changes,
leader instructions, overdue marks, stale flags and escalations."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, literal, or_, select, update
from sqlalchemy.orm import Session

from portal.clock import now
from portal.models import (
    Activity,
    Customer,
    FollowupTemplate,
    Grade,
    Lead,
    Opportunity,
    Order,
)
from portal.services import BusinessRuleError
from portal.services.audit import record_event

DEFAULT_INTERVAL_DAYS = 30  # grade N, used when a subject has no grade
ESCALATE_AFTER_DAYS = 2  # R-FOLLOW-6: overdue plans and unacknowledged instructions
# 'pending' written into the SQL, not bound: SQLite uses the partial index of pending
# plans (ix_activities_pending) only when it can see the value in the statement.
PENDING = literal("pending", literal_execute=True)
STALE_AFTER_DAYS = 30  # R-FOLLOW-5
CARE_HOUR = time(10, 0)  # calls are planned for 10:00 on their day


def start_of_day(moment: datetime | date) -> datetime:
    day = moment.date() if isinstance(moment, datetime) else moment
    return datetime.combine(day, time(0, 0))


def _template(session: Session, code: str) -> FollowupTemplate | None:
    return session.scalar(
        select(FollowupTemplate).where(
            FollowupTemplate.code == code, FollowupTemplate.active.is_(True)
        )
    )


def _subject_fields(subject) -> dict:
    if isinstance(subject, Customer):
        return {"customer_id": subject.id}
    if isinstance(subject, Lead):
        return {"lead_id": subject.id, "customer_id": subject.customer_id}
    if isinstance(subject, Opportunity):
        return {"opportunity_id": subject.id, "customer_id": subject.customer_id}
    raise TypeError(subject)


def _pending_plans(session: Session, subject):
    column = {
        Customer: Activity.customer_id,
        Lead: Activity.lead_id,
        Opportunity: Activity.opportunity_id,
    }[type(subject)]
    return select(Activity).where(
        column == subject.id, Activity.kind == "plan", Activity.state == "pending"
    )


def ensure_initial_plan(
    session: Session, subject, *, by=None, at: datetime | None = None
) -> Activity | None:
    """R-FOLLOW-1: a new lead, customer under follow-up or opportunity gets the 48-hour plan
    (template `new_48h`), unless it already has a pending plan or nobody owns it."""
    if subject.owner_id is None:
        return None
    if session.scalar(_pending_plans(session, subject).limit(1)) is not None:
        return None
    template = _template(session, "new_48h")
    hours = template.offset if template else 48
    at = at or now()
    plan = Activity(
        kind="plan",
        subject=template.subject if template else "48小时回访",
        template_code="new_48h",
        division_id=subject.division_id,
        owner_id=subject.owner_id,
        created_by_id=getattr(by, "id", None),
        planned_at=at + timedelta(hours=hours),
        **_subject_fields(subject),
    )
    session.add(plan)
    session.flush()
    if isinstance(subject, Customer) and (
        subject.next_followup_at is None or subject.next_followup_at > plan.planned_at
    ):
        subject.next_followup_at = plan.planned_at
    return plan


def grade_interval(session: Session, subject) -> tuple[str, int]:
    """(grade code, longest allowed days until the next follow-up) for a plan's subject."""
    grade_id = getattr(subject, "grade_id", None)
    if isinstance(subject, Opportunity):
        grade_id = subject.customer.grade_id if subject.customer else None
    grade = session.get(Grade, grade_id) if grade_id else None
    if grade is None:
        return "N", DEFAULT_INTERVAL_DAYS
    return grade.code, grade.follow_up_days


def _subject_of(plan: Activity):
    return plan.opportunity or plan.lead or plan.customer


def complete_plan(
    session: Session,
    plan: Activity,
    *,
    by,
    feedback_reason_id: int | None,
    feedback: str | None = None,
    result: str | None = None,
    next_at: datetime | None = None,
    at: datetime | None = None,
) -> Activity | None:
    """R-FOLLOW-2: completing needs the customer's feedback; the next plan is due within the
    grade's interval (earlier allowed, later refused). Returns the next plan."""
    at = at or now()
    if plan.state != "pending":
        raise BusinessRuleError(_l("该回访已完成或已取消，不能重复完成"))
    if not feedback_reason_id:
        raise BusinessRuleError(_l("完成回访必须填写客户反馈（R-FOLLOW-2）"))
    subject = _subject_of(plan)
    grade_code, days = grade_interval(session, subject)
    latest = start_of_day(at) + timedelta(days=days, hours=23, minutes=59)
    if next_at is None:
        next_at = datetime.combine(at.date() + timedelta(days=days), CARE_HOUR)
    elif next_at > latest:
        raise BusinessRuleError(
            _l(
                "下次回访不能晚于 %(day)s：%(grade)s 级客户最长间隔 %(days)s 天（R-GRADE-1）",
                day=latest.date().isoformat(),
                grade=grade_code,
                days=days,
            )
        )
    elif next_at < at:
        raise BusinessRuleError(_l("下次回访时间不能早于现在"))
    plan.state, plan.done_at = "done", at
    plan.feedback_reason_id, plan.feedback, plan.result = feedback_reason_id, feedback, result
    _touch_subject(plan, at)
    record_event(session, "followup_done", plan, user=by)
    if isinstance(subject, Lead) and subject.status in ("converted", "invalid"):
        session.flush()
        return None
    if isinstance(subject, Opportunity) and subject.stage.outcome != "open":
        session.flush()
        return None
    following = Activity(
        kind="plan",
        subject="定期回访",
        division_id=plan.division_id,
        owner_id=plan.owner_id,
        created_by_id=getattr(by, "id", None),
        planned_at=next_at,
        customer_id=plan.customer_id,
        lead_id=plan.lead_id,
        opportunity_id=plan.opportunity_id,
    )
    session.add(following)
    if plan.customer is not None:
        plan.customer.next_followup_at = next_at
    session.flush()
    return following


def _touch_subject(plan: Activity, at: datetime) -> None:
    """A follow-up keeps the customer off the return list and clears stale flags."""
    if plan.customer is not None:
        plan.customer.last_followup_at = at
        if plan.customer.status == "intent":
            plan.customer.status = "following"
    for record in (plan.lead, plan.opportunity):
        if record is not None:
            record.last_action_at = at
            record.stale_since = None


def satisfaction_day(signed_on: date) -> date:
    """R-FOLLOW-3: bought on day 1–15 → the 20th of that month; 16–31 → the 5th of the next."""
    if signed_on.day <= 15:
        return signed_on.replace(day=20)
    year, month = (
        (signed_on.year + 1, 1) if signed_on.month == 12 else (signed_on.year, signed_on.month + 1)
    )
    return date(year, month, 5)


def template_due(template: FollowupTemplate, signed_on: date) -> datetime:
    base = datetime.combine(signed_on, CARE_HOUR)
    if template.rule == "after_hours":
        return base + timedelta(hours=template.offset)
    if template.rule == "after_days":
        return base + timedelta(days=template.offset)
    return datetime.combine(satisfaction_day(signed_on), CARE_HOUR)


def plan_followups_for_order(session: Session, order: Order, *, by=None) -> list[Activity]:
    """R-FOLLOW-3: an order's care plans from the `order` templates; saving the order again
    adds none twice, and cancelling the order cancels the plans still pending."""
    existing = {
        a.template_code: a
        for a in session.scalars(select(Activity).where(Activity.order_id == order.id))
    }
    if order.state == "cancelled":
        for plan in existing.values():
            if plan.state == "pending":
                plan.state = "cancelled"
        session.flush()
        return []
    created = []
    templates = session.scalars(
        select(FollowupTemplate)
        .where(FollowupTemplate.trigger == "order", FollowupTemplate.active.is_(True))
        .order_by(FollowupTemplate.sort_order)
    )
    for template in templates:
        plan = existing.get(template.code)
        due = template_due(template, order.signed_on)
        if plan is not None:
            if plan.state == "cancelled":  # the order was restored
                plan.state = "pending"
            if plan.state == "pending":
                plan.planned_at = due  # the signing date may have been corrected
            continue
        plan = Activity(
            kind="plan",
            subject=template.subject,
            template_code=template.code,
            order_id=order.id,
            customer_id=order.customer_id,
            division_id=order.division_id,
            owner_id=order.owner_id,
            created_by_id=getattr(by, "id", None),
            planned_at=due,
        )
        session.add(plan)
        created.append(plan)
    session.flush()
    return created


def change_grade(
    session: Session,
    customer: Customer,
    old_grade_id: int | None,
    *,
    by=None,
    at: datetime | None = None,
) -> None:
    """A new grade moves the next due date when its interval is shorter (R-GRADE-1); the
    change itself is in the audit log with the old and new grade."""
    if customer.grade_id == old_grade_id:
        return
    at = at or now()
    record_event(
        session,
        "grade_change",
        customer,
        user=by,
        changes={"grade_id": [old_grade_id, customer.grade_id]},
    )
    _code, days = grade_interval(session, customer)
    base = customer.last_followup_at or at
    latest = datetime.combine(base.date() + timedelta(days=days), CARE_HOUR)
    for plan in session.scalars(_pending_plans(session, customer)):
        if plan.planned_at > latest:
            plan.planned_at = max(latest, at)
    if customer.next_followup_at is None or customer.next_followup_at > latest:
        customer.next_followup_at = max(latest, at)
    session.flush()


def write_instruction(
    session: Session, plan: Activity, text: str, *, by, at: datetime | None = None
) -> None:
    """R-FOLLOW-6: a division head (or group manager) writes 领导批示 to the assignee."""
    if by.role_code not in ("division_head", "group_manager"):
        raise BusinessRuleError(_l("只有版块负责人或集团管理层可以写领导批示"))
    if not (text or "").strip():
        raise BusinessRuleError(_l("请填写批示内容"))
    plan.instruction, plan.instruction_by_id = text.strip(), by.id
    plan.instruction_at, plan.instruction_ack_at, plan.instruction_reply = at or now(), None, None
    record_event(session, "instruction", plan, user=by)
    session.flush()


def acknowledge_instruction(
    session: Session, plan: Activity, reply: str, *, by, at: datetime | None = None
) -> None:
    """The assignee acknowledges the instruction and replies (R-FOLLOW-6)."""
    if not plan.instruction:
        raise BusinessRuleError(_l("该记录没有领导批示"))
    if plan.owner_id != by.id:
        raise BusinessRuleError(_l("只有执行人可以回复领导批示"))
    if plan.instruction_ack_at is not None:
        raise BusinessRuleError(_l("该批示已回复"))
    if not (reply or "").strip():
        raise BusinessRuleError(_l("请填写回复内容"))
    plan.instruction_ack_at, plan.instruction_reply = at or now(), reply.strip()
    record_event(session, "instruction_ack", plan, user=by)
    session.flush()


def overdue_escalation(at: datetime):
    """Plans overdue by more than two days (R-FOLLOW-6)."""
    cutoff = start_of_day(at) - timedelta(days=ESCALATE_AFTER_DAYS)
    return and_(Activity.state == PENDING, Activity.planned_at < cutoff)


def instruction_escalation(at: datetime):
    """Leader instructions left unacknowledged for more than two days (R-FOLLOW-6)."""
    return and_(
        Activity.instruction.is_not(None),
        Activity.instruction_ack_at.is_(None),
        Activity.instruction_at < at - timedelta(days=ESCALATE_AFTER_DAYS),
    )


def escalation_criterion(at: datetime):
    """Plans overdue by more than two days, or instructions left unacknowledged as long."""
    return or_(overdue_escalation(at), instruction_escalation(at))


def overdue_criterion(at: datetime):
    """R-FOLLOW-4: pending and planned before the start of today."""
    return and_(Activity.state == PENDING, Activity.planned_at < start_of_day(at))


def sweep_followups(session: Session, day: date) -> dict[str, int]:
    """Daily: overdue marks, escalations, stale leads/opportunities (set-based, idempotent)."""
    at = datetime.combine(day, time(0, 0))
    overdue = session.execute(
        update(Activity)
        .where(overdue_criterion(at), Activity.overdue_at.is_(None))
        .values(overdue_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    escalated = session.execute(
        update(Activity)
        .where(escalation_criterion(at), Activity.escalated_at.is_(None))
        .values(escalated_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    stale_cutoff = at - timedelta(days=STALE_AFTER_DAYS)
    stale = 0
    for model, column, open_ in (
        (Lead, Activity.lead_id, Lead.status.in_(("new", "following"))),
        (Opportunity, Activity.opportunity_id, Opportunity.closed_at.is_(None)),
    ):
        recent = exists().where(
            column == model.id,
            or_(Activity.done_at >= stale_cutoff, Activity.created_at >= stale_cutoff),
        )
        stale += session.execute(
            update(model)
            .where(open_, model.stale_since.is_(None), model.created_at < stale_cutoff, ~recent)
            .values(stale_since=at)
            .execution_options(synchronize_session=False)
        ).rowcount
    return {"overdue marked": overdue, "escalated": escalated, "stale flagged": stale}
