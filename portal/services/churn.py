"""Churn warnings (流失预警, R-CHURN-1).

A customer with valid orders but none in the last N months (Grade.churn_months, default 6)
gets a warning from the daily sweep. The owner then records retention measures until a
date (暂缓流失 → retained; when the date passes without an order the warning comes back)
or confirms the loss with a reason (确认流失 → lost). A valid order inside the window
clears any of the three states, at once through on_order_recorded() and, for orders that
arrive another way (import, bulk load), at the next sweep.

The state lives in customer_standings (portal/models/standing.py). The sweep works in
set-based UPDATEs of that table, one per distinct churn_months value (usually one), so its
cost grows with the tables, not with a Python loop over customers.
"""

from __future__ import annotations

import calendar
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from portal.clock import now
from portal.models import Customer, CustomerStanding, Grade, Order, User
from portal.services import BusinessRuleError
from portal.services.audit import record_event
from portal.services.service_requests import as_of

DEFAULT_MONTHS = 6
STATE_LABELS = {
    "none": _l("正常"),
    "warning": _l("流失预警"),
    "retained": _l("暂缓流失"),
    "lost": _l("确认流失"),
}
# Preset lists of the customer list (R-CHURN-1): code → (label, state).
PRESETS = (
    ("churn_warning", _l("流失预警客户"), "warning"),
    ("churn_retained", _l("暂缓流失客户"), "retained"),
    ("churn_lost", _l("确认流失客户"), "lost"),
)


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day if shorter)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    month = month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def in_state(state: str):
    """Customers whose churn state is `state` (a criterion on Customer)."""
    return Customer.id.in_(
        select(CustomerStanding.customer_id).where(CustomerStanding.churn_state == state)
    )


def preset_criterion(code: str):
    """The customer-list criterion of a churn preset code, or None for another code."""
    return next((in_state(state) for c, _label, state in PRESETS if c == code), None)


def _month_groups(session: Session) -> list[tuple[int, object]]:
    """(months, criterion on Customer.grade_id) per distinct churn_months value; customers
    without a grade use the default."""
    by_months: dict[int, list[int]] = {}
    for grade_id, months in session.execute(select(Grade.id, Grade.churn_months)):
        by_months.setdefault(months or DEFAULT_MONTHS, []).append(grade_id)
    by_months.setdefault(DEFAULT_MONTHS, [])
    groups = []
    for months, grade_ids in sorted(by_months.items()):
        criterion = Customer.grade_id.in_(grade_ids)
        if months == DEFAULT_MONTHS:
            criterion = or_(criterion, Customer.grade_id.is_(None))
        groups.append((months, criterion))
    return groups


def _recent_order(cutoff: date):
    """A valid order of the customer signed after the cutoff."""
    return exists().where(
        Order.customer_id == Customer.id, Order.state == "valid", Order.signed_on > cutoff
    )


def _quiet_since(cutoff: date):
    """Customer ids whose valid orders all lie on or before the cutoff (and have some)."""
    return (
        select(Order.customer_id)
        .where(Order.state == "valid")
        .group_by(Order.customer_id)
        .having(func.max(Order.signed_on) <= cutoff)
    )


