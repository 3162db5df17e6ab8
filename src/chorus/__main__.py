"""``python -m chorus``: the command line."""

from chorus.cli import main

main()
