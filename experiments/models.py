"""Recordings and their edit history, analyses, experiments, courses and reviews."""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse

from jobs.models import Job


def _safe_name(instance: "Recording", filename: str, folder: str) -> str:
    # Never trust the user's file name on disk: it may hold '../' or HTML.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    suffix = suffix if suffix.isalnum() and len(suffix) <= 5 else "bin"
    return f"recordings/{instance.owner_id}/{folder}/{secrets.token_hex(12)}.{suffix}"


def original_upload_to(instance: "Recording", filename: str) -> str:
    """Where an upload's original bytes are kept."""
    return _safe_name(instance, filename, "original")


def audio_upload_to(instance: "Recording", filename: str) -> str:
    """Where a recording's canonical WAV is kept."""
    return _safe_name(instance, filename, "wav")


class Recording(models.Model):
    """A clip: an original (uploaded, recorded, sample) or derived from one by operations.

    `operations` is the full history from the original (`root`): replaying it on the
    original's audio gives this recording's audio bit for bit.
    """

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded"
        RECORD = "record", "Recorded in the browser"
        SAMPLE = "sample", "Sample clip"
        DERIVED = "derived", "Edited"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recordings")
    title = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Source.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    root = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="descendants")
    operations = models.JSONField(default=list, blank=True)
    original_file = models.FileField(upload_to=original_upload_to, null=True, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    original_sha256 = models.CharField(max_length=64, blank=True)
    original_format = models.CharField(max_length=120, blank=True)
    audio = models.FileField(upload_to=audio_upload_to)
    sha256 = models.CharField(max_length=64)
    sample_rate = models.PositiveIntegerField()
    duration_s = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    # Not columns: `selectors.recording_family` and `recording_groups` set them on the versions they list.
    depth: int
    version_number: int
    is_open: bool
    heard: dict | None

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("recording_detail", args=[self.pk])

    @property
    def original(self) -> "Recording":
        """The recording this one's history starts from (itself for an original)."""
        return self.root or self


class Analysis(models.Model):
    """The cache of one recording through one model version.

    Activations (float16) and the input STFT live compressed in `activations`;
    pages render images and audio from it without TensorFlow.
    """

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="analyses")
    model_version = models.ForeignKey("modelzoo.ModelVersion", on_delete=models.CASCADE, related_name="analyses")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    predicted_label = models.CharField(max_length=20, blank=True)
    probabilities = models.JSONField(default=dict, blank=True)
    is_silent = models.BooleanField(default=False)
    activations = models.FileField(upload_to="analyses/", null=True, blank=True)
    layers = models.JSONField(default=list, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "analyses"  # not Django's "analysiss"
        constraints = [
            models.UniqueConstraint(fields=["recording", "model_version"], name="one_analysis_per_recording_model")
        ]

    def __str__(self) -> str:
        return f"{self.recording} × {self.model_version}"

    @property
    def status(self) -> str:
        return self.job.status

    @property
    def is_done(self) -> bool:
        return self.job.status == Job.Status.DONE


def _join_code() -> str:
    # No 0/O or 1/I: codes are read out loud in class.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


class Course(models.Model):
    """A class: instructors teach it, students join it with its code."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    join_code = models.CharField(max_length=16, unique=True, default=_join_code)
    instructors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="courses_taught")
    students = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="courses_attended", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    # Not a column: the course list sets it to the number of the student's submissions to the course.
    n_submitted: int

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Experiment(models.Model):
    """A saved comparison: recording A against B, or model version A against B on one clip."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        REVIEWED = "reviewed", "Reviewed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="experiments")
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    recording_a = models.ForeignKey(Recording, on_delete=models.RESTRICT, related_name="+")
    recording_b = models.ForeignKey(Recording, null=True, blank=True, on_delete=models.RESTRICT, related_name="+")
    model_version = models.ForeignKey("modelzoo.ModelVersion", on_delete=models.RESTRICT, related_name="+")
    model_version_b = models.ForeignKey(
        "modelzoo.ModelVersion", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.SET_NULL, related_name="experiments")
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not columns: list pages set them on the rows they show (unread comments, the two predicted
    # labels when both analyses are done, "models" or "recordings").
    unread: int
    verdicts: tuple[str, str] | None
    mode: str

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Comment(models.Model):
    """A review comment or reply on an experiment."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    # Not columns: the comment thread sets them (new since the reader's last visit, by the experiment's owner).
    is_new: bool
    by_owner: bool

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author} on {self.experiment}"


class ReadMark(models.Model):
    """When a user last read an experiment's comments, for the unread badge."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="read_marks")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "experiment"], name="one_read_mark_per_user")]

    def __str__(self) -> str:
        return f"{self.user} read {self.experiment} at {self.read_at}"
