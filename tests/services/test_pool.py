"""Customer pool rules (R-POOL-1..7) as service calls, on SQLite and PostgreSQL, including
real parallel claims from threads with their own connections."""

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.clock import now
from portal.models import (
    Activity,
    Contact,
    Customer,
    CustomerShare,
    OwnershipChange,
    PoolRule,
    User,
)
from portal.services import BusinessRuleError
from portal.services.pool import (
    assign,
    claim,
    days_left,
    find_duplicates,
    preview_returns,
    release,
    rules_of,
    set_lock,
    sweep_pool,
)
from tests.factories import (
    make_activity,
    make_contact,
    make_customer,
    make_order,
    set_pool_rule,
)


def _pool_customers(session, world, n, division="east.head"):
    return [
        make_customer(session, None, division=world[division].division, name=f"公海客户{i}")
        for i in range(n)
    ]


def _set_rule(session, world, **values):
    return set_pool_rule(session, world["east.head"].division_id, **values)


def _owner(session, customer_id):
    session.expire_all()
    return session.get(Customer, customer_id).owner_id


def test_claim_takes_a_pool_customer_with_history_and_a_plan(session, world):
    _set_rule(session, world)
    clerk = world["east.clerk1"]
    [customer] = _pool_customers(session, world, 1)
    session.commit()
    assert claim(session, [customer.id], user=clerk) == 1
    session.commit()
    assert _owner(session, customer.id) == clerk.id
    change = session.scalar(
        select(OwnershipChange).where(OwnershipChange.customer_id == customer.id)
    )
    assert (change.kind, change.from_owner_id, change.to_owner_id, change.by_id) == (
        "claim",
        None,
        clerk.id,
        clerk.id,
    )
    plan = session.scalar(select(Activity).where(Activity.customer_id == customer.id))
    assert plan.template_code == "new_48h" and plan.owner_id == clerk.id


@pytest.mark.parametrize(
    ("rule", "n", "message"),
    [
        ({"max_per_claim": 2}, 3, "单次上限"),
        ({"max_per_day": 2}, 3, "每日上限"),
        ({"max_held": 2}, 3, "持有上限"),
    ],
)
def test_caps_refuse_with_the_rule_named_and_nothing_taken(session, world, rule, n, message):
    _set_rule(session, world, **rule)
    customers = _pool_customers(session, world, n)
    session.commit()
    with pytest.raises(BusinessRuleError, match=message):
        claim(session, [c.id for c in customers], user=world["east.clerk1"])
    session.rollback()
    assert all(_owner(session, c.id) is None for c in customers)


def test_daily_cap_counts_earlier_claims_of_the_day(session, world):
    _set_rule(session, world, max_per_day=3)
    customers = _pool_customers(session, world, 4)
    session.commit()
    clerk = world["east.clerk1"]
    claim(session, [customers[0].id, customers[1].id], user=clerk)
    session.commit()
    claim(session, [customers[2].id], user=clerk)
    session.commit()
    with pytest.raises(BusinessRuleError, match="今日已领取 3 个"):
        claim(session, [customers[3].id], user=clerk)
    session.rollback()
    # Next day the quota is fresh.
    claim(session, [customers[3].id], user=clerk, at=now() + timedelta(days=1))
    session.commit()


def test_deal_customers_do_not_count_unless_the_rule_says_so(session, world):
    clerk = world["east.clerk1"]
    _set_rule(session, world, max_held=1, count_deal_customers=False)
    make_customer(session, clerk, status="won")
    [pool] = _pool_customers(session, world, 1)
    session.commit()
    claim(session, [pool.id], user=clerk)
    session.commit()
    assert _owner(session, pool.id) == clerk.id


def test_previous_owner_cooldown(session, world):
    _set_rule(session, world, cooldown_days=7)
    clerk = world["east.clerk1"]
    customer = make_customer(session, clerk, name="冷却客户")
    session.commit()
    release(session, session.get(Customer, customer.id), by=clerk, reason="暂不跟进")
    session.commit()
    with pytest.raises(BusinessRuleError, match="7 天内不能再领取"):
        claim(session, [customer.id], user=clerk)
    session.rollback()
    claim(session, [customer.id], user=world["east.clerk2"])  # a colleague may
    session.commit()
    assert _owner(session, customer.id) == world["east.clerk2"].id


