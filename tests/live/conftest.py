"""Live tests share one engine per module (tests/live/engine_support.py); the root conftest clears the throttles."""

from tests.live.engine_support import engine, live_engine, live_model  # noqa: F401 (fixtures)
