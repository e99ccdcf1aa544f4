"""Read the overcloud nodes out of a TripleO static Ansible inventory (tripleo-ansible-inventory.yaml).

Roles are groups with `hosts` and `vars.tripleo_role_name`; services (`pacemaker`, `ceph_mon`, ...) are groups
whose `children` are role groups. Multi-stack inventories prefix every group with the stack
(`overcloud_Controller`, `cell1_pacemaker`) and add unprefixed groups whose children are the prefixed ones.
The undercloud and any group without a role name are not overcloud nodes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from helper_daemon.names import NODE_RE, is_node_name

PACEMAKER_GROUP = "pacemaker"
CEPH_MON_GROUP = "ceph_mon"
CEPH_OSD_GROUP = "ceph_osd"


class InventoryError(ValueError):
    """The inventory cannot be used; the message names the file and what is wrong."""


@dataclasses.dataclass(frozen=True)
class InventoryNode:
    name: str
    role: str
    ceph_mon: bool
    pacemaker: bool
    ceph_osd: bool = False  # hosts Ceph OSDs: the OSD flags go up before it goes down


def load_inventory(path: Path) -> list[InventoryNode]:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read the inventory: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InventoryError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InventoryError(f"{path}: expected a static inventory (a mapping of groups) at the top level")
    return parse_inventory(data, str(path))


def parse_inventory(groups: dict, where: str = "inventory") -> list[InventoryNode]:
    groups = {name: (body if isinstance(body, dict) else {}) for name, body in groups.items()}
    role_of_group = {}
    for name, body in groups.items():
        role = (body.get("vars") or {}).get("tripleo_role_name")
        if role and body.get("hosts"):
            role_of_group[name] = str(role)
    if not role_of_group:
        raise InventoryError(f"{where}: no role group (a group with hosts and vars.tripleo_role_name); "
                             "is this a TripleO inventory (tripleo-ansible-inventory --static-yaml-inventory)?")
    stacks = {group[: -len(role) - 1] for group, role in role_of_group.items() if group.endswith("_" + role)}

    def service_hosts(service: str) -> set[str]:
        names = [service] + [f"{stack}_{service}" for stack in stacks]
        hosts: set[str] = set()
        for name in names:
            hosts |= _hosts_below(groups, name, set())
        return hosts

    pacemaker, ceph_mon = service_hosts(PACEMAKER_GROUP), service_hosts(CEPH_MON_GROUP)
    ceph_osd = service_hosts(CEPH_OSD_GROUP)
    nodes: dict[str, InventoryNode] = {}
    for group, role in sorted(role_of_group.items()):
        for host in groups[group]["hosts"]:
            host = str(host)
            if not is_node_name(host):
                raise InventoryError(f"{where}: host {host!r} in group {group!r} is not a valid node name "
                                     f"({NODE_RE.pattern})")
            if host in nodes and nodes[host].role != role:
                raise InventoryError(f"{where}: host {host!r} is in two roles, {nodes[host].role!r} and {role!r}")
            nodes[host] = InventoryNode(host, role, host in ceph_mon, host in pacemaker, host in ceph_osd)
    return sorted(nodes.values(), key=lambda n: n.name)


def _hosts_below(groups: dict, name: str, seen: set[str]) -> set[str]:
    if name in seen or name not in groups:
        return set()
    seen.add(name)
    body = groups[name]
    hosts = {str(h) for h in (body.get("hosts") or {})}
    for child in body.get("children") or {}:
        hosts |= _hosts_below(groups, child, seen)
    return hosts


def one_by_one_roles(nodes: list[InventoryNode]) -> set[str]:
    """The default one-by-one roles: those with a Pacemaker or a ceph-mon host."""
    return {n.role for n in nodes if n.pacemaker or n.ceph_mon}
