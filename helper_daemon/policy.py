"""The safety rules of the upgrade, as pure decisions: upgrade leases and database transfers.

No I/O here: the routers read the facts inside one transaction, ask these functions, and write the answer.
Every refusal carries every reason, in words an operator can act on.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable, Mapping


@dataclasses.dataclass(frozen=True)
class Node:
    name: str
    role: str
    ceph_mon: bool = False
    one_by_one: bool = False
    os_release: str | None = None
    phase: str | None = None


@dataclasses.dataclass(frozen=True)
class LeaseRules:
    min_ceph_mons: int = 2
    # None: a role is one-by-one when the registry marked its nodes so (Pacemaker or ceph-mon hosts).
    one_by_one_roles: frozenset[str] | None = None
    # None: no limit for the other roles beyond "never the whole role".
    batch_size: int | None = None


@dataclasses.dataclass(frozen=True)
class Blocker:
    """One safety rule refusing a lease now: the leases in its way, and how many of them must end first."""

    rule: str  # "one-by-one", "batch-size", "whole-role" or "min-ceph-mons"
    holders: tuple[str, ...]
    must_release: int
    reason: str  # the same, in words an operator can act on

    def as_dict(self) -> dict:
        return {"rule": self.rule, "holders": list(self.holders), "must_release": self.must_release}


@dataclasses.dataclass(frozen=True)
class Decision:
    granted: bool
    reasons: tuple[str, ...] = ()
    already_held: bool = False
    blockers: tuple[Blocker, ...] = ()  # leases only: the facts behind `reasons`


def is_one_by_one(role: str, nodes: Iterable[Node], rules: LeaseRules) -> bool:
    if rules.one_by_one_roles is not None:
        return role in rules.one_by_one_roles
    return any(n.one_by_one for n in nodes if n.role == role)


def decide_lease(requester: str, nodes: Mapping[str, Node], leases: Mapping[str, str], rules: LeaseRules) -> Decision:
    """May `requester` be taken down now? `leases` maps node name -> since (ISO time).

    The caller answers "unknown node" itself: `requester` must be in `nodes`.
    """
    node = nodes[requester]
    if requester in leases:
        return Decision(granted=True, already_held=True)
    role_nodes = sorted(n.name for n in nodes.values() if n.role == node.role)
    leased_in_role = [name for name in role_nodes if name in leases]
    blockers = []

    if is_one_by_one(node.role, nodes.values(), rules):
        for holder in leased_in_role:
            blockers.append(Blocker(
                "one-by-one", (holder,), 1,
                f"{holder} of one-by-one role {node.role} already holds a lease since {leases[holder]}; "
                f"it ends when tripleo-upgrade-complete runs on {holder} (back in service), or with "
                f"`tripleo-upgrade-helper lease release {holder} --reason TEXT` if {holder} died holding it"
            ))
    elif rules.batch_size is not None and len(leased_in_role) >= rules.batch_size:
        blockers.append(Blocker(
            "batch-size", tuple(leased_in_role), len(leased_in_role) - rules.batch_size + 1,
            f"batch_size={rules.batch_size} nodes of role {node.role} already hold leases "
            f"({', '.join(leased_in_role)}); wait until one of them is back in service and releases its lease"
        ))

    # A role of one node can only be upgraded by taking it down; the rule protects roles that can stay up.
    if len(role_nodes) > 1 and len(leased_in_role) == len(role_nodes) - 1:
        blockers.append(Blocker(
            "whole-role", tuple(leased_in_role), 1,
            f"every node of role {node.role} would be down at once "
            f"({', '.join(leased_in_role)} already hold leases); wait until one of them releases its lease"
        ))

    if node.ceph_mon:
        mons = sorted(n.name for n in nodes.values() if n.ceph_mon)
        running = [name for name in mons if name not in leases]
        remaining = len(running) - 1
        if remaining < rules.min_ceph_mons:
            leased = [name for name in mons if name in leases]
            blockers.append(Blocker(
                "min-ceph-mons", tuple(leased), rules.min_ceph_mons - remaining,
                f"ceph-mon hosts without a lease would drop to {remaining}, below min_ceph_mons={rules.min_ceph_mons} "
                f"(running: {', '.join(running)}; leased: {', '.join(leased) or 'none'}); "
                "wait until a leased ceph-mon host is back in service and releases its lease"
            ))

    return Decision(granted=not blockers, reasons=tuple(b.reason for b in blockers), blockers=tuple(blockers))


# --- database transfers ---------------------------------------------------------------------------------------------

_MAJOR = re.compile(r"\s*(\d+)")


def os_major(os_release: str | None) -> int | None:
    """8 for "8.4"; None when the node never reported a release (or it is not a version)."""
    match = _MAJOR.match(os_release or "")
    return int(match.group(1)) if match else None


@dataclasses.dataclass(frozen=True)
class TransferPlan:
    role: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    unknown: tuple[str, ...]
    source: str | None
    target: str | None
    reasons: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict:
        return {
            "role": self.role,
            "valid": self.valid,
            "source": self.source,
            "target": self.target,
            "old_os": list(self.old),
            "new_os": list(self.new),
            "unknown_os": list(self.unknown),
            "reasons": list(self.reasons),
        }


def os_state(os_release: str | None, target_os_major: int) -> str:
    """The node's OS: "old", "new" (major >= target_os_major) or "unknown" (it never reported a release)."""
    major = os_major(os_release)
    return "unknown" if major is None else "new" if major >= target_os_major else "old"


