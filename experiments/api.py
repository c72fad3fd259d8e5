"""The REST API of recordings and analyses (docs/api.md): thin views over the same services as the pages."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.auth import api_user
from core.errors import ServiceError
from core.media import stored_name
from core.parsers import BoundedJSONParser
from experiments import selectors
from experiments.filter_media import media_grant
from experiments.models import Analysis, Recording
from experiments.services.analyses import analysis_request, analysis_retry
from experiments.services.recordings import recording_delete, recording_derive, recording_upload
from experiments.views.recordings import recording_audio
from jobs.api import JobStateFields
from modelzoo.selectors import model_versions_visible


class RecordingSerializer(serializers.ModelSerializer):
    audio_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = [
            "id",
            "title",
            "source",
            "duration_s",
            "sample_rate",
            "sha256",
            "parent",
            "root",
            "operations",
            "original_name",
            "original_sha256",
            "original_format",
            "created_at",
            "audio_url",
            "page_url",
        ]
        read_only_fields = fields

    def get_audio_url(self, recording: Recording) -> str:
        return reverse("api_recording-audio", args=[recording.pk])

    def get_page_url(self, recording: Recording) -> str:
        return reverse("recording_detail", args=[recording.pk])


class RecordingUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="WAV, FLAC, OGG (Vorbis or Opus), MP3, M4A/AAC, WebM/Opus or AIFF, decided by content; "
        "size and duration are capped."
    )
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    # DRF's serializer metaclass takes declared fields off the class; the stubs see Field.source here.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["upload", "record"], required=False, default="upload"
    )


class StrictKeysMixin(serializers.Serializer):
    """Refuse keys the serializer does not define: DRF would drop them silently, and a typo would go unnoticed."""

    what: str  # what the serializer reads, for the message ("an operation")

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            allowed = list(self.fields)
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                listed = " and ".join(f"“{name}”" for name in allowed)
                raise ValidationError({key: [f"Unknown key; {self.what} has only {listed}."] for key in unknown})
        return super().to_internal_value(data)


class OperationSerializer(StrictKeysMixin, serializers.Serializer):
    what = "an operation"
    op = serializers.CharField()
    params = serializers.DictField(required=False, default=dict)


class DeriveSerializer(StrictKeysMixin, serializers.Serializer):
    what = "a derive request"
    operations = OperationSerializer(many=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)


class AnalysisRequestSerializer(serializers.Serializer):
    model_version = serializers.IntegerField(required=False, help_text="Default: the active model version.")


class LayerSerializer(serializers.Serializer):
    name = serializers.CharField()
    filters = serializers.IntegerField()
    shape = serializers.ListField(child=serializers.IntegerField(), help_text="height, width, filters")
    mean = serializers.ListField(child=serializers.FloatField(), help_text="mean activation per filter")
    max = serializers.ListField(child=serializers.FloatField(), help_text="max activation per filter")
    images = serializers.ListField(child=serializers.CharField(), help_text="PNG of each filter's output")
    audio = serializers.ListField(child=serializers.CharField(), help_text="WAV of each filter's output")
    maps = serializers.CharField(
        help_text="PNG of every filter's output side by side, in index order (filter k: columns k*width to (k+1)*width)"
    )


class AnalysisSerializer(JobStateFields, serializers.ModelSerializer):
    job = serializers.UUIDField(source="job.id")
    layers = serializers.SerializerMethodField()
    input_image = serializers.SerializerMethodField(help_text="PNG of what the network sees (when done)")
    input_audio = serializers.SerializerMethodField(help_text="WAV of what the network hears (when done)")

    class Meta:
        model = Analysis
        fields = [
            "id",
            "status",
            "progress",
            "error",
            "job",
            "recording",
            "model_version",
            "predicted_label",
            "probabilities",
            "is_silent",
            "layers",
            "input_image",
            "input_audio",
            "timings",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(LayerSerializer(many=True))
    def get_layers(self, analysis: Analysis) -> list[dict]:
        return analysis_layers(analysis, user_id=api_user(self.context["request"]).pk)

    def get_input_image(self, analysis: Analysis) -> str | None:
        return reverse("analysis_input_image", args=[analysis.pk]) if analysis.is_done else None

    def get_input_audio(self, analysis: Analysis) -> str | None:
        return reverse("analysis_input_audio", args=[analysis.pk]) if analysis.is_done else None


def analysis_layers(analysis: Analysis, *, user_id: int) -> list[dict]:
    """Each convolution layer with the URLs of every filter's image and sound, granted to `user_id`."""
    if not analysis.is_done:
        return []
    grant = media_grant(user_id=user_id, analysis_id=analysis.pk, file_name=stored_name(analysis.activations))
    grant = urlencode({"grant": grant})
    rows = []
    for layer in analysis.layers:
        name = layer["name"]
        filters = range(layer["filters"])
        # One reverse per layer, not two per filter: the API is polled while the worker runs.
        image, sound = (reverse(view, args=[analysis.pk, name, 0]) for view in ("filter_image", "filter_audio"))
        rows.append(
            {
                "name": name,
                "filters": layer["filters"],
                "shape": layer["shape"],
                "mean": layer["mean"],
                "max": layer["max"],
                "images": [f"{image.removesuffix('0.png')}{k}.png?{grant}" for k in filters],
                # Every filter's map side by side in one image (filter k in columns k*width to (k+1)*width).
                "maps": f"{reverse('layer_maps', args=[analysis.pk, name])}?{grant}",
                "audio": [f"{sound.removesuffix('0.wav')}{k}.wav?{grant}" for k in filters],
            }
        )
    return rows


