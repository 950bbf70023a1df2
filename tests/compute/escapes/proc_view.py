"""Look at the processes: which pids /proc shows, what PID 1's and every process's environment
hold, and the job's own environment."""

import json
import os


def run(inputs, params):
    pids = sorted(int(name) for name in os.listdir("/proc") if name.isdigit())
    environs = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/environ", "rb") as file:
                raw = file.read()
            environs[pid] = sorted(v.split(b"=")[0].decode() for v in raw.split(b"\0") if v)
        except OSError as exc:
            environs[pid] = f"{type(exc).__name__}: {exc}"
    seen = {"pids": pids, "environs": environs, "environ": sorted(os.environ)}
    return {"report": json.dumps(seen)}