def _bulk(session: Session, *criteria, **values) -> int:
    """UPDATE the standings of the customers meeting `criteria` (on Customer and
    CustomerStanding). Standings are not edits: the customers' updated_at stays."""
    stmt = (
        update(CustomerStanding)
        .where(
            CustomerStanding.customer_id.in_(
                select(Customer.id)
                .join(CustomerStanding, CustomerStanding.customer_id == Customer.id)
                .where(*criteria)
            )
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount or 0


CLEARED = {
    "churn_state": "none",
    "churn_warned_at": None,
    "churn_measure": None,
    "churn_measure_on": None,
    "churn_lost_reason": None,
}


def sweep_churn(session: Session, day: date) -> dict[str, int]:
    """Clear customers who ordered again, bring back warnings whose retention date has
    passed, and raise new warnings. Running it twice on one day changes nothing."""
    at = as_of(day)
    counts = {"cleared": 0, "warnings again": 0, "warnings raised": 0}
    for months, in_group in _month_groups(session):
        cutoff = months_before(day, months)
        counts["cleared"] += _bulk(
            session,
            in_group,
            CustomerStanding.churn_state != "none",
            _recent_order(cutoff),
            **CLEARED,
            churn_changed_at=at,
        )
        counts["warnings raised"] += _bulk(
            session,
            in_group,
            CustomerStanding.churn_state == "none",
            Customer.id.in_(_quiet_since(cutoff)),
            churn_state="warning",
            churn_warned_at=at,
            churn_changed_at=at,
        )
    counts["warnings again"] = _bulk(
        session,
        CustomerStanding.churn_state == "retained",
        CustomerStanding.churn_measure_on < day,
        churn_state="warning",
        churn_warned_at=at,
        churn_changed_at=at,
    )
    return counts


# -- the owner's decisions ----------------------------------------------------------------
def _standing(session: Session, customer: Customer) -> CustomerStanding:
    """The customer's standing row (written with the customer by a database trigger)."""
    if customer.standing is None:
        session.flush()  # a new customer: its row exists once the customer is inserted
        session.expire(customer, ["standing"])
    return customer.standing


def _check_decider(customer: Customer, by: User) -> None:
    if by is None or by.state != "active":
        raise BusinessRuleError(_l("账号不是正常状态，不能办理"))
    head = by.role_code == "group_manager" or (
        by.role_code == "division_head" and by.division_id == customer.division_id
    )
    if not (head or (customer.owner_id is not None and customer.owner_id == by.id)):
        raise BusinessRuleError(_l("只有客户负责人或版块负责人可以处理流失预警（R-CHURN-1）"))


def _text(value: str | None, label, max_len: int = 500) -> str:
    value = (value or "").strip()
    if not value:
        raise BusinessRuleError(_l("请填写%(field)s", field=label))
    if len(value) > max_len:
        raise BusinessRuleError(_l("%(field)s不能超过 %(n)s 个字", field=label, n=max_len))
    return value


def may(customer: Customer, verb: str, by: User) -> bool:
    """Whether to offer 暂缓流失 (retain) / 确认流失 (lose) to this user now."""
    allowed = {"retain": ("warning", "retained"), "lose": ("warning", "retained")}[verb]
    if customer.churn_state not in allowed:
        return False
    try:
        _check_decider(customer, by)
    except BusinessRuleError:
        return False
    return True


def _require_state(customer: Customer, verb) -> None:
    if customer.churn_state not in ("warning", "retained"):
        raise BusinessRuleError(
            _l(
                "只有“流失预警”或“暂缓流失”的客户可以%(verb)s（当前为“%(state)s”，R-CHURN-1）",
                verb=verb,
                state=STATE_LABELS.get(customer.churn_state, customer.churn_state),
            )
        )


def retain(
    session: Session,
    customer: Customer,
    *,
    by: User,
    measure: str | None,
    until: date | None,
    ip: str | None = None,
) -> None:
    """暂缓流失: the retention measure and the date until which the warning waits."""
    _require_state(customer, STATE_LABELS["retained"])
    _check_decider(customer, by)
    measure = _text(measure, _l("挽留措施"))
    if until is None:
        raise BusinessRuleError(_l("请填写暂缓至日期"))
    if until < now().date():
        raise BusinessRuleError(_l("暂缓至日期不能早于今天"))
    standing = _standing(session, customer)
    before = standing.churn_state
    standing.churn_state = "retained"
    standing.churn_measure = measure
    standing.churn_measure_on = until
    standing.churn_changed_at = now()
    record_event(
        session,
        "churn_retain",
        customer,
        user=by,
        ip=ip,
        changes={
            "churn_state": [before, "retained"],
            "churn_measure": [None, measure],
            "churn_measure_on": [None, until.isoformat()],
        },
    )
    session.flush()


def confirm_lost(
    session: Session, customer: Customer, *, by: User, reason: str | None, ip: str | None = None
) -> None:
    """确认流失 with the reason."""
    _require_state(customer, STATE_LABELS["lost"])
    _check_decider(customer, by)
    reason = _text(reason, _l("流失原因"))
    standing = _standing(session, customer)
    before = standing.churn_state
    standing.churn_state = "lost"
    standing.churn_lost_reason = reason
    standing.churn_changed_at = now()
    record_event(
        session,
        "churn_lose",
        customer,
        user=by,
        ip=ip,
        changes={"churn_state": [before, "lost"], "churn_lost_reason": [None, reason]},
    )
    session.flush()


def _customer_months(session: Session, customer: Customer) -> int:
    if customer.grade_id is None:
        return DEFAULT_MONTHS
    months = session.scalar(select(Grade.churn_months).where(Grade.id == customer.grade_id))
    return months or DEFAULT_MONTHS


def on_order_recorded(session: Session, order: Order, *, by: User | None = None) -> bool:
    """A valid order inside the churn window clears the customer's churn state (warning,
    retained or lost). Call it after an order is created or becomes valid. Returns True
    when something was cleared."""
    if order.state != "valid":
        return False
    customer = order.customer or session.get(Customer, order.customer_id)
    if customer is None or customer.churn_state == "none":
        return False
    today = now().date()
    if order.signed_on <= months_before(today, _customer_months(session, customer)):
        return False  # an old order entered late does not bring the customer back
    standing = _standing(session, customer)
    before = standing.churn_state
    for field, value in CLEARED.items():
        setattr(standing, field, value)
    standing.churn_changed_at = now()
    record_event(
        session,
        "churn_clear",
        customer,
        user=by,
        summary=f"{customer.name}: {order.number}",
        changes={"churn_state": [before, "none"]},
    )
    session.flush()
    return True
