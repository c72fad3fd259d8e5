"""The API of attribution, attacks, robustness sweeps and the dataset view: thin views over the services."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import api_view, throttle_classes
from rest_framework.request import Request
from rest_framework.response import Response

from core.auth import api_user
from core.errors import ServiceError
from core.throttles import api_job_throttles
from experiments import selectors as experiment_selectors
from insights import selectors
from insights.models import Attack, Attribution, Sweep
from insights.robustness import SWEEPS
from insights.services import attack_request, attribution_request, sweep_request
from jobs.api import JobStateFields
from modelzoo.selectors import model_version_get


class AttributionRequestSerializer(serializers.Serializer):
    target = serializers.CharField(required=False, help_text="The digit to explain; default: the predicted one.")


class FaithfulnessSerializer(serializers.Serializer):
    deletion_auc = serializers.FloatField(
        help_text="Area under the probability as the most-attributed cells go (low: faithful)."
    )
    insertion_auc = serializers.FloatField(help_text="Area as they come back first onto the baseline (high: faithful).")
    ff = serializers.FloatField(help_text="The probability's drop when the evidence is masked out (high: faithful).")
    baseline = serializers.CharField(help_text="What removed cells are replaced by.")
    fractions = serializers.ListField(child=serializers.FloatField())
    deletion = serializers.ListField(child=serializers.FloatField())
    insertion = serializers.ListField(child=serializers.FloatField())


class AttributionMapSerializer(serializers.Serializer):
    key = serializers.CharField()
    image = serializers.CharField()
    evidence = serializers.CharField()
    rest = serializers.CharField()
    faithfulness = FaithfulnessSerializer(allow_null=True)


class SanitySerializer(serializers.Serializer):
    randomised_similarity = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="Per map: rank similarity to the same method on random weights; null (undefined) when both maps "
        "are constant.",
    )
    threshold = serializers.FloatField(help_text="Maps at least this similar are flagged.")
    flagged = serializers.ListField(child=serializers.CharField(), help_text="Maps that barely change: not to trust.")


class AttributionSerializer(JobStateFields, serializers.ModelSerializer):
    maps = serializers.SerializerMethodField()
    sanity = serializers.SerializerMethodField()

    class Meta:
        model = Attribution
        fields = ["id", "analysis", "target", "status", "progress", "error", "summary", "maps", "sanity"]
        read_only_fields = fields

    @extend_schema_field(AttributionMapSerializer(many=True))
    def get_maps(self, attribution: Attribution) -> list[dict]:
        """Each map (integrated gradients, Grad-CAM per layer): its overlay, its two sounds, its faithfulness."""
        if not attribution.is_done:
            return []
        keys = ["ig", *[f"cam_{layer}" for layer in attribution.summary.get("layers", [])]]
        faithfulness = attribution.summary.get("faithfulness") or {}
        return [
            {
                "key": key,
                "image": reverse("attribution_image", args=[attribution.pk, key]),
                "evidence": reverse("attribution_audio", args=[attribution.pk, key, "evidence"]),
                "rest": reverse("attribution_audio", args=[attribution.pk, key, "rest"]),
                "faithfulness": faithfulness.get(key),
            }
            for key in keys
        ]

    @extend_schema_field(SanitySerializer(allow_null=True))
    def get_sanity(self, attribution: Attribution) -> dict | None:
        """The weight-randomisation check of each map's method (null before it was measured)."""
        return attribution.summary.get("sanity") if attribution.is_done else None


class AttackRequestSerializer(serializers.Serializer):
    target = serializers.CharField(required=False, allow_blank=True, help_text="A digit, or empty for untargeted.")
    snr_db = serializers.FloatField(default=30.0, help_text="Lowest signal-to-noise ratio allowed (dB).")
    steps = serializers.IntegerField(default=50)
    seed = serializers.IntegerField(default=0)


class AttackSerializer(JobStateFields, serializers.ModelSerializer):
    job = serializers.UUIDField(source="job.id", read_only=True)
    page_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Attack
        fields = [
            "id",
            "status",
            "progress",
            "error",
            "job",
            "recording",
            "model_version",
            "target",
            "snr_db",
            "steps",
            "seed",
            "result",
            "adversarial",
            "experiment",
            "created_at",
            "page_url",
        ]
        read_only_fields = fields


class SweepRequestSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=list(SWEEPS))
    start = serializers.FloatField(required=False)
    stop = serializers.FloatField(required=False)
    num = serializers.IntegerField(required=False)


