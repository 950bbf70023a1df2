"""Open a listening socket on the loopback of the sandbox's own network namespace."""

import json
import socket


def run(inputs, params):
    seen = {}
    try:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.listen()
        seen["listen"] = server.getsockname()[1]
    except OSError as exc:
        seen["listen"] = f"{type(exc).__name__}: {exc}"
    left, right = socket.socketpair(socket.AF_UNIX)  # allowed: multiprocessing needs it
    left.sendall(b"unix")
    seen["unix"] = right.recv(4).decode()
    return {"report": json.dumps(seen)}
