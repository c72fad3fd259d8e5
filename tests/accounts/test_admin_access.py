from tests.conftest import login


def test_it_keeps_students_out_of_the_admin(client, alice):
    response = login(client, alice).get("/admin/")

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_it_keeps_instructors_out_of_the_admin(client, ines):
    assert login(client, ines).get("/admin/").status_code == 302


def test_it_lets_admins_in(client, admin_user):
    assert login(client, admin_user).get("/admin/").status_code == 200
