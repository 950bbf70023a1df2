"""Burn CPU: one process forever ("one"), or several that each stay under the per-process limit
but together go far past it ("tree")."""

import os
import time


def _burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def run(inputs, params):
    if params["mode"] == "one":
        while True:
            pass
    children = []
    for _ in range(params["processes"]):
        pid = os.fork()
        if pid == 0:
            _burn(params["each"])
            time.sleep(600)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    return {"metrics": {"burned": len(children)}}
