"""The customer pool 公海 (R-POOL-1..7): claim, assign, release, lock, the daily return
sweep with its preview and warnings, and the scope-blind duplicate check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    DateTime,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.clock import now
from portal.database import begin_write, scratch_table
from portal.models import (
    Activity,
    Customer,
    Division,
    Lead,
    Opportunity,
    Order,
    OwnershipChange,
    PoolCounter,
    PoolRule,
    User,
)
from portal.services import BusinessRuleError
from portal.services.audit import record_event
from portal.services.sharing import end_shares

HOLDING_ROLES = ("clerk", "division_head")


# -- rules ---------------------------------------------------------------------------
def rules_of(session: Session, division_id: int) -> dict[int | None, PoolRule]:
    """The division's rules keyed by grade id; key None is the division default."""
    rows = session.scalars(select(PoolRule).where(PoolRule.division_id == division_id))
    rules = {rule.grade_id: rule for rule in rows}
    if None not in rules:
        rules[None] = PoolRule(division_id=division_id)  # built-in defaults, not stored
        for column in PoolRule.__table__.columns:
            if getattr(rules[None], column.key) is None and column.default is not None:
                setattr(rules[None], column.key, column.default.arg)
    return rules


def rule_for(session: Session, division_id: int, grade_id: int | None) -> PoolRule:
    rules = rules_of(session, division_id)
    return rules.get(grade_id) or rules[None]


def hidden_fields(session: Session, division_id: int) -> set[str]:
    rule = rule_for(session, division_id, None)
    return {f.strip() for f in (rule.hidden_fields or "").split(",") if f.strip()}


# -- claims ----------------------------------------------------------------------------
def _held_count(session: Session, user: User, rule: PoolRule) -> int:
    stmt = select(func.count()).select_from(Customer).where(Customer.owner_id == user.id)
    if not rule.count_deal_customers:
        stmt = stmt.where(Customer.status != "won")
    return session.scalar(stmt)


