"""Live tests share one engine per module (engine_support) and start with no windows counted against anyone."""

import pytest

from tests.live.engine_support import engine, live_engine, live_model  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _fresh_throttle(db):
    """Each test starts with no live windows counted against its users."""
    from django.core.cache import cache

    cache.clear()
