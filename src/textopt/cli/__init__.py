"""The command-line face: Typer commands that call domain services."""
