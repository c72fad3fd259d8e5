"""URLs of the whole site."""

from django.contrib import admin
from django.urls import include, path

from ddevis_site.dashboard import dashboard

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("", include("accounts.urls")),
    path("", include("experiments.urls")),
    path("", include("modelzoo.urls")),
    path("", include("insights.urls")),
    path("", include("live.urls")),
    path("jobs/", include("jobs.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("ddevis_site.api_urls")),
]

# A body that arrives too late (ddevis_site.body_limits) is a 408 with a sentence.
handler400 = "ddevis_site.body_limits.bad_request"
