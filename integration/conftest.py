"""Fixtures of the package tests: the built packages and scratch roots (testing/rpm_packages.py)."""
from testing.rpm_packages import rpms, rpms_changed_config, rpms_same_config, scratch_root  # noqa: F401
