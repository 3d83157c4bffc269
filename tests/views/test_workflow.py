"""The sales workflow through the portal (issue #5 "Done when"), on both databases."""

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.clock import now
from portal.models import (
    Activity,
    Customer,
    FeedbackReason,
    Lead,
    Opportunity,
    Order,
    OwnershipChange,
    Stage,
)
from tests.factories import grade, make_activity, make_customer, make_lead, set_pool_rule


def _set_rule(session, world, **values):
    return set_pool_rule(session, world["east.head"].division_id, **values)


def test_clerk_converts_a_lead_with_an_opportunity(login, session, world):
    lead = make_lead(
        session,
        world["east.clerk1"],
        person_name="孙建国",
        company="建国机电",
        mobile="13912340000",
        grade_id=grade(session, "A").id,
    )
    session.commit()
    client = login("east.clerk1")
    response = client.post("/admin/lead/action/", data={"action": "convert", "rowid": str(lead.id)})
    assert response.status_code == 302 and "/admin/lead/convert/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "孙建国" in page and "线索转化" in page
    stage = session.scalar(select(Stage).where(Stage.code == "needs"))
    response = client.post(
        f"/admin/lead/convert/?ids={lead.id}",
        data={
            "link_to": "",
            "create_opportunity": "y",
            "opportunity_title": "机电设备采购",
            "opportunity_amount": "120000",
            "stage": str(stage.id),
        },
    )
    assert response.status_code == 302
    customer = session.scalar(select(Customer).where(Customer.name == "建国机电"))
    assert customer.owner_id == world["east.clerk1"].id and customer.grade.code == "A"
    opportunity = session.scalar(select(Opportunity).where(Opportunity.customer_id == customer.id))
    assert opportunity.title == "机电设备采购" and opportunity.stage_id == stage.id
    session.expire_all()
    assert session.get(Lead, lead.id).status == "converted"
    # Converting again through the portal is refused with the rule named.
    response = client.post(
        f"/admin/lead/convert/?ids={lead.id}", data={"link_to": ""}, follow_redirects=True
    )
    assert "不能再转化" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_complete_48h_plan_with_feedback_and_next_plan_by_grade(login, session, world):
    client = login("east.clerk1")
    client.post(
        "/admin/customer/new/",
        data={
            "name": "回访客户",
            "kind": "company",
            "status": "intent",
            "grade": str(grade(session, "B").id),
        },
    )
    customer = session.scalar(select(Customer).where(Customer.name == "回访客户"))
    plan = session.scalar(select(Activity).where(Activity.customer_id == customer.id))
    assert plan.template_code == "new_48h"
    assert plan.planned_at - customer.created_at >= timedelta(hours=47, minutes=59)
    # Without feedback: refused, nothing done.
    response = client.post(
        f"/admin/activity/complete/?id={plan.id}",
        data={"feedback_reason": "", "result": "打过电话"},
    )
    assert "客户反馈" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Activity, plan.id).state == "pending"
    # Later than the grade allows (B: 14 days): refused with the rule.
    reason = session.scalar(select(FeedbackReason.id).limit(1))
    too_late = (now() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/admin/activity/complete/?id={plan.id}",
        data={"feedback_reason": str(reason), "next_at": too_late},
    )
    assert "最长间隔 14 天" in response.get_data(as_text=True)
    response = client.post(
        f"/admin/activity/complete/?id={plan.id}",
        data={"feedback_reason": str(reason), "result": "有意向"},
    )
    assert response.status_code == 302
    session.expire_all()
    following = session.scalars(
        select(Activity).where(Activity.customer_id == customer.id, Activity.state == "pending")
    ).one()
    assert following.planned_at.date() == now().date() + timedelta(days=14)


