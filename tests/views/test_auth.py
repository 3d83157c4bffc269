"""Sign-in (issue #2 item 5): lockout in the database, login log, sessions ended everywhere."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import now
from portal.models import LoginLog, User


def _user(session, username):
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def test_sign_in_and_back_to_the_page_asked_for(client, world):
    response = client.get("/admin/customer/?preset=mine")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    next_url = response.headers["Location"].split("next=", 1)[1]
    response = client.post(
        f"/login?next={next_url}", data={"username": "east.clerk1", "password": "Demo#2026"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/customer/?preset=mine"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil",
        "\t//evil.example",
    ],
)
def test_no_open_redirect_after_sign_in(client, world, target):
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "east.clerk1", "password": "Demo#2026"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_wrong_password_is_refused_and_logged_with_ip(client, session, world):
    response = client.post(
        "/login",
        data={"username": "east.clerk1", "password": "nope"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)
    entry = session.scalars(select(LoginLog).order_by(LoginLog.id.desc())).first()
    assert (entry.username, entry.success, entry.ip, entry.reason) == (
        "east.clerk1",
        False,
        "10.1.2.3",
        "bad_password",
    )
    client.post("/login", data={"username": "east.clerk1", "password": "Demo#2026"})
    entry = session.scalars(select(LoginLog).order_by(LoginLog.id.desc())).first()
    assert entry.success is True and entry.user_id == world["east.clerk1"].id


def test_ten_failures_lock_the_account_for_fifteen_minutes(client, session, world):
    for _ in range(10):
        client.post("/login", data={"username": "east.clerk2", "password": "wrong"})
    user = _user(session, "east.clerk2")
    assert user.locked_until is not None
    assert timedelta(minutes=14) < user.locked_until - now() <= timedelta(minutes=15)
    # Even the right password is refused while locked, with a clear message.
    response = client.post("/login", data={"username": "east.clerk2", "password": "Demo#2026"})
    assert response.status_code == 200
    assert "账号已锁定" in response.get_data(as_text=True)
    # Once the lock has passed, the right password works again.
    user.locked_until = now() - timedelta(seconds=1)
    session.commit()
    response = client.post("/login", data={"username": "east.clerk2", "password": "Demo#2026"})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("state", "message"), [("frozen", "账号已冻结"), ("deactivated", "账号已停用")]
)
def test_frozen_and_deactivated_accounts_cannot_sign_in(client, session, world, state, message):
    user = _user(session, "west.clerk1")
    user.state = state
    session.commit()
    response = client.post("/login", data={"username": "west.clerk1", "password": "Demo#2026"})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_freezing_ends_an_open_session(login, session):
    client = login("west.clerk1")
    assert client.get("/admin/customer/").status_code == 200
    user = _user(session, "west.clerk1")
    user.state = "frozen"
    session.commit()
    assert client.get("/admin/customer/").status_code == 302


def test_sign_out_ends_the_session_everywhere(login):
    laptop, phone = login("east.clerk1"), login("east.clerk1")
    assert phone.get("/admin/").status_code == 200
    response = laptop.post("/logout")
    assert response.status_code == 302
    assert laptop.get("/admin/").status_code == 302
    assert phone.get("/admin/").status_code == 302


def test_password_change_ends_other_sessions(login, session):
    laptop, phone = login("east.clerk1"), login("east.clerk1")
    response = laptop.post(
        "/password",
        data={"old_password": "Demo#2026", "new_password": "Neu#20261", "repeat": "Neu#20261"},
    )
    assert response.status_code == 302
    assert laptop.get("/admin/").status_code == 200  # this browser continues
    assert phone.get("/admin/").status_code == 302  # the other one is signed out
    client = laptop.application.test_client()
    assert client.login("east.clerk1", "Neu#20261").status_code == 302


def test_password_change_errors_are_shown(login):
    client = login("east.clerk1")
    response = client.post(
        "/password", data={"old_password": "wrong", "new_password": "x", "repeat": "y"}
    )
    assert response.status_code == 200
    assert "原密码不正确" in response.get_data(as_text=True)
    response = client.post(
        "/password", data={"old_password": "Demo#2026", "new_password": "short", "repeat": "short"}
    )
    assert "新密码至少 8 位" in response.get_data(as_text=True)


def test_remember_cookie_is_secure_httponly_and_short(client, world):
    response = client.post(
        "/login", data={"username": "east.clerk1", "password": "Demo#2026", "remember": "y"}
    )
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")
    )
    assert "Secure" in cookie and "HttpOnly" in cookie
    from email.utils import parsedate_to_datetime

    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    from datetime import UTC, datetime

    assert expires - datetime.now(UTC) <= timedelta(days=14, minutes=1)


def test_every_portal_page_needs_sign_in(client, world):
    for url in (
        "/admin/",
        "/admin/customer/",
        "/admin/pool/",
        "/admin/lead/new/",
        "/admin/customer/details/?id=1",
        "/admin/regions/children",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login")
