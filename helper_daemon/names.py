"""Node and item names: checked before anything touches the file system (they become directory names)."""

from __future__ import annotations

import re

from helper_daemon.errors import ApiError

NODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}")
ITEM_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def is_node_name(name: str) -> bool:
    return bool(NODE_RE.fullmatch(name))


def is_item_name(name: str) -> bool:
    return bool(ITEM_RE.fullmatch(name))


def check_node(name: str) -> str:
    if not is_node_name(name):
        raise ApiError(400, "bad node name", f"node name {name[:80]!r} does not match {NODE_RE.pattern}")
    return name


def check_item(name: str) -> str:
    if not is_item_name(name):
        raise ApiError(400, "bad item name", f"item name {name[:80]!r} does not match {ITEM_RE.pattern}")
    return name
