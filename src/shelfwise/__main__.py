"""``python -m shelfwise`` runs the command line."""

from shelfwise.cli import main

main()
