"""Open a netlink socket (routing tables, interfaces: the kernel's network configuration)."""

import json
import socket


def run(inputs, params):
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0):
            seen = "opened"
    except OSError as exc:
        seen = f"{type(exc).__name__}: {exc}"
    return {"report": json.dumps({"netlink": seen})}
