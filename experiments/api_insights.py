"""The API of attribution, attacks, robustness sweeps and the dataset view (issue 6)."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from ddevis_site.errors import ServiceError
from experiments import selectors
from experiments.models import Attribution
from experiments.services.insights import attack_request, attribution_request, sweep_request
from jobs.api import JobSerializer, JobStateFields
from modelzoo.models import ModelVersion
from modelzoo.robustness import SWEEPS


class AttributionRequestSerializer(serializers.Serializer):
    target = serializers.CharField(required=False, help_text="The digit to explain; default: the predicted one.")


class AttributionSerializer(JobStateFields, serializers.ModelSerializer):
    maps = serializers.SerializerMethodField()

    class Meta:
        model = Attribution
        fields = ["id", "analysis", "target", "status", "progress", "error", "summary", "maps"]
        read_only_fields = fields

    def get_maps(self, attribution: Attribution) -> list[dict]:
        """Each map (integrated gradients, Grad-CAM per layer) with its overlay image and its two sounds."""
        if not attribution.is_done:
            return []
        keys = ["ig", *[f"cam_{layer}" for layer in attribution.summary.get("layers", [])]]
        return [
            {
                "key": key,
                "image": reverse("attribution_image", args=[attribution.pk, key]),
                "evidence": reverse("attribution_audio", args=[attribution.pk, key, "evidence"]),
                "rest": reverse("attribution_audio", args=[attribution.pk, key, "rest"]),
            }
            for key in keys
        ]


class AttackRequestSerializer(serializers.Serializer):
    target = serializers.CharField(required=False, allow_blank=True, help_text="A digit, or empty for untargeted.")
    snr_db = serializers.FloatField(default=30.0, help_text="Lowest signal-to-noise ratio allowed (dB).")
    steps = serializers.IntegerField(default=50)
    seed = serializers.IntegerField(default=0)


class SweepRequestSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=list(SWEEPS))
    start = serializers.FloatField(required=False)
    stop = serializers.FloatField(required=False)
    num = serializers.IntegerField(required=False)


@extend_schema(request=AttributionRequestSerializer, responses={200: AttributionSerializer, 202: AttributionSerializer})
@api_view(["POST"])
def attribution_create(request: Request, analysis_id: int) -> Response:
    """Grad-CAM of every convolution layer and integrated gradients for a digit; reused when asked again."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    if analysis.recording.owner_id != request.user.pk:
        raise ServiceError("Only the owner of the recording can ask for an explanation.", status=403)
    payload = AttributionRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    target = payload.validated_data.get("target") or analysis.predicted_label
    attribution, _ = attribution_request(analysis=analysis, target=target, requested_by=request.user)
    code = status.HTTP_200_OK if attribution.is_done else status.HTTP_202_ACCEPTED
    return Response(AttributionSerializer(attribution).data, status=code)


@extend_schema(responses=AttributionSerializer)
@api_view(["GET"])
def attribution_detail(request: Request, attribution_id: int) -> Response:
    """An attribution's state and, when done, its maps and sounds."""
    attribution = get_object_or_404(Attribution.objects.select_related("job"), pk=attribution_id)
    selectors.analysis_get(user=request.user, analysis_id=attribution.analysis_id)
    return Response(AttributionSerializer(attribution).data)


@extend_schema(request=AttackRequestSerializer, responses={202: JobSerializer})
@api_view(["POST"])
def attack_create(request: Request, recording_id: int) -> Response:
    """Queue a projected-gradient attack; poll GET /api/jobs/{id}/: its result names the adversarial recording."""
    recording = selectors.recording_get_own(user=request.user, recording_id=recording_id)
    payload = AttackRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    job = attack_request(
        recording=recording,
        requested_by=request.user,
        target=data.get("target") or None,
        snr_db=data["snr_db"],
        steps=data["steps"],
        seed=data["seed"],
    )
    return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(request=SweepRequestSerializer, responses={202: JobSerializer})
@api_view(["POST"])
def sweep_create(request: Request, recording_id: int) -> Response:
    """Queue a robustness sweep; the job's result holds each point's value, operation and probabilities."""
    recording = selectors.recording_get_own(user=request.user, recording_id=recording_id)
    payload = SweepRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    job = sweep_request(recording=recording, requested_by=request.user, **payload.validated_data)
    return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    responses={200: {"type": "object", "description": "labels, confusion matrix, accuracy, per-label, clips"}}
)
@api_view(["GET"])
def model_dataset(request: Request, version_id: int) -> Response:
    """A model version's confusion matrix on the bundled evaluation clips, with every clip's prediction."""
    versions = ModelVersion.objects.all() if request.user.is_staff else ModelVersion.objects.filter(status="valid")
    version = get_object_or_404(versions, pk=version_id)
    evaluation = version.metrics.get("evaluation_clips")
    if not evaluation:
        raise ServiceError("This version has not been evaluated on the bundled clips.", status=404)
    return Response(evaluation)