def test_cooldown_ends(session, world):
    _set_rule(session, world, cooldown_days=7)
    clerk = world["east.clerk1"]
    customer = make_customer(session, clerk)
    session.commit()
    release(
        session,
        session.get(Customer, customer.id),
        by=clerk,
        reason="暂不跟进",
        at=now() - timedelta(days=8),
    )
    session.commit()
    claim(session, [customer.id], user=clerk)
    session.commit()
    assert _owner(session, customer.id) == clerk.id


def test_release_needs_a_reason_and_the_owner_or_head(session, world):
    customer = make_customer(session, world["east.clerk1"])
    session.commit()
    with pytest.raises(BusinessRuleError, match="原因"):
        release(session, customer, by=world["east.clerk1"], reason=" ")
    with pytest.raises(BusinessRuleError, match="负责人"):
        release(session, customer, by=world["east.clerk2"], reason="抢")
    release(session, customer, by=world["east.head"], reason="重新分配")
    session.commit()
    session.expire_all()
    customer = session.get(Customer, customer.id)
    assert customer.owner_id is None and customer.previous_owner_id == world["east.clerk1"].id


def test_head_assigns_with_cap_override_logged(session, world):
    _set_rule(session, world, max_held=1)
    head, clerk = world["east.head"], world["east.clerk2"]
    customers = _pool_customers(session, world, 2)
    session.commit()
    ids = [c.id for c in customers]
    with pytest.raises(BusinessRuleError, match="持有上限"):
        assign(session, ids, to_user=clerk, by=head)
    session.rollback()
    assign(session, ids, to_user=clerk, by=head, override=True)
    session.commit()
    changes = session.scalars(select(OwnershipChange).where(OwnershipChange.kind == "assign")).all()
    assert len(changes) == 2 and all(c.cap_overridden and c.by_id == head.id for c in changes)
    with pytest.raises(BusinessRuleError):
        assign(session, ids, to_user=world["west.clerk1"], by=head)
    with pytest.raises(BusinessRuleError):
        assign(session, ids, to_user=clerk, by=world["east.clerk1"])


def test_lock_is_capped_and_locked_customers_never_return(session, world):
    _set_rule(session, world, max_locked=1, return_no_followup_days=10)
    clerk = world["east.clerk1"]
    old = now() - timedelta(days=40)
    first = make_customer(session, clerk, created_at=old, claimed_at=old)
    second = make_customer(session, clerk, created_at=old, claimed_at=old)
    session.commit()
    set_lock(session, first, True, by=clerk)
    session.commit()
    with pytest.raises(BusinessRuleError, match="锁定上限"):
        set_lock(session, second, True, by=clerk)
    session.rollback()
    sweep_pool(session, now().date())
    session.commit()
    assert _owner(session, first.id) == clerk.id
    assert _owner(session, second.id) is None


def test_sweep_returns_with_reasons_exemptions_and_is_idempotent(session, world):
    _set_rule(
        session,
        world,
        return_no_followup_days=30,
        return_no_deal_days=90,
        exempt_with_deal=True,
        exempt_open_opportunity=True,
    )
    clerk = world["east.clerk1"]
    day = now().date()
    at = datetime.combine(day, datetime.min.time())
    stale = make_customer(
        session,
        clerk,
        name="久未跟进",
        created_at=at - timedelta(days=31),
        last_followup_at=at - timedelta(days=31),
    )
    fresh = make_customer(
        session,
        clerk,
        name="刚跟进",
        created_at=at - timedelta(days=31),
        last_followup_at=at - timedelta(days=2),
    )
    no_deal = make_customer(
        session,
        clerk,
        name="久未成交",
        created_at=at - timedelta(days=91),
        last_followup_at=at - timedelta(days=1),
    )
    with_order = make_customer(
        session,
        clerk,
        name="有订单",
        created_at=at - timedelta(days=91),
        last_followup_at=at - timedelta(days=40),
    )
    make_order(session, with_order)
    session.commit()
    preview = {c.name: c.reason for c in preview_returns(session, clerk.division_id, day)}
    assert preview == {"久未跟进": "超过30天未跟进", "久未成交": "超过90天未成交"}
    assert sweep_pool(session, day) == {"returned to pool": 2}
    session.commit()
    assert _owner(session, stale.id) is None and _owner(session, no_deal.id) is None
    assert _owner(session, fresh.id) == clerk.id and _owner(session, with_order.id) == clerk.id
    reasons = dict(
        session.execute(
            select(OwnershipChange.customer_id, OwnershipChange.reason).where(
                OwnershipChange.kind == "return"
            )
        ).all()
    )
    assert reasons == {stale.id: "超过30天未跟进", no_deal.id: "超过90天未成交"}
    assert sweep_pool(session, day) == {"returned to pool": 0}


