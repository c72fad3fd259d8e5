"""How a refused htmx request explains itself next to the control that sent it.

Every htmx form holds an error slot (``templates/_form_error.html``) and its fields their
own error lists (``templates/_field_errors.html``). A view that refuses such a request
answers 4xx with one of these, and names what it replaces (``HX-Retarget``, swapped
``outerHTML``); ``static/js/forms.js`` swaps a 4xx that names its target like a 2xx.
Without htmx the same view answers the whole page, and these helpers render it as is.
"""

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware: views are typed with it."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request behind `login_required`: its user is signed in, never anonymous (views typed with it)."""

    user: User


def form_refused(
    request: HtmxHttpRequest, template: str, context: dict[str, Any], *, status: int, target: str
) -> HttpResponse:
    """`template` (a form rendered with its errors) with a 4xx `status`; htmx puts it in place of `target`."""
    response = render(request, template, context, status=status)
    if request.htmx:
        reswap(retarget(response, target), "outerHTML")
    return response


def message_refused(request: HtmxHttpRequest, message: str, *, status: int, slot: str) -> HttpResponse:
    """Only a message, for the error slot whose id is `slot` (a form that must keep what it holds, a file)."""
    response = render(request, "_form_error.html", {"error": message, "slot_id": slot}, status=status)
    return reswap(retarget(response, f"#{slot}"), "outerHTML")


def page_redirect(request: HtmxHttpRequest, to: Any) -> HttpResponse:
    """Open `to` (a URL, or an object with a page) after a form: htmx follows HX-Redirect, a plain form a redirect."""
    return HttpResponseClientRedirect(resolve_url(to)) if request.htmx else redirect(to)
