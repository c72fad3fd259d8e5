"""Reading model versions: which ones a user may see, and what their pages show."""

from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from core.charts import histogram_bars
from modelzoo.models import ModelVersion

#: Who may see the versions a user shares: functions ``user -> QuerySet of user ids`` registered by
#: the apps that know (the courses live above this app, so it cannot ask them itself).
_SHARING_PEERS: list[Callable[[User], QuerySet]] = []


def register_sharing_peers(peers: Callable[[User], QuerySet]) -> None:
    """Let the owners `peers(user)` returns show their shared versions to `user` (called in `AppConfig.ready()`)."""
    if peers not in _SHARING_PEERS:
        _SHARING_PEERS.append(peers)


def model_versions_visible(*, user: User | AnonymousUser) -> QuerySet[ModelVersion]:
    """Model versions `user` may see and use: every one for admins; for everyone else the valid ones
    of the site, their own, and those shared with them (a course mate's shared workshop version)."""
    versions = ModelVersion.objects.select_related("uploaded_by", "owner")
    if user.is_staff:
        return versions
    mine_or_site = Q(owner__isnull=True)
    if user.is_authenticated:
        mine_or_site |= Q(owner=user)
        for peers in _SHARING_PEERS:
            mine_or_site |= Q(shared_with_courses=True, owner__in=peers(user))
    return versions.filter(mine_or_site, status=ModelVersion.Status.VALID)


def model_version_get(*, user: User | AnonymousUser, version_id: int) -> ModelVersion:
    """A model version `user` may see, or 404."""
    return get_object_or_404(model_versions_visible(user=user), pk=version_id)


def weight_panels(version: ModelVersion) -> list[dict]:
    """One panel per layer weight (kernel, bias) with its histogram bars and statistics."""
    return [{**entry, "bars": histogram_bars(entry)} for entry in version.weight_histograms]
