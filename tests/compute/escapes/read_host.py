"""Look for the host's files: the project, its data and keys, root's home, the password hashes,
the folder the host keeps its job files in (its path comes from the test)."""

import json
import os


def run(inputs, params):
    seen = {}
    for path in params["paths"]:
        if not os.path.lexists(path):
            seen[path] = "absent"
        elif os.path.isdir(path):
            try:
                seen[path] = sorted(os.listdir(path))
            except OSError as exc:
                seen[path] = f"{type(exc).__name__}: {exc}"
        else:
            try:
                with open(path, "rb") as file:
                    seen[path] = f"read {len(file.read())} bytes"
            except OSError as exc:
                seen[path] = f"{type(exc).__name__}: {exc}"
    return {"report": json.dumps(seen)}
