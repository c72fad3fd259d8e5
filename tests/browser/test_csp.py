"""The Content-Security-Policy holds in a real browser, and the page fixture reports what it blocks."""

from playwright.sync_api import Page

from tests.browser.conftest import sign_in


def test_it_blocks_an_injected_inline_script_and_reports_it(page: Page, alice):
    sign_in(page, "alice")
    page.goto("/")

    ran = page.evaluate(
        """() => new Promise((resolve) => {
            window.injected = false;
            document.addEventListener("securitypolicyviolation", () => resolve(window.injected), { once: true });
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
        })"""
    )

    assert ran is False
    assert any("script-src" in violation for violation in page.csp_violations), page.csp_violations
    page.csp_violations.clear()  # provoked on purpose; any other violation still fails the test


def test_the_api_docs_render_under_the_policy(page: Page, alice):
    sign_in(page, "alice")

    page.goto("/api/docs/")

    page.wait_for_selector(".swagger-ui .info .title")
    assert "d-DeVIS API" in page.inner_text(".swagger-ui .info .title")


def test_the_account_page_makes_and_revokes_a_token_in_place(page: Page, alice):
    sign_in(page, "alice")
    page.goto("/accounts/")

    page.fill("input[name=name]", "marking script")
    page.click("#token-form button[type=submit]")
    key = page.inner_text("[data-token-key]")
    page.click("[data-token-list] button[type=submit]")

    page.wait_for_selector("[data-no-tokens]")
    assert len(key) >= 40
    assert page.url.endswith("/accounts/")
