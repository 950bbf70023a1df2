"""Allocate memory until stopped: in several processes, each growing in steps ("grow"), or in one
allocation far past the limit ("huge"). Progress goes to stdout: the job may be killed."""

import os
import sys


def run(inputs, params):
    if params["mode"] == "huge":
        block = bytearray(64 * 2**30)
        return {"metrics": {"allocated": len(block)}}
    children = []
    for child in range(params["processes"]):
        pid = os.fork()
        if pid == 0:
            held = []
            for step in range(1, 1024):
                held.append(bytearray(16 * 2**20))  # zero-filled: the pages are really used
                print(f"child {child}: {step * 16} MiB", flush=True)
            os._exit(0)
        children.append(pid)
    ended = [os.waitpid(pid, 0)[1] for pid in children]
    print(f"children ended with {ended}", file=sys.stderr)
    return {"metrics": {"children": len(ended)}}
