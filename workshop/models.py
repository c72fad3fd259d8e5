"""A training started in the model workshop: the design, its progress epoch by epoch, and the version it made."""

from django.conf import settings
from django.db import models


class Training(models.Model):
    """One run of the workshop's training job for one design, seeded."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Training"
        VALIDATING = "validating", "Validating the trained model"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.VALIDATING)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trainings")
    name = models.CharField(max_length=80)
    # {filters: [3], kernels: [3], pools: [3], dense, dropout}
    architecture = models.JSONField()
    # {learning_rate, epochs, augment} and every recipe value the training used (the model card lists them)
    hyperparameters = models.JSONField(default=dict)
    seed = models.IntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    # One entry per finished epoch: {epoch, loss, accuracy, val_loss, val_accuracy, seconds}
    history = models.JSONField(default=list, blank=True)
    # One entry per finished epoch: {epoch, layers: [{name, weight, edges, counts, mean, std}]}
    weight_histograms = models.JSONField(default=list, blank=True)
    # sha256 of every weight, in order: two trainings with the same settings have the same one
    weights_sha256 = models.CharField(max_length=64, blank=True)
    train_seconds = models.FloatField(null=True, blank=True)
    model_version = models.ForeignKey(
        "modelzoo.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="trainings"
    )
    job = models.ForeignKey("jobs.Job", on_delete=models.PROTECT, related_name="+")
    # An instructor's training may add the labelled recordings the course's students contributed.
    course = models.ForeignKey(
        "experiments.Course", null=True, blank=True, on_delete=models.SET_NULL, related_name="trainings"
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "status"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.owner}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def epochs(self) -> int:
        return int(self.hyperparameters.get("epochs", 0))


class CourseVoice(models.Model):
    """A student's labelled recording, given with their consent to the trainings of a course.

    Removing it (the student may, at any time) deletes this row: later trainings no longer hear it.
    """

    course = models.ForeignKey("experiments.Course", on_delete=models.CASCADE, related_name="voices")
    contributor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_voices")
    recording = models.ForeignKey("experiments.Recording", on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=20)
    consent_text = models.TextField()  # the sentence the contributor agreed to, as they read it
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["course", "recording"], name="one_voice_per_course_recording")]

    def __str__(self) -> str:
        return f"“{self.label}” by {self.contributor} for {self.course}"


class CourseLimits(models.Model):
    """What an instructor allows the people of one course in the workshop, beyond the site's default."""

    course = models.OneToOneField("experiments.Course", on_delete=models.CASCADE, related_name="workshop_limits")
    # Trainings one student (or instructor) of the course may have waiting or running at once.
    trainings_at_once = models.PositiveSmallIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "course limits"

    def __str__(self) -> str:
        return f"{self.course}: {self.trainings_at_once} at once"