def test_sweep_returns_all_due_at_once_each_logged_with_its_reason(session, world):
    """The set-based return (R-POOL-5, R-POOL-7): every customer due in both divisions goes
    back in one pass, with one history row each (reason, previous owner, the sweep's time);
    contacts follow, pending plans are cancelled, shares end; others are left alone."""
    for head in ("east.head", "west.head"):
        set_pool_rule(
            session,
            world[head].division_id,
            return_no_followup_days=30,
            return_no_deal_days=90,
            exempt_with_deal=True,
        )
    day = now().date()
    at = datetime.combine(day, datetime.min.time())
    old = at - timedelta(days=100)
    colleague = {"east.clerk1": "east.clerk2", "east.clerk2": "east.clerk1"}
    colleague["west.clerk1"] = "west.clerk2"
    expected, pending, done = {}, [], []

    def owned(clerk, **fields):
        customer = make_customer(session, clerk, created_at=old, updated_at=old, **fields)
        make_contact(session, customer)
        pending.append(make_activity(session, customer, planned_at=at + timedelta(days=1)).id)
        done.append(make_activity(session, customer, state="done", planned_at=old, done_at=old).id)
        other = world[colleague[clerk.username]]
        session.add(CustomerShare(customer_id=customer.id, user_id=other.id))
        return customer

    for username in colleague:
        clerk = world[username]
        for days in (31, 45, 60):  # past both limits: the first criterion gives the reason
            stale = owned(clerk, last_followup_at=at - timedelta(days=days))
            expected[stale.id] = (stale.division_id, clerk.id, "超过30天未跟进")
    clerk = world["east.clerk1"]
    no_deal = owned(clerk, last_followup_at=at - timedelta(days=1))
    expected[no_deal.id] = (no_deal.division_id, clerk.id, "超过90天未成交")
    kept = owned(clerk, last_followup_at=at - timedelta(days=40), status="won")
    session.commit()

    assert sweep_pool(session, day) == {"returned to pool": len(expected)}
    session.commit()
    session.expire_all()
    history = session.scalars(select(OwnershipChange).where(OwnershipChange.kind == "return"))
    logged = {}
    for change in history:
        assert (change.to_owner_id, change.by_id, change.at) == (None, None, at)
        assert change.customer_id not in logged
        logged[change.customer_id] = (change.division_id, change.from_owner_id, change.reason)
    assert logged == expected
    for customer_id, (_division, owner_id, _reason) in expected.items():
        customer = session.get(Customer, customer_id)
        assert customer.owner_id is None and customer.previous_owner_id == owner_id
        assert customer.in_pool_since == at and customer.updated_at == at
        assert customer.version == 2 and customer.next_followup_at is None
    keeps_owner = session.get(Customer, kept.id)
    assert keeps_owner.owner_id == clerk.id and keeps_owner.updated_at == old
    contacts = session.scalars(select(Contact)).all()
    owned = {c.customer_id: c.owner.id for c in contacts if c.owner is not None}
    assert owned == {kept.id: clerk.id}
    states = dict(session.execute(select(Activity.id, Activity.state)).all())
    assert [states[i] for i in pending] == ["cancelled"] * len(expected) + ["pending"]
    assert {states[i] for i in done} == {"done"}
    shared = session.scalars(select(CustomerShare.customer_id)).all()
    assert shared == [kept.id]

    assert sweep_pool(session, day) == {"returned to pool": 0}
    session.commit()
    returns = select(func.count()).select_from(OwnershipChange)
    assert session.scalar(returns.where(OwnershipChange.kind == "return")) == len(expected)


def test_a_customer_claimed_today_is_not_returned_for_the_old_silence(session, world):
    """R-POOL-5: the days without follow-up count from the claim when it is later than the
    last follow-up; before, a pool customer silent for 60 days went back the night it was
    claimed (and its new owner was then held off by the cooldown)."""
    _set_rule(session, world, return_no_followup_days=30, return_no_deal_days=90)
    clerk = world["east.clerk1"]
    old = now() - timedelta(days=60)
    customer = make_customer(
        session, None, division=clerk.division, created_at=old, last_followup_at=old
    )
    session.commit()
    claim(session, [customer.id], user=clerk)
    session.commit()
    tomorrow = now().date() + timedelta(days=1)
    assert preview_returns(session, clerk.division_id, tomorrow) == []
    assert sweep_pool(session, tomorrow) == {"returned to pool": 0}
    session.commit()
    assert _owner(session, customer.id) == clerk.id
    rules = rules_of(session, clerk.division_id)
    assert days_left(rules, session.get(Customer, customer.id), now()) == 30
    later = now().date() + timedelta(days=31)
    assert [c.reason for c in preview_returns(session, clerk.division_id, later)] == [
        "超过30天未跟进"
    ]