def test_order_creates_the_four_purchase_plans(login, session, world):
    customer = make_customer(session, world["east.clerk1"], name="购车客户")
    session.commit()
    client = login("east.clerk1")
    response = client.post(
        "/admin/order/new/",
        data={
            "customer": str(customer.id),
            "number": "DD-0001",
            "amount": "188000",
            "signed_on": "2026-03-18",
            "state": "valid",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    order = session.scalar(select(Order).where(Order.number == "DD-0001"))
    plans = {
        a.template_code: a.planned_at
        for a in session.scalars(select(Activity).where(Activity.order_id == order.id))
    }
    assert plans == {
        "order_thanks_48h": datetime(2026, 3, 20, 10, 0),
        "order_maintenance_1w": datetime(2026, 3, 25, 10, 0),
        "order_satisfaction": datetime(2026, 4, 5, 10, 0),
        "order_usage_1m": datetime(2026, 4, 17, 10, 0),
    }


def test_claim_until_the_cap_then_sweep_and_cooldown(app, login, session, world):
    _set_rule(
        session,
        world,
        max_held=3,
        max_per_claim=10,
        max_per_day=50,
        cooldown_days=7,
        return_no_followup_days=30,
        return_no_deal_days=None,
    )
    pool = [
        make_customer(
            session,
            None,
            division=world["east.head"].division,
            name=f"公海{i}",
            mobile=f"1391111000{i}",
        )
        for i in range(4)
    ]
    session.commit()
    client = login("east.clerk1")
    listing = client.get("/admin/pool/").get_data(as_text=True)
    assert "139****0000" in listing and "13911110000" not in listing  # masked until claimed
    for customer in pool[:3]:
        client.post("/admin/pool/action/", data={"action": "claim", "rowid": str(customer.id)})
    response = client.post(
        "/admin/pool/action/",
        data={"action": "claim", "rowid": str(pool[3].id)},
        follow_redirects=True,
    )
    assert "持有上限" in response.get_data(as_text=True)
    session.expire_all()
    assert (
        session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.owner_id == world["east.clerk1"].id)
        )
        == 3
    )
    # Far enough ahead, the untouched customers go back with their reason…
    day = (now() + timedelta(days=31)).date().isoformat()
    result = app.test_cli_runner().invoke(args=["sweep", "--date", day])
    assert result.exit_code == 0, result.output
    assert "returned to pool 3" in result.output
    reasons = set(
        session.scalars(select(OwnershipChange.reason).where(OwnershipChange.kind == "return"))
    )
    assert reasons == {"超过30天未跟进"}
    # …and the previous owner cannot reclaim during the cooldown.
    response = client.post(
        "/admin/pool/action/",
        data={"action": "claim", "rowid": str(pool[0].id)},
        follow_redirects=True,
    )
    assert "天内不能再领取" in response.get_data(as_text=True)
    # The second run of the same day changes nothing.
    again = app.test_cli_runner().invoke(args=["sweep", "--date", day])
    assert "returned to pool 0" in again.output


def test_head_assigns_pool_customers_and_previews_returns(login, session, world):
    pool = [
        make_customer(session, None, division=world["east.head"].division, name=f"待分配{i}")
        for i in range(2)
    ]
    session.commit()
    head = login("east.head")
    ids = ",".join(str(c.id) for c in pool)
    response = head.post(
        f"/admin/pool/assign/?ids={ids}", data={"to_user": str(world["east.clerk2"].id)}
    )
    assert response.status_code == 302
    session.expire_all()
    assert {session.get(Customer, c.id).owner_id for c in pool} == {world["east.clerk2"].id}
    assert head.get("/admin/pool/preview/").status_code == 200
    assert login("east.clerk1").get("/admin/pool/preview/").status_code == 404


def test_leader_instruction_written_acknowledged_and_escalated(login, session, world):
    customer = make_customer(session, world["east.clerk1"], name="批示客户")
    plan = Activity(
        kind="plan",
        subject="逾期回访",
        customer_id=customer.id,
        division_id=customer.division_id,
        owner_id=world["east.clerk1"].id,
        planned_at=now() - timedelta(days=4),
    )
    session.add(plan)
    session.commit()
    head = login("east.head")
    dashboard = head.get("/admin/").get_data(as_text=True)
    assert "逾期回访" in dashboard.split('id="escalations"')[1]  # in the escalation queue
    assert re.search(r"东区业务员一</td><td class=\"text-right\">1<", dashboard)
    response = head.post(
        f"/admin/activity/edit/?id={plan.id}",
        data={
            "kind": "plan",
            "subject": "逾期回访",
            "customer": str(customer.id),
            "planned_at": plan.planned_at.strftime("%Y-%m-%d %H:%M:%S"),
            "owner": str(world["east.clerk1"].id),
            "instruction": "今天必须联系",
            "seen_version": str(plan.version),
        },
    )
    assert response.status_code == 302
    clerk = login("east.clerk1")
    assert 'data-figure="instructions_to_ack"' in clerk.get("/admin/").get_data(as_text=True)
    response = clerk.post(
        f"/admin/activity/acknowledge/?id={plan.id}", data={"reply": "已联系，明天上门"}
    )
    assert response.status_code == 302
    session.expire_all()
    saved = session.get(Activity, plan.id)
    assert saved.instruction_ack_at is not None and saved.instruction_reply == "已联系，明天上门"


