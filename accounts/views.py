"""Sign-up and the account page (API tokens)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts import selectors
from accounts.forms import ApiTokenForm, SignupForm
from accounts.services import api_token_create, api_token_revoke, student_signup
from core.errors import ServiceError
from core.htmx import AuthenticatedHttpRequest, HtmxHttpRequest
from core.throttles import SIGNUP_LIMIT, client_address


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create a student account and sign it in (a few per address and hour: accounts cost nothing to make)."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        address = client_address(request)
        if wait := SIGNUP_LIMIT.wait(address):
            form.add_error(None, f"Too many accounts were made from this address; try again in {wait}.")
            status = 429
        elif form.is_valid():
            SIGNUP_LIMIT.hit(address)
            user = student_signup(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to d-DeVIS, {user.username}! Start by adding a clip.")
            return redirect("dashboard")
    return render(request, "registration/signup.html", {"form": form}, status=status)


def _account_context(request: AuthenticatedHttpRequest, form: ApiTokenForm | None = None, **extra: object) -> dict:
    return {
        "tokens": selectors.api_tokens_live(user=request.user),
        "token_form": form or ApiTokenForm(initial={"days": int(settings.API_TOKEN_TTL_DAYS)}),
        "ttl_days": int(settings.API_TOKEN_TTL_DAYS),
        **extra,
    }


def _tokens_answer(request: HtmxHttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    """The account page, or only its tokens card for htmx."""
    if not request.htmx:
        return render(request, "accounts/account.html", context, status=status)
    response = render(request, "accounts/account.html#tokens", context, status=status)
    # A refused form is swapped in like a success (static/js/forms.js): it names its target.
    return reswap(retarget(response, "#tokens"), "outerHTML") if status >= 400 else response


@login_required
@require_http_methods(["GET", "POST"])
def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The account page: your API tokens (revoke any, make one; its key is shown once) and your password."""
    if request.method == "GET":
        return _tokens_answer(request, _account_context(request))
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, key = api_token_create(
                user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            # Rendered, not redirected: the key exists nowhere else and must be seen now.
            return _tokens_answer(request, _account_context(request, new_token=token, new_key=key))
    return _tokens_answer(request, _account_context(request, form), status=400)


@login_required
@require_POST
def api_token_revoke_view(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of your tokens: a script that uses it gets a 401 from now on."""
    token = selectors.api_token_get(user=request.user, token_id=token_id)
    api_token_revoke(token=token)
    if request.htmx:
        return _tokens_answer(request, _account_context(request, revoked=token))
    messages.success(request, f"Revoked the token “{token.name}”.")
    return redirect("account")
