def test_dashboard_requires_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_clerk_sees_dashboard(login):
    client = login("east.clerk1")
    assert client.get("/admin/").status_code == 200
