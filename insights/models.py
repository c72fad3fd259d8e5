"""What the insights compute, each a record of its own: attributions, attacks and robustness sweeps.

Each row points at the job that computes it (status, progress, error); its inputs are
fields, and its outcome is stored on the row when the job is done.
"""

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
