"""`POST /api/live/`: one window of at most 1.5 s through the warm live engine, answered in the same request."""

from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.auth import api_user
from core.errors import ServiceError
from live.services import live_window


class WavParser(BaseParser):
    """A raw audio body (``audio/wav``): the bytes as they came; the service decides what they are."""

    media_type = "audio/*"

    # DRF's parsers return data; this one the raw bytes, which the view takes as they are.
    def parse(  # type: ignore[override]
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> bytes:
        return stream.read() if stream is not None else b""


class LayerEnergySerializer(serializers.Serializer):
    name = serializers.CharField()
    filters = serializers.IntegerField()
    energy = serializers.ListField(
        child=serializers.FloatField(), help_text="One number per filter: the RMS of its map over the window."
    )


class LiveFilterSerializer(serializers.Serializer):
    layer = serializers.CharField()
    index = serializers.IntegerField()
    peak = serializers.FloatField(help_text="The map's largest (block-averaged) value.")
    shape = serializers.ListField(child=serializers.IntegerField(), help_text="[frequency rows, time columns]")
    map = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="0-255 of the peak, rows from the lowest frequency up.",
    )


class LiveAnswerSerializer(serializers.Serializer):
    model_version = serializers.IntegerField()
    predicted_label = serializers.CharField()
    probabilities = serializers.DictField(child=serializers.FloatField())
    silent = serializers.BooleanField()
    layers = LayerEnergySerializer(many=True)
    filter = LiveFilterSerializer(required=False, help_text="Only when `layer` and `filter` are given.")
    timings = serializers.DictField(child=serializers.FloatField(), help_text="Milliseconds per stage.")


def _optional_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name) or (request.data.get(name) if hasattr(request.data, "get") else None)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ServiceError(f"“{str(raw)[:40]}” is not a model version id.", field=name) from None


class LiveView(APIView):
    """What the network hears in one window: prediction, probabilities and every filter's energy."""

    parser_classes = [WavParser, MultiPartParser]
    # Its own scope instead of the API's per-user rate: a live page sends five windows a second.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "live"

    @extend_schema(
        operation_id="live_window",
        request={"audio/wav": OpenApiTypes.BINARY, "multipart/form-data": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("model_version", int, description="A version the caller may see; default: the active."),
            OpenApiParameter("layer", str, description="With `filter`: also return that filter's map."),
            OpenApiParameter("filter", int, description="The filter's index in `layer`."),
        ],
        responses={200: LiveAnswerSerializer},
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.data, bytes):
            data = request.data
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise ServiceError("Send the window as the body (Content-Type: audio/wav) or as a multipart “file”.")
            data = upload.read()
        answer = live_window(
            user=api_user(request),
            data=data,
            version_id=_optional_int(request, "model_version"),
            layer=request.query_params.get("layer"),
            index=request.query_params.get("filter"),
        )
        return Response(answer)
