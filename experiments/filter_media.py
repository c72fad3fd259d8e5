"""A filter's image and sound, a layer's maps as one image, and the grants that let their URLs be answered cheaply.

An analysis shows one URL per filter image and sound: 64 of each for the bundled model.
Through the whole stack each one costs the middleware, a sign-in lookup and an access query;
most of a page's or a client's time went there, not into drawing. So the URLs in the layer
explorer and in API answers carry a *grant*: a signature over the viewer, the analysis and
its stored file, valid for `MEDIA_GRANT_SECONDS`. :class:`GrantedMediaMiddleware`, first in
the stack, answers a granted URL when the request comes from the user the grant was made
for (their signed-in session, checked by Django's own `get_user`, or their live API token):
then arrays this process keeps in memory. Anything else (someone else, no credentials, a
forged or expired grant) goes on to the ordinary view, which decides as before: a grant
never opens anything to someone the view would refuse.

Grants are stamped to the quarter hour, so a page reloaded within it asks for the same URLs
and the browser's cache answers.
"""

import re
import time
from collections.abc import Callable
from functools import lru_cache
from importlib import import_module

import numpy as np
from django.conf import settings
from django.contrib import auth
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.utils.cache import get_conditional_response
from django.utils.http import quote_etag

from accounts.authentication import live_token_user_id
from core.media import IMMUTABLE, Media
from dsp.params import FeatureParams
from dsp.sonification import METHODS, sonify, wav_bytes
from experiments import selectors
from experiments.models import Analysis
from jobs.models import Job
from modelzoo.cache import AnalysisCache
from modelzoo.rendering import COLORMAPS, filter_png, layer_maps_png

GRANT_SALT = "ddevis.analysis-media-grant"
# Stamps are rounded down to this many seconds: URLs stay the same (and cached) for a while.
GRANT_STAMP_STEP = 15 * 60


def filter_image_media(
    *, analysis_id: int, file_name: str, layer: dict, index: int, values: np.ndarray, query: QueryDict
) -> Media:
    """A filter's map as a small PNG; `scale=filter` (its own max, default) or `layer` (shared), `cmap`.

    Parameters
    ----------
    layer : dict
        The layer's stored statistics (`max` per filter, `layer_max`).
    values : np.ndarray, shape (height, width)
        The filter's output map.
    """
    scale, cmap = _image_scale(query)
    vmax = layer["layer_max"] if scale == "layer" else layer["max"][index]
    return Media(
        f"{analysis_id}-{file_name}-{layer['name']}-{index}-{scale}-{cmap}",
        "image/png",
        lambda: filter_png(values, vmax=vmax, cmap=cmap),
    )


def _image_scale(query: QueryDict) -> tuple[str, str]:
    """(scale, cmap) of an image query: `scale=filter` (each map's own max, default) or `layer`, and `cmap`."""
    scale = query.get("scale", "filter")
    cmap = query.get("cmap", "magma")
    if scale not in ("filter", "layer") or cmap not in COLORMAPS:
        raise Http404("Unknown scale or colour map.")
    return scale, cmap


def layer_maps_media(*, analysis_id: int, file_name: str, layer: dict, values: np.ndarray, query: QueryDict) -> Media:
    """Every filter's map of a layer side by side (index order), each as :func:`filter_image_media` draws it.

    The layer explorer's grid shows each tile's part of this one image (one request per layer, not one per filter).

    Parameters
    ----------
    values : np.ndarray, shape (filters, height, width)
        The layer's output maps.
    """
    scale, cmap = _image_scale(query)
    vmax = np.full(layer["filters"], layer["layer_max"]) if scale == "layer" else np.asarray(layer["max"])
    return Media(
        f"{analysis_id}-{file_name}-{layer['name']}-maps-{scale}-{cmap}",
        "image/png",
        lambda: layer_maps_png(values, vmax=vmax, cmap=cmap),
    )


def filter_audio_media(
    *,
    analysis_id: int,
    file_name: str,
    layer_name: str,
    index: int,
    values: np.ndarray,
    cache: AnalysisCache,
    params: FeatureParams,
    query: QueryDict,
) -> Media:
    """A filter's output as sound: `method=mask` (the input's phase, default) or `griffinlim`."""
    method = query.get("method", "mask")
    if method not in METHODS:
        raise Http404("Unknown sonification method.")
    return Media(
        f"{analysis_id}-{file_name}-{layer_name}-{index}-{method}",
        "audio/wav",
        lambda: wav_bytes(sonify(values, cache.stft, params, method=method), params.sample_rate),
    )


class _QuarterHourSigner(signing.TimestampSigner):
    def timestamp(self) -> str:
        now = int(time.time())
        return signing.b62_encode(now - now % GRANT_STAMP_STEP)


