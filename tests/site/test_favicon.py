"""The site's icon: every page names static/favicon.svg, and /favicon.ico leads there."""

from pathlib import Path

from django.contrib.staticfiles import finders


def test_every_page_names_the_svg_icon(client, db):
    page = client.get("/accounts/login/").content.decode()

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = Path(finders.find("favicon.svg")).read_text()
    assert icon.startswith("<svg") and "viewBox" in icon


def test_the_old_address_redirects_to_it(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
