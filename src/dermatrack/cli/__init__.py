"""The ``dermatrack`` command line: thin Typer commands over the core and the store."""