def test_rules_per_grade(session, world):
    from tests.factories import grade

    _set_rule(session, world, return_no_followup_days=30)
    h_grade = grade(session, "H")
    session.add(
        PoolRule(
            division_id=world["east.head"].division_id,
            grade_id=h_grade.id,
            return_no_followup_days=5,
            return_no_deal_days=None,
        )
    )
    session.commit()
    clerk = world["east.clerk1"]
    at = datetime.combine(now().date(), datetime.min.time())
    hot = make_customer(
        session, clerk, grade_id=h_grade.id, last_followup_at=at - timedelta(days=6)
    )
    cold = make_customer(session, clerk, last_followup_at=at - timedelta(days=6))
    session.commit()
    sweep_pool(session, now().date())
    session.commit()
    assert _owner(session, hot.id) is None and _owner(session, cold.id) == clerk.id
    rules = rules_of(session, clerk.division_id)
    assert days_left(rules, session.get(Customer, cold.id), at) == 24


def test_duplicate_check_tells_only_owner_name_and_pool_state(session, world):
    make_customer(session, world["east.clerk2"], name="重复公司", mobile="13900001111")
    make_customer(
        session, None, division=world["east.head"].division, name="公海重复", mobile="13900002222"
    )
    session.commit()
    found = find_duplicates(session, world["east.clerk1"].division_id, mobile="13900001111")
    assert [(d.kind, d.owner_name, d.in_pool) for d in found] == [
        ("customer", world["east.clerk2"].display_name, False)
    ]
    found = find_duplicates(session, world["east.clerk1"].division_id, name="公海重复")
    assert [(d.kind, d.owner_name, d.in_pool) for d in found] == [("customer", None, True)]
    assert find_duplicates(session, world["west.clerk1"].division_id, name="重复公司") == []


def _parallel(engine, calls):
    """Run each call(session) in its own thread and connection, all starting together."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        with Session(bind=engine) as own:
            barrier.wait()
            try:
                call(own)
                own.commit()
                results[index] = "ok"
            except BusinessRuleError as error:
                own.rollback()
                results[index] = str(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _clerks(session, world, n):
    users = []
    for i in range(n):
        user = User(
            username=f"east.extra{i}",
            display_name=f"临时业务员{i}",
            role_code="clerk",
            division_id=world["east.head"].division_id,
            password_hash=world["east.clerk1"].password_hash,
        )
        session.add(user)
        users.append(user)
    session.commit()
    return [u.id for u in users]


def test_twenty_parallel_claims_of_one_customer_give_one_owner(app, session, world):
    _set_rule(session, world)
    [customer] = _pool_customers(session, world, 1)
    session.commit()
    clerk_ids = _clerks(session, world, 20)
    engine = session.get_bind().engine if hasattr(session.get_bind(), "engine") else None
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    calls = [lambda s, uid=uid: claim(s, [customer.id], user=s.get(User, uid)) for uid in clerk_ids]
    results = _parallel(engine, calls)
    assert results.count("ok") == 1, results
    owner = _owner(session, customer.id)
    assert owner in clerk_ids
    assert session.scalar(select(func.count()).select_from(OwnershipChange)) == 1


def test_twenty_parallel_claims_by_one_clerk_under_a_cap_of_five(app, session, world):
    _set_rule(session, world, max_held=5, max_per_day=100)
    customers = _pool_customers(session, world, 20)
    session.commit()
    clerk_id = world["east.clerk1"].id
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    calls = [lambda s, cid=c.id: claim(s, [cid], user=s.get(User, clerk_id)) for c in customers]
    results = _parallel(engine, calls)
    assert results.count("ok") == 5, results
    held = session.scalar(
        select(func.count()).select_from(Customer).where(Customer.owner_id == clerk_id)
    )
    assert held == 5


def test_shares_end_when_the_customer_changes_hands(session, world):
    from portal.models import CustomerShare

    owner = world["east.clerk1"]
    customer = make_customer(session, owner, name="共享后退回")
    session.add(
        CustomerShare(customer_id=customer.id, user_id=world["east.clerk2"].id, can_edit=True)
    )
    session.commit()
    release(session, session.get(Customer, customer.id), by=owner, reason="不再跟进")
    session.commit()
    assert session.scalar(select(func.count()).select_from(CustomerShare)) == 0
