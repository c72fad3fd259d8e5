"""The API of what each filter likes, concept labels and ablations: thin views over the same services."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, throttle_classes
from rest_framework.request import Request
from rest_framework.response import Response

from core.auth import api_user
from core.errors import ServiceError
from core.parsers import BoundedJSONParser
from core.throttles import api_job_throttles
from experiments import selectors as experiment_selectors
from insights import selectors
from insights.models import Ablation, FilterLabel
from insights.panels import example_rows
from insights.presenters import probability_change
from insights.services import (
    LABEL_LENGTH,
    ablation_request,
    conv_filter_check,
    filter_label_propose,
    filter_label_review,
)
from jobs.api import JobStateFields
from modelzoo.selectors import model_version_get

#: The most filters one request may name (a layer has far fewer; this bounds the work of a bad request).
MAX_FILTERS = 4096


class FilterLabelSerializer(serializers.ModelSerializer):
    proposed_by = serializers.CharField(source="proposed_by.username", read_only=True)
    reviewed_by = serializers.CharField(source="reviewed_by.username", read_only=True, default=None)

    class Meta:
        model = FilterLabel
        fields = ["id", "model_version", "layer", "index", "text", "status", "proposed_by", "reviewed_by", "created_at"]
        read_only_fields = fields


class FilterLabelRequestSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=LABEL_LENGTH[1] * 4, help_text="What the filter detects, in words.")


class ExampleSerializer(serializers.Serializer):
    clip = serializers.CharField(help_text="The bundled evaluation clip.")
    # DRF's serializer metaclass takes declared fields off the class; the stubs see Field.label here.
    label = serializers.CharField(help_text="Its digit.")  # type: ignore[assignment]
    score = serializers.FloatField(help_text="The filter's peak response to it.")
    image = serializers.CharField(help_text="PNG of its map through the filter.")
    audio = serializers.CharField(help_text="WAV of it as the filter hears it.")


class FilterProfileSerializer(serializers.Serializer):
    layer = serializers.CharField()
    index = serializers.IntegerField()
    status = serializers.CharField(
        help_text="State of the version's filter insight: missing, pending, running, done, failed."
    )
    dead = serializers.BooleanField(
        allow_null=True, help_text="Never fires on the evaluation set (null until computed)."
    )
    peak = serializers.FloatField(allow_null=True)
    mean_by_label = serializers.DictField(child=serializers.FloatField())
    examples = ExampleSerializer(many=True, help_text="Up to 9 evaluation clips that excite it most, strongest first.")
    likes_audio = serializers.CharField(allow_null=True, help_text="Its favourite clips through it, one after another.")
    labels = FilterLabelSerializer(many=True)


@extend_schema(responses=FilterProfileSerializer)
@api_view(["GET"])
def filter_profile(request: Request, version_id: int, layer: str, index: int) -> Response:
    """What one filter likes: its strongest evaluation clips, its mean response per digit, dead or not, its labels."""
    version = model_version_get(user=api_user(request), version_id=version_id)
    conv_filter_check(version=version, layer=layer, index=index)
    insight = selectors.version_insight_for(version=version)
    profile = selectors.filter_profile(insight, layer=layer, index=index) if insight and insight.is_done else None
    data = {
        "layer": layer,
        "index": index,
        "status": insight.job.status if insight else "missing",
        "dead": profile["dead"] if profile else None,
        "peak": profile["peak"] if profile else None,
        "mean_by_label": profile["mean_by_label"] if profile else {},
        "examples": [
            {key: row[key] for key in ("clip", "label", "score", "image", "audio")}
            for row in example_rows(insight, profile, layer=layer, index=index)
        ]
        if insight is not None and profile
        else [],
        "likes_audio": reverse("filter_likes_audio", args=[version.pk, layer, index])
        if profile and profile["examples"]
        else None,
        "labels": FilterLabelSerializer(
            selectors.filter_labels_for(user=api_user(request), version=version, layer=layer, index=index), many=True
        ).data,
    }
    return Response(data)


@extend_schema(request=FilterLabelRequestSerializer, responses={201: FilterLabelSerializer})
@api_view(["POST"])
@parser_classes([BoundedJSONParser])
def filter_label_create(request: Request, version_id: int, layer: str, index: int) -> Response:
    """Propose a concept label for a filter; an instructor of a course the proposer attends reviews it."""
    version = model_version_get(user=api_user(request), version_id=version_id)
    payload = FilterLabelRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    label = filter_label_propose(
        version=version, layer=layer, index=index, text=payload.validated_data["text"], proposed_by=api_user(request)
    )
    return Response(FilterLabelSerializer(label).data, status=status.HTTP_201_CREATED)


def _review(request: Request, label_id: int, *, approve: bool) -> Response:
    label = selectors.filter_label_get(user=api_user(request), label_id=label_id)
    return Response(
        FilterLabelSerializer(filter_label_review(label=label, reviewer=api_user(request), approve=approve)).data
    )


@extend_schema(request=None, responses=FilterLabelSerializer)
@api_view(["POST"])
def filter_label_approve(request: Request, label_id: int) -> Response:
    """Approve a proposed label (an instructor of a course the proposer attends)."""
    return _review(request, label_id, approve=True)


@extend_schema(request=None, responses=FilterLabelSerializer)
@api_view(["POST"])
def filter_label_reject(request: Request, label_id: int) -> Response:
    """Reject a proposed label (an instructor of a course the proposer attends)."""
    return _review(request, label_id, approve=False)


# --------------------------------------------------------------------------- ablations


class AblationRequestSerializer(serializers.Serializer):
    layer = serializers.CharField(max_length=100)
    mute = serializers.ListField(
        child=serializers.IntegerField(min_value=0), required=False, max_length=MAX_FILTERS, allow_empty=False
    )
    solo = serializers.IntegerField(required=False, min_value=0)

    def validate(self, data: dict) -> dict:
        if ("mute" in data) == ("solo" in data):
            raise serializers.ValidationError("Give either “mute” (a list of filters) or “solo” (one filter).")
        return data


class AccuracyField(serializers.Serializer):
    status = serializers.CharField()
    n = serializers.IntegerField(allow_null=True)
    before = serializers.FloatField(allow_null=True)
    after = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True)


class AblationSerializer(JobStateFields, serializers.ModelSerializer):
    change = serializers.SerializerMethodField()
    audio = serializers.SerializerMethodField()
    audio_before = serializers.SerializerMethodField()
    accuracy = serializers.SerializerMethodField()
    description = serializers.CharField(source="describe", read_only=True)
    page_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Ablation
        fields = [
            "id",
            "status",
            "progress",
            "error",
            "analysis",
            "layer",
            "mode",
            "filters",
            "muted",
            "description",
            "predicted_label",
            "probabilities",
            "change",
            "audio",
            "audio_before",
            "accuracy",
            "created_at",
            "page_url",
        ]
        read_only_fields = fields

    def get_change(self, ablation: Ablation) -> dict[str, float]:
        """Each digit's probability with the edit minus without it."""
        if not ablation.probabilities:
            return {}
        return probability_change(ablation.analysis.probabilities, ablation.probabilities)

    def get_audio(self, ablation: Ablation) -> str:
        """The clip through the edited layer (the sum of the maps left, as a mask)."""
        return reverse("ablation_audio", args=[ablation.pk, "after"])

    def get_audio_before(self, ablation: Ablation) -> str:
        """The clip through the whole layer, for comparison."""
        return reverse("ablation_audio", args=[ablation.pk, "before"])

    @extend_schema(responses=AccuracyField)
    def get_accuracy(self, ablation: Ablation) -> dict:
        """Accuracy on the bundled evaluation clips with every filter and without the muted ones."""
        accuracy = ablation.accuracy
        if accuracy is None:
            return {"status": "missing", "n": None, "before": None, "after": None, "change": None}
        result = accuracy.result or {}
        return {"status": accuracy.job.status, **{key: result.get(key) for key in ("n", "before", "after", "change")}}


