"""``python -m daofed``: the same as the ``daofed`` command."""

from daofed.cli import main

main()
