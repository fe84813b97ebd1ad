"""The ``daofed`` command line: a thin layer over the Python API."""

from daofed.cli.app import app, main

__all__ = ["app", "main"]
