"""Connect over TCP to PostgreSQL on the host's loopback (127.0.0.1:5432)."""

import json
import socket


def run(inputs, params):
    try:
        with socket.create_connection((params["host"], params["port"]), timeout=5):
            seen = "connected"
    except OSError as exc:
        seen = f"{type(exc).__name__}: {exc}"
    return {"report": json.dumps({"connect": seen})}
