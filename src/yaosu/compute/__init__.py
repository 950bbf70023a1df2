"""Compute domain: algorithm filing (算法备案) and public disclosure, red lines and
responsibility boundaries, ethics review (科技伦理审查), compute-to-data jobs in a sandbox with
output checks (DESIGN.md, "compute")."""

from yaosu.compute import labels as _labels  # noqa: F401  (registers the labels on import)
from yaosu.compute import responsibility as _responsibility  # noqa: F401  (finds contracts' algorithms)
