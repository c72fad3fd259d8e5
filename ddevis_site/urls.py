"""URLs of the whole site."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from ddevis_site.dashboard import dashboard

urlpatterns = [
    path("", dashboard, name="dashboard"),
    # Pages name the icon in a <link>; this answers browsers and tools that ask the old place
    # (resolved per request: the hashed static name exists once collectstatic has run).
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg"), permanent=True)),
    path("", include("accounts.urls")),
    path("", include("experiments.urls")),
    path("", include("modelzoo.urls")),
    path("", include("insights.urls")),
    path("", include("workshop.urls")),
    path("", include("live.urls")),
    path("jobs/", include("jobs.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("ddevis_site.api_urls")),
]

# A body that arrives too late (ddevis_site.body_limits) is a 408 with a sentence.
handler400 = "ddevis_site.body_limits.bad_request"