def test_release_and_handover(login, session, world):
    customers = [
        make_customer(session, world["east.clerk1"], name=f"交接客户{i}") for i in range(3)
    ]
    session.commit()
    clerk = login("east.clerk1")
    response = clerk.post(
        f"/admin/customer/release/?ids={customers[0].id}", data={"reason": "客户已搬迁"}
    )
    assert response.status_code == 302
    head = login("east.head")
    response = head.post(
        "/admin/customer/handover/",
        data={
            "from_user": str(world["east.clerk1"].id),
            "to_user": str(world["east.clerk2"].id),
            "reason": "离职交接",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    owners = [session.get(Customer, c.id).owner_id for c in customers]
    assert owners == [None, world["east.clerk2"].id, world["east.clerk2"].id]
    kinds = sorted(session.scalars(select(OwnershipChange.kind)))
    assert kinds == ["handover", "handover", "release"]
    assert clerk.get("/admin/customer/handover/").status_code == 404


def test_dashboard_counts_for_the_clerk(login, session, world):
    clerk = world["east.clerk1"]
    customer = make_customer(session, clerk, name="工作台客户")
    session.add_all(
        [
            Activity(
                kind="plan",
                subject="今天",
                customer_id=customer.id,
                owner_id=clerk.id,
                division_id=customer.division_id,
                planned_at=now(),
            ),
            Activity(
                kind="plan",
                subject="昨天",
                customer_id=customer.id,
                owner_id=clerk.id,
                division_id=customer.division_id,
                planned_at=now() - timedelta(days=1),
            ),
        ]
    )
    session.commit()
    html = login("east.clerk1").get("/admin/").get_data(as_text=True)
    figures = dict(
        re.findall(r'data-figure="(\w+)".*?<div class="h3 mb-0">(\d+)</div>', html, re.S)
    )
    assert figures["plans_today"] == "1" and figures["plans_overdue"] == "1"
    assert figures["not_followed_3d"] == "1"


def test_junk_in_workflow_forms_gets_a_message_not_an_error(login, session, world):
    lead = make_lead(session, world["east.clerk1"], person_name="乱填线索")
    customer = make_customer(session, world["east.clerk1"], name="乱填客户")
    plan = Activity(
        kind="plan",
        subject="乱填回访",
        customer_id=customer.id,
        division_id=customer.division_id,
        owner_id=world["east.clerk1"].id,
        planned_at=now(),
    )
    session.add(plan)
    session.commit()
    clerk, head = login("east.clerk1"), login("east.head")
    responses = [
        clerk.post(f"/admin/lead/convert/?ids={lead.id}", data={"stage": "abc", "link_to": "x"}),
        clerk.post(f"/admin/lead/convert/?ids=abc,{lead.id}x", data={}),
        clerk.post(f"/admin/activity/complete/?id={plan.id}", data={"feedback_reason": "abc"}),
        clerk.post("/admin/activity/complete/?id=abc", data={}),
        head.post(
            "/admin/customer/handover/", data={"from_user": "abc", "to_user": "x", "reason": "测试"}
        ),
        head.post("/admin/pool/assign/?ids=zz", data={"to_user": "zz"}),
    ]
    assert all(r.status_code in (200, 302, 404) for r in responses), [
        r.status_code for r in responses
    ]


def test_group_manager_cannot_give_a_lead_to_another_division(login, session, world):
    lead = make_lead(session, world["east.clerk1"], person_name="跨版块线索")
    session.commit()
    gm = login("gm")
    gm.post(
        f"/admin/lead/convert/?ids={lead.id}",
        data={"link_to": "", "owners": [str(world["west.clerk1"].id)]},
    )
    customer = session.scalar(select(Customer).where(Customer.name == "跨版块线索"))
    assert customer is None or customer.owner_id != world["west.clerk1"].id


def test_head_dashboard_escalation_queue_and_overdue_per_clerk(login, session, world):
    """R-FOLLOW-4, R-FOLLOW-6: the head sees his division's plans overdue by more than two
    days and instructions unanswered as long, oldest first, and the overdue plans per
    clerk; nothing of the other division; a clerk sees neither table."""
    c1, c2 = world["east.clerk1"], world["east.clerk2"]
    at = now()
    mine, theirs = make_customer(session, c1), make_customer(session, c2)
    west = make_customer(session, world["west.clerk1"])
    make_activity(session, mine, subject="五天前", planned_at=at - timedelta(days=5))
    make_activity(session, theirs, subject="四天前", planned_at=at - timedelta(days=4))
    make_activity(session, mine, subject="昨天", planned_at=at - timedelta(days=1))
    make_activity(session, mine, subject="已完成", state="done", planned_at=at - timedelta(days=9))
    make_activity(
        session,
        theirs,
        subject="批示未回",
        planned_at=at + timedelta(days=3),
        instruction="请尽快拜访",
        instruction_at=at - timedelta(days=3),
    )
    make_activity(
        session,
        mine,
        subject="批示刚写",
        planned_at=at + timedelta(days=3),
        instruction="明天联系",
        instruction_at=at - timedelta(hours=2),
    )
    make_activity(session, west, subject="西区逾期", planned_at=at - timedelta(days=6))
    session.commit()
    html = login("east.head").get("/admin/").get_data(as_text=True)
    queue = html.split('id="escalations"')[1].split("</table>")[0]
    assert re.findall(r'">([^<]+)</a></td>', queue) == ["五天前", "四天前", "批示未回"]
    per_clerk = html.split('id="overdue-by-clerk"')[1].split("</table>")[0]
    assert re.findall(r"<td>([^<]+)</td><td class=\"text-right\">(\d+)</td>", per_clerk) == [
        ("东区业务员一", "2"),
        ("东区业务员二", "1"),
    ]
    assert 'id="escalations"' not in login("east.clerk1").get("/admin/").get_data(as_text=True)
