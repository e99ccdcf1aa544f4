"""Undercloud helper daemon for TripleO major upgrades with an OS upgrade."""

__version__ = "0.1.0"
