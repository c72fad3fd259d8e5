from django.contrib import admin, messages

from core.errors import ServiceError
from workshop.models import Training
from workshop.services import training_cancel


@admin.register(Training)
class TrainingAdmin(admin.ModelAdmin):
    """Every training on the site, with what it costs (epochs done, seconds) and a stop action."""

    list_display = [
        "name",
        "owner",
        "status",
        "epochs_done",
        "train_seconds",
        "job_worker",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status"]
    search_fields = ["name", "owner__username"]
    readonly_fields = [f.name for f in Training._meta.fields]
    actions = ["stop"]

    @admin.display(description="Epochs")
    def epochs_done(self, training: Training) -> str:
        return f"{len(training.history)} / {training.epochs}"

    @admin.display(description="Worker")
    def job_worker(self, training: Training) -> str:
        return training.job.worker_id or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner", "job")

    @admin.action(description="Stop the selected trainings")
    def stop(self, request, queryset) -> None:
        stopped = 0
        for training in queryset:
            try:
                training_cancel(training=training)
            except ServiceError:
                continue  # finished already
            stopped += 1
        self.message_user(request, f"Asked {stopped} training(s) to stop.", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False
