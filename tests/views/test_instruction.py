"""领导批示 (R-FOLLOW-4/6, issue #3 item 2): only a division head or the group manager writes
the leader instruction on a follow-up; for anyone else the field is absent and a hand-made
POST with `instruction=` stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import Activity
from tests.factories import make_activity, make_customer

URL = "/admin/activity"


@pytest.fixture
def activity(session, world):
    customer = make_customer(session, world["east.clerk1"], name="批示客户")
    planned = make_activity(session, customer, subject="电话回访")
    session.commit()
    return planned


def _fresh(session, pk) -> Activity:
    session.expire_all()
    return session.get(Activity, pk)


def _form(activity, **extra) -> dict:
    return {
        "kind": "plan",
        "subject": activity.subject,
        "customer": str(activity.customer_id),
        "planned_at": activity.planned_at.strftime("%Y-%m-%d %H:%M:%S"),
        "state": "pending",
        "seen_version": str(activity.version),
        **extra,
    }


@pytest.mark.parametrize(
    ("role", "offered"),
    [("east.clerk1", False), ("east.head", True), ("gm", True)],
)
def test_instruction_field_only_for_head_and_group_manager(login, activity, role, offered):
    client = login(role)
    for url in (f"{URL}/edit/?id={activity.id}", f"{URL}/new/"):
        html = client.get(url).get_data(as_text=True)
        assert ('name="instruction"' in html) == offered, (role, url)


def test_clerk_hand_made_post_does_not_store_an_instruction(login, session, activity):
    client = login("east.clerk1")
    response = client.post(
        f"{URL}/edit/?id={activity.id}",
        data=_form(activity, subject="电话回访（已改）", instruction="我自己批的"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    saved = _fresh(session, activity.id)
    assert saved.subject == "电话回访（已改）"  # the edit itself went through
    assert (saved.instruction, saved.instruction_by_id, saved.instruction_at) == (None, None, None)
    response = client.post(
        f"{URL}/new/", data=_form(activity, subject="新的回访", instruction="我自己批的")
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    created = session.scalar(select(Activity).where(Activity.subject == "新的回访"))
    assert created is not None and created.instruction is None


@pytest.mark.parametrize("role", ["east.head", "gm"])
def test_head_and_group_manager_write_the_instruction(login, session, world, activity, role):
    client = login(role)
    response = client.post(
        f"{URL}/edit/?id={activity.id}",
        data=_form(activity, owner=str(activity.owner_id), instruction="本周内上门拜访"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    saved = _fresh(session, activity.id)
    assert saved.instruction == "本周内上门拜访"
    assert saved.instruction_by_id == world[role].id and saved.instruction_at is not None


def test_clerk_edit_keeps_the_heads_instruction(login, session, activity):
    login("east.head").post(
        f"{URL}/edit/?id={activity.id}",
        data=_form(activity, owner=str(activity.owner_id), instruction="本周内上门拜访"),
    )
    saved = _fresh(session, activity.id)
    clerk = login("east.clerk1")
    # The clerk's own edit (and a forged empty instruction) leaves the instruction alone…
    clerk.post(f"{URL}/edit/?id={activity.id}",
               data=_form(saved, subject="电话回访（改）", instruction=""))
    assert _fresh(session, activity.id).instruction == "本周内上门拜访"
    # …and he replies on the acknowledge page, which stamps the acknowledgement (R-FOLLOW-6).
    response = clerk.post(f"{URL}/acknowledge/?id={activity.id}", data={"reply": "已约周四上门"})
    assert response.status_code == 302
    saved = _fresh(session, activity.id)
    assert saved.instruction == "本周内上门拜访"
    assert saved.instruction_reply == "已约周四上门" and saved.instruction_ack_at is not None


def test_division_admin_cannot_write_an_instruction(login, session, activity):
    client = login("east.admin")
    assert client.get(f"{URL}/edit/?id={activity.id}").status_code in (302, 404)
    client.post(f"{URL}/edit/?id={activity.id}", data=_form(activity, instruction="越权批示"))
    assert _fresh(session, activity.id).instruction is None
