"""Resolve names: a DNS query is a way out even when nothing else is."""

import json
import socket


def run(inputs, params):
    seen = {}
    for name in ("example.com", "postgres", "localhost"):
        try:
            seen[name] = sorted({info[4][0] for info in socket.getaddrinfo(name, 80)})
        except OSError as exc:
            seen[name] = f"{type(exc).__name__}: {exc}"
    return {"report": json.dumps(seen)}
