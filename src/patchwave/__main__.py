"""``python -m patchwave`` = the ``patchwave`` command."""

from patchwave.cli import main

main()
