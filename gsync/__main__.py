"""`python -m gsync` runs the command line."""

from gsync.cli import main

main()
