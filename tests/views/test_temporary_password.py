"""An account created through an account request starts with a temporary password and must
change it at its first sign-in (R-ACCOUNT-1, issue #3 item 4)."""

from __future__ import annotations

import pytest

from portal.models import User
from portal.services import accounts as wf


@pytest.fixture
def new_clerk(session, world):
    req = wf.new_account_request(
        session,
        by=world["east.admin"],
        change_type="create",
        person_name="王新",
        username="east.wang",
        requested_role="clerk",
        reason="新入职业务员",
    )
    wf.submit(session, req, by=world["east.admin"])
    wf.approve(session, req, by=world["east.head"], note="同意")
    outcome = wf.execute(session, req, by=world["admin"])
    session.commit()
    return outcome


def _goes_to_password(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].endswith("/password")


def test_first_sign_in_leads_to_the_password_page_until_changed(app, session, new_clerk):
    assert new_clerk.user.must_change_password is True
    client = app.test_client()
    temporary = new_clerk.temporary_password
    assert _goes_to_password(client.login("east.wang", temporary))
    for url in ("/admin/", "/admin/customer/", "/admin/customer/new/", "/"):
        assert _goes_to_password(client.get(url)), url
    # A refused change (too short) leaves the account where it was.
    client.post("/password", data={"old_password": temporary, "new_password": "x", "repeat": "x"})
    assert _goes_to_password(client.get("/admin/"))

    response = client.post(
        "/password",
        data={"old_password": temporary, "new_password": "Eigen#2026", "repeat": "Eigen#2026"},
    )
    assert response.status_code == 302 and not _goes_to_password(response)
    assert client.get("/admin/").status_code == 200
    session.expire_all()
    assert session.get(User, new_clerk.user.id).must_change_password is False
    # The next sign-in goes straight in.
    client.post("/logout")
    response = client.login("east.wang", "Eigen#2026")
    assert response.status_code == 302 and not _goes_to_password(response)


def test_sign_out_stays_possible_and_other_accounts_are_not_asked(login, app, new_clerk):
    client = app.test_client()
    client.login("east.wang", new_clerk.temporary_password)
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert login("east.clerk1").get("/admin/").status_code == 200
