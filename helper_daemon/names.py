"""Node and item names: checked before anything touches the file system (they become directory names).

The patterns are anchored for every regex flavour that reads them: pydantic (the API's path parameters), the
OpenAPI document (ECMA-262) and Python's `re.fullmatch` here, so "mysql\\n" is refused everywhere.
"""

from __future__ import annotations

import re

from helper_daemon.errors import ApiError

NODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$"
ITEM_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
NODE_RE = re.compile(NODE_PATTERN)
ITEM_RE = re.compile(ITEM_PATTERN)


def is_node_name(name: str) -> bool:
    return bool(NODE_RE.fullmatch(name))


def check_node(name: str) -> str:
    if not is_node_name(name):
        raise ApiError(400, "bad node name", f"node name {name[:80]!r} does not match {NODE_PATTERN}")
    return name


def check_item(name: str) -> str:
    if not ITEM_RE.fullmatch(name):
        raise ApiError(400, "bad item name", f"item name {name[:80]!r} does not match {ITEM_PATTERN}")
    return name
