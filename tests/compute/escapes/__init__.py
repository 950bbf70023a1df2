"""Algorithms the sandbox tests run: one escape attempt per file, and the well-behaved jobs the
attempts are measured against.

Each defines ``run(inputs, params)``, the entry the harness calls inside the sandbox; the test
copies the one file into an algorithm folder of its own. They report what they observed (in
their report, or on stdout when the sandbox is expected to kill them) so that the tests assert
on what the job actually saw. pytest imports them outside the sandbox to look for doctests, so
nothing happens at import time and ``yaosu_job`` is imported inside ``run``.
"""
