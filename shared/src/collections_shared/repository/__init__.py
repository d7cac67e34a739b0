"""SQL that more than one service runs (item status transitions, analysis versions, preferences).

A service's own queries live in its own ``repository.py``."""
