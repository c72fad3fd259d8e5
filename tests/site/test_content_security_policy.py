"""Every answer carries the Content-Security-Policy, and the page's scripts carry its nonce."""

import re


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


def test_pages_carry_a_policy_with_a_fresh_nonce_their_script_tags_use(alice_client):
    first, second = alice_client.get("/"), alice_client.get("/")

    policy = _policy(first)
    nonce = re.search(r"'nonce-([^']+)'", first["Content-Security-Policy"]).group(1)
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert f'nonce="{nonce}"' in first.content.decode()
    assert nonce not in second["Content-Security-Policy"]


def test_no_page_has_an_inline_script(alice_client):
    page = alice_client.get("/").content.decode()

    inline = [tag for tag in re.findall(r"<script\b[^>]*>", page) if "src=" not in tag]
    assert inline == []
    assert '"includeIndicatorStyles": false' in page


def test_api_answers_and_the_login_page_carry_it_too(client, alice):
    assert "default-src 'self'" in client.get("/api/models/")["Content-Security-Policy"]
    assert "default-src 'self'" in client.get("/accounts/login/")["Content-Security-Policy"]


def test_the_server_error_page_needs_no_nonce_and_no_static_file():
    from django.template.loader import get_template

    html = get_template("500.html").render()

    assert "<style" not in html and "<script" not in html and "/static/" not in html


def test_no_template_has_an_inline_event_handler_or_javascript_url():
    from django.conf import settings

    found = [
        f"{path.relative_to(settings.BASE_DIR)}: {match.group(0)}"
        for path in (settings.BASE_DIR / "templates").rglob("*.html")
        for match in re.finditer(r"\son[a-z]+\s*=|javascript:", path.read_text())
    ]

    assert found == []
