"""Stratus' version: the one place it is written (pyproject.toml reads it; CHANGELOG.md says what each one holds)."""

__version__ = "0.1.0"
