"""Figures of the home page, each counted within the user's scope (R-SCOPE-4)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import scope
from portal.clock import now
from portal.models import Activity, Customer, Lead


def _count(session: Session, model, user, *criteria) -> int:
    stmt = select(func.count()).select_from(model).where(scope.visible(model, user), *criteria)
    return session.execute(stmt).scalar_one()


def dashboard_figures(session: Session, user) -> dict[str, int]:
    at = now()
    start = at.replace(hour=0, minute=0, second=0)
    end = start + timedelta(days=1)
    mine = Activity.owner_id == user.id
    return {
        "customers": _count(session, Customer, user, Customer.owner_id.is_not(None)),
        "pool": _count(session, Customer, user, Customer.owner_id.is_(None)),
        "open_leads": _count(session, Lead, user, Lead.status.in_(("new", "following"))),
        "plans_today": _count(
            session,
            Activity,
            user,
            mine,
            Activity.state == "pending",
            Activity.planned_at >= start,
            Activity.planned_at < end,
        ),
        "plans_overdue": _count(
            session, Activity, user, mine, Activity.state == "pending", Activity.planned_at < start
        ),
        "not_followed_3d": _count(
            session,
            Customer,
            user,
            Customer.owner_id == user.id,
            (Customer.last_followup_at.is_(None))
            | (Customer.last_followup_at < at - timedelta(days=3)),
        ),
    }
