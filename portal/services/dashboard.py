"""The home page (issue #5 item 6): each user's to-do figures and, for heads, the division's
overdue counts per clerk and the escalation queue — every count within scope (R-SCOPE-4)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal import scope
from portal.clock import now
from portal.models import Activity, Customer, Lead, User
from portal.services.followups import (
    instruction_escalation,
    overdue_criterion,
    overdue_escalation,
    start_of_day,
)
from portal.services.pool import expiring_criterion

SUPERVISORS = ("division_head", "group_manager", "sysadmin", "division_admin")


def _count(session: Session, model, user, *criteria) -> int:
    stmt = select(func.count()).select_from(model).where(scope.visible(model, user), *criteria)
    return session.execute(stmt).scalar_one()


def dashboard_figures(session: Session, user) -> dict[str, int]:
    at = now()
    start = start_of_day(at)
    mine = Activity.owner_id == user.id
    pending = Activity.state == "pending"
    return {
        "plans_today": _count(
            session,
            Activity,
            user,
            mine,
            pending,
            Activity.planned_at >= start,
            Activity.planned_at < start + timedelta(days=1),
        ),
        "plans_overdue": _count(session, Activity, user, mine, overdue_criterion(at)),
        "not_followed_3d": _count(
            session,
            Customer,
            user,
            Customer.owner_id == user.id,
            or_(
                Customer.last_followup_at.is_(None),
                Customer.last_followup_at < at - timedelta(days=3),
            ),
        ),
        "returning_3d": _count(
            session,
            Customer,
            user,
            Customer.owner_id == user.id,
            expiring_criterion(session, user.division_id, at, 3),
        ),
        "instructions_to_ack": _count(
            session,
            Activity,
            user,
            mine,
            Activity.instruction.is_not(None),
            Activity.instruction_ack_at.is_(None),
        ),
        "customers": _count(session, Customer, user, Customer.owner_id.is_not(None)),
        "pool": _count(session, Customer, user, Customer.owner_id.is_(None)),
        "open_leads": _count(session, Lead, user, Lead.status.in_(("new", "following"))),
    }


def overdue_per_clerk(session: Session, user) -> list[tuple[str, int]]:
    """R-FOLLOW-4: the division's overdue plans per assignee (supervisors only)."""
    if user.role_code not in SUPERVISORS:
        return []
    stmt = (
        select(User.display_name, func.count(Activity.id))
        .join(User, User.id == Activity.owner_id)
        .where(scope.visible(Activity, user), overdue_criterion(now()))
        .group_by(User.id, User.display_name)
        .order_by(func.count(Activity.id).desc())
    )
    return [(name, count) for name, count in session.execute(stmt)]


def escalation_queue(session: Session, user, limit: int = 20) -> list[Activity]:
    """R-FOLLOW-6: plans overdue by more than two days and unacknowledged instructions,
    oldest first. Each kind is read from its own partial index (pending plans by date,
    open instructions), then merged: one OR ordered by date made the planners walk a
    division's two million activities."""
    at = now()
    if user.role_code not in SUPERVISORS:
        return []
    found: dict[int, Activity] = {}
    for criterion in (overdue_escalation(at), instruction_escalation(at)):
        stmt = (
            select(Activity)
            .where(scope.visible(Activity, user), criterion)
            .order_by(Activity.planned_at, Activity.id)
            .limit(limit)
        )
        found.update((a.id, a) for a in session.scalars(stmt))
    return sorted(found.values(), key=lambda a: (a.planned_at, a.id))[:limit]
