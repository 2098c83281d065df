"""Typer apps: thin layers that parse flags, build a step and hand it to an executor."""
