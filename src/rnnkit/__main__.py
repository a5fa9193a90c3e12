"""``python -m rnnkit``: same as the ``rnnkit`` command."""

from rnnkit.cli import main

main()
