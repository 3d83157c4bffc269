"""Account administration (R-ACCOUNT-4, R-AUDIT-2, R-SCOPE-1, issue #3): a division admin
lists his division's accounts with role, state and last sign-in, and the dormant ones;
accounts are never changed here (only through account requests)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.clock import now
from portal.models import User

URL = "/admin/user/"
# A username alone in a table cell (the menu, filters and URLs never are).
USERNAME_RE = re.compile(r">\s*((?:east|west)\.(?:head|admin|clerk1|clerk2)|gm|admin)\s*<")
MOBILE = "13812345678"


def _usernames(html: str) -> set[str]:
    return set(USERNAME_RE.findall(html))


def _set(session, world, username, **values):
    user = session.get(User, world[username].id)
    for key, value in values.items():
        setattr(user, key, value)
    session.commit()


EAST = {"east.head", "east.admin", "east.clerk1", "east.clerk2"}
WEST = {"west.head", "west.admin", "west.clerk1", "west.clerk2"}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("east.admin", EAST),
        ("east.head", EAST),
        ("west.admin", WEST),
        ("gm", EAST | WEST | {"gm", "admin"}),
        ("admin", EAST | WEST | {"gm", "admin"}),
    ],
)
def test_account_list_is_confined_to_the_division(login, world, role, expected):
    response = login(role).get(URL)
    assert response.status_code == 200
    assert _usernames(response.get_data(as_text=True)) == expected


def test_list_shows_role_state_and_last_sign_in(login, session, world):
    _set(session, world, "east.clerk2", state="frozen")
    client = login("east.admin")
    html = client.get(URL).get_data(as_text=True)
    assert "业务人员" in html  # the role's name
    assert "冻结" in html
    assert "从未登录" in html  # east.clerk1 never signed in
    signed_in = session.get(User, world["east.admin"].id).last_login_at
    assert f"{signed_in:%Y-%m-%d %H:%M}" in html


def test_accounts_of_another_division_answer_404(login, world):
    client = login("west.admin")
    assert client.get(f"{URL}details/?id={world['east.clerk1'].id}").status_code == 404
    assert client.get(f"{URL}details/?id={world['west.clerk1'].id}").status_code == 200


@pytest.mark.parametrize("role", ["east.clerk1", "west.clerk2"])
def test_clerks_do_not_see_accounts(login, world, role):
    client = login(role)
    assert client.get(URL).status_code == 404
    assert client.get(f"{URL}details/?id={world[role].id}").status_code == 404


def test_dormant_preset_lists_accounts_without_a_sign_in_for_14_days(login, session, world):
    _set(session, world, "east.clerk1", last_login_at=now() - timedelta(days=2))
    _set(session, world, "east.clerk2", last_login_at=now() - timedelta(days=15))
    _set(session, world, "west.clerk1", last_login_at=now() - timedelta(days=30))
    _set(session, world, "west.clerk2", last_login_at=now() - timedelta(days=30), state="frozen")
    # Nobody else has signed in yet; each login() below counts as a sign-in.
    for role, expected in (
        ("east.admin", {"east.clerk2", "east.head"}),
        ("west.head", {"west.clerk1", "west.admin"}),
        ("gm", {"east.clerk2", "east.head", "west.clerk1", "west.admin", "admin"}),
    ):
        client = login(role)
        html = client.get(URL, query_string={"preset": "dormant"}).get_data(as_text=True)
        assert _usernames(html) == expected, role
        assert "休眠账号（14天未登录）" in html
    # Signing in ends dormancy; "all" lists everyone again.
    client = login("east.clerk2")
    html = login("east.admin").get(URL, query_string={"preset": "dormant"}).get_data(as_text=True)
    assert _usernames(html) == {"east.head"}
    assert _usernames(login("east.admin").get(URL).get_data(as_text=True)) == EAST
    assert client.get(URL).status_code == 404


def test_mobiles_are_masked_for_the_division_admin(login, session, world):
    _set(session, world, "east.clerk1", mobile=MOBILE)
    admin = login("east.admin")
    for url in (URL, f"{URL}details/?id={world['east.clerk1'].id}"):
        html = admin.get(url).get_data(as_text=True)
        assert "138****5678" in html and MOBILE not in html, url
    # Searching by number does not reveal it either (mobile is not searchable).
    html = admin.get(URL, query_string={"search": MOBILE}).get_data(as_text=True)
    assert "east.clerk1" not in _usernames(html)
    for role in ("east.head", "gm"):
        html = login(role).get(f"{URL}details/?id={world['east.clerk1'].id}").get_data(as_text=True)
        assert MOBILE in html, role


@pytest.mark.parametrize("role", ["east.admin", "east.head", "gm", "admin"])
def test_accounts_are_never_changed_here(login, session, world, role):
    client = login(role)
    target = world["east.clerk1"]
    before = session.scalar(select(func.count()).select_from(User))
    assert client.get(f"{URL}new/").status_code in (302, 404)
    assert client.get(f"{URL}edit/?id={target.id}").status_code in (302, 404)
    client.post(f"{URL}new/", data={"username": "x.new", "display_name": "新人"})
    client.post(
        f"{URL}edit/?id={target.id}",
        data={"display_name": "改名", "state": "frozen", "role": "sysadmin"},
    )
    client.post(f"{URL}delete/", data={"id": str(target.id)})
    client.post(f"{URL}action/", data={"action": "delete", "rowid": [str(target.id)]})
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(User)) == before
    user = session.get(User, target.id)
    assert (user.display_name, user.state, user.role_code) == (
        target.display_name,
        "active",
        "clerk",
    )
    html = client.get(URL).get_data(as_text=True)
    assert "/admin/user/edit/" not in html and "/admin/user/new/" not in html
