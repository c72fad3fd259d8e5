"""The REST API: /api/ (see DESIGN.md for the contract)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from experiments.api import AnalysisViewSet, RecordingViewSet
from jobs import api as jobs_api
from modelzoo.api import ModelVersionViewSet

router = DefaultRouter()
router.register("models", ModelVersionViewSet, basename="api_model")
router.register("recordings", RecordingViewSet, basename="api_recording")
router.register("analyses", AnalysisViewSet, basename="api_analysis")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api_token"),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("jobs/<uuid:job_id>/", jobs_api.job_detail, name="api_job_detail"),
    path("jobs/<uuid:job_id>/retry/", jobs_api.job_retry_api, name="api_job_retry"),
    path("", include(router.urls)),
]
