"""Rosetta's benchmark harness: ``python bench/run.py`` (``make bench``)."""