@extend_schema(
    request=AblationRequestSerializer,
    responses={200: AblationSerializer, 201: AblationSerializer, 202: AblationSerializer},
)
@api_view(["GET", "POST"])
@parser_classes([BoundedJSONParser])
@throttle_classes(api_job_throttles("ablations"))
def ablation_create(request: Request, analysis_id: int) -> Response:
    """POST: mute filters of a layer (``mute``) or keep one (``solo``) and run the rest of the network.

    201: created and done; 202: queued or running (poll GET /api/ablations/{id}/); 200: the same
    edit asked for before.  GET: this analysis's ablations, newest first.
    """
    analysis = experiment_selectors.analysis_get(user=api_user(request), analysis_id=analysis_id)
    if request.method == "GET":
        return Response(AblationSerializer(selectors.ablations_of(analysis=analysis)[:200], many=True).data)
    if analysis.recording.owner_id != api_user(request).pk:
        raise ServiceError("Only the owner of the recording can edit its network.", status=403)
    payload = AblationRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    mode, filters = ("solo", [data["solo"]]) if "solo" in data else ("mute", data["mute"])
    ablation, created = ablation_request(
        analysis=analysis, layer=data["layer"], mode=mode, filters=filters, requested_by=api_user(request)
    )
    code: int = status.HTTP_202_ACCEPTED
    if ablation.job.status == "done":
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(AblationSerializer(ablation).data, status=code)


@extend_schema(responses=AblationSerializer)
@api_view(["GET"])
def ablation_detail(request: Request, ablation_id: int) -> Response:
    """An ablation's state and, when done, the new probabilities, each digit's change and the layer's sound."""
    return Response(AblationSerializer(selectors.ablation_get(user=api_user(request), ablation_id=ablation_id)).data)
