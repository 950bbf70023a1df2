"""Every process forks for as long as it can; the first one counts what it managed and the most
processes it saw at once."""

import json
import os
import time


def run(inputs, params):
    deadline = time.monotonic() + params["seconds"]
    first = os.getpid()
    forked = refused = most = 0
    while time.monotonic() < deadline:
        try:
            pid = os.fork()
        except BlockingIOError:  # EAGAIN: no process left
            refused += 1
            time.sleep(0.01)
            continue
        if pid == 0:
            continue  # the child joins the bomb
        forked += 1
        most = max(most, sum(name.isdigit() for name in os.listdir("/proc")))
    if os.getpid() != first:
        while True:  # the children wait to be killed
            time.sleep(60)
    return {"report": json.dumps({"forked": forked, "refused": refused, "most": most})}
