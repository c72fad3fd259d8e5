from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in_with_the_form
from tests.conftest import PASSWORD


def test_it_signs_in_through_the_form_and_shows_the_dashboard(page: Page, alice):
    sign_in_with_the_form(page, "alice", PASSWORD)

    expect(page.get_by_role("heading", name="Hello, alice")).to_be_visible()
    expect(page.locator("#recordings")).to_contain_text("No recordings yet")
    expect(page.locator(".usermenu")).to_contain_text("student")


def test_it_shows_an_error_for_a_wrong_password(page: Page, alice):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "not-her-password")
    page.click("button[type=submit]")

    expect(page.locator(".msg-error")).to_contain_text("enter a correct username and password")
    assert page.url.endswith("/accounts/login/")


def test_it_signs_up_a_new_student(page: Page, db):
    page.goto("/accounts/signup/")
    page.fill("input[name=username]", "dora")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("button[type=submit]")

    expect(page.get_by_role("heading", name="Hello, dora")).to_be_visible()
    expect(page.locator(".msg-success")).to_contain_text("Welcome to d-DeVIS, dora")
