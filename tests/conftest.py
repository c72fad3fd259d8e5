"""Fixtures shared by the whole suite: personas, a course, and test-friendly settings.

The personas: alice owns things, bob attends the same course, charlie has no relation,
ines teaches the course, olga teaches another course, admin is staff.
"""

import copy
import hashlib
import json
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts.roles import INSTRUCTOR, STUDENT, add_to_role

# Fixtures of real clips, analyses and experiments, for every test folder that needs them.
pytest_plugins = ["tests.experiments.fixtures_experiments"]

PASSWORD = "correct-horse-battery-staple"

# Property-based tests: a bounded number of examples, the same ones on every run (CI reproduces
# any failure); HYPOTHESIS_PROFILE=explore draws new, more numerous examples on a developer's machine.
hypothesis_settings.register_profile(
    "ci", max_examples=40, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("explore", max_examples=400, deadline=None, database=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the long tests first (transactional or slow), then those without a database, then those in a transaction.

    `make test` hands whole files to its pytest-xdist workers in this order (`--dist loadfile`, so that a
    module's fixtures, a live engine or a browser with a microphone, start once). The transactional and the
    slow files are the longest of the suite (browsers, worker and engine processes, validations): started
    last, one of them would keep one worker busy long after the other ran out of files. Django runs the
    transactional tests last only so that their flush cannot empty tables a later test in a transaction
    relies on; here a flush leaves nothing missing (the data migrations only make a table or carry rows
    over, and the flush makes the content types and permissions again).
    """

    def order(item: pytest.Item) -> int:
        names = set(getattr(item, "fixturenames", ()))
        marker = item.get_closest_marker("django_db")
        transactional = bool(names & {"transactional_db", "live_server", "django_db_reset_sequences"}) or (
            marker is not None and bool(marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
        )
        if transactional or item.get_closest_marker("slow"):
            return 0
        if marker is not None or "db" in names:
            return 2
        return 1

    items.sort(key=order)


@pytest.fixture(scope="session", autouse=True)
def _degraded_clips_built_once(tmp_path_factory):
    """The robustness conditions' copies of the evaluation clips, built once per run (tests/degraded_clips.py)."""
    from tests.degraded_clips import FOLDER_VARIABLE, install

    run = tmp_path_factory.getbasetemp()
    # pytest-xdist gives each of its workers a folder in the run's: the run's is the one they share.
    folder = (run.parent if os.environ.get("PYTEST_XDIST_WORKER") else run) / "degraded-clips"
    folder.mkdir(exist_ok=True)
    os.environ[FOLDER_VARIABLE] = str(folder)
    install(folder)


@pytest.fixture(scope="session")
def _no_collected_static(tmp_path_factory):
    """An empty STATIC_ROOT for the test client.

    WhiteNoise lists and stats every collected file (with its compressed copies) each time a
    middleware stack is built, and the test client builds one per Client: after a `make run`
    in the checkout that cost 32 ms per client (25 s of the suite's CPU). Tests get
    their static files from the finders (the live server's static handler) instead.
    """
    return tmp_path_factory.mktemp("static")


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path, _no_collected_static):
    """Run tasks inline, keep media in a temporary folder, serve static files from the finders."""
    settings.STATIC_ROOT = _no_collected_static
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # What every filter likes takes tens of seconds per version: only the tests of it compute it.
    settings.FILTER_INSIGHT_ON_VALIDATION = False
    # The stored maps a process keeps are keyed by the row's id and file name, unique on a real site; each test
    # has its own media folder and SQLite gives its first row id 1 again, so a kept map would be another test's.
    from insights.selectors import _load_examples, _load_maps

    _load_maps.cache_clear()
    _load_examples.cache_clear()


@pytest.fixture(autouse=True)
def _throttles_start_afresh(request):
    """Every test starts with no request counted and no sign-in failure.

    The counters live in the database cache: a test in a transaction rolls them back by itself,
    but a live-server or transactional test would leave them for the next tests, which would be
    throttled by requests they never made.
    """
    names = set(request.fixturenames)
    # A parametrised argument may share a fixture's name (test_gain_scales_amplitude's `db`).
    callspec = getattr(request.node, "callspec", None)
    names -= set(callspec.params) if callspec else set()
    if not names & {"db", "transactional_db", "live_server", "django_db_reset_sequences"}:
        return
    request.getfixturevalue("transactional_db" if names & {"transactional_db", "live_server"} else "db")
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(username: str, role: str = STUDENT, **extra) -> User:
        user = User.objects.create_user(username=username, password=PASSWORD, **extra)
        if role in (STUDENT, INSTRUCTOR):
            add_to_role(user, role)
        return user

    return make


@pytest.fixture
def alice(make_user) -> User:
    return make_user("alice")


@pytest.fixture
def bob(make_user) -> User:
    return make_user("bob")


@pytest.fixture
def charlie(make_user) -> User:
    return make_user("charlie")


@pytest.fixture
def ines(make_user) -> User:
    return make_user("ines", INSTRUCTOR)


@pytest.fixture
def olga(make_user) -> User:
    return make_user("olga", INSTRUCTOR)


@pytest.fixture
def admin_user(make_user) -> User:
    return make_user("admin", role="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def course(ines, alice, bob):
    """Ines teaches it; alice and bob attend."""
    from experiments.models import Course

    course = Course.objects.create(name="Audio ML 101", created_by=ines)
    course.instructors.add(ines)
    course.students.add(alice, bob)
    return course


@pytest.fixture
def other_course(olga, charlie):
    """Olga teaches it; charlie attends."""
    from experiments.models import Course

    course = Course.objects.create(name="Signals 201", created_by=olga)
    course.instructors.add(olga)
    course.students.add(charlie)
    return course


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(client, alice) -> Client:
    return login(client, alice)


@pytest.fixture(scope="session")
def bundled_model_description() -> dict:
    """What validating the bundled model records (layer table, histograms, sample metrics), computed once."""
    from modelzoo.inference import load_keras_file
    from modelzoo.introspection import layer_table, weight_histograms
    from modelzoo.services import BUNDLED_DIR, BUNDLED_NAME, read_sidecar

    path = BUNDLED_DIR / f"{BUNDLED_NAME}.keras"
    keras_model = load_keras_file(path)
    sidecar = read_sidecar(path)
    return {
        "data": path.read_bytes(),
        "feature_params": sidecar["feature_params"],
        "labels": sidecar["labels"],
        "hyperparameters": sidecar.get("hyperparameters", {}),
        "metrics": sidecar.get("metrics", {}),
        "layers": layer_table(keras_model),
        "weight_histograms": weight_histograms(keras_model),
    }


# What `modelzoo.worker.model_version_validate` writes on a version it validates.
VALIDATED_FIELDS = ("sha256", "layers", "weight_histograms", "metrics", "status", "validation_error")


@pytest.fixture(scope="session")
def _validated_files() -> dict[tuple[str, str], dict[str, Any]]:
    """What validation wrote on a model version, by its file and its fields before: filled by `validation_once`."""
    return {}


@pytest.fixture
def validation_once(monkeypatch, _validated_files):
    """Validate each model file for real once per session; later validations of the same file write what it found.

    Validating runs the model on every bundled clip and every robustness condition (seconds of CPU each time).
    For tests about what happens around a validation (registering, refusing, activating) a second run of the
    same file with the same fields would find the same: it is deterministic, and it is tested for real
    wherever this fixture is not asked for.
    """
    from modelzoo import worker
    from modelzoo.models import ModelVersion
    from modelzoo.signals import version_validated

    validate_for_real = worker.model_version_validate

    def validate(*, version: ModelVersion, progress: Callable[..., None]) -> ModelVersion:
        with version.file.open("rb") as source:
            sha256 = hashlib.sha256(source.read()).hexdigest()
        before = json.dumps([version.feature_params, version.labels, version.metrics], sort_keys=True)
        done = _validated_files.get((sha256, before))
        if done is None:
            validated = validate_for_real(version=version, progress=progress)
            found = {name: getattr(validated, name) for name in VALIDATED_FIELDS}
            _validated_files[sha256, before] = copy.deepcopy(found)
            return validated
        for name, value in copy.deepcopy(done).items():
            setattr(version, name, value)
        version.save()
        version_validated.send(sender=ModelVersion, version=version)
        return version

    monkeypatch.setattr(worker, "model_version_validate", validate)


@pytest.fixture
def active_model(db, bundled_model_description):
    """The bundled model as the active, valid version (validation itself is tested on its own)."""
    from django.core.files.base import ContentFile

    from modelzoo.models import ModelVersion
    from modelzoo.services import BUNDLED_NAME

    d = bundled_model_description
    version = ModelVersion(
        name=BUNDLED_NAME,
        sha256=hashlib.sha256(d["data"]).hexdigest(),
        feature_params=d["feature_params"],
        labels=d["labels"],
        layers=d["layers"],
        weight_histograms=d["weight_histograms"],
        hyperparameters=d["hyperparameters"],
        metrics=d["metrics"],
        status=ModelVersion.Status.VALID,
        is_active=True,
        is_bundled=True,
    )
    version.file.save(f"{BUNDLED_NAME}.keras", ContentFile(d["data"]), save=False)
    version.save()
    return version


REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_cache(settings):
    """The site's cache (throttle counters, sessions) in a real Redis: database 15, keys under the test's own prefix."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 6379)) != 0:
            pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"ddevis-test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": prefix,
        }
    }
    server = redis.Redis.from_url(REDIS_TEST_URL)
    yield server, prefix
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)
