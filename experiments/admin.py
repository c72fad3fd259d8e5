from django.contrib import admin

from experiments.models import Analysis, Comment, Course, Experiment, Recording


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "source", "duration_s", "sample_rate", "created_at"]
    list_filter = ["source"]
    search_fields = ["title", "owner__username", "sha256"]
    raw_id_fields = ["owner", "parent", "root"]


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    list_display = ["recording", "model_version", "predicted_label", "is_silent", "created_at"]
    raw_id_fields = ["recording", "job"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["name", "join_code", "created_at"]
    filter_horizontal = ["instructors", "students"]
    search_fields = ["name", "join_code"]


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "status", "course", "updated_at"]
    list_filter = ["status"]
    raw_id_fields = ["owner", "recording_a", "recording_b"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["experiment", "author", "created_at"]
    raw_id_fields = ["experiment", "author"]
