"""The engine: the store, the post lifecycle, the queue, claiming and delivering, release rules
and the worker daemon."""
