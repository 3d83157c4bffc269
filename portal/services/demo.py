"""Demo divisions, accounts and records (REQUIREMENTS §5), reproducible from a seed.

Records are built as plain dicts and inserted in bulk per table, so the same
generator can later stream a million customers (issue #4) without ORM overhead.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from faker import Faker
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from portal.clock import now
from portal.models import (
    Activity,
    Campaign,
    Contact,
    Customer,
    Division,
    FeedbackReason,
    Grade,
    Industry,
    Lead,
    LostReason,
    Opportunity,
    Order,
    PoolRule,
    Region,
    ServicePriority,
    ServiceRequest,
    ServiceType,
    Source,
    Stage,
    User,
)
from portal.services.signin import hash_password

DEMO_PASSWORD = "Demo#2026"
DIVISIONS = [("east", "华东版块"), ("west", "西部版块")]
GLOBAL_ACCOUNTS = [("admin", "系统管理员", "sysadmin"), ("gm", "集团总经理", "group_manager")]
DIVISION_ACCOUNTS = [
    ("head", "负责人", "division_head"),
    ("admin", "管理员", "division_admin"),
    ("clerk1", "业务员一", "clerk"),
    ("clerk2", "业务员二", "clerk"),
]
CUSTOMERS_PER_DIVISION = 300


def _ids(session: Session, model) -> list[int]:
    return list(session.scalars(select(model.id).order_by(model.sort_order)))


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(["138", "139", "135", "136", "150", "158", "186", "187", "177", "199"])
    return prefix + f"{rng.randrange(10**8):08d}"


def create_accounts(session: Session) -> dict[str, User]:
    """Divisions east/west and the ten demo accounts, password Demo#2026."""
    users: dict[str, User] = {}
    password_hash = hash_password(DEMO_PASSWORD)
    for username, name, role in GLOBAL_ACCOUNTS:
        users[username] = User(
            username=username, display_name=name, role_code=role, password_hash=password_hash
        )
    for code, name in DIVISIONS:
        division = Division(code=code, name=name)
        session.add(division)
        session.flush()
        session.add(PoolRule(division_id=division.id))
        surname = "东" if code == "east" else "西"
        for suffix, title, role in DIVISION_ACCOUNTS:
            username = f"{code}.{suffix}"
            users[username] = User(
                username=username,
                display_name=f"{surname}区{title}",
                role_code=role,
                division_id=division.id,
                password_hash=password_hash,
            )
    session.add_all(users.values())
    session.flush()
    return users


def load_demo(
    session: Session,
    *,
    seed: int = 2026,
    per_division: int = CUSTOMERS_PER_DIVISION,
    at: datetime | None = None,
) -> str:
    """Load the demo once; a second call finds the divisions and changes nothing."""
    if session.scalar(select(Division.id).where(Division.code == "east")) is not None:
        return "demo data already loaded; nothing changed"
    if session.scalar(select(Grade.id).limit(1)) is None:
        raise RuntimeError("reference data missing: run `flask --app portal setup` first")
    at = (at or now()).replace(microsecond=0)
    users = create_accounts(session)
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    counties = list(
        session.scalars(select(Region.code).where(Region.level == 3).order_by(Region.code))
    )
    lookups = {
        model: _ids(session, model)
        for model in (
            Grade,
            Industry,
            Source,
            Stage,
            FeedbackReason,
            LostReason,
            ServiceType,
            ServicePriority,
        )
    }
    stages = {s.code: s for s in session.scalars(select(Stage))}
    counts: dict[str, int] = {}
    for code, _name in DIVISIONS:
        division_id = session.scalar(select(Division.id).where(Division.code == code))
        clerks = [users[f"{code}.clerk1"], users[f"{code}.clerk2"]]
        head = users[f"{code}.head"]
        generated = _division_records(
            session,
            rng,
            fake,
            at,
            division_id,
            clerks,
            head,
            counties,
            lookups,
            stages,
            per_division,
        )
        for key, value in generated.items():
            counts[key] = counts.get(key, 0) + value
    session.flush()
    parts = ", ".join(f"{n} {k}" for k, n in counts.items())
    return f"demo loaded: 2 divisions, {len(users)} accounts (password {DEMO_PASSWORD}); {parts}"


