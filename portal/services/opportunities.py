"""Opportunities 商机 (R-REPORT-4, R-FOLLOW-5): the stage pipeline with its history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.clock import now
from portal.models import Customer, Opportunity, Stage, StageChange
from portal.services import BusinessRuleError
from portal.services.audit import record_event


def first_stage(session: Session) -> Stage:
    return session.scalar(
        select(Stage)
        .where(Stage.active.is_(True), Stage.outcome == "open")
        .order_by(Stage.sort_order)
        .limit(1)
    )


def open_opportunity(
    session: Session,
    customer: Customer,
    *,
    title: str,
    by,
    amount: Decimal | None = None,
    stage: Stage | None = None,
    owner_id: int | None = None,
    at: datetime | None = None,
) -> Opportunity:
    """A new opportunity on a customer, at the first stage unless told, with its 48h plan."""
    from portal.services.followups import ensure_initial_plan

    at = at or now()
    if not (title or "").strip():
        raise BusinessRuleError(_l("请填写商机名称"))
    stage = stage or first_stage(session)
    opportunity = Opportunity(
        customer_id=customer.id,
        division_id=customer.division_id,
        owner_id=owner_id or customer.owner_id,
        created_by_id=getattr(by, "id", None),
        title=title.strip(),
        amount=amount,
        stage_id=stage.id,
        probability=stage.probability,
        stage_entered_at=at,
        last_action_at=at,
    )
    session.add(opportunity)
    session.flush()
    record_stage_change(session, opportunity, None, stage, at=at, by=by)
    ensure_initial_plan(session, opportunity, by=by, at=at)
    session.flush()
    return opportunity


def record_stage_change(
    session: Session,
    opportunity: Opportunity,
    from_stage_id: int | None,
    to_stage: Stage,
    *,
    at: datetime,
    by,
    since: datetime | None = None,
) -> StageChange:
    """One row of the stage history: the move, when the left stage was entered (`since`)
    and the furthest non-lost stage reached so far (the previous changes' and this one's)."""
    orders = [
        session.scalar(
            select(func.max(StageChange.reached_order)).where(
                StageChange.opportunity_id == opportunity.id
            )
        )
    ]
    for stage in (session.get(Stage, from_stage_id) if from_stage_id else None, to_stage):
        if stage is not None and stage.outcome != "lost":
            orders.append(stage.sort_order)
    reached = [o for o in orders if o is not None]
    change = StageChange(
        opportunity_id=opportunity.id,
        from_stage_id=from_stage_id,
        to_stage_id=to_stage.id,
        at=at,
        from_since=since,
        reached_order=max(reached) if reached else None,
        by_id=getattr(by, "id", None),
    )
    session.add(change)
    return change


def stage_changed(
    session: Session,
    opportunity: Opportunity,
    old_stage_id: int | None,
    *,
    by,
    at: datetime | None = None,
) -> None:
    """Record a stage move (history, days in stage); won/lost close it, lost needs a reason."""
    at = at or now()
    if opportunity.stage_id == old_stage_id:
        return
    stage = session.get(Stage, opportunity.stage_id)
    if stage.outcome == "lost" and opportunity.lost_reason_id is None:
        raise BusinessRuleError(_l("输单必须选择输单原因"))
    record_stage_change(
        session,
        opportunity,
        old_stage_id,
        stage,
        at=at,
        by=by,
        since=opportunity.stage_entered_at or opportunity.created_at,
    )
    opportunity.stage_entered_at = at
    opportunity.last_action_at = at
    opportunity.stale_since = None
    opportunity.probability = stage.probability
    opportunity.closed_at = at if stage.outcome != "open" else None
    if stage.outcome == "won" and opportunity.customer is not None:
        opportunity.customer.status = "won"
    record_event(
        session, "stage", opportunity, user=by, summary=f"{opportunity.title}: → {stage.name}"
    )
    session.flush()


def days_in_stage(opportunity: Opportunity, at: datetime | None = None) -> int | None:
    if opportunity.stage_entered_at is None:
        return None
    return ((at or now()) - opportunity.stage_entered_at).days
