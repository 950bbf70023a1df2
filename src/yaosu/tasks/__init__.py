"""Background tasks at the edge: policy, audit, routes and commands over kernel/tasks."""

from yaosu.tasks import labels as _labels  # noqa: F401  (registers the labels on import)
