"""The engine's inner parts: plain case state, input data conversion, the pure core, and
the batch runner behind `retainflow run`.

Split out of `engine.py` so that the core (`core.apply`) has no store, API or I/O
concerns: the SQLite store and the Temporal runtime call the same function.
"""
