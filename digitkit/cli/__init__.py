"""The ``digitkit`` command: a thin Typer shell over the library."""
