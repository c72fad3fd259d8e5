from django.urls import path

from insights.views import ablations, explanations, filters, network

urlpatterns = [
    path("analyses/<int:analysis_id>/attribution/", explanations.attribution_page, name="attribution"),
    path("attributions/<int:attribution_id>/<str:key>.png", explanations.attribution_image, name="attribution_image"),
    path(
        "attributions/<int:attribution_id>/<str:key>/<str:part>.wav",
        explanations.attribution_audio,
        name="attribution_audio",
    ),
    path("recordings/<int:recording_id>/attack/", explanations.attack_new, name="attack_new"),
    path("attacks/<int:attack_id>/", explanations.attack_detail, name="attack_detail"),
    path("recordings/<int:recording_id>/sweep/", explanations.sweep_new, name="sweep_new"),
    path("sweeps/<int:sweep_id>/", explanations.sweep_detail, name="sweep_detail"),
    path("sweeps/<int:sweep_id>/points/<int:index>/", explanations.sweep_open_point, name="sweep_open_point"),
    path("sweeps/<int:sweep_id>/figure.<str:fmt>", explanations.sweep_figure, name="sweep_figure"),
    path("models/<int:version_id>/dataset/", explanations.model_dataset, name="model_dataset"),
    path("models/<int:version_id>/insight/", filters.model_insight_compute, name="model_insight_compute"),
    path("models/<int:version_id>/filters/<str:layer>/<int:index>/", filters.model_filter, name="model_filter"),
    path(
        "models/<int:version_id>/filters/<str:layer>/<int:index>/examples/<int:rank>.png",
        filters.filter_example_image,
        name="filter_example_image",
    ),
    path(
        "models/<int:version_id>/filters/<str:layer>/<int:index>/examples/<int:rank>.wav",
        filters.filter_example_audio,
        name="filter_example_audio",
    ),
    path(
        "models/<int:version_id>/filters/<str:layer>/<int:index>/likes.wav",
        filters.filter_likes_audio,
        name="filter_likes_audio",
    ),
    path(
        "models/<int:version_id>/filters/<str:layer>/<int:index>/labels/", filters.filter_labels, name="filter_labels"
    ),
    path("filter-labels/", filters.filter_labels_review, name="filter_labels_review"),
    path("filter-labels/<int:label_id>/review/", filters.filter_label_review_view, name="filter_label_review"),
    path("analyses/<int:analysis_id>/ablations/", ablations.analysis_ablations, name="analysis_ablations"),
    path("ablations/<int:ablation_id>/", ablations.ablation_detail, name="ablation_detail"),
    path("ablations/<int:ablation_id>/<str:part>.wav", ablations.ablation_audio, name="ablation_audio"),
    path("analyses/<int:analysis_id>/network/", network.analysis_network, name="analysis_network"),
    path("analyses/<int:analysis_id>/network/input.png", network.network_input_image, name="network_input_image"),
]
