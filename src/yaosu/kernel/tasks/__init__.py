"""Background tasks, as infrastructure: the table, the queue, the handler registry and the
worker. It imports no domain; ``yaosu.tasks`` is the edge that adds policy and audit."""
