"""A body that never comes, or trickles in, is abandoned with a 408 by a real gunicorn (gthread) server.

The server is the production kind (gunicorn, threads), started as a process of its own; the
clients are raw sockets, so nothing in between buffers the body.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.ports import free_port

pytestmark = pytest.mark.timeout(120)
GUNICORN = Path(sys.executable).with_name("gunicorn")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn with 2 threads; a body may idle 1 s, and must arrive at 1 MB/s at least."""
    port = free_port()
    data = tmp_path_factory.mktemp("server-data")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ddevis_site.settings",
        "DDEVIS_DATA_DIR": str(data),
        # A database of its own, not the one DATABASE_URL names: two xdist workers may each start a server.
        "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
        "REQUEST_BODY_IDLE_TIMEOUT_S": "1",
        "REQUEST_BODY_MIN_BYTES_PER_S": str(1024 * 1024),
        "DEBUG": "0",
    }
    # A deployed site's database is migrated: the API's throttles count in its cache table.
    manage = [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"]
    subprocess.run(manage, cwd=settings.BASE_DIR, env=env, check=True, timeout=300)
    command = [str(GUNICORN), "ddevis_site.wsgi:application", "--worker-class", "gthread", "--workers", "1"]
    command += ["--threads", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning"]
    command += ["--no-control-socket"]
    process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "gunicorn did not start"
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def _open(port: int, path: str, length: int, body: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Requested-With: XMLHttpRequest\r\nContent-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def _answer(sock: socket.socket) -> tuple[int, str]:
    """The status and body of the response (the client waits up to 30 s: far beyond the server's limits)."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_a_body_that_never_comes_is_abandoned_with_a_408(server):
    sock = _open(server, "/api/auth/token/", 1024 * 1024)  # announces 1 MB, sends nothing

    status, body = _answer(sock)

    assert status == 408
    assert "arrived too slowly" in body


def test_a_trickling_body_is_abandoned_with_a_408(server):
    sock = _open(server, "/api/auth/token/", 1024 * 1024, b'{"username": "')
    sock.settimeout(0.3)
    answered = b""
    for _ in range(100):  # a byte every 0.2 s: never idle for a second, far below the rate
        try:
            sock.sendall(b"a")
        except OSError:
            break  # the server has answered and closed
        try:
            answered = sock.recv(65536)
        except TimeoutError:
            continue
        if answered:
            break
    assert answered.startswith(b"HTTP/1.1 408")


def test_a_two_gigabyte_announcement_is_refused_at_once(server):
    sock = _open(server, "/admin/modelzoo/modelversion/add/", 2 * 1024**3)

    status, body = _answer(sock)

    assert status == 413
    assert "The model file is 2.0 GB; the limit is 50 MB." in body


def test_slow_clients_do_not_hold_the_threads(server):
    # Four silent bodies against two threads: each is abandoned after its idle second, then a
    # normal request is served.
    silent = [_open(server, "/api/auth/token/", 100_000) for _ in range(4)]
    answers = [_answer(sock)[0] for sock in silent]

    sock = _open(server, "/api/auth/token/", 2, b"{}")
    status, body = _answer(sock)

    assert answers == [408] * 4
    assert status == 400 and "username" in body  # the view ran: the fields are missing