def _lock_counter(session: Session, user: User, today: date) -> PoolCounter:
    """Take the clerk's counter row for this transaction: parallel claims by the same
    clerk queue on its row lock, so the caps below are checked against settled numbers."""
    dialect = session.get_bind().dialect.name
    upsert = (pg_insert if dialect == "postgresql" else sqlite_insert)(PoolCounter)
    session.execute(
        upsert.values(user_id=user.id, day=today, claimed_today=0).on_conflict_do_nothing(
            index_elements=["user_id"]
        )
    )
    session.execute(
        update(PoolCounter)
        .where(PoolCounter.user_id == user.id)
        .values(
            claimed_today=case((PoolCounter.day == today, PoolCounter.claimed_today), else_=0),
            day=today,
        )
        .execution_options(synchronize_session=False)
    )
    return session.execute(
        select(PoolCounter)
        .where(PoolCounter.user_id == user.id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _take(
    session: Session, ids: Sequence[int], *, user: User, division_id: int, at: datetime
) -> None:
    """Conditional UPDATE per customer: only a customer still in the pool is taken, so of
    several clerks clicking at once exactly one wins (STACK-NOTES "Concurrency")."""
    end_shares(session, list(ids))  # a new owner grants his own shares
    for customer_id in ids:
        won = session.execute(
            update(Customer)
            .where(
                Customer.id == customer_id,
                Customer.owner_id.is_(None),
                Customer.division_id == division_id,
            )
            .values(
                owner_id=user.id,
                claimed_at=at,
                in_pool_since=None,
                version=Customer.version + 1,
                updated_at=at,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            raise BusinessRuleError(_l("客户已被他人领取或不在公海中，请刷新后重试"))


def log_ownership(
    session: Session,
    which: ColumnElement[bool],
    *,
    kind: str,
    division_id,
    to_owner_id: int | None,
    by: User | None,
    at: datetime,
    reason: str | ColumnElement[str],
) -> None:
    """One OwnershipChange per customer matched by `which`, written before the move, in one
    INSERT … SELECT (R-POOL-7). `reason` is a text, or a column of a table `which` joins
    (each customer its own reason)."""
    # A fixed division (transfers) or the customer's own column (hand-over, returns).
    division = literal(division_id, Integer) if isinstance(division_id, int) else division_id
    why = literal(reason[:200], String) if isinstance(reason, str) else reason
    rows = select(
        Customer.id,
        division,
        literal(kind, String),
        Customer.owner_id,
        literal(to_owner_id, Integer),
        literal(getattr(by, "id", None), Integer),
        literal(at, DateTime),
        why,
        literal(False, Boolean),
    ).where(which)
    rows = rows.order_by(Customer.id)  # SQLite: in table order, not by a covering index
    columns = [
        "customer_id",
        "division_id",
        "kind",
        "from_owner_id",
        "to_owner_id",
        "by_id",
        "at",
        "reason",
        "cap_overridden",
    ]
    session.execute(insert(OwnershipChange).from_select(columns, rows))


def _log(
    session: Session,
    ids: Sequence[int],
    *,
    kind: str,
    division_id: int,
    from_owner: dict[int, int | None],
    to_owner_id: int | None,
    by: User | None,
    at: datetime,
    reason: str = "",
    overridden: bool = False,
) -> None:
    if not ids:
        return
    session.execute(
        insert(OwnershipChange),
        [
            {
                "customer_id": cid,
                "division_id": division_id,
                "kind": kind,
                "from_owner_id": from_owner.get(cid),
                "to_owner_id": to_owner_id,
                "by_id": getattr(by, "id", None),
                "at": at,
                "reason": reason[:200],
                "cap_overridden": overridden,
            }
            for cid in ids
        ],
    )


def _check_caps(session: Session, user: User, n: int, counter: PoolCounter, rule: PoolRule) -> None:
    if n > rule.max_per_claim:
        raise BusinessRuleError(
            _l("每次最多领取 %(n)s 个客户（公海规则：单次上限）", n=rule.max_per_claim)
        )
    if counter.claimed_today + n > rule.max_per_day:
        raise BusinessRuleError(
            _l(
                "今日已领取 %(done)s 个，每日最多 %(n)s 个（公海规则：每日上限）",
                done=counter.claimed_today,
                n=rule.max_per_day,
            )
        )
    held = _held_count(session, user, rule)
    if held + n > rule.max_held:
        raise BusinessRuleError(
            _l(
                "您已持有 %(held)s 个客户，最多 %(n)s 个（公海规则：持有上限）",
                held=held,
                n=rule.max_held,
            )
        )


def claim(
    session: Session, customer_ids: Sequence[int], *, user: User, at: datetime | None = None
) -> int:
    """R-POOL-2: a clerk takes pool customers of his division, all or none, within the caps
    (per request, per day, held), not those he lost less than K days ago."""
    at = at or now()
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        raise BusinessRuleError(_l("请选择要领取的客户"))
    if user.role_code not in HOLDING_ROLES or user.division_id is None:
        raise BusinessRuleError(_l("只有本版块的业务人员可以领取公海客户"))
    begin_write(session)
    rule = rule_for(session, user.division_id, None)
    counter = _lock_counter(session, user, at.date())
    _check_caps(session, user, len(ids), counter, rule)
    cooling = session.scalars(
        select(Customer.name).where(
            Customer.id.in_(ids),
            Customer.previous_owner_id == user.id,
            Customer.in_pool_since > at - timedelta(days=rule.cooldown_days),
        )
    ).all()
    if cooling:
        raise BusinessRuleError(
            _l(
                "%(names)s 是您退回公海的客户，%(days)s 天内不能再领取（公海规则：前负责人冷却期）",
                names="、".join(cooling[:3]),
                days=rule.cooldown_days,
            )
        )
    previous = dict(
        session.execute(select(Customer.id, Customer.owner_id).where(Customer.id.in_(ids))).all()
    )
    _take(session, ids, user=user, division_id=user.division_id, at=at)
    counter.claimed_today += len(ids)
    _log(
        session,
        ids,
        kind="claim",
        division_id=user.division_id,
        from_owner=previous,
        to_owner_id=user.id,
        by=user,
        at=at,
    )
    record_event(
        session,
        "claim",
        None,
        user=user,
        model_name="Customer",
        summary=f"领取 {len(ids)} 个公海客户: {ids[:20]}",
    )
    _plan_after_claim(session, ids, at=at)
    session.flush()
    return len(ids)


def _plan_after_claim(session: Session, ids: Sequence[int], *, at: datetime) -> None:
    """A claimed customer is under follow-up again: it gets its 48-hour plan (R-FOLLOW-1)."""
    from portal.services.followups import ensure_initial_plan

    for customer in session.scalars(
        select(Customer).where(Customer.id.in_(ids)).execution_options(populate_existing=True)
    ):
        ensure_initial_plan(session, customer, at=at)


def assign(
    session: Session,
    customer_ids: Sequence[int],
    *,
    to_user: User,
    by: User,
    override: bool = False,
    at: datetime | None = None,
) -> int:
    """R-POOL-3: the division head gives pool customers to a clerk of the division; the
    caps apply unless he overrides them, which is logged."""
    at = at or now()
    ids = sorted({int(i) for i in customer_ids})
    if by.role_code not in ("division_head", "group_manager"):
        raise BusinessRuleError(_l("只有版块负责人可以分配公海客户"))
    if to_user.role_code not in HOLDING_ROLES or to_user.state != "active":
        raise BusinessRuleError(_l("只能分配给在职的业务人员"))
    if by.role_code == "division_head" and to_user.division_id != by.division_id:
        raise BusinessRuleError(_l("只能分配给本版块的人员（R-SCOPE-1）"))
    if not ids:
        raise BusinessRuleError(_l("请选择要分配的客户"))
    begin_write(session)
    rule = rule_for(session, to_user.division_id, None)
    _lock_counter(session, to_user, at.date())  # serialise with the clerk's own claims
    if not override:
        held = _held_count(session, to_user, rule)
        if held + len(ids) > rule.max_held:
            raise BusinessRuleError(
                _l(
                    "%(name)s 已持有 %(held)s 个客户，最多 %(n)s 个（公海规则：持有上限）；"
                    "如确需分配请勾选“超出上限”",
                    name=to_user.display_name,
                    held=held,
                    n=rule.max_held,
                )
            )
    previous = dict(
        session.execute(select(Customer.id, Customer.owner_id).where(Customer.id.in_(ids))).all()
    )
    _take(session, ids, user=to_user, division_id=to_user.division_id, at=at)
    _log(
        session,
        ids,
        kind="assign",
        division_id=to_user.division_id,
        from_owner=previous,
        to_owner_id=to_user.id,
        by=by,
        at=at,
        overridden=override,
    )
    record_event(
        session,
        "assign",
        None,
        user=by,
        model_name="Customer",
        summary=f"分配 {len(ids)} 个公海客户给 {to_user.display_name}"
        + ("（超出上限）" if override else ""),
    )
    _plan_after_claim(session, ids, at=at)
    session.flush()
    return len(ids)


def release(
    session: Session,
    customer: Customer,
    *,
    by: User,
    reason: str,
    at: datetime | None = None,
    kind: str = "release",
) -> None:
    """R-POOL-4: the owner or the head puts a customer back, with a reason."""
    at = at or now()
    if not (reason or "").strip():
        raise BusinessRuleError(_l("放入公海必须填写原因"))
    if customer.owner_id is None:
        raise BusinessRuleError(_l("该客户已在公海中"))
    is_head = by.role_code in ("division_head", "group_manager") and (
        by.role_code == "group_manager" or by.division_id == customer.division_id
    )
    if customer.owner_id != by.id and not is_head:
        raise BusinessRuleError(_l("只有负责人或版块负责人可以放入公海"))
    _log(
        session,
        [customer.id],
        kind=kind,
        division_id=customer.division_id,
        from_owner={customer.id: customer.owner_id},
        to_owner_id=None,
        by=by,
        at=at,
        reason=reason.strip(),
    )
    _to_pool(session, [customer.id], at=at)
    record_event(session, "release", customer, user=by, summary=f"放入公海：{reason.strip()}")
    session.flush()


def _to_pool(session: Session, ids: Sequence[int] | Select, *, at: datetime) -> None:
    """Into the pool (contacts follow: their owner is the customer's): owner cleared,
    previous owner kept for the cooldown, lock dropped,
    pending plans cancelled (nobody follows a pool customer up), shares ended. `ids` is a
    list or a SELECT of customer ids."""
    if isinstance(ids, Sequence) and not ids:
        return
    end_shares(session, ids)
    session.execute(
        update(Customer)
        .where(Customer.id.in_(ids))
        .values(
            previous_owner_id=Customer.owner_id,
            owner_id=None,
            in_pool_since=at,
            locked=False,
            next_followup_at=None,
            version=Customer.version + 1,
            updated_at=at,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Activity)
        .where(Activity.customer_id.in_(ids), Activity.state == "pending")
        .values(state="cancelled")
        .execution_options(synchronize_session=False)
    )
    session.expire_all()


def set_lock(session: Session, customer: Customer, locked: bool, *, by: User) -> None:
    """锁定: a locked customer never returns to the pool; locks per clerk are capped."""
    if customer.owner_id != by.id and by.role_code not in ("division_head", "group_manager"):
        raise BusinessRuleError(_l("只有负责人可以锁定客户"))
    if locked and not customer.locked and customer.owner_id is not None:
        rule = rule_for(session, customer.division_id, None)
        count = session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.owner_id == customer.owner_id, Customer.locked.is_(True))
        )
        if count >= rule.max_locked:
            raise BusinessRuleError(
                _l("每人最多锁定 %(n)s 个客户（公海规则：锁定上限）", n=rule.max_locked)
            )
    customer.locked = locked
    record_event(session, "lock" if locked else "unlock", customer, user=by)
    session.flush()


# -- automatic return ----------------------------------------------------------------------
@dataclass
class ReturnCandidate:
    customer_id: int
    name: str
    owner_id: int
    reason: str


def _activity_base():
    """Since when the owner has been silent: the later of his last follow-up and his claim,
    else the creation — a customer claimed today is not returned tonight for the silence of
    the owner before him."""
    return case(
        (Customer.claimed_at > Customer.last_followup_at, Customer.claimed_at),
        else_=func.coalesce(Customer.last_followup_at, Customer.claimed_at, Customer.created_at),
    )


def _deal_base():
    return func.coalesce(Customer.claimed_at, Customer.created_at)


def _return_criteria(rule: PoolRule, at: datetime):
    """(criterion, reason) pairs that send an owned customer back under one rule."""
    pairs = []
    if rule.return_no_followup_days:
        pairs.append(
            (
                _activity_base() < at - timedelta(days=rule.return_no_followup_days),
                f"超过{rule.return_no_followup_days}天未跟进",
            )
        )
    if rule.return_no_deal_days:
        no_deal = and_(
            Customer.status != "won", _deal_base() < at - timedelta(days=rule.return_no_deal_days)
        )
        pairs.append((no_deal, f"超过{rule.return_no_deal_days}天未成交"))
    return pairs


def _exempt(rule: PoolRule):
    exemptions = [Customer.locked.is_(True)]
    if rule.exempt_with_deal:
        exemptions.append(Customer.status == "won")
        exemptions.append(exists().where(Order.customer_id == Customer.id, Order.state == "valid"))
    if rule.exempt_open_opportunity:
        exemptions.append(
            exists().where(Opportunity.customer_id == Customer.id, Opportunity.closed_at.is_(None))
        )
    return or_(*exemptions)


def _grade_scope(rules: dict[int | None, PoolRule], grade_id: int | None):
    if grade_id is not None:
        return Customer.grade_id == grade_id
    specific = [g for g in rules if g is not None]
    return (
        or_(Customer.grade_id.is_(None), Customer.grade_id.not_in(specific))
        if specific
        else literal(True)
    )


def _returning(session: Session, division_id: int, at: datetime, *columns):
    """One SELECT per rule of the division: `columns` and the reason of the owned customers
    the sweep at `at` sends back (R-POOL-5). The rules' grade scopes do not overlap; within
    a rule the first criterion a customer meets gives its reason."""
    rules = rules_of(session, division_id)
    for grade_id, rule in rules.items():
        pairs = _return_criteria(rule, at)
        if not pairs:
            continue
        reason = case(*[(criterion, literal(why)) for criterion, why in pairs])
        yield select(*columns, reason.label("reason")).where(
            Customer.division_id == division_id,
            Customer.owner_id.is_not(None),
            _grade_scope(rules, grade_id),
            or_(*[criterion for criterion, _ in pairs]),
            ~_exempt(rule),
        )


def return_candidates(session: Session, division_id: int, at: datetime) -> list[ReturnCandidate]:
    """Owned customers the sweep at `at` sends back to the pool, with the reason (R-POOL-5)."""
    found = [
        ReturnCandidate(*row)
        for returning in _returning(
            session, division_id, at, Customer.id, Customer.name, Customer.owner_id
        )
        for row in session.execute(returning)
    ]
    return sorted(found, key=lambda c: c.customer_id)


def preview_returns(session: Session, division_id: int, day: date) -> list[ReturnCandidate]:
    """What the sweep of `day` (e.g. tomorrow) will return, and why."""
    return return_candidates(session, division_id, datetime.combine(day, time(0, 0)))


def days_left(
    session_rules: dict[int | None, PoolRule], customer: Customer, at: datetime
) -> int | None:
    """距到期天数: days until the automatic return, None when exempt by lock or deal."""
    if customer.owner_id is None or customer.locked:
        return None
    rule = session_rules.get(customer.grade_id) or session_rules[None]
    limits = []
    if rule.return_no_followup_days:
        signs = [t for t in (customer.last_followup_at, customer.claimed_at) if t is not None]
        base = max(signs) if signs else customer.created_at
        limits.append(rule.return_no_followup_days - (at - base).days)
    if rule.return_no_deal_days and customer.status != "won":
        base = customer.claimed_at or customer.created_at
        limits.append(rule.return_no_deal_days - (at - base).days)
    return min(limits) if limits else None


def expiring_criterion(session: Session, division_id: int | None, at: datetime, within: int):
    """Owned customers whose automatic return is due within `within` days (warning list)."""
    divisions = (
        [division_id]
        if division_id
        else list(session.scalars(select(PoolRule.division_id).distinct()))
    )
    criteria = []
    for div in divisions:
        rules = rules_of(session, div)
        for grade_id, rule in rules.items():
            soon = [c for c, _ in _return_criteria(rule, at + timedelta(days=within))]
            if soon:
                criteria.append(
                    and_(
                        Customer.division_id == div,
                        _grade_scope(rules, grade_id),
                        or_(*soon),
                        ~_exempt(rule),
                    )
                )
    return and_(Customer.owner_id.is_not(None), or_(*criteria)) if criteria else literal(False)


_returns = Table(
    "tmp_pool_returns",
    MetaData(),
    Column("customer_id", Integer, primary_key=True),
    Column("reason", String(200), nullable=False),
    prefixes=["TEMPORARY"],
)


def sweep_pool(session: Session, day: date) -> dict[str, int]:
    """Daily: return customers per the division's rules; each return logs its reason.

    Set-based, so half a million returns cost a few statements, not a loop: the returned
    customers and their reasons go to a temporary table, then one INSERT … SELECT logs
    them all (R-POOL-7) before the UPDATEs move them, their contacts and their plans."""
    at = datetime.combine(day, time(0, 0))
    connection = session.connection()
    with scratch_table(connection, _returns):
        for division_id in session.scalars(select(Division.id)):
            for returning in _returning(session, division_id, at, Customer.id):
                connection.execute(
                    insert(_returns).from_select(["customer_id", "reason"], returning)
                )
        returned = connection.scalar(select(func.count()).select_from(_returns))
        if returned:
            log_ownership(
                session,
                Customer.id == _returns.c.customer_id,
                kind="return",
                division_id=Customer.division_id,
                to_owner_id=None,
                by=None,
                at=at,
                reason=_returns.c.reason,
            )
            _to_pool(session, select(_returns.c.customer_id), at=at)
    return {"returned to pool": returned}


# -- duplicates and conflicts (R-ENTRY-3, R-POOL-6) ---------------------------------------
@dataclass
class Duplicate:
    kind: str  # "customer" or "lead"
    owner_name: str | None  # None: in the pool
    in_pool: bool


def find_duplicates(
    session: Session,
    division_id: int,
    *,
    name: str | None = None,
    mobile: str | None = None,
    exclude_customer_id: int | None = None,
    exclude_lead_id: int | None = None,
) -> list[Duplicate]:
    """Scope-blind on purpose: sees the whole division but tells only the owner's name and
    whether the record sits in the pool — never another clerk's details (R-POOL-6)."""
    found: list[Duplicate] = []
    conditions = []
    if name:
        conditions.append(("name", name.strip()))
    if mobile:
        conditions.append(("mobile", mobile.strip()))
    if not conditions:
        return found
    customer_match = or_(*[getattr(Customer, f) == v for f, v in conditions])
    stmt = (
        select(User.display_name, Customer.owner_id)
        .select_from(Customer)
        .outerjoin(User, User.id == Customer.owner_id)
        .where(Customer.division_id == division_id, customer_match)
    )
    if exclude_customer_id:
        stmt = stmt.where(Customer.id != exclude_customer_id)
    for owner_name, owner_id in session.execute(stmt.limit(5)):
        found.append(Duplicate("customer", owner_name, owner_id is None))
    lead_conditions = [
        getattr(Lead, "person_name" if f == "name" else f) == v for f, v in conditions
    ]
    lead_stmt = (
        select(User.display_name)
        .select_from(Lead)
        .outerjoin(User, User.id == Lead.owner_id)
        .where(
            Lead.division_id == division_id,
            or_(*lead_conditions),
            Lead.status.in_(("new", "following")),
        )
    )
    if exclude_lead_id:
        lead_stmt = lead_stmt.where(Lead.id != exclude_lead_id)
    for (owner_name,) in session.execute(lead_stmt.limit(5)):
        found.append(Duplicate("lead", owner_name, False))
    return found


def conflict_winner(session: Session, a: Customer | Lead, b: Customer | Lead) -> str | None:
    """R-POOL-6: the one whose follow-up is maintained wins; else the earlier report time;
    None when undecided (the head decides or the customer goes to the pool)."""

    def maintained(record) -> bool:
        column = Activity.customer_id if isinstance(record, Customer) else Activity.lead_id
        recent = now() - timedelta(days=30)
        return session.scalar(
            select(
                exists().where(
                    column == record.id, Activity.state == "done", Activity.done_at >= recent
                )
            )
        )

    ma, mb = maintained(a), maintained(b)
    if ma != mb:
        return "a" if ma else "b"
    if a.created_at != b.created_at:
        return "a" if a.created_at < b.created_at else "b"
    return None