class SweepSerializer(JobStateFields, serializers.ModelSerializer):
    job = serializers.UUIDField(source="job.id", read_only=True)
    page_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Sweep
        fields = [
            "id",
            "status",
            "progress",
            "error",
            "job",
            "recording",
            "model_version",
            "op",
            "values",
            "result",
            "created_at",
            "page_url",
        ]
        read_only_fields = fields


@extend_schema(request=AttributionRequestSerializer, responses={200: AttributionSerializer, 202: AttributionSerializer})
@api_view(["POST"])
@throttle_classes(api_job_throttles("explanations"))
def attribution_create(request: Request, analysis_id: int) -> Response:
    """Grad-CAM of every convolution layer and integrated gradients for a digit; reused when asked again."""
    analysis = experiment_selectors.analysis_get(user=api_user(request), analysis_id=analysis_id)
    if analysis.recording.owner_id != api_user(request).pk:
        raise ServiceError("Only the owner of the recording can ask for an explanation.", status=403)
    payload = AttributionRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    target = payload.validated_data.get("target") or analysis.predicted_label
    attribution, _ = attribution_request(analysis=analysis, target=target, requested_by=api_user(request))
    code = status.HTTP_200_OK if attribution.is_done else status.HTTP_202_ACCEPTED
    return Response(AttributionSerializer(attribution).data, status=code)


@extend_schema(responses=AttributionSerializer)
@api_view(["GET"])
def attribution_detail(request: Request, attribution_id: int) -> Response:
    """An attribution's state and, when done, its maps and sounds."""
    attribution = selectors.attribution_get(user=api_user(request), attribution_id=attribution_id)
    return Response(AttributionSerializer(attribution).data)


@extend_schema(request=AttackRequestSerializer, responses={200: AttackSerializer, 202: AttackSerializer})
@api_view(["POST"])
@throttle_classes(api_job_throttles("attacks"))
def attack_create(request: Request, recording_id: int) -> Response:
    """Queue a projected-gradient attack (the same one asked again is reused); poll GET /api/attacks/{id}/."""
    recording = experiment_selectors.recording_get_own(user=api_user(request), recording_id=recording_id)
    payload = AttackRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    attack, created = attack_request(
        recording=recording,
        requested_by=api_user(request),
        target=data.get("target") or None,
        snr_db=data["snr_db"],
        steps=data["steps"],
        seed=data["seed"],
    )
    code = status.HTTP_202_ACCEPTED if created or not attack.job.is_finished else status.HTTP_200_OK
    return Response(AttackSerializer(attack).data, status=code)


@extend_schema(responses=AttackSerializer)
@api_view(["GET"])
def attack_detail(request: Request, attack_id: int) -> Response:
    """An attack's state and, when done, whether it worked, the SNR reached and the adversarial recording."""
    return Response(AttackSerializer(selectors.attack_get(user=api_user(request), attack_id=attack_id)).data)


@extend_schema(request=SweepRequestSerializer, responses={202: SweepSerializer})
@api_view(["POST"])
@throttle_classes(api_job_throttles("sweeps"))
def sweep_create(request: Request, recording_id: int) -> Response:
    """Queue a robustness sweep; its result holds each point's value, operation and probabilities."""
    recording = experiment_selectors.recording_get_own(user=api_user(request), recording_id=recording_id)
    payload = SweepRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    sweep = sweep_request(recording=recording, requested_by=api_user(request), **payload.validated_data)
    return Response(SweepSerializer(sweep).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses=SweepSerializer)
@api_view(["GET"])
def sweep_detail(request: Request, sweep_id: int) -> Response:
    """A sweep's state and, when done, every point."""
    return Response(SweepSerializer(selectors.sweep_get(user=api_user(request), sweep_id=sweep_id)).data)


@extend_schema(
    responses={200: {"type": "object", "description": "labels, confusion matrix, accuracy, per-label, clips"}}
)
@api_view(["GET"])
def model_dataset(request: Request, version_id: int) -> Response:
    """A model version's confusion matrix on the bundled evaluation clips, with every clip's prediction."""
    version = model_version_get(user=api_user(request), version_id=version_id)
    evaluation = version.metrics.get("evaluation_clips")
    if not evaluation:
        raise ServiceError("This version has not been evaluated on the bundled clips.", status=404)
    return Response(evaluation)
