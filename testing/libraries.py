"""``libraries/`` as the package ``tripleo_upgrade_libraries``, without the Leapp framework.

Leapp itself loads that directory as ``leapp.libraries.common``; the node-side modules import each other
relatively, so tests (conftest.py) and benchmarks load it as a package of their own.
"""
import os
import sys
import types

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBRARIES_PACKAGE = 'tripleo_upgrade_libraries'


def register_libraries_package():
    """Register the package (once) and return it: ``from tripleo_upgrade_libraries import ...`` works after."""
    if LIBRARIES_PACKAGE not in sys.modules:
        package = types.ModuleType(LIBRARIES_PACKAGE)
        package.__path__ = [os.path.join(REPO_ROOT, 'libraries')]
        sys.modules[LIBRARIES_PACKAGE] = package
    return sys.modules[LIBRARIES_PACKAGE]