def split_by_os(nodes: Iterable[Node], target_os_major: int) -> tuple[list[str], list[str], list[str]]:
    """Names of (old OS, new OS, unknown OS) nodes, each sorted."""
    by_state: dict[str, list[str]] = {"old": [], "new": [], "unknown": []}
    for node in sorted(nodes, key=lambda n: n.name):
        by_state[os_state(node.os_release, target_os_major)].append(node.name)
    return by_state["old"], by_state["new"], by_state["unknown"]


def plan_transfer(
    role: str, nodes: Mapping[str, Node], target_os_major: int, source: str | None = None, target: str | None = None
) -> TransferPlan:
    """The database transfer of `role`: from an old-OS node (the first, or `source`) to its single new-OS node
    (`target`, when given, must be that node: a check that the operator and the daemon mean the same one)."""
    role_nodes = [n for n in nodes.values() if n.role == role]
    old, new, unknown = split_by_os(role_nodes, target_os_major)
    reasons = []
    if not role_nodes:
        roles = sorted({n.role for n in nodes.values()})
        reasons.append(f"no node of role {role} is registered (roles: {', '.join(roles) or 'none'})")
    if unknown:
        reasons.append(
            f"{', '.join(unknown)} of role {role} never reported an OS release, so "
            f"{'it' if len(unknown) == 1 else 'they'} may already run the new OS; "
            "run `leapp preupgrade` there (it reports to the daemon) or remove the node from the registry"
        )
    if old and not new:
        reasons.append(
            f"no node of role {role} runs the new OS yet (old OS: {', '.join(old)}); "
            f"upgrade one node of {role} to OS major {target_os_major} first"
        )
    if len(new) > 1:
        reasons.append(
            f"{len(new)} nodes of role {role} run the new OS ({' and '.join(new)}); the transfer goes to the single "
            "first upgraded node only, later nodes join it by replication"
        )
    if new and not old and not unknown:
        reasons.append(f"no node of role {role} is on the old OS: there is no database to transfer from")
    if source is not None and old and source not in old:
        reasons.append(f"source {source} is not an old-OS node of role {role} (old-OS nodes: {', '.join(old)})")
    if target is not None and len(new) == 1 and target != new[0]:
        reasons.append(f"target {target} is not the new-OS node of role {role}: that is {new[0]}")
    chosen_source = source if source is not None else (old[0] if old else None)
    return TransferPlan(
        role=role,
        old=tuple(old),
        new=tuple(new),
        unknown=tuple(unknown),
        source=chosen_source,
        target=new[0] if len(new) == 1 else None,
        reasons=tuple(reasons),
    )


@dataclasses.dataclass(frozen=True)
class PastTransfer:
    id: str
    source: str
    target: str
    state: str  # "open" or "sealed"
    sealed_at: str | None = None


def decide_transfer(
    plan: TransferPlan,
    past: Iterable[PastTransfer],
    started_nodes: Collection[str],
    force: bool = False,
    reason: str = "",
) -> Decision:
    """May a transfer open for `plan.role`? `past`: the role's transfers; `started_nodes`: nodes that ever
    reported phase `completed` (their services run on the new OS, so their database is live)."""
    past = list(past)
    reasons = list(plan.reasons)
    for transfer in past:
        if transfer.state == "open":
            reasons.append(
                f"transfer {transfer.id} of role {plan.role} ({transfer.source} -> {transfer.target}) is still open; "
                f"finish it (POST /v1/transfers/{transfer.id}/complete) before opening another"
            )
    targets = [plan.target] + [t.target for t in past]
    for started in sorted({t for t in targets if t in started_nodes}):
        reasons.append(
            f"{started} of role {plan.role} has reported phase completed (its services run on the new OS): "
            "a transfer now would overwrite its live database; refused even when forced"
        )
    sealed = [t for t in past if t.state == "sealed"]
    if sealed and not force:
        for transfer in sealed:
            reasons.append(
                f"role {plan.role} already had its one-shot transfer {transfer.id} "
                f"({transfer.source} -> {transfer.target}, sealed at {transfer.sealed_at}); another one would "
                "overwrite the database the target restored; if you must redo it, send force=true with a written reason"
            )
    if force and not reason.strip():
        reasons.append("force=true needs a written reason (\"reason\": why the one-shot transfer must run again)")
    return Decision(granted=not reasons, reasons=tuple(reasons))
