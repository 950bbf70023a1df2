"""Print far more than the log keeps, then one last line."""

import sys


def run(inputs, params):
    print("an error line on stderr", file=sys.stderr, flush=True)
    line = "y" * 999 + "\n"
    for _ in range(params["lines"]):
        sys.stdout.write(line)
    print("the last line", flush=True)
    return {}