def media_grant(*, user_id: int, analysis_id: int, file_name: str) -> str:
    """A signed grant for `user_id` to fetch a finished analysis's filter images and sounds (`grant` parameter)."""
    return _QuarterHourSigner(salt=GRANT_SALT).sign(f"{user_id}.{analysis_id}.{file_name}")


def granted_file(grant: str, *, user_id: int, analysis_id: int) -> str | None:
    """The stored file name a grant gives this user for this analysis, or None (forged, expired, someone else's)."""
    try:
        value = _QuarterHourSigner(salt=GRANT_SALT).unsign(grant, max_age=settings.MEDIA_GRANT_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    granted_user, granted_analysis, file_name = [*value.split(".", 2), "", ""][:3]
    return file_name if (granted_user, granted_analysis) == (str(user_id), str(analysis_id)) else None


def requester_id(request: HttpRequest) -> int | None:
    """Whom the rest of the stack would take the request for: the signed-in session's user, else the token's."""
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key:
        # Django's own checks (the session's expiry, the password hash it was made with, an active user).
        request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        user = auth.get_user(request)
        if user.is_authenticated:
            return user.pk
    return live_token_user_id(request.headers.get("Authorization", ""))


@lru_cache(maxsize=64)
def _analysis_facts(analysis_id: int, file_name: str) -> tuple[dict[str, dict], FeatureParams, str] | None:
    """(layers by name, feature parameters, stored path) of an analysis whose file is still `file_name`."""
    row = (
        Analysis.objects.filter(pk=analysis_id, activations__endswith=f"/{file_name}", job__status=Job.Status.DONE)
        .values_list("layers", "model_version__feature_params", "activations")
        .first()
    )
    if row is None:
        return None
    layers, params, path = row
    return {layer["name"]: layer for layer in layers}, FeatureParams.from_dict(params), str(path)


# A filter's image or sound (`<index>.png`, `<index>.wav`), or a layer's maps in one image (`maps.png`).
_MEDIA_PATH = re.compile(
    r"^/analyses/(?P<analysis>\d+)/layers/(?P<layer>[^/]+)/(?:(?P<index>\d+)\.(?P<kind>png|wav)|(?P<maps>maps)\.png)$"
)


class GrantedMediaMiddleware:
    """Answer granted filter image and sound URLs of the grant's own token before the rest of the stack runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD") and "grant=" in request.META.get("QUERY_STRING", ""):
            match = _MEDIA_PATH.match(request.path_info)
            if match is not None:
                response = _granted_response(request, **match.groupdict())
                if response is not None:
                    return response
        return self.get_response(request)


def _granted_response(
    request: HttpRequest, *, analysis: str, layer: str, index: str | None, kind: str | None, maps: str | None
) -> HttpResponse | None:
    """The granted media, 304 when the client holds it, or None (the ordinary view decides) when the grant fails."""
    request.get_host()  # the same Host check as every other request (DisallowedHost: 400)
    analysis_id, filter_index = int(analysis), int(index or 0)
    user_id = requester_id(request)
    if user_id is None:
        return None
    file_name = granted_file(request.GET.get("grant", ""), user_id=user_id, analysis_id=analysis_id)
    facts = _analysis_facts(analysis_id, file_name) if file_name else None
    if file_name is None or facts is None:
        return None
    layers, params, path = facts
    stats = layers.get(layer)
    if stats is None or not 0 <= filter_index < stats["filters"]:
        return None
    cache = selectors.stored_analysis_cache(path)
    query = request.GET
    try:
        if maps:
            media = layer_maps_media(
                analysis_id=analysis_id,
                file_name=file_name,
                layer=stats,
                values=cache.activations[layer],  # cast per map while drawing: nothing to convert for a 304
                query=query,
            )
        elif kind == "png":
            media = filter_image_media(
                analysis_id=analysis_id,
                file_name=file_name,
                layer=stats,
                index=filter_index,
                values=cache.activations[layer][filter_index].astype(np.float32),
                query=query,
            )
        else:
            media = filter_audio_media(
                analysis_id=analysis_id,
                file_name=file_name,
                layer_name=layer,
                index=filter_index,
                values=cache.activations[layer][filter_index].astype(np.float32),
                cache=cache,
                params=params,
                query=query,
            )
    except Http404:
        return None
    return _media_response(request, media)


def _media_response(request: HttpRequest, media: Media) -> HttpResponse:
    """The media, or 304 when the client holds it, with the headers :func:`core.media.media_view` gives."""
    etag = quote_etag(media.etag)
    # Django's own If-None-Match rules (weak comparison, "*"), as the views' `etag` decorator applies them.
    response = get_conditional_response(request, etag=etag) or HttpResponse(
        media.render(), content_type=media.content_type
    )
    response["ETag"] = etag
    response["Cache-Control"] = IMMUTABLE
    response["X-Content-Type-Options"] = "nosniff"
    return response
