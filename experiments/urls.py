from django.urls import path

from experiments.views import analyses, courses, experiments, figures, recordings

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
    path("recordings/<int:recording_id>/delete/", recordings.recording_delete_view, name="recording_delete"),
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
    path("analyses/<int:analysis_id>/layers/<str:layer_name>/maps.png", analyses.layer_maps, name="layer_maps"),
    path(
        "analyses/<int:analysis_id>/layers/<str:layer_name>/<int:index>/zoom.png",
        analyses.filter_zoom,
        name="filter_zoom",
    ),
    path(
        "analyses/<int:analysis_id>/layers/<str:layer_name>/<int:index>.wav", analyses.filter_audio, name="filter_audio"
    ),
    path("experiments/", experiments.experiment_list, name="experiment_list"),
    path("experiments/new/", experiments.experiment_new, name="experiment_new"),
    path("experiments/<int:experiment_id>/", experiments.experiment_detail, name="experiment_detail"),
    path("experiments/<int:experiment_id>/edit/", experiments.experiment_edit, name="experiment_edit"),
    path(
        "experiments/<int:experiment_id>/duplicate/", experiments.experiment_duplicate_view, name="experiment_duplicate"
    ),
    path("experiments/<int:experiment_id>/delete/", experiments.experiment_delete_view, name="experiment_delete"),
    path("experiments/<int:experiment_id>/submit/", experiments.experiment_submit_view, name="experiment_submit"),
    path("experiments/<int:experiment_id>/review/", experiments.experiment_review, name="experiment_review"),
    path("experiments/<int:experiment_id>/retry/", experiments.experiment_retry, name="experiment_retry"),
    path("experiments/<int:experiment_id>/comments/", experiments.experiment_comments, name="experiment_comments"),
    path("experiments/<int:experiment_id>/report.html", experiments.experiment_report, name="experiment_report"),
    path(
        "experiments/<int:experiment_id>/layers/<str:layer_name>/<int:index>/<str:side>.png",
        experiments.experiment_filter_image,
        name="experiment_filter_image",
    ),
    path("courses/", courses.course_list, name="course_list"),
    path("courses/new/", courses.course_new, name="course_new"),
    path("courses/join/", courses.course_join_view, name="course_join"),
    path("courses/<int:course_id>/", courses.course_detail, name="course_detail"),
    path("courses/<int:course_id>/code/", courses.course_new_code, name="course_new_code"),
    path("courses/<int:course_id>/leave/", courses.course_leave_view, name="course_leave"),
    path(
        "experiments/<int:experiment_id>/figures/<str:name>.<str:fmt>",
        figures.experiment_figure,
        name="experiment_figure",
    ),
    path(
        "analyses/<int:analysis_id>/layers/<str:layer_name>/figure.<str:fmt>",
        figures.layer_figure,
        name="layer_figure",
    ),
]
