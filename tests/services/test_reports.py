"""Report figures (R-REPORT-1..7) against hand-computed expectations, on both databases.

Each test builds a small world with known outcomes (the comments give the arithmetic),
runs the report as a given viewer and compares every figure. The period is March 2026;
"today" is 20 March, so a pending plan of the 19th is overdue and one of the 20th is not.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.models import (
    Campaign,
    FeedbackReason,
    Grade,
    Industry,
    LostReason,
    OwnershipChange,
    Source,
    Stage,
    StageChange,
    User,
)
from portal.services.opportunities import open_opportunity, record_stage_change, stage_changed
from portal.services.reports import (
    DIMENSIONS,
    ReportFilter,
    campaign_results_of_period,
    churn_analysis,
    contribution,
    customer_composition,
    customer_compositions,
    customer_profiles,
    followup_compliance,
    last_month,
    pipeline,
    pool_analysis,
    service_analysis,
)
from tests.factories import (
    make_activity,
    make_contact,
    make_customer,
    make_lead,
    make_opportunity,
    make_order,
    make_service_request,
)

START, END, TODAY = date(2026, 3, 1), date(2026, 3, 31), date(2026, 3, 20)


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute)


def march(user, *, division=None, clerk=None, start=START, end=END) -> ReportFilter:
    return ReportFilter(
        user,
        start,
        end,
        division_id=division.division_id if division is not None else None,
        clerk_id=clerk.id if clerk is not None else None,
        today=TODAY,
    )


def by_code(session, model, code):
    return session.scalar(select(model).where(model.code == code))


def test_last_month_is_the_whole_previous_calendar_month():
    assert last_month(date(2026, 3, 20)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert last_month(date(2026, 1, 1)) == (date(2025, 12, 1), date(2025, 12, 31))


# -- R-REPORT-1 ---------------------------------------------------------------------------


@pytest.fixture
def compliance_world(session, world):
    """Clerk 1: 7 plans due (3 on time, 1 late, 1 overdue, 2 open), 3 with feedback, and
    2 instructions on his activities planned in March, 1 acknowledged; clerk 2: 3 due
    (1 on time, 1 late, 1 overdue), 1 feedback; clerk 3 (no plans); a west clerk with 1
    plan on time."""
    clerk3 = User(
        username="east.clerk3",
        display_name="东区业务员三",
        role_code="clerk",
        division_id=world["east.clerk1"].division_id,
        password_hash="x",
    )
    session.add(clerk3)
    session.flush()
    reason = session.scalar(select(FeedbackReason).limit(1))
    a = make_customer(session, world["east.clerk1"], name="回访客户甲")
    b = make_customer(session, world["east.clerk2"], name="回访客户乙")
    w = make_customer(session, world["west.clerk1"], name="回访客户西")

    def plan(customer, planned, state="pending", done=None, **fields):
        return make_activity(
            session, customer, kind="plan", planned_at=planned, state=state, done_at=done, **fields
        )

    # clerk 1
    plan(a, at(3, 2), "done", at(3, 2, 15), feedback_reason_id=reason.id)  # on time
    plan(a, at(3, 5, 9), "done", at(3, 5, 23, 59))  # on time: same day, late hour
    plan(a, at(3, 6), "done", at(3, 4), feedback="客户考虑中")  # early
    plan(
        a,
        at(3, 7),
        "done",
        at(3, 9),
        feedback_reason_id=reason.id,
        instruction="请加快",
        instruction_at=at(3, 9, 12),
        instruction_ack_at=at(3, 10),
    )  # late
    plan(a, at(3, 10))  # overdue
    plan(a, at(3, 20, 8))  # due today: not overdue before the day ends
    plan(a, at(3, 25))  # ahead
    plan(a, at(3, 12), "cancelled")  # not counted
    plan(
        a, at(2, 28, 23), "done", at(3, 1), instruction="旧批示", instruction_at=at(3, 1, 9)
    )  # planned in February: neither the plan nor its instruction counts
    plan(a, at(4, 1, 0))  # April
    make_activity(
        session,
        a,
        kind="action",
        planned_at=at(3, 3),
        state="done",
        done_at=at(3, 3),
        instruction="跟进价格",
        instruction_at=at(3, 15),
    )  # not a plan, but an activity of the period: its instruction counts
    # clerk 2
    plan(b, at(3, 15), "done", at(3, 16), feedback_reason_id=reason.id)  # late
    plan(b, at(3, 18), "done", at(3, 18, 11))  # on time
    plan(b, at(3, 19))  # overdue
    # west
    plan(w, at(3, 3), "done", at(3, 3))
    session.commit()
    return {**world, "east.clerk3": clerk3}


FIELDS = ("due", "on_time", "late", "overdue", "open", "feedback", "instructions", "acknowledged")


def figures(line):
    return tuple(getattr(line, f) for f in FIELDS)


def test_compliance_per_clerk_for_the_division_head(session, compliance_world):
    head = compliance_world["east.head"]
    report = followup_compliance(session, march(head))
    lines = {line.name: figures(line) for line in report.lines}
    assert lines == {
        "东区业务员一": (7, 3, 1, 1, 2, 3, 2, 1),
        "东区业务员二": (3, 1, 1, 1, 0, 1, 0, 0),
        "东区业务员三": (0, 0, 0, 0, 0, 0, 0, 0),
    }
    assert figures(report.total) == (10, 4, 2, 2, 2, 4, 2, 1)
    clerk1 = next(x for x in report.lines if x.name == "东区业务员一")
    assert clerk1.on_time_rate == pytest.approx(3 / 7)
    assert clerk1.feedback_rate == pytest.approx(3 / 4)
    assert clerk1.ack_rate == pytest.approx(1 / 2)


def test_compliance_group_manager_sees_both_divisions_or_picks_one(session, compliance_world):
    gm = compliance_world["gm"]
    everything = followup_compliance(session, march(gm))
    assert figures(everything.total) == (11, 5, 2, 2, 2, 4, 2, 1)
    assert {x.name for x in everything.lines} >= {"西区业务员一", "西区业务员二", "东区业务员三"}
    west = followup_compliance(session, march(gm, division=compliance_world["west.clerk1"]))
    assert {x.name: x.due for x in west.lines} == {"西区业务员一": 1, "西区业务员二": 0}


def test_compliance_clerk_filter_and_own_line(session, compliance_world):
    head, clerk2 = compliance_world["east.head"], compliance_world["east.clerk2"]
    only = followup_compliance(session, march(head, clerk=clerk2))
    assert [(x.name, figures(x)) for x in only.lines] == [
        ("东区业务员二", (3, 1, 1, 1, 0, 1, 0, 0))
    ]
    clerk1 = compliance_world["east.clerk1"]
    own = followup_compliance(session, march(clerk1, clerk=clerk1))
    assert [(x.name, x.due) for x in own.lines] == [("东区业务员一", 7)]


def test_compliance_never_crosses_the_division_wall(session, compliance_world):
    west_head = compliance_world["west.head"]
    east = compliance_world["east.clerk1"]
    report = followup_compliance(session, march(west_head, division=east))
    assert report.lines == [] and report.total.due == 0


def test_compliance_keeps_assignees_outside_the_clerk_list(session, compliance_world):
    head = compliance_world["east.head"]
    customer = make_customer(session, head, name="负责人自己的客户")
    make_activity(
        session, customer, kind="plan", planned_at=at(3, 4), state="done", done_at=at(3, 4)
    )
    compliance_world["east.clerk2"].state = "deactivated"
    session.commit()
    lines = {x.name: (x.due, x.on_time) for x in followup_compliance(session, march(head)).lines}
    assert lines["东区负责人"] == (1, 1)
    assert lines["东区业务员二"] == (3, 1)  # deactivated, his plans still counted


# -- R-REPORT-2 ---------------------------------------------------------------------------


@pytest.fixture
def composition_world(session, world):
    grade_a, grade_b = by_code(session, Grade, "A"), by_code(session, Grade, "B")
    it, finance = by_code(session, Industry, "it"), by_code(session, Industry, "finance")
    walk_in, phone = by_code(session, Source, "walk_in"), by_code(session, Source, "phone")
    c1, c2 = world["east.clerk1"], world["east.clerk2"]
    rows = [
        (c1, grade_a, it, walk_in, "310101", "A", at(3, 5)),
        (c1, grade_a, finance, walk_in, "310104", "B", at(12, 1, year=2025)),
        (c2, grade_b, it, None, "320102", "C", at(3, 31, 23)),
        (c2, None, None, phone, None, "C", at(4, 1)),
        (None, grade_b, it, phone, "320505", "C", at(3, 1, 0)),  # pool
    ]
    for owner, grade, industry, source, region, value, created in rows:
        make_customer(
            session,
            owner,
            division=None if owner else c1.division,
            grade_id=grade.id if grade else None,
            industry_id=industry.id if industry else None,
            source_id=source.id if source else None,
            region_code=region,
            value_class=value,
            created_at=created,
        )
    make_customer(
        session, world["west.clerk1"], grade_id=grade_a.id, region_code="310101", value_class="A"
    )
    session.commit()
    return world


def rows_of(report):
    return [(r.name, r.customers, r.new) for r in report.rows]


def test_composition_by_grade_industry_source_and_value(session, composition_world):
    f = march(composition_world["east.head"])
    grade = customer_composition(session, f, "grade")
    assert rows_of(grade) == [("A级", 2, 1), ("B级", 2, 2), (None, 1, 0)]
    assert (grade.customers, grade.new) == (5, 3)
    assert grade.rows[0].share == pytest.approx(0.4)
    industry = customer_composition(session, f, "industry")
    assert rows_of(industry) == [("信息技术", 3, 3), ("金融", 1, 0), (None, 1, 0)]
    source = customer_composition(session, f, "source")
    assert rows_of(source) == [("到店", 2, 1), ("来电", 2, 1), (None, 1, 1)]
    value = customer_composition(session, f, "value_class")
    assert rows_of(value) == [("A", 1, 1), ("B", 1, 0), ("C", 3, 2)]


def test_composition_by_province_and_drill_down_to_cities(session, composition_world):
    f = march(composition_world["east.head"])
    provinces = customer_composition(session, f, "region")
    assert [(r.key, r.name, r.customers, r.new) for r in provinces.rows] == [
        ("31", "上海市", 2, 1),
        ("32", "江苏省", 2, 2),
        (None, None, 1, 0),
    ]
    cities = customer_composition(session, f, "region", province="32")
    assert cities.province_name == "江苏省"
    assert [(r.key, r.name, r.customers) for r in cities.rows] == [
        ("3201", "南京市", 1),
        ("3205", "苏州市", 1),
    ]


def test_composition_clerk_and_group_views(session, composition_world):
    clerk1 = composition_world["east.clerk1"]
    mine = customer_composition(
        session, march(composition_world["east.head"], clerk=clerk1), "grade"
    )
    assert rows_of(mine) == [("A级", 2, 1)]
    everyone = customer_composition(session, march(composition_world["gm"]), "grade")
    assert rows_of(everyone)[0] == ("A级", 3, 1)
    assert everyone.customers == 6


def test_all_dimensions_at_once_equal_each_dimension(session, composition_world):
    """The "all dimensions" page runs the five passes on parallel connections: the same
    figures as one by one, for a head, his clerk filter and group management."""
    head, gm = composition_world["east.head"], composition_world["gm"]
    for f in (march(head), march(head, clerk=composition_world["east.clerk2"]), march(gm)):
        together = customer_compositions(session, f)
        assert [c.dimension for c in together] == list(DIMENSIONS)
        assert together == [customer_composition(session, f, d) for d in DIMENSIONS]
    assert [c.customers for c in customer_compositions(session, march(head))] == [5] * 5


# -- R-REPORT-3 ---------------------------------------------------------------------------


@pytest.fixture
def contribution_world(session, world):
    """Six east buyers in March: x2 3000 (A: rank 1 ≤ ⌈5%·6⌉), x6 2000 (B: rank 2 ≤ ⌈20%·6⌉),
    then x1 1500 (two orders), x4 1200.50, x3 200, x5 100 (C). Total 8000.50 in 7 orders."""
    c1, c2 = world["east.clerk1"], world["east.clerk2"]
    x = {n: make_customer(session, c1 if n <= 3 else c2, name=f"贡献客户{n}") for n in range(1, 7)}
    for n, amount, day, state in [
        (1, "1000.00", date(2026, 3, 2), "valid"),
        (1, "500.00", date(2026, 3, 20), "valid"),
        (2, "3000.00", date(2026, 3, 10), "valid"),
        (3, "200.00", date(2026, 3, 31), "valid"),
        (3, "9999.00", date(2026, 3, 15), "cancelled"),
        (3, "7000.00", date(2026, 2, 28), "valid"),
        (4, "800.00", date(2026, 4, 1), "valid"),
        (4, "1200.50", date(2026, 3, 1), "valid"),
        (5, "100.00", date(2026, 3, 5), "valid"),
        (6, "2000.00", date(2026, 3, 25), "valid"),
    ]:
        make_order(session, x[n], amount=Decimal(amount), signed_on=day, state=state)
    make_order(
        session,
        make_customer(session, world["west.clerk1"], name="西区大客户"),
        amount=Decimal("50000"),
        signed_on=date(2026, 3, 5),
    )
    session.commit()
    return world


def test_contribution_totals_classes_and_top_customers(session, contribution_world):
    report = contribution(session, march(contribution_world["east.head"]), top=3)
    assert (report.amount, report.orders, report.customers) == (Decimal("8000.50"), 7, 6)
    assert [(m.month, m.orders, m.amount) for m in report.months] == [
        ("2026-03", 7, Decimal("8000.50"))
    ]
    assert [(c.value_class, c.customers, c.amount) for c in report.classes] == [
        ("A", 1, Decimal("3000.00")),
        ("B", 1, Decimal("2000.00")),
        ("C", 4, Decimal("3000.50")),
    ]
    assert report.classes[0].share == pytest.approx(3000 / 8000.5)
    assert [(t.rank, t.name, t.orders, t.amount, t.value_class) for t in report.top] == [
        (1, "贡献客户2", 1, Decimal("3000.00"), "A"),
        (2, "贡献客户6", 1, Decimal("2000.00"), "B"),
        (3, "贡献客户1", 2, Decimal("1500.00"), "C"),
    ]
    assert report.top[0].owner == "东区业务员一"


def test_contribution_by_month_and_by_clerk(session, contribution_world):
    head = contribution_world["east.head"]
    two_months = contribution(session, march(head, start=date(2026, 2, 1)))
    assert [(m.month, m.orders, m.amount) for m in two_months.months] == [
        ("2026-02", 1, Decimal("7000.00")),
        ("2026-03", 7, Decimal("8000.50")),
    ]
    clerk2 = contribution(session, march(head, clerk=contribution_world["east.clerk2"]))
    assert (clerk2.amount, clerk2.orders, clerk2.customers) == (Decimal("3300.50"), 3, 3)
    gm = contribution(session, march(contribution_world["gm"]))
    assert gm.amount == Decimal("58000.50") and gm.top[0].name == "西区大客户"


# -- R-REPORT-4 ---------------------------------------------------------------------------


@pytest.fixture
def pipeline_world(session, world):
    stages = {s.code: s for s in session.scalars(select(Stage))}
    price = by_code(session, LostReason, "price")
    customer = make_customer(session, world["east.clerk1"], name="商机客户")

    def opportunity(stage, created, amount, changes, **fields):
        o = make_opportunity(
            session,
            customer,
            stage=stage,
            amount=Decimal(amount),
            created_at=created,
            **fields,
        )
        since = None  # when the left stage was entered, as stage_changed passes it
        for before, after, when in changes:
            record_stage_change(
                session,
                o,
                stages[before].id if before else None,
                stages[after],
                at=when,
                by=None,
                since=since,
            )
            since = when
        return o

    opportunity(
        "follow",
        at(2, 1, 0),
        "1000",
        [(None, "lead", at(2, 1, 0)), ("lead", "follow", at(3, 5, 0))],
    )
    opportunity(
        "needs",
        at(2, 10, 0),
        "2000",
        [
            (None, "lead", at(2, 10, 0)),
            ("lead", "follow", at(2, 20, 0)),
            ("follow", "needs", at(3, 10, 0)),
        ],
        probability=50,
    )
    opportunity(
        "won",
        at(3, 1, 0),
        "5000",
        [
            (None, "lead", at(3, 1, 0)),
            ("lead", "follow", at(3, 3, 0)),
            ("follow", "needs", at(3, 6, 0)),
            ("needs", "proposal", at(3, 11, 0)),
            ("proposal", "won", at(3, 25, 0)),
        ],
        closed_at=at(3, 25, 0),
    )
    opportunity(
        "lost",
        at(1, 1, 0),
        "3000",
        [
            (None, "lead", at(1, 1, 0)),
            ("lead", "follow", at(1, 11, 0)),
            ("follow", "lost", at(3, 15, 0)),
        ],
        closed_at=at(3, 15, 0),
        lost_reason_id=price.id,
    )
    opportunity(
        "tender", at(1, 1, 0), "4000", [(None, "lead", at(1, 1, 0)), ("lead", "tender", at(2, 1))]
    )
    opportunity("lead", at(4, 5), "9000", [(None, "lead", at(4, 5))])  # after the period
    opportunity("lost", at(1, 5), "8000", [], closed_at=at(2, 20))  # closed before it
    west = make_customer(session, world["west.clerk1"], name="西区商机客户")
    o = make_opportunity(session, west, stage="follow", created_at=at(3, 1))
    record_stage_change(session, o, stages["lead"].id, stages["follow"], at=at(3, 2), by=None)
    session.commit()
    return world


def test_pipeline_stages_funnel_days_and_outcomes(session, pipeline_world):
    report = pipeline(session, march(pipeline_world["east.head"]))
    stages = {s.name: s for s in report.stages}
    # Alive in March, by current stage; weighted = amount × probability (own, else stage's).
    assert {n: (s.opportunities, s.amount, s.weighted) for n, s in stages.items()} == {
        "线索": (0, Decimal("0.00"), Decimal("0.00")),
        "商务跟进": (1, Decimal("1000.00"), Decimal("200.00")),
        "需求确认": (1, Decimal("2000.00"), Decimal("1000.00")),
        "方案制定": (0, Decimal("0.00"), Decimal("0.00")),
        "招投标": (1, Decimal("4000.00"), Decimal("2800.00")),
        "签约": (0, Decimal("0.00"), Decimal("0.00")),
        "赢单": (1, Decimal("5000.00"), Decimal("5000.00")),
        "输单": (1, Decimal("3000.00"), Decimal("0.00")),
    }
    # Four opportunities moved in March; furthest stages 2, 3, 7 and 2.
    assert report.moving == 4
    path = [s for s in report.stages if s.outcome != "lost"]
    assert [s.reached for s in path] == [4, 4, 2, 1, 1, 1, 1]
    assert [s.conversion for s in path] == [1.0, 0.5, 0.5, 1.0, 1.0, 1.0, None]
    # Stays ended in March: lead 32 and 2 days; follow 18, 3 and 63; needs 5; proposal 14.
    assert (stages["线索"].stints, stages["线索"].avg_days) == (2, pytest.approx(17.0))
    assert (stages["商务跟进"].stints, stages["商务跟进"].avg_days) == (3, pytest.approx(28.0))
    assert stages["需求确认"].avg_days == pytest.approx(5.0)
    assert stages["方案制定"].avg_days == pytest.approx(14.0)
    assert stages["招投标"].stints == 0 and stages["招投标"].avg_days is None
    assert (report.won.opportunities, report.won.amount) == (1, Decimal("5000.00"))
    assert (report.lost.opportunities, report.lost.amount) == (1, Decimal("3000.00"))
    assert report.win_rate == pytest.approx(0.5)
    assert [(r.key, r.opportunities, r.amount) for r in report.lost_reasons] == [
        ("价格因素", 1, Decimal("3000.00"))
    ]


def test_pipeline_of_the_group_includes_the_west(session, pipeline_world):
    report = pipeline(session, march(pipeline_world["gm"]))
    assert report.moving == 5
    assert next(s for s in report.stages if s.name == "商务跟进").opportunities == 2


def test_unfiltered_group_pipeline_adds_up_its_divisions(session, pipeline_world):
    """gm's unfiltered funnel and days in stage read the stage history without joining the
    opportunities; per division they are joined. Both paths must give the same figures."""
    gm = pipeline_world["gm"]
    whole = pipeline(session, march(gm))
    parts = [
        pipeline(session, march(gm, division=pipeline_world[head]))
        for head in ("east.head", "west.head")
    ]

    def figures(report):
        return {s.name: (s.reached, s.stints, (s.avg_days or 0) * s.stints) for s in report.stages}

    summed = {
        name: tuple(sum(values) for values in zip(*(figures(p)[name] for p in parts), strict=True))
        for name in figures(whole)
    }
    for name, (reached, stints, days) in figures(whole).items():
        assert (reached, stints) == summed[name][:2], name
        assert days == pytest.approx(summed[name][2]), name
    assert whole.moving == sum(p.moving for p in parts) == 5
    assert figures(parts[0]) == figures(pipeline(session, march(pipeline_world["east.head"])))


# -- R-REPORT-5 ---------------------------------------------------------------------------


def test_service_analysis_groups_the_period_within_scope(session, world):
    c1 = world["east.clerk1"]
    customer = make_customer(session, c1, name="服务客户")
    make_service_request(
        session,
        customer,
        handler_id=c1.id,
        created_at=at(3, 2, 8),
        handling_at=at(3, 2, 10),
        resolved_at=at(3, 3, 8),
        status="responded",
        satisfaction=4,
    )
    make_service_request(session, customer, created_at=at(3, 30, 9))
    make_service_request(session, customer, created_at=at(2, 27, 9))  # February
    west = make_customer(session, world["west.clerk1"], name="西区服务客户")
    make_service_request(session, west, created_at=at(3, 3, 9))
    session.commit()
    report = service_analysis(session, march(world["east.head"]))
    assert report.total.requests == 2 and report.total.resolved == 1
    assert report.total.avg_response_hours == pytest.approx(2.0)
    assert report.total.avg_resolution_hours == pytest.approx(24.0)
    assert sorted((x.label, x.requests) for x in report.by_handler) == [
        ("", 1),
        ("东区业务员一", 1),
    ]
    assert [(x.label, x.requests) for x in report.by_month] == [("2026-03", 2)]
    assert sum(x.requests for x in report.by_type) == 2
    assert service_analysis(session, march(world["gm"])).total.requests == 3
    # The clerk filter keeps the requests that clerk handles.
    mine = service_analysis(session, march(world["east.head"], clerk=c1))
    assert (mine.total.requests, [x.label for x in mine.by_handler]) == (1, ["东区业务员一"])
    assert (
        service_analysis(session, march(world["east.head"], clerk=world["east.clerk2"])).by_type
        == []
    )


def test_churn_states_now_and_movements_of_the_period(session, world):
    c1 = world["east.clerk1"]
    for state, warned, changed, reason in [
        ("none", None, None, None),
        ("warning", at(3, 5), None, None),
        ("warning", at(2, 20), None, None),
        ("retained", at(2, 1), at(3, 10), None),
        ("lost", at(1, 15), at(3, 12), "价格太高"),
        ("lost", at(1, 1), at(2, 15), "搬迁"),
        ("lost", at(3, 1), at(3, 20), "价格太高"),
    ]:
        make_customer(
            session,
            c1,
            churn_state=state,
            churn_warned_at=warned,
            churn_changed_at=changed,
            churn_lost_reason=reason,
        )
    make_customer(
        session,
        world["west.clerk1"],
        churn_state="lost",
        churn_warned_at=at(3, 1),
        churn_changed_at=at(3, 5),
        churn_lost_reason="搬迁",
    )
    session.commit()
    report = churn_analysis(session, march(world["east.head"]))
    assert [(x.state, x.customers, x.in_period) for x in report.states] == [
        ("none", 1, 0),
        ("warning", 2, 2),  # warnings raised in March: the 5th and the 1st (since lost)
        ("retained", 1, 1),
        ("lost", 3, 2),
    ]
    assert report.lost_reasons == [("价格太高", 2)]


# -- R-REPORT-7 ---------------------------------------------------------------------------


def test_campaigns_of_the_period_with_their_results(session, world):
    head, c1 = world["east.head"], world["east.clerk1"]

    def campaign(name, starts, ends, division_user, cost):
        c = Campaign(
            name=name,
            division_id=division_user.division_id,
            owner_id=division_user.id,
            starts_on=starts,
            ends_on=ends,
            budget=Decimal("6000"),
            actual_cost=Decimal(cost) if cost else None,
        )
        session.add(c)
        session.flush()
        return c

    spring = campaign("春季品鉴会", date(2026, 2, 20), date(2026, 3, 10), head, "5000")
    campaign("元旦活动", date(2025, 12, 25), date(2026, 1, 5), head, "100")  # over before March
    campaign("西区活动", date(2026, 3, 1), date(2026, 3, 31), world["west.head"], "100")
    buyer = make_customer(session, c1, name="活动转化客户")
    make_lead(
        session,
        c1,
        campaign_id=spring.id,
        status="converted",
        customer_id=buyer.id,
        created_at=at(2, 25),
    )
    make_lead(session, c1, campaign_id=spring.id)
    make_lead(session, world["east.clerk2"], campaign_id=spring.id, status="invalid")
    make_order(session, buyer, amount=Decimal("8000"), signed_on=date(2026, 3, 2))
    make_order(session, buyer, amount=Decimal("999"), signed_on=date(2026, 2, 1))  # before lead
    session.commit()
    lines = campaign_results_of_period(session, march(head))
    assert [x.name for x in lines] == ["春季品鉴会"]
    results = lines[0].results
    assert (results.leads, results.converted, results.revenue) == (3, 1, Decimal("8000.00"))
    assert results.cost == Decimal("5000.00") and float(results.roi) == pytest.approx(0.6)
    assert {x.name for x in campaign_results_of_period(session, march(world["gm"]))} == {
        "春季品鉴会",
        "西区活动",
    }
    # The clerk filter: what that clerk's leads brought (the conversion and its revenue
    # are clerk 1's; clerk 2 has only the invalid lead).
    one = campaign_results_of_period(session, march(head, clerk=c1))[0].results
    assert (one.leads, one.converted, one.revenue) == (2, 1, Decimal("8000.00"))
    two = campaign_results_of_period(session, march(head, clerk=world["east.clerk2"]))[0].results
    assert (two.leads, two.converted, two.revenue) == (1, 0, Decimal("0.00"))


# -- pool ---------------------------------------------------------------------------------


def test_pool_flows_claims_and_return_reasons(session, world):
    c1, c2, head = world["east.clerk1"], world["east.clerk2"], world["east.head"]
    east = c1.division_id
    pooled = [make_customer(session, None, division=c1.division) for _ in range(2)]
    owned = make_customer(session, c1)

    def change(kind, before, after, when, reason="", division=east):
        session.add(
            OwnershipChange(
                customer_id=owned.id,
                division_id=division,
                kind=kind,
                from_owner_id=before.id if before else None,
                to_owner_id=after.id if after else None,
                by_id=head.id,
                at=when,
                reason=reason,
            )
        )

    change("claim", None, c1, at(3, 2))
    change("claim", None, c1, at(3, 3))
    change("assign", None, c2, at(3, 4))
    change("release", c1, None, at(3, 5), "客户无意向")
    change("return", c2, None, at(3, 6), "30天未跟进")
    change("return", c2, None, at(3, 7), "30天未跟进")
    change("return", c1, None, at(3, 8), "90天未成交")
    change("create", None, c1, at(3, 9))  # a new customer of his: not from the pool
    change("create", None, None, at(3, 9))  # created into the pool
    change("handover", c1, c2, at(3, 10))  # owner to owner
    change("claim", None, c1, at(2, 27))  # February
    change("claim", None, world["west.clerk1"], at(3, 2), division=world["west.clerk1"].division_id)
    session.commit()
    report = pool_analysis(session, march(head))
    assert report.in_pool == len(pooled)
    assert (report.entered, report.left) == (5, 3)
    assert [(x.kind, x.entered, x.left) for x in report.flows] == [
        ("assign", 0, 1),
        ("claim", 0, 2),
        ("create", 1, 0),
        ("release", 1, 0),
        ("return", 3, 0),
    ]
    assert [(x.name, x.claims, x.assigned, x.released, x.returned) for x in report.clerks] == [
        ("东区业务员一", 2, 0, 1, 1),
        ("东区业务员二", 0, 1, 0, 2),
    ]
    assert report.reasons == [
        ("return", "30天未跟进", 2),
        ("return", "90天未成交", 1),
        ("release", "客户无意向", 1),
    ]
    only2 = pool_analysis(session, march(head, clerk=c2))
    assert [(x.kind, x.entered, x.left) for x in only2.flows] == [
        ("assign", 0, 1),
        ("return", 2, 0),
    ]


# -- R-REPORT-6 ---------------------------------------------------------------------------


def test_profiles_keep_the_order_asked_and_only_customers_in_scope(session, world):
    c1 = world["east.clerk1"]
    first = make_customer(session, c1, name="档案客户一")
    second = make_customer(session, c1, name="档案客户二")
    make_contact(session, second, name="王经理", is_primary=True)
    for day in range(1, 11):
        make_activity(session, second, planned_at=at(3, day))
    colleague = make_customer(session, world["east.clerk2"], name="同事的客户")
    west = make_customer(session, world["west.clerk1"], name="西区档案客户")
    session.commit()
    sheets = customer_profiles(session, c1, [second.id, west.id, colleague.id, first.id])
    assert [s.customer.name for s in sheets] == ["档案客户二", "档案客户一"]
    assert [c.name for c in sheets[0].profile.contacts] == ["王经理"]
    assert len(sheets[0].shown("activities")) == 8 and sheets[0].more("activities")
    assert sheets[0].total("activities") == "10"
    assert customer_profiles(session, world["east.head"], [west.id]) == []


def test_days_in_stage_from_the_history_the_service_records(session, world):
    """R-REPORT-4: stage_changed records when the left stage was entered, so the report's
    days in stage follow the opportunity's real moves (2 and 5 days here)."""
    clerk = world["east.clerk1"]
    stages = {s.code: s for s in session.scalars(select(Stage))}
    customer = make_customer(session, clerk, name="阶段历史客户")
    o = open_opportunity(session, customer, title="阶段", by=clerk, at=at(3, 1))
    for code, when in (("follow", at(3, 3)), ("needs", at(3, 8))):
        old = o.stage_id
        o.stage_id = stages[code].id
        stage_changed(session, o, old, by=clerk, at=when)
    session.commit()
    history = session.execute(
        select(StageChange.from_since, StageChange.at, StageChange.reached_order)
        .where(StageChange.opportunity_id == o.id)
        .order_by(StageChange.at)
    ).all()
    assert history == [
        (None, at(3, 1), stages["lead"].sort_order),
        (at(3, 1), at(3, 3), stages["follow"].sort_order),
        (at(3, 3), at(3, 8), stages["needs"].sort_order),
    ]
    # Lost keeps the furthest stage reached.
    o.stage_id, o.lost_reason_id = stages["lost"].id, by_code(session, LostReason, "price").id
    stage_changed(session, o, stages["needs"].id, by=clerk, at=at(3, 9))
    session.commit()
    last = session.scalar(
        select(StageChange.reached_order)
        .where(StageChange.opportunity_id == o.id)
        .order_by(StageChange.at.desc())
        .limit(1)
    )
    assert last == stages["needs"].sort_order
    lines = {s.name: s for s in pipeline(session, march(world["east.head"])).stages}
    assert (lines["线索"].stints, lines["线索"].avg_days) == (1, pytest.approx(2.0))
    assert (lines["商务跟进"].stints, lines["商务跟进"].avg_days) == (1, pytest.approx(5.0))
