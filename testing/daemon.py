"""Fixtures: (to be written)."""
