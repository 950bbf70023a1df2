"""Leave processes behind: a child in its own session, and a daemon (double fork, setsid), both
with a marker in their argv that the test looks for on the host."""

import json
import os
import subprocess
import sys
import time

SLEEPER = "import time; time.sleep(600)"


def run(inputs, params):
    marker = params["marker"]
    child = subprocess.Popen([sys.executable, "-c", SLEEPER, marker], start_new_session=True)
    middle = os.fork()
    if middle == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", SLEEPER, marker])
        os._exit(0)
    os.waitpid(middle, 0)
    deadline = time.monotonic() + 30  # the daemon may not have exec'd yet
    while len(alive := _with(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"report": json.dumps({"child": child.pid, "alive": alive})}


def _with(marker):
    pids = (int(name) for name in os.listdir("/proc") if name.isdigit())
    return [pid for pid in pids if marker.encode() in _cmdline(pid)]


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read()
    except OSError:
        return b""
