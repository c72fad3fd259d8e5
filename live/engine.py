"""The warm live engine: model versions loaded once, one forward pass per window, answered over a socket.

Runs in its own process (``manage.py run_live_engine``), on the worker side of the line: it
loads versions through :func:`modelzoo.inference.load_version` and runs them through
:func:`modelzoo.inference.forward_audio`, the same features and forward pass as an analysis.
Web processes reach it through :mod:`live.client`; neither imports TensorFlow there.
"""

import logging
import os
import signal
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from django.db import connection

from live.protocol import ProtocolError, parse_address, read_request, send_answer
from modelzoo.inference import LoadedModel, forward_audio, load_version
from modelzoo.models import ModelVersion

logger = logging.getLogger(__name__)

#: A client that sends nothing for this long is hung up on (the web tier opens one connection per window).
IDLE_TIMEOUT_S = 30.0
#: The chosen filter's map is averaged down to at most this many cells a side before it is sent.
MAP_MAX_CELLS = 64


class EngineError(Exception):
    """A request the engine cannot answer; the message is for people."""


def filter_energies(activations: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Each convolution layer's energy per filter: the root mean square of the filter's map over the window.

    Parameters
    ----------
    activations : dict of layer name to np.ndarray, shape (filters, height, width)

    Returns
    -------
    list of {"name", "filters", "energy": [float per filter]}, in the network's order
    """
    layers = []
    for name, maps in activations.items():
        values = np.asarray(maps, dtype=np.float32).reshape(maps.shape[0], -1)
        energy = np.sqrt(np.mean(np.square(values), axis=1))
        layers.append({"name": name, "filters": int(maps.shape[0]), "energy": [round(float(e), 5) for e in energy]})
    return layers


def filter_map(maps: np.ndarray, index: int) -> dict[str, Any]:
    """One filter's map, block-averaged to at most ``MAP_MAX_CELLS`` a side, as bytes 0-255 of its peak.

    Rows go from the lowest frequency up, as in every spectrogram of the project.
    """
    values = np.asarray(maps[index], dtype=np.float32)
    step_f = max(1, -(-values.shape[0] // MAP_MAX_CELLS))
    step_t = max(1, -(-values.shape[1] // MAP_MAX_CELLS))
    height, width = values.shape[0] // step_f, values.shape[1] // step_t
    small = values[: height * step_f, : width * step_t].reshape(height, step_f, width, step_t).mean(axis=(1, 3))
    peak = float(small.max()) if small.size else 0.0
    scaled = np.zeros_like(small) if peak <= 0 else np.clip(small / peak, 0, 1) * 255
    return {"peak": round(peak, 5), "shape": [height, width], "map": np.rint(scaled).astype(int).tolist()}


class LiveEngine:
    """The loaded model versions (by id, checked against the file's hash) and the answer to one window."""

    def __init__(self, *, tf_threads: int | None = None) -> None:
        self._models: dict[int, tuple[str, LoadedModel]] = {}
        self._lock = threading.Lock()
        self._tf_threads = tf_threads
        self._tf_configured = False

    def model_for(self, version_id: int, sha256: str) -> LoadedModel:
        """The loaded model of a version; loaded on first use, again if its file changed."""
        known = self._models.get(version_id)
        if known is not None and known[0] == sha256:
            return known[1]
        with self._lock:
            known = self._models.get(version_id)
            if known is not None and known[0] == sha256:
                return known[1]
            try:
                version = ModelVersion.objects.get(pk=version_id)
            except ModelVersion.DoesNotExist:
                raise EngineError("This model version does not exist (any more).") from None
            finally:
                connection.close()  # each client has a thread of its own: no connection may stay behind
            if version.status != ModelVersion.Status.VALID or version.sha256 != sha256:
                raise EngineError(f"The model version “{version.name}” is not a valid, validated version.")
            self._configure_tensorflow()
            model = load_version(version)
            self._models[version_id] = (sha256, model)
            return model

    def _configure_tensorflow(self) -> None:
        """Before the first model loads (TensorFlow's import, ~4 s and 700 MB, waits until a version needs it):
        run each operation of a pass on `tf_threads` threads.

        A window's pass is a few milliseconds, and windows of several users arrive together, so splitting
        each operation over every core only makes the passes fight; passes of different windows still run
        side by side (inter-op pool).
        """
        if self._tf_configured:
            return
        from modelzoo.inference import configure_tensorflow

        configure_tensorflow()
        import tensorflow as tf

        if self._tf_threads is not None:
            tf.config.threading.set_intra_op_parallelism_threads(self._tf_threads)
        self._tf_configured = True

    def warm(self) -> list[str]:
        """Load every valid version not loaded yet (the active one first) and run each once; the names loaded."""
        names = []
        versions = ModelVersion.objects.filter(status=ModelVersion.Status.VALID).order_by("-is_active", "pk")
        for version in list(versions):
            known = self._models.get(version.pk)
            if known is not None and known[0] == version.sha256:
                continue
            try:
                model = self.model_for(version.pk, version.sha256)
            except Exception:  # a broken file must not keep the engine from serving the others
                logger.exception("The live engine could not load model version %s", version.pk)
                continue
            model.run(np.zeros((model.params.n_freq, model.params.n_frames), dtype=np.float32))
            names.append(version.name)
        connection.close()
        return names

    def keep_warm(self, interval_s: float, stop: threading.Event, said: Callable[[str], None]) -> None:
        """Every `interval_s`, load the versions validated since: their first window is then as quick as any."""
        while not stop.wait(interval_s):
            try:
                for name in self.warm():
                    said(f"Live engine: loaded {name}")
            except Exception:  # the database away for a moment: try again at the next look
                logger.exception("The live engine could not look for new model versions")
                connection.close()

    def answer(self, header: dict, samples: np.ndarray) -> dict[str, Any]:
        """What the network makes of one window: prediction, probabilities, energy per filter, timings (ms)."""
        started = time.perf_counter()
        version_id, sha256, rate = header.get("model_version"), header.get("sha256"), header.get("sample_rate")
        if not isinstance(version_id, int) or not isinstance(sha256, str):
            raise EngineError("The request names no model version.")
        if not isinstance(rate, int) or not 8000 <= rate <= 192000:
            raise EngineError("The request's sample rate is out of range.")
        if not np.all(np.isfinite(samples)):
            raise EngineError("The window holds non-finite samples.")
        model = self.model_for(version_id, sha256)
        result = forward_audio(model, samples, rate)
        answer: dict[str, Any] = {
            "model_version": version_id,
            "predicted_label": result.predicted_label,
            "probabilities": result.probabilities,
            "silent": result.silent,
            "layers": filter_energies(result.cache.activations),
        }
        chosen = header.get("filter")
        if chosen is not None:
            layer, index = (chosen.get("layer"), chosen.get("index")) if isinstance(chosen, dict) else (None, None)
            maps = result.cache.activations.get(layer) if isinstance(layer, str) else None
            if maps is None or not isinstance(index, int) or not 0 <= index < maps.shape[0]:
                raise EngineError("There is no such filter in this model version.")
            answer["filter"] = {"layer": layer, "index": index, **filter_map(maps, index)}
        answer["timings"] = {**result.timings, "engine_ms": round((time.perf_counter() - started) * 1000, 2)}
        return answer


class _Handler(socketserver.BaseRequestHandler):
    server: "_UnixServer | _TCPServer"

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(IDLE_TIMEOUT_S)
        try:
            while True:
                try:
                    request = read_request(sock)
                except ProtocolError as exc:
                    send_answer(sock, {"error": f"The live engine could not read the request: {exc}."})
                    return
                if request is None:
                    return
                header, samples = request
                try:
                    answer = self.server.engine.answer(header, samples)
                except EngineError as exc:
                    answer = {"error": str(exc)}
                except Exception:
                    logger.exception("The live engine failed on a window")
                    answer = {"error": "The live engine failed on this window; the details are in its log."}
                send_answer(sock, answer)
        except (TimeoutError, ConnectionError, OSError):
            return  # the client went away or fell silent: nothing to answer


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    # Ten users' windows arrive together; socketserver's default backlog (5) makes the sixth connect fail.
    request_queue_size = 256
    engine: LiveEngine


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    engine: LiveEngine

    def server_bind(self) -> None:
        # Small answers must leave at once, not wait for Nagle's algorithm.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


def _clear_stale_socket(path: str) -> None:
    """Remove a socket file left by an engine that died; refuse to start beside one that still answers."""
    if not os.path.exists(path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
    else:
        raise EngineError(f"Another live engine is already listening on {path}.")
    finally:
        probe.close()


def serve(
    address: str,
    engine: LiveEngine,
    *,
    ready: Callable[[], None] | None = None,
    rescan_s: float = 0,
    said: Callable[[str], None] = logger.info,
) -> None:
    """Answer windows on `address` until SIGTERM or Ctrl-C; the Unix socket file is removed at the end.

    `ready` is called once the socket listens (so a supervisor's "listening" line is true); with
    `rescan_s`, a thread loads newly validated versions that often (:meth:`LiveEngine.keep_warm`).
    """
    family, where = parse_address(address)
    server: _UnixServer | _TCPServer
    if family == socket.AF_UNIX:
        _clear_stale_socket(where)
        server = _UnixServer(where, _Handler)
        os.chmod(where, 0o600)  # only this account's web processes may ask
    else:
        server = _TCPServer(where, _Handler)
    server.engine = engine

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    stop_watching = threading.Event()
    if rescan_s > 0:
        threading.Thread(target=engine.keep_warm, args=(rescan_s, stop_watching, said), daemon=True).start()
    try:
        if ready is not None:
            ready()
        server.serve_forever(poll_interval=0.2)
    finally:
        stop_watching.set()
        server.server_close()
        if family == socket.AF_UNIX and os.path.exists(where):
            os.unlink(where)
