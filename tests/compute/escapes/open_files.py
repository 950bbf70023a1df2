"""Open files until refused."""

import json


def run(inputs, params):
    held, refused = [], None
    try:
        for _ in range(10_000):
            held.append(open("/dev/null", "rb"))  # noqa: SIM115
    except OSError as exc:
        refused = exc.strerror
    return {"report": json.dumps({"opened": len(held), "refused": refused})}
