"""What the insights compute, each a record of its own: attributions, attacks, robustness sweeps,
what each filter of a model version likes, concept labels and ablations.

Each row points at the job that computes it (status, progress, error); its inputs are
fields, and its outcome is stored on the row when the job is done.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from experiments.models import Analysis, Experiment, Recording
from jobs.models import Job
from modelzoo.models import ModelVersion


class Attribution(models.Model):
    """Why the network decided: Grad-CAM of every convolution layer and integrated gradients, for one digit.

    The maps (each shaped like the input spectrogram, in [0, 1] or signed) live in `maps` (npz);
    pages draw overlays and play the evidence and the rest from them without TensorFlow.
    """

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="attributions")
    target = models.CharField(max_length=20)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    maps = models.FileField(upload_to="attributions/", null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["analysis", "target"], name="one_attribution_per_target")]

    def __str__(self) -> str:
        return f"{self.analysis} → {self.target}"

    @property
    def is_done(self) -> bool:
        return self.job.status == Job.Status.DONE


class Attack(models.Model):
    """A projected-gradient attack on a recording, within a signal-to-noise bound.

    `step` is the history step it adds (op "adversarial", replayable with its model
    version); when done, `adversarial` is the version it made and `result` says whether
    the answer changed, the SNR reached, the steps used and the probabilities before and after.
    """

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="attacks")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=20, blank=True, help_text="The digit aimed at; empty for any other.")
    snr_db = models.FloatField()
    steps = models.PositiveIntegerField()
    seed = models.PositiveIntegerField(default=0)
    step = models.JSONField(default=dict)
    result = models.JSONField(default=dict, blank=True)
    adversarial = models.ForeignKey(
        Recording, null=True, blank=True, on_delete=models.SET_NULL, related_name="made_by_attacks"
    )
    experiment = models.ForeignKey(Experiment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"attack on {self.recording} towards {self.target or 'any other digit'}"

    def get_absolute_url(self) -> str:
        return reverse("attack_detail", args=[self.pk])


class Sweep(models.Model):
    """Every digit's probability across a range of one edit of a recording.

    `values` are the points of the range; when done, `result` holds each point's
    operation, probabilities and prediction.
    """

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="sweeps")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    op = models.CharField(max_length=30)
    values = models.JSONField(default=list)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.op} sweep of {self.recording}"

    def get_absolute_url(self) -> str:
        return reverse("sweep_detail", args=[self.pk])


class VersionInsight(models.Model):
    """What a model version's filters like, which never fire, and which explanation to believe on it.

    Computed once per version on a worker, over the bundled evaluation clips: per layer
    and filter its peak on the set, whether it is dead (never above zero), its mean
    activation per digit and the clips that excite it most (`layers`); the maps of those
    clips through the filter (`examples`, npz, keys ``<layer>/<filter>/<rank>``); how
    strongly each filter feeds the next layer's (`connections`, from the kernels); and the
    faithfulness and sanity figures of each explanation method (`faithfulness`).
    """

    model_version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="insight")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    examples = models.FileField(upload_to="insights/", null=True, blank=True)
    layers = models.JSONField(default=dict, blank=True)
    connections = models.JSONField(default=dict, blank=True)
    faithfulness = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"filter insight of {self.model_version}"

    @property
    def is_done(self) -> bool:
        return self.job.status == Job.Status.DONE


class FilterLabel(models.Model):
    """A concept label for one filter of one model version ("onset of /s/"), proposed and reviewed."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="filter_labels")
    layer = models.CharField(max_length=100)
    index = models.PositiveIntegerField()
    text = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["model_version", "layer", "index"])]

    def __str__(self) -> str:
        return f"{self.layer} #{self.index}: {self.text}"


class AblationAccuracy(models.Model):
    """The evaluation-set accuracy of a model version with some filters of one layer silenced.

    Shared by every ablation that silences the same filters (it does not depend on the
    clip): `muted` is the sorted list of silenced filters; when done, `result` holds the
    accuracy and per-digit accuracy with and without them.
    """

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    layer = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    muted = models.JSONField(default=list)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "ablation accuracies"  # not Django's "ablation accuracys"
        constraints = [
            models.UniqueConstraint(fields=["model_version", "layer", "key"], name="one_accuracy_per_muted_set")
        ]

    def __str__(self) -> str:
        return f"{self.model_version} without {self.layer} {self.key}"


class Ablation(models.Model):
    """One clip's analysis run again with filters of one layer muted, or one filter alone (solo).

    `filters` are the chosen filters (muted, or the soloed one), `muted` every filter
    silenced; when done, the new prediction and probabilities.  The accuracy change on
    the evaluation set is `accuracy`, shared with every ablation silencing the same filters.
    """

    class Mode(models.TextChoices):
        MUTE = "mute", "Muted"
        SOLO = "solo", "Solo"

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="ablations")
    layer = models.CharField(max_length=100)
    mode = models.CharField(max_length=4, choices=Mode.choices)
    filters = models.JSONField(default=list)
    muted = models.JSONField(default=list)
    key = models.CharField(max_length=255)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    accuracy = models.ForeignKey(AblationAccuracy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    predicted_label = models.CharField(max_length=20, blank=True)
    probabilities = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["analysis", "layer", "mode", "key"], name="one_ablation_per_edit")
        ]

    def __str__(self) -> str:
        return f"{self.analysis} · {self.describe()}"

    def get_absolute_url(self) -> str:
        return reverse("ablation_detail", args=[self.pk])

    def describe(self) -> str:
        """What was edited, in words: "filters 3, 7 of conv2 muted" or "only filter 4 of conv1"."""
        if self.mode == self.Mode.SOLO:
            return f"only filter {self.filters[0]} of {self.layer}"
        noun = "filter" if len(self.filters) == 1 else "filters"
        return f"{noun} {', '.join(str(i) for i in self.filters)} of {self.layer} muted"
