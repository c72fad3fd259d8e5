from django.urls import path

from insights import views

urlpatterns = [
    path("analyses/<int:analysis_id>/attribution/", views.attribution_page, name="attribution"),
    path("attributions/<int:attribution_id>/<str:key>.png", views.attribution_image, name="attribution_image"),
    path(
        "attributions/<int:attribution_id>/<str:key>/<str:part>.wav", views.attribution_audio, name="attribution_audio"
    ),
    path("recordings/<int:recording_id>/attack/", views.attack_new, name="attack_new"),
    path("attacks/<int:attack_id>/", views.attack_detail, name="attack_detail"),
    path("recordings/<int:recording_id>/sweep/", views.sweep_new, name="sweep_new"),
    path("sweeps/<int:sweep_id>/", views.sweep_detail, name="sweep_detail"),
    path("sweeps/<int:sweep_id>/points/<int:index>/", views.sweep_open_point, name="sweep_open_point"),
    path("sweeps/<int:sweep_id>/figure.<str:fmt>", views.sweep_figure, name="sweep_figure"),
    path("models/<int:version_id>/dataset/", views.model_dataset, name="model_dataset"),
]
