"""The live engine's wire format, shared by the web tier (client) and the engine (server).

One request, one answer, on a Unix socket (or TCP ``host:port``):

- request: 4-byte big-endian length of a JSON header, the header, then ``header["samples"]``
  little-endian float32 samples (mono, at ``header["sample_rate"]``);
- answer: 4-byte big-endian length, then a JSON object (``{"error": sentence}`` when the
  engine could not answer).

No NumPy pickles, no TensorFlow: this module is imported by web processes.
"""

import json
import socket
import struct
from pathlib import Path
from typing import Any

import numpy as np

#: The largest JSON header either side accepts (a header is a few hundred bytes).
MAX_HEADER_BYTES = 64 * 1024
#: The largest answer the web tier reads (an answer with one filter's map is about 20 kB).
MAX_ANSWER_BYTES = 4 * 1024 * 1024
#: The most samples a request may carry: 1.6 s at the canonical rate, above the 1.5 s window cap.
MAX_SAMPLES = 16000 * 16 // 10

_LENGTH = struct.Struct(">I")


class ProtocolError(Exception):
    """The other side sent something that is not a request or an answer of this protocol."""


def parse_address(address: str) -> tuple[int, Any]:
    """The socket family and address of ``LIVE_ENGINE_ADDRESS``: ``host:port`` is TCP, anything else a Unix path.

    >>> parse_address("127.0.0.1:8765")
    (<AddressFamily.AF_INET: 2>, ('127.0.0.1', 8765))
    """
    text = str(address).strip()
    if text.startswith("unix:"):
        return socket.AF_UNIX, text[5:]
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and "/" not in text:
        return socket.AF_INET, (host.strip("[]") or "127.0.0.1", int(port))
    return socket.AF_UNIX, str(Path(text))


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    chunks, remaining = [], n
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise ConnectionError("the connection closed in the middle of a message")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_frame(sock: socket.socket, limit: int) -> bytes | None:
    """One length-prefixed frame; None when the other side closed cleanly before it."""
    first = sock.recv(_LENGTH.size)
    if not first:
        return None
    head = first + (_read_exactly(sock, _LENGTH.size - len(first)) if len(first) < _LENGTH.size else b"")
    (length,) = _LENGTH.unpack(head)
    if length > limit:
        raise ProtocolError(f"a message of {length} bytes is over the {limit}-byte limit")
    return _read_exactly(sock, length)


def _decode_json(data: bytes) -> dict:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"the header is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ProtocolError("the header is not a JSON object")
    return value


def send_request(sock: socket.socket, header: dict, samples: np.ndarray) -> None:
    """Write one request: the header (with the sample count added) and the samples as float32."""
    payload = np.ascontiguousarray(samples, dtype="<f4").reshape(-1)
    encoded = json.dumps({**header, "samples": int(payload.size)}).encode()
    sock.sendall(_LENGTH.pack(len(encoded)) + encoded + payload.tobytes())


def read_request(sock: socket.socket) -> tuple[dict, np.ndarray] | None:
    """One request from a client, or None when it closed the connection.

    Raises
    ------
    ProtocolError
        A header over the limit or not a JSON object, or a sample count out of range.
    """
    data = _read_frame(sock, MAX_HEADER_BYTES)
    if data is None:
        return None
    header = _decode_json(data)
    count = header.get("samples")
    if not isinstance(count, int) or not 0 < count <= MAX_SAMPLES:
        raise ProtocolError(f"the sample count must be between 1 and {MAX_SAMPLES}, not {count!r}")
    samples = np.frombuffer(_read_exactly(sock, count * 4), dtype="<f4").astype(np.float32)
    return header, samples


def send_answer(sock: socket.socket, answer: dict) -> None:
    encoded = json.dumps(answer, separators=(",", ":")).encode()
    sock.sendall(_LENGTH.pack(len(encoded)) + encoded)


def read_answer(sock: socket.socket) -> dict:
    data = _read_frame(sock, MAX_ANSWER_BYTES)
    if data is None:
        raise ConnectionError("the engine closed the connection without answering")
    return _decode_json(data)
