"""Free ports on the loopback for the servers, engines and workers the tests start."""

import socket


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now (the system picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
