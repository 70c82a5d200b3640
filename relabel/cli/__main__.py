"""``python -m relabel.cli`` runs the command line."""

from relabel.cli.main import cli

cli()
