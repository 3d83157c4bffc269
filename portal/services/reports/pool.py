"""Pool analysis (R-POOL-7): customers entering and leaving the pool, claims, returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from portal.models import Customer, OwnershipChange, User
from portal.services.reports.criteria import ReportFilter, count_if


@dataclass
class PoolFlow:
    kind: str
    entered: int  # the change left the customer without an owner
    left: int  # the change gave a pool customer an owner


@dataclass
class ClerkPoolLine:
    user_id: int
    name: str
    claims: int
    assigned: int  # pool customers a head assigned to him
    released: int  # customers he (or a head) put back
    returned: int  # customers the sweep took back from him


@dataclass
class PoolAnalysis:
    in_pool: int  # customers in the pool now
    entered: int
    left: int
    flows: list[PoolFlow]
    clerks: list[ClerkPoolLine]
    reasons: list[tuple[str, str, int]] = field(default_factory=list)  # kind, reason, count


def pool_analysis(session: Session, f: ReportFilter) -> PoolAnalysis:
    """Ownership changes of the period within scope (the clerk filter matches either side
    of the change), grouped by kind, by clerk, and the reasons of releases and returns."""
    criteria = [*f.where(OwnershipChange, by_clerk=False), f.in_period(OwnershipChange.at)]
    if f.clerk_id is not None:
        criteria.append(
            or_(
                OwnershipChange.to_owner_id == f.clerk_id,
                OwnershipChange.from_owner_id == f.clerk_id,
            )
        )
    entering = OwnershipChange.to_owner_id.is_(None)
    leaving = and_(
        OwnershipChange.from_owner_id.is_(None),
        OwnershipChange.to_owner_id.is_not(None),
        OwnershipChange.kind != "create",
    )
    flows = [
        PoolFlow(kind, int(e), int(l_))
        for kind, e, l_ in session.execute(
            select(OwnershipChange.kind, count_if(entering), count_if(leaving))
            .where(*criteria, or_(entering, leaving))
            .group_by(OwnershipChange.kind)
            .order_by(OwnershipChange.kind)
        )
    ]
    person = func.coalesce(OwnershipChange.to_owner_id, OwnershipChange.from_owner_id)
    kind = OwnershipChange.kind
    clerk_rows = session.execute(
        select(
            person,
            count_if(and_(kind == "claim", leaving)),
            count_if(and_(kind == "assign", leaving)),
            count_if(and_(kind == "release", entering)),
            count_if(and_(kind == "return", entering)),
        )
        .where(*criteria, or_(entering, leaving), person.is_not(None))
        .group_by(person)
    ).all()
    names = dict(
        session.execute(
            select(User.id, User.display_name).where(User.id.in_([r[0] for r in clerk_rows]))
        ).all()
    )
    clerks = sorted(
        (ClerkPoolLine(uid, names.get(uid, ""), *map(int, rest)) for uid, *rest in clerk_rows),
        key=lambda x: (-x.claims - x.assigned, x.name),
    )
    reasons = [
        (k, reason, int(n))
        for k, reason, n in session.execute(
            select(kind, OwnershipChange.reason, func.count())
            .where(*criteria, kind.in_(("return", "release")))
            .group_by(kind, OwnershipChange.reason)
            .order_by(kind.desc(), func.count().desc(), OwnershipChange.reason)
        )
    ]
    pool_now = session.scalar(
        select(func.count())
        .select_from(Customer)
        .where(*f.where(Customer, by_clerk=False), Customer.owner_id.is_(None))
    )
    return PoolAnalysis(
        in_pool=int(pool_now or 0),
        entered=sum(x.entered for x in flows),
        left=sum(x.left for x in flows),
        flows=flows,
        clerks=clerks,
        reasons=reasons,
    )
