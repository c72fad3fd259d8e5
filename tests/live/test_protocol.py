"""The live engine's wire format: addresses, one request and one answer, and what is refused."""

import contextlib
import json
import socket
import struct
import threading

import numpy as np
import pytest

from live.protocol import (
    MAX_HEADER_BYTES,
    MAX_SAMPLES,
    ProtocolError,
    parse_address,
    read_answer,
    read_request,
    send_answer,
    send_request,
)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("/run/ddevis/live.sock", (socket.AF_UNIX, "/run/ddevis/live.sock")),
        ("unix:/tmp/a:b.sock", (socket.AF_UNIX, "/tmp/a:b.sock")),
        ("data/live-engine.sock", (socket.AF_UNIX, "data/live-engine.sock")),
        ("127.0.0.1:8765", (socket.AF_INET, ("127.0.0.1", 8765))),
        ("engine.internal:9000", (socket.AF_INET, ("engine.internal", 9000))),
        (":9000", (socket.AF_INET, ("127.0.0.1", 9000))),
    ],
)
def test_an_address_is_a_unix_path_unless_it_is_host_and_port(address, expected):
    assert parse_address(address) == expected


def test_a_request_and_an_answer_cross_the_wire_unchanged():
    client, server = socket.socketpair()
    samples = np.linspace(-1, 1, 16000, dtype=np.float32)
    with client, server:
        send_request(client, {"model_version": 3, "sample_rate": 16000}, samples)
        header, received = read_request(server)
        send_answer(server, {"predicted_label": "7", "probabilities": {"7": 1.0}})
        answer = read_answer(client)

    assert header == {"model_version": 3, "sample_rate": 16000, "samples": 16000}
    assert np.array_equal(received, samples)
    assert answer == {"predicted_label": "7", "probabilities": {"7": 1.0}}


def test_a_closed_connection_is_no_request():
    client, server = socket.socketpair()
    client.close()
    with server:
        assert read_request(server) is None


def _raw(client: socket.socket, header: bytes) -> None:
    with contextlib.suppress(OSError):  # the reader refused it and hung up: what the test wants
        client.sendall(struct.pack(">I", len(header)) + header)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"x" * (MAX_HEADER_BYTES + 1), "over the"),
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"samples": MAX_SAMPLES + 1}).encode(), "sample count"),
        (json.dumps({"samples": 0}).encode(), "sample count"),
        (json.dumps({"samples": "many"}).encode(), "sample count"),
    ],
    ids=["huge-header", "not-json", "not-an-object", "too-many-samples", "no-samples", "count-not-a-number"],
)
def test_what_is_not_a_request_is_refused_before_samples_are_read(header, message):
    client, server = socket.socketpair()
    with client, server:
        sender = threading.Thread(target=_raw, args=(client, header))
        sender.start()
        with pytest.raises(ProtocolError, match=message):
            read_request(server)
        server.close()
        sender.join()