def _id(pk: str) -> int:
    """The id in a URL: one that is not a number names nothing (the same JSON 404 as a missing id)."""
    try:
        return int(pk)
    except ValueError:
        raise NotFound() from None


class RecordingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your recordings: upload, list, read, download, derive by operations, analyse."""

    serializer_class = RecordingSerializer
    queryset = Recording.objects.none()  # the schema reads the id's type from it; get_queryset scopes
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]

    def get_queryset(self):
        if self.action == "list":
            return selectors.recording_list(user=api_user(self.request))
        return selectors.recordings_visible(user=api_user(self.request))

    @extend_schema(request={"multipart/form-data": RecordingUploadSerializer}, responses={201: RecordingSerializer})
    def create(self, request: Request) -> Response:
        """Upload a clip (multipart `file`, optional `title`, `source` upload or record)."""
        # A body over the size limit never gets here: ddevis_site.body_limits answers 413 from
        # Content-Length, and the service checks the file's own size.
        upload = RecordingUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        recording = recording_upload(
            owner=api_user(request),
            data=file.read(),
            filename=file.name,
            title=upload.validated_data.get("title", ""),
            source=upload.validated_data["source"],
        )
        return Response(RecordingSerializer(recording).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted, with its versions and the drafts that used them."),
            409: OpenApiResponse(description="A submitted experiment uses it or one of its versions."),
        }
    )
    def destroy(self, request: Request, pk: str) -> Response:
        """Delete one of your recordings, every version derived from it and your draft experiments that use them."""
        recording = selectors.recording_get_own(user=api_user(request), recording_id=_id(pk))
        recording_delete(recording=recording)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={(200, "audio/wav"): OpenApiResponse(description="The canonical WAV (float32, mono).")})
    @action(detail=True, methods=["get"])
    def audio(self, request: Request, pk: str) -> HttpResponse:
        """The recording's canonical WAV (the same view, ETag and caching as the page's audio URL)."""
        self.get_object()  # another user's recording: the API's own JSON 404
        return recording_audio(request._request, recording_id=int(pk))

    @extend_schema(request=DeriveSerializer, responses={201: RecordingSerializer})
    @action(detail=True, methods=["post"])
    def derive(self, request: Request, pk: str) -> Response:
        """A new recording: this one's history followed by `operations` (docs/api.md lists them)."""
        recording = selectors.recording_get_own(user=api_user(request), recording_id=_id(pk))
        payload = DeriveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        derived = recording_derive(
            recording=recording,
            operations=[dict(op) for op in payload.validated_data["operations"]],
            title=payload.validated_data.get("title", ""),
        )
        return Response(RecordingSerializer(derived).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=AnalysisRequestSerializer,
        responses={200: AnalysisSerializer, 201: AnalysisSerializer, 202: AnalysisSerializer},
    )
    @action(detail=True, methods=["post"])
    def analyses(self, request: Request, pk: str) -> Response:
        """Analyse with a model version (default: the active one); an existing analysis is reused.

        201: created and done; 202: queued or running (poll GET /api/analyses/{id}/); 200: reused and done.
        """
        recording = selectors.recording_get_own(user=api_user(request), recording_id=_id(pk))
        payload = AnalysisRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = None
        if "model_version" in payload.validated_data:
            visible = model_versions_visible(user=api_user(request))
            version = visible.filter(pk=payload.validated_data["model_version"]).first()
            if version is None:
                raise ValidationError({"model_version": ["No such model version."]})
        analysis, created = analysis_request(recording=recording, requested_by=api_user(request), model_version=version)
        code: int = status.HTTP_202_ACCEPTED
        if analysis.is_done:
            code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(AnalysisSerializer(analysis, context={"request": request}).data, status=code)


class AnalysisViewSet(viewsets.GenericViewSet):
    """Analyses: probabilities, every layer's filters (image and sound URLs) and timings."""

    serializer_class = AnalysisSerializer

    def get_queryset(self):
        return Analysis.objects.none()

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(
            AnalysisSerializer(
                selectors.analysis_get(user=api_user(request), analysis_id=_id(pk)), context={"request": request}
            ).data
        )

    @extend_schema(request=None, responses={202: AnalysisSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        """Run a failed analysis again."""
        analysis = selectors.analysis_get(user=api_user(request), analysis_id=_id(pk))
        if analysis.recording.owner_id != api_user(request).pk:
            raise ServiceError("Only the owner of the recording can retry its analysis.", status=403)
        return Response(
            AnalysisSerializer(analysis_retry(analysis=analysis), context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )
