"""The node registry: which overcloud nodes exist, their role, and the hash of each node's token."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Optional

from helper_daemon import records
from helper_daemon.db import Database
from helper_daemon.errors import ApiError
from helper_daemon.inventory import InventoryError, InventoryNode, one_by_one_roles
from helper_daemon.names import check_node
from helper_daemon.tokens import new_token, token_sha256


@dataclasses.dataclass(frozen=True)
class Registration:
    name: str
    role: str
    ceph_mon: bool
    one_by_one: bool
    token: Optional[str]  # the new token, shown once; None when the node kept its existing one
    created: bool


def _upsert(conn: sqlite3.Connection, name: str, role: str, ceph_mon: bool, one_by_one: bool,
            rotate_token: bool) -> Registration:
    existing = records.node_exists(conn, name)
    token = new_token() if not existing or rotate_token else None
    if existing:
        records.update_node(conn, name, role, ceph_mon, one_by_one, token_sha256(token) if token else None)
    else:
        records.insert_node(conn, name, role, ceph_mon, one_by_one, token_sha256(token))
    return Registration(name, role, ceph_mon, one_by_one, token, not existing)


def add_node(db: Database, name: str, role: str, ceph_mon: bool = False, one_by_one: Optional[bool] = None,
             rotate_token: bool = False, actor: str = "admin") -> Registration:
    """Register (or update) one node. One-by-one is a property of the role: by default a node's role is
    one-by-one when the node hosts a ceph-mon or the role already is; making it one-by-one marks the whole role."""
    check_node(name)
    if not role:
        raise ApiError(400, "bad role", f"node {name} needs a role (the TripleO role name, for example Controller)")
    with db.transaction() as conn:
        if one_by_one is None:
            one_by_one = ceph_mon or records.role_marked_one_by_one(conn, role, other_than=name)
        reg = _upsert(conn, name, role, ceph_mon, one_by_one, rotate_token)
        records.mark_role_one_by_one(conn, role, one_by_one)
        records.audit(conn, actor, "register-node", node=name, detail=f"role={role} ceph_mon={ceph_mon} "
                      f"one_by_one={one_by_one} token={'new' if reg.token else 'kept'}")
    return reg


def import_nodes(db: Database, nodes: list[InventoryNode], rotate_tokens: bool = False,
                 actor: str = "admin", keep_old_os: tuple[str, ...] = ()) -> list[Registration]:
    """Register every inventory node in one transaction: all or nothing. Nodes of the inventory's ceph_osd group
    are marked as OSD hosts; the roles in `keep_old_os` (each must be in the inventory) stay on the old OS."""
    for node in nodes:
        check_node(node.name)
    roles = sorted({n.role for n in nodes})
    unknown = [role for role in keep_old_os if role not in roles]
    if unknown:
        raise InventoryError(f"--keep-old-os {', '.join(unknown)}: no such role in the inventory (roles: "
                             f"{', '.join(roles)})")
    serial = one_by_one_roles(nodes)
    with db.transaction() as conn:
        regs = [_upsert(conn, n.name, n.role, n.ceph_mon, n.role in serial, rotate_tokens) for n in nodes]
        for n in nodes:
            records.set_ceph_osd(conn, n.name, n.ceph_osd)
        for role in dict.fromkeys(keep_old_os):
            records.set_keep_old_os(conn, role, "marked at inventory import (--keep-old-os)", actor)
            records.audit(conn, actor, "role-keep-old-os", detail=f"{role}: inventory import --keep-old-os")
        records.audit(conn, actor, "import-inventory", detail=f"{len(regs)} nodes, {sum(r.created for r in regs)} "
                      f"new, {sum(bool(r.token) for r in regs)} new tokens")
    return regs


def list_nodes(db: Database) -> list[dict]:
    with db.snapshot() as conn:
        return records.registered_nodes(conn)
