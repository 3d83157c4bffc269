"""Follow-up compliance per clerk (R-REPORT-1, R-FOLLOW-4/6)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from portal import scope
from portal.models import Activity, User
from portal.services.reports.criteria import ReportFilter, count_if, ratio


@dataclass
class ComplianceLine:
    """One assignee's plans due in the period and what became of them.

    due: plans (kind "plan", not cancelled) planned on a day of the period;
    on_time: done on or before the planned day; late: done after it;
    overdue: still pending and planned before today; open: pending, due today or later;
    feedback: done with the customer's feedback recorded;
    instructions / acknowledged: leader instructions on the assignee's activities of any
    kind planned in the period, and how many of those he acknowledged.
    """

    user_id: int | None
    name: str
    due: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    open: int = 0
    feedback: int = 0
    instructions: int = 0
    acknowledged: int = 0

    @property
    def done(self) -> int:
        return self.on_time + self.late

    @property
    def on_time_rate(self) -> float | None:
        return ratio(self.on_time, self.due)

    @property
    def feedback_rate(self) -> float | None:
        return ratio(self.feedback, self.done)

    @property
    def ack_rate(self) -> float | None:
        return ratio(self.acknowledged, self.instructions)


@dataclass
class Compliance:
    lines: list[ComplianceLine]
    total: ComplianceLine


FIGURES = ("due", "on_time", "late", "overdue", "open", "feedback", "instructions", "acknowledged")


def followup_compliance(session: Session, f: ReportFilter) -> Compliance:
    """Per assignee: plans due in the period, done on time / late, overdue, feedback
    recorded, leader instructions given and acknowledged. One GROUP BY query."""
    # One range of the (division_id, planned_at) index: the period's activities.
    plan = and_(Activity.kind == "plan", Activity.state != "cancelled")
    instructed = Activity.instruction_at.is_not(None)
    done = Activity.state == "done"
    # Overdue at the end of its day (R-FOLLOW-4): compare calendar days, not times.
    on_time = and_(done, func.date(Activity.done_at) <= func.date(Activity.planned_at))
    late = and_(
        done,
        or_(
            Activity.done_at.is_(None),
            func.date(Activity.done_at) > func.date(Activity.planned_at),
        ),
    )
    pending = Activity.state == "pending"
    feedback = or_(Activity.feedback_reason_id.is_not(None), Activity.feedback.is_not(None))
    stmt = (
        select(
            Activity.owner_id,
            count_if(plan),
            count_if(and_(plan, on_time)),
            count_if(and_(plan, late)),
            count_if(and_(plan, pending, Activity.planned_at < f.today_start)),
            count_if(and_(plan, pending, Activity.planned_at >= f.today_start)),
            count_if(and_(plan, done, feedback)),
            count_if(instructed),
            count_if(and_(instructed, Activity.instruction_ack_at.is_not(None))),
        )
        .where(*f.where(Activity), f.in_period(Activity.planned_at))
        .group_by(Activity.owner_id)
    )
    figures = {row[0]: row[1:] for row in session.execute(stmt)}

    # Clerks with nothing due are listed too: an empty line is news for a supervisor.
    people = select(User.id, User.display_name).where(*_people_criteria(f))
    names = dict(session.execute(people).all())
    missing = [i for i in figures if i is not None and i not in names]
    if missing:
        # Assignees outside the clerk list (a head, a deactivated clerk) keep their line.
        names.update(
            session.execute(select(User.id, User.display_name).where(User.id.in_(missing))).all()
        )
    lines = []
    for user_id in sorted(names, key=lambda i: (names[i], i)):
        values = figures.get(user_id, (0,) * len(FIGURES))
        lines.append(ComplianceLine(user_id, names[user_id], *map(int, values)))
    if None in figures:
        lines.append(ComplianceLine(None, "", *map(int, figures[None])))
    total = ComplianceLine(None, "", *(sum(getattr(x, k) for x in lines) for k in FIGURES))
    return Compliance(lines=lines, total=total)


def _people_criteria(f: ReportFilter) -> list:
    criteria = [
        scope.visible(User, f.user),
        User.role_code == "clerk",
        User.state == "active",
        User.division_id.is_not(None),
    ]
    if f.division_id is not None:
        criteria.append(User.division_id == f.division_id)
    if f.clerk_id is not None:
        criteria.append(User.id == f.clerk_id)
    return criteria
