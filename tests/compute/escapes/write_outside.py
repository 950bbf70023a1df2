"""Write everywhere but /output; /tmp is writable, but private to this one job."""

import json
import os


def run(inputs, params):
    scratch = f"/tmp/{params['marker']}"
    seen = {"scratch existed": os.path.exists(scratch)}
    targets = ["/algorithm/x", "/inputs/x", "/usr/x", "/yaosu/x", "/x", params["venv"] + "/x"]
    for path in [*targets, scratch]:
        try:
            with open(path, "w") as file:
                file.write("written by the job")
            seen[path] = "written"
        except OSError as exc:
            seen[path] = f"{type(exc).__name__}: {exc}"
    return {"report": json.dumps(seen)}
