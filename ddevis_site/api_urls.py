"""The REST API under /api/ (docs/api.md describes the contract; /api/schema/ is its OpenAPI schema)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from ddevis_site.api import LogoutView, TokenView
from experiments.api import AnalysisViewSet, RecordingViewSet
from experiments.api_experiments import CourseViewSet, ExperimentViewSet
from insights import api as insights_api
from insights import api_filters
from jobs import api as jobs_api
from live.api import LiveView
from modelzoo.api import ModelVersionViewSet
from workshop import api as workshop_api

router = DefaultRouter()
router.register("models", ModelVersionViewSet, basename="api_model")
router.register("recordings", RecordingViewSet, basename="api_recording")
router.register("analyses", AnalysisViewSet, basename="api_analysis")
router.register("experiments", ExperimentViewSet, basename="api_experiment")
router.register("courses", CourseViewSet, basename="api_course")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api_token"),
    path("auth/logout/", LogoutView.as_view(), name="api_logout"),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves its script as a file, so the page satisfies the CSP (no inline script).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api_schema", template_name="api/swagger_ui.html"),
        name="api_docs",
    ),
    path("jobs/<uuid:job_id>/", jobs_api.job_detail, name="api_job_detail"),
    path("jobs/<uuid:job_id>/retry/", jobs_api.job_retry_api, name="api_job_retry"),
    path("analyses/<int:analysis_id>/attribution/", insights_api.attribution_create, name="api_attribution_create"),
    path("attributions/<int:attribution_id>/", insights_api.attribution_detail, name="api_attribution_detail"),
    path("recordings/<int:recording_id>/attack/", insights_api.attack_create, name="api_attack_create"),
    path("attacks/<int:attack_id>/", insights_api.attack_detail, name="api_attack_detail"),
    path("recordings/<int:recording_id>/sweeps/", insights_api.sweep_create, name="api_sweep_create"),
    path("sweeps/<int:sweep_id>/", insights_api.sweep_detail, name="api_sweep_detail"),
    path("models/<int:version_id>/dataset/", insights_api.model_dataset, name="api_model_dataset"),
    path(
        "models/<int:version_id>/filters/<str:layer>/<int:index>/",
        api_filters.filter_profile,
        name="api_filter_profile",
    ),
    path(
        "models/<int:version_id>/filters/<str:layer>/<int:index>/labels/",
        api_filters.filter_label_create,
        name="api_filter_label_create",
    ),
    path("filter-labels/<int:label_id>/approve/", api_filters.filter_label_approve, name="api_filter_label_approve"),
    path("filter-labels/<int:label_id>/reject/", api_filters.filter_label_reject, name="api_filter_label_reject"),
    path("analyses/<int:analysis_id>/ablations/", api_filters.ablation_create, name="api_ablation_create"),
    path("ablations/<int:ablation_id>/", api_filters.ablation_detail, name="api_ablation_detail"),
    path("trainings/", workshop_api.training_list, name="api_training_list"),
    path("trainings/<int:training_id>/", workshop_api.training_detail, name="api_training_detail"),
    path("trainings/<int:training_id>/cancel/", workshop_api.training_cancel, name="api_training_cancel"),
    path("live/", LiveView.as_view(), name="api_live"),
    path("", include(router.urls)),
]
