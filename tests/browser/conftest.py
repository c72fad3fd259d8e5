"""Playwright on the system Chromium, against pytest-django's live server.

Every page is watched for console errors and failed requests; a test fails if any appear
(tests that provoke an error on purpose clear `page.console_errors`). Content-Security-Policy
violations are kept apart (`page.csp_violations`, from the document's `securitypolicyviolation`
events and Chromium's own console reports) and fail every test: no test may clear them.
"""

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
# Reports each violation on the console with a marker, from the first script of every document.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || event.documentURI}:${event.lineNumber} (${event.sample || ""})`);
});
"""


def _wait_for_function_without_eval(page: Page):
    """`page.wait_for_function` by polling `page.evaluate`.

    Playwright's own compiles the predicate with `new Function` inside the page, which the CSP
    forbids (no 'unsafe-eval', as it should be); `evaluate` goes through the DevTools protocol,
    which the page's policy does not govern.
    """

    def wait_for_function(expression: str, *, arg=None, timeout: float | None = None, polling: float | None = None):
        deadline = time.monotonic() + (20_000 if timeout is None else timeout) / 1000
        while True:
            try:
                if page.evaluate(expression, arg):
                    return
            except PlaywrightError as exc:
                if "Execution context was destroyed" not in str(exc):
                    raise
            if time.monotonic() > deadline:
                raise PlaywrightTimeoutError(f"waiting for {expression!r} timed out")
            page.wait_for_timeout(polling if isinstance(polling, int | float) else 50)

    return wait_for_function


# A page as it will stay for a layout check: loaded, every eager image in it decoded (lazy ones carry their size),
# its fonts in, and no htmx request in flight.
SETTLED = """() => document.readyState === "complete"
  && [...document.images].every((img) => img.complete || img.loading === "lazy")
  && !document.querySelector(".htmx-request")
  && document.fonts.status === "loaded"
"""


def wait_until_settled(page: Page) -> None:
    """Wait until the page is `SETTLED`.

    Playwright's `networkidle` waits for every request to end and then 500 ms more, background ones too
    (the lab prefetches the other layers' maps into the head, which draws nothing): a second or more per
    page of a layout test, for nothing the width of the page depends on.
    """
    _wait_for_function_without_eval(page)(SETTLED)


ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so that the `page` fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium).")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make between browser steps are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
        # While Playwright runs, its event loop counts as running in this thread, and Django keeps the
        # thread's connections apart from those it had before (a thread-critical asgiref Local is a context
        # variable then): the connection the tests opened meanwhile is closed here, while it can still be
        # seen, or it outlives the run and PostgreSQL refuses to drop the test database ("being accessed by
        # other users").
        from django.db import connections

        connections.close_all()


def watched_page(context: BrowserContext, live_server_url: str) -> Page:
    """A new page of `context` (opened on `live_server_url`) whose console errors and CSP violations are collected.

    See the module's doc; `sign_in` reads the server's URL from the page.
    """
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.live_server_url = live_server_url
    page.set_default_timeout(20_000)
    page.console_errors = []
    page.csp_violations = []
    page.wait_for_function = _wait_for_function_without_eval(page)

    def on_console(msg) -> None:
        if "CSP violation" in msg.text or "Content Security Policy" in msg.text:
            page.csp_violations.append(msg.text)
        elif msg.text.startswith("htmx:sendAbort"):
            # htmx aborts a poll whose element a swap has just replaced, and reports it (with the
            # request's afterRequest just before) as console errors: nothing failed.
            if page.console_errors and page.console_errors[-1].startswith("htmx:afterRequest"):
                page.console_errors.pop()
        elif msg.type == "error":
            page.console_errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return page


def assert_page_was_clean(page: Page) -> None:
    assert page.csp_violations == [], f"Content-Security-Policy violations: {page.csp_violations}"
    assert page.console_errors == [], f"errors in the browser console: {page.console_errors}"


@pytest.fixture
def page(browser: Browser, live_server, request) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1360, "height": 900})
    context.grant_permissions(["microphone"], origin=live_server.url)
    page = watched_page(context, live_server.url)
    yield page
    call = getattr(request.node, "report_call", None)
    if call is None or call.failed:
        # What the page showed when the test failed (a full-page screenshot of every passing test cost
        # 0.1-0.3 s each, for pictures nobody opened).
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert_page_was_clean(page)


def sign_in_with_the_form(page: Page, username: str, password: str) -> None:
    """Sign in through the real login form (tests/browser/test_login.py: the form itself is what they test)."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def sign_in(page: Page, username: str) -> None:
    """Give the page's browser a signed-in session of `username`, as the login form would; the page stays where it is.

    The form's two page loads (the form, then the dashboard it leads to) cost Chromium more than most
    steps of a test, for a form that test_login.py tests on its own.
    """
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=username))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": page.live_server_url}])
