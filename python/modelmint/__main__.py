"""`python -m modelmint`: the CLI."""

from modelmint.cli import main

main()
