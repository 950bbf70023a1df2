"""Output checks for compute-to-data jobs: what may leave the sandbox.

A job's algorithm runs on authorised data inside the sandbox; what it writes leaves only
when these checks pass it (or, for a "review" finding, when a person does). They are pure:
files and tables in, a ``Report`` out; the job service records and enforces the verdict.

- ``folder``: the output folder's layout, size and manifest (``check_outputs`` starts here);
- ``leaks``: raw rows, identifying values (also encoded) and personal information in every
  output and in the log (``check_log`` returns the log redacted);
- ``disclosure``: ACRO's rules for statistics tables (threshold, zeros, dominance, p-ratio);
- ``index``: the inputs as keys, built once before the run (``InputIndex.build``);
- ``keys``: canonical text and 64-bit keys, the vectorised ground the others stand on.

See docs/output-checks.md for the rules and where their defaults come from.
"""

from yaosu.compute.checks.folder import check_outputs
from yaosu.compute.checks.index import InputIndex
from yaosu.compute.checks.leaks import check_log
from yaosu.compute.checks.rules import Finding, Report, Rules

__all__ = ["Finding", "InputIndex", "Report", "Rules", "check_log", "check_outputs"]
