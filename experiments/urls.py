from django.urls import path

from experiments.views import analyses, recordings

urlpatterns = [
    path("recordings/", recordings.recording_list, name="recording_list"),
    path("recordings/new/", recordings.recording_new, name="recording_new"),
    path("recordings/<int:recording_id>/", recordings.recording_detail, name="recording_detail"),
    path("recordings/<int:recording_id>/audio.wav", recordings.recording_audio, name="recording_audio"),
    path("recordings/<int:recording_id>/original/", recordings.recording_original, name="recording_original"),
    path(
        "recordings/<int:recording_id>/spectrogram.png", recordings.recording_spectrogram, name="recording_spectrogram"
    ),
    path("recordings/<int:recording_id>/derive/", recordings.recording_derive_view, name="recording_derive"),
    path("recordings/<int:recording_id>/preview/", recordings.recording_preview_view, name="recording_preview"),
    path("recordings/<int:recording_id>/replay/", recordings.recording_replay_view, name="recording_replay"),
    path("recordings/<int:recording_id>/analysis/", analyses.recording_analysis, name="recording_analysis"),
    path("analyses/<int:analysis_id>/explorer/", analyses.analysis_explorer, name="analysis_explorer"),
    path("analyses/<int:analysis_id>/input.png", analyses.analysis_input_image, name="analysis_input_image"),
    path("analyses/<int:analysis_id>/input.wav", analyses.analysis_input_audio, name="analysis_input_audio"),
    path(
        "analyses/<int:analysis_id>/layers/<str:layer_name>/<int:index>/", analyses.filter_detail, name="filter_detail"
    ),
    path(
        "analyses/<int:analysis_id>/layers/<str:layer_name>/<int:index>.png", analyses.filter_image, name="filter_image"
    ),
    path(
        "analyses/<int:analysis_id>/layers/<str:layer_name>/<int:index>/zoom.png",
        analyses.filter_zoom,
        name="filter_zoom",
    ),
    path(
        "analyses/<int:analysis_id>/layers/<str:layer_name>/<int:index>.wav", analyses.filter_audio, name="filter_audio"
    ),
]
