"""Node and item names: checked before anything touches the file system (they become directory names).

The patterns are anchored for every regex flavour that reads them: pydantic (the API's path parameters), the
OpenAPI document (ECMA-262) and Python's `re.fullmatch` (the CLI's registry), so "mysql\\n" is refused
everywhere. The API checks them as path parameters (dependencies.py).
"""

from __future__ import annotations

import re

from helper_daemon.errors import ApiError

NODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$"
ITEM_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
NODE_RE = re.compile(NODE_PATTERN)


def is_node_name(name: str) -> bool:
    return bool(NODE_RE.fullmatch(name))


def check_node(name: str) -> str:
    if not is_node_name(name):
        raise ApiError(400, "bad node name", f"node name {name[:80]!r} does not match {NODE_PATTERN}")
    return name