def _division_records(
    session, rng, fake, at, division_id, clerks, head, counties, lookups, stages, per_division
) -> dict[str, int]:
    names: set[str] = set()
    customers, contacts = [], []
    owners = [*clerks, None]  # about a third of the customers sit in the pool
    for i in range(per_division):
        kind = "company" if i % 3 else "person"
        name = fake.company() if kind == "company" else fake.name()
        while name in names:
            name = fake.company() if kind == "company" else fake.name() + fake.random_letter()
        names.add(name)
        owner = owners[i % 3]
        created = at - timedelta(days=rng.randrange(0, 400), minutes=rng.randrange(1440))
        last_follow = created + timedelta(days=rng.randrange(0, 30)) if rng.random() < 0.7 else None
        if last_follow and last_follow > at:
            last_follow = at - timedelta(days=1)
        customers.append(
            {
                "division_id": division_id,
                "name": name,
                "kind": kind,
                "owner_id": owner.id if owner else None,
                "created_by_id": (owner or head).id,
                "grade_id": rng.choice(lookups[Grade]),
                "industry_id": rng.choice(lookups[Industry]) if kind == "company" else None,
                "source_id": rng.choice(lookups[Source]),
                "rating": rng.randint(1, 3),
                "region_code": rng.choice(counties) if counties else None,
                "address": fake.street_address(),
                "postcode": fake.postcode(),
                "mobile": _mobile(rng),
                "email": fake.email() if rng.random() < 0.6 else None,
                "status": rng.choice(
                    ["intent", "following", "following", "contract", "won", "failed"]
                ),
                "pinned": rng.random() < 0.03,
                "in_pool_since": created if owner is None else None,
                "last_followup_at": last_follow,
                "next_followup_at": (at + timedelta(days=rng.randrange(-5, 15))) if owner else None,
                "created_at": created,
                "updated_at": created + timedelta(days=rng.randrange(0, 5)),
                "version": 1,
                "locked": False,
            }
        )
    session.execute(insert(Customer), customers)
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.owner_id)
        .where(Customer.division_id == division_id)
        .order_by(Customer.id)
    ).all()
    for customer_id, _, _owner in rows:
        for n in range(1 + (customer_id % 2)):
            contacts.append(
                {
                    "division_id": division_id,
                    "customer_id": customer_id,
                    "name": fake.name(),
                    "gender": rng.choice(["male", "female"]),
                    "position": rng.choice(["总经理", "采购经理", "财务主管", "行政", "技术总监"]),
                    "mobile": _mobile(rng),
                    "is_primary": n == 0,
                    "version": 1,
                    "created_at": at,
                    "updated_at": at,
                }
            )
    session.execute(insert(Contact), contacts)
    owned = [(cid, oid) for cid, _, oid in rows if oid is not None]

    campaign = Campaign(
        division_id=division_id,
        owner_id=head.id,
        created_by_id=head.id,
        name="春季新品品鉴会",
        theme="新品推介",
        target_group="老客户及其推荐人",
        channel="线下活动",
        starts_on=(at - timedelta(days=60)).date(),
        ends_on=(at - timedelta(days=50)).date(),
        budget=Decimal("50000"),
        actual_cost=Decimal("43800"),
    )
    session.add(campaign)
    session.flush()

    leads = []
    for i in range(60):
        owner = clerks[i % 2]
        created = at - timedelta(days=rng.randrange(0, 120))
        leads.append(
            {
                "division_id": division_id,
                "owner_id": owner.id,
                "created_by_id": owner.id,
                "person_name": fake.name(),
                "company": fake.company() if i % 2 else None,
                "mobile": _mobile(rng),
                "source_id": rng.choice(lookups[Source]),
                "campaign_id": campaign.id if i % 5 == 0 else None,
                "grade_id": rng.choice(lookups[Grade]),
                "region_code": rng.choice(counties) if counties else None,
                "status": rng.choice(["new", "new", "following", "invalid"]),
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
    session.execute(insert(Lead), leads)

    opportunities = []
    stage_codes = list(stages)
    for i, (customer_id, owner_id) in enumerate(owned[:100]):
        stage = stages[stage_codes[i % len(stage_codes)]]
        opportunities.append(
            {
                "division_id": division_id,
                "customer_id": customer_id,
                "owner_id": owner_id,
                "created_by_id": owner_id,
                "title": f"{rng.choice(['年度采购', '设备更新', '系统升级', '车辆置换'])}项目",
                "amount": Decimal(rng.randrange(5, 500) * 1000),
                "stage_id": stage.id,
                "probability": stage.probability,
                "expected_close": (at + timedelta(days=rng.randrange(-30, 90))).date(),
                "lost_reason_id": rng.choice(lookups[LostReason])
                if stage.outcome == "lost"
                else None,
                "closed_at": at - timedelta(days=rng.randrange(1, 30))
                if stage.outcome != "open"
                else None,
                "stage_entered_at": at - timedelta(days=rng.randrange(1, 40)),
                "created_at": at - timedelta(days=rng.randrange(40, 200)),
                "updated_at": at,
                "version": 1,
            }
        )
    session.execute(insert(Opportunity), opportunities)

    orders = []
    for i, (customer_id, owner_id) in enumerate(owned[::4]):
        signed = (at - timedelta(days=rng.randrange(0, 400))).date()
        orders.append(
            {
                "division_id": division_id,
                "customer_id": customer_id,
                "owner_id": owner_id,
                "created_by_id": owner_id,
                "number": f"D{division_id}-{signed:%Y%m}-{i + 1:04d}",
                "amount": Decimal(rng.randrange(10, 900) * 1000),
                "signed_on": signed,
                "description": rng.choice(
                    ["整车采购", "配件及保养套餐", "年度服务合同", "批量采购"]
                ),
                "state": "valid",
                "created_at": at,
                "updated_at": at,
                "version": 1,
            }
        )
    session.execute(insert(Order), orders)

    activities = []
    today = at.replace(hour=10, minute=0, second=0)
    for i, (customer_id, owner_id) in enumerate(owned):
        # One pending plan each: a third due today, a third overdue, a third ahead.
        planned = today + timedelta(days=(0, -rng.randrange(1, 10), rng.randrange(1, 20))[i % 3])
        activities.append(
            {
                "division_id": division_id,
                "customer_id": customer_id,
                "owner_id": owner_id,
                "created_by_id": owner_id,
                "kind": "plan",
                "subject": "电话回访",
                "state": "pending",
                "planned_at": planned,
                "created_at": at,
                "updated_at": at,
                "version": 1,
            }
        )
        if i % 2 == 0:
            done = today - timedelta(days=rng.randrange(2, 60))
            activities.append(
                {
                    "division_id": division_id,
                    "customer_id": customer_id,
                    "owner_id": owner_id,
                    "created_by_id": owner_id,
                    "kind": "plan",
                    "subject": "48小时回访",
                    "state": "done",
                    "planned_at": done,
                    "done_at": done + timedelta(hours=2),
                    "result": "已电话沟通，客户有意向",
                    "feedback_reason_id": rng.choice(lookups[FeedbackReason]),
                    "created_at": done,
                    "updated_at": done,
                    "instruction": "请尽快安排试驾" if i % 10 == 0 else None,
                    "instruction_by_id": head.id if i % 10 == 0 else None,
                    "instruction_at": done + timedelta(hours=5) if i % 10 == 0 else None,
                    "version": 1,
                }
            )
    session.execute(insert(Activity), activities)

    service = []
    statuses = ["new", "assigned", "handling", "responded", "archived"]
    for i, (customer_id, owner_id) in enumerate(owned[:40]):
        status = statuses[i % len(statuses)]
        created = at - timedelta(days=rng.randrange(1, 60), hours=rng.randrange(24))
        step = {s: n for n, s in enumerate(statuses)}[status]
        service.append(
            {
                "division_id": division_id,
                "customer_id": customer_id,
                "owner_id": owner_id,
                "created_by_id": owner_id,
                "type_id": rng.choice(lookups[ServiceType]),
                "priority_id": rng.choice(lookups[ServicePriority]),
                "channel": rng.choice(["phone", "web", "social", "email"]),
                "direction": rng.choice(["inbound", "outbound"]),
                "status": status,
                "summary": rng.choice(
                    [
                        "咨询保养价格",
                        "投诉维修等待时间过长",
                        "建议增加周末服务",
                        "回访新车使用情况",
                        "咨询发票开具",
                    ]
                ),
                "handler_id": owner_id if step >= 1 else None,
                "assigned_at": created + timedelta(hours=1) if step >= 1 else None,
                "handling_at": created + timedelta(hours=3) if step >= 2 else None,
                "responded_at": created + timedelta(days=1) if step >= 3 else None,
                "archived_at": created + timedelta(days=2) if step >= 4 else None,
                "satisfaction": rng.randint(3, 5) if step >= 3 else None,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
    session.execute(insert(ServiceRequest), service)
    return {
        "customers": len(customers),
        "contacts": len(contacts),
        "leads": len(leads),
        "opportunities": len(opportunities),
        "orders": len(orders),
        "activities": len(activities),
        "service requests": len(service),
    }
