from tests.conftest import PASSWORD


def test_it_shows_the_login_form(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_it_logs_in_and_lands_on_the_dashboard(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == "/"


def test_it_rejects_a_wrong_password(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert b"enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_it_logs_out_with_post_only(client, alice):
    client.force_login(alice)

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_changes_the_password(client, alice):
    client.force_login(alice)

    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "a-new-long-secret-1", "new_password2": "a-new-long-secret-1"},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-secret-1")


def test_it_keeps_csrf_checks_on(alice):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 403
