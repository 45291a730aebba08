"""The performance benchmark: our search against an SQLite FTS5 baseline, in one run.

Run it with `python -m bench [--quick] [--docs N]` (or `make bench`). Timings live here and
only here; tests never assert them.
"""
