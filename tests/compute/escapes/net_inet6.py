"""Connect over IPv6 to the host's loopback (::1)."""

import json
import socket


def run(inputs, params):
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(("::1", params["port"]))
            seen = "connected"
    except OSError as exc:
        seen = f"{type(exc).__name__}: {exc}"
    return {"report": json.dumps({"connect": seen})}
