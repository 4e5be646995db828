"""`python -m retainflow` runs the command line."""

from retainflow.cli import main

main()
