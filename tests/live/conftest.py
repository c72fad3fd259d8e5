"""One live engine per test module (TensorFlow and the bundled model load once); the tests share its media folder."""

import pytest

from tests.jobs.workers import stop
from tests.live.engine_support import start_engine


@pytest.fixture(scope="module")
def live_engine(django_db_setup, django_db_blocker, tmp_path_factory):
    """(address, media root) of a running engine; it reads model versions from the test database."""
    folder = tmp_path_factory.mktemp("live")
    media = folder / "media"
    with django_db_blocker.unblock():
        process, address = start_engine(folder, media_root=media)
    yield address, media
    stop(process)


@pytest.fixture
def engine(live_engine, _test_settings, settings):
    """The running engine, with this test's media where the engine reads model files."""
    address, media = live_engine
    settings.LIVE_ENGINE_ADDRESS = address
    settings.MEDIA_ROOT = media
    return address


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """Each test starts with no live windows counted against its users."""
    from django.core.cache import cache

    cache.clear()
