"""Never return."""

import time


def run(inputs, params):
    while True:
        time.sleep(60)
