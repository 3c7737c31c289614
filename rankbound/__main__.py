"""``python -m rankbound``: the ``rankbound`` command without the console script."""

from rankbound.cli import main

main()
