"""The command line: typer/rich live here and nowhere else; one module per command."""
