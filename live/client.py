"""The web tier's side of the live engine: send one window, read the answer, within a deadline.

Imports neither TensorFlow nor the engine: only the wire format (:mod:`live.protocol`).
"""

import socket
import time

import numpy as np
from django.conf import settings

from core.errors import ServiceError
from live.protocol import ProtocolError, parse_address, read_answer, send_request

ENGINE_DOWN = (
    "The live engine is not running, so the network cannot listen right now. It starts with the site "
    "(manage.py serve) or on its own (manage.py run_live_engine); try again in a few seconds."
)
ENGINE_SLOW = "The live engine did not answer in time (it may be busy or still loading the model); try again."


class EngineUnavailable(ServiceError):
    """The engine is not there, or did not answer within ``LIVE_ENGINE_TIMEOUT_S``: a 503 with a sentence."""

    status = 503


def ask_engine(header: dict, samples: np.ndarray) -> tuple[dict, float]:
    """The engine's answer to one window, and the round trip in ms.

    Raises
    ------
    EngineUnavailable
        Nothing listens at ``LIVE_ENGINE_ADDRESS``, the engine hung up, or the deadline passed.
    ServiceError
        The engine could not answer this window (its sentence, 503).
    """
    family, address = parse_address(settings.LIVE_ENGINE_ADDRESS)
    deadline_s = settings.LIVE_ENGINE_TIMEOUT_S
    started = time.perf_counter()
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(deadline_s)
        if family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.connect(address)
        except (FileNotFoundError, ConnectionRefusedError, socket.gaierror):
            raise EngineUnavailable(ENGINE_DOWN) from None
        except (TimeoutError, BlockingIOError):  # late, or its backlog is full: busy, not gone
            raise EngineUnavailable(ENGINE_SLOW) from None
        except OSError:
            raise EngineUnavailable(ENGINE_DOWN) from None
        try:
            send_request(sock, header, samples)
            answer = read_answer(sock)
        except TimeoutError:
            raise EngineUnavailable(ENGINE_SLOW) from None
        except (ConnectionError, ProtocolError, OSError):
            raise EngineUnavailable(ENGINE_DOWN) from None
    finally:
        sock.close()
    if "error" in answer:
        raise ServiceError(str(answer["error"]), status=503)
    return answer, (time.perf_counter() - started) * 1000
