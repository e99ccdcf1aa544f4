"""The safety rules of the upgrade, as pure decisions: upgrade leases and database transfers.

No I/O here: the routers read the facts inside one transaction, ask these functions, and write the answer.
Every refusal carries every reason, in words an operator can act on.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Optional, Union


@dataclasses.dataclass(frozen=True)
class Node:
    name: str
    role: str
    ceph_mon: bool = False
    one_by_one: bool = False
    os_release: str | None = None
    phase: str | None = None


# A disruption budget: a number of nodes (>= 1) or a share of the role's nodes ("25%", at least one node).
Budget = Union[int, str]
_PERCENT = re.compile(r"^\s*([0-9]{1,3}(?:\.[0-9]+)?)\s*%\s*$")


def budget_error(value) -> Optional[str]:
    """Why `value` is not a budget (None: it is one)."""
    if isinstance(value, bool):
        return f"expected a whole number >= 1 or a percentage such as \"25%\", got {value!r}"
    if isinstance(value, int):
        return None if value >= 1 else f"a budget is at least 1 node, got {value}"
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if match and 0 < float(match.group(1)) <= 100:
            return None
        return f"expected a percentage above 0% and at most 100% such as \"25%\", got {value!r}"
    return f"expected a whole number >= 1 or a percentage such as \"25%\", got {value!r}"


def budget_nodes(budget: Budget, role_size: int) -> int:
    """How many nodes of a role of `role_size` nodes the budget lets down at once: at least one."""
    if isinstance(budget, str):
        return max(1, int(role_size * float(_PERCENT.match(budget).group(1)) / 100))
    return max(1, budget)


@dataclasses.dataclass(frozen=True)
class LeaseRules:
    min_ceph_mons: int = 2
    # None: a role is one-by-one when the registry marked its nodes so (Pacemaker or ceph-mon hosts).
    one_by_one_roles: frozenset[str] | None = None
    # The disruption budget of a role not one-by-one: `budgets[role]`, else `default_budget`; None: no limit
    # beyond "never the whole role".
    default_budget: Budget | None = None
    budgets: Mapping[str, Budget] = dataclasses.field(default_factory=dict)
    # The roles whose budget the admin set (PUT /v1/roles/{role}/budget): said as the budget's source.
    admin_budget_roles: frozenset[str] = frozenset()

    def with_budgets(self, overrides: Mapping[str, Budget]) -> "LeaseRules":
        """These rules with the admin's budgets (PUT /v1/roles/{role}/budget) over the configured ones."""
        if not overrides:
            return self
        return dataclasses.replace(self, budgets={**self.budgets, **overrides},
                                   admin_budget_roles=self.admin_budget_roles | frozenset(overrides))


@dataclasses.dataclass(frozen=True)
class RoleBudget:
    role: str
    budget: Budget | None  # as configured; None: no budget
    source: str  # "one-by-one", "admin", "lease_budgets", "default_lease_budget" or "none"
    nodes: int | None  # what it allows down at once in this role; None: no limit beyond "never the whole role"


def role_budget(role: str, role_size: int, one_by_one: bool, rules: LeaseRules,
                admin_budgets: Collection[str] = ()) -> RoleBudget:
    if one_by_one:
        return RoleBudget(role, 1, "one-by-one", 1)
    if role in rules.budgets:
        budget = rules.budgets[role]
        admin = role in admin_budgets or role in rules.admin_budget_roles
        return RoleBudget(role, budget, "admin" if admin else "lease_budgets",
                          budget_nodes(budget, role_size))
    if rules.default_budget is not None:
        return RoleBudget(role, rules.default_budget, "default_lease_budget",
                          budget_nodes(rules.default_budget, role_size))
    return RoleBudget(role, None, "none", None)


@dataclasses.dataclass(frozen=True)
class Pause:
    """Why no new lease is granted: rule "admin", "node-failed" or "node-silent"."""

    rule: str
    reason: str
    by: str
    since: str
    node: str | None = None

    def as_dict(self) -> dict:
        return {"rule": self.rule, "reason": self.reason, "by": self.by, "since": self.since, "node": self.node}


@dataclasses.dataclass(frozen=True)
class Inhibitor:
    key: str
    title: str


@dataclasses.dataclass(frozen=True)
class Acceptance:
    """The admin let an inhibitor through: for one node, a whole role or the fleet."""

    id: int
    key: str
    scope: str  # "node", "role" or "fleet"
    target: str | None
    reason: str = ""
    by: str = ""
    at: str = ""

    def applies_to(self, node: str, role: str) -> bool:
        return (self.scope == "fleet" or (self.scope == "role" and self.target == role)
                or (self.scope == "node" and self.target == node))

    def as_dict(self) -> dict:
        return {"id": self.id, "key": self.key, "scope": self.scope, "target": self.target, "reason": self.reason,
                "by": self.by, "at": self.at}


def acceptances_for(node: str, role: str, accepted: Iterable[Acceptance]) -> list[Acceptance]:
    return [a for a in accepted if a.applies_to(node, role)]


def unaccepted(inhibitors: Iterable[Inhibitor], node: str, role: str,
               accepted: Iterable[Acceptance]) -> tuple[Inhibitor, ...]:
    """The node's inhibitors that no acceptance lets through."""
    keys = {a.key for a in acceptances_for(node, role, accepted)}
    return tuple(i for i in inhibitors if i.key not in keys)


@dataclasses.dataclass(frozen=True)
class QuorumObservation:
    """What one node saw of the ceph-mon quorum (`ceph quorum_status`): mon names in and out of quorum."""

    observed_by: str
    observed_at: str  # ISO 8601 UTC
    in_quorum: tuple[str, ...]
    out_of_quorum: tuple[str, ...]


def short_name(name: str) -> str:
    return name.split(".", 1)[0]


def parse_time(text: str) -> datetime.datetime:
    """ISO 8601 (a Z or an offset; naive means UTC) as an aware datetime; ValueError when it is not one."""
    parsed = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _age_words(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def mons_not_live(mons: Iterable[str], observations: Iterable[QuorumObservation], now: str,
                  max_age_seconds: float) -> dict[str, str]:
    """The ceph-mon hosts (registry names) that do not count as running, with why: the newest observation naming
    the host (by short hostname) says it is out of quorum, or that observation is older than `max_age_seconds`,
    or no observation names it. While no node ever reported the quorum, every host counts (nothing is known)."""
    observations = list(observations)
    if not observations:
        return {}
    now_at = parse_time(now)
    newest: dict[str, tuple[datetime.datetime, QuorumObservation, bool]] = {}
    for obs in observations:
        at = min(parse_time(obs.observed_at), now_at)
        for names, in_quorum in ((obs.in_quorum, True), (obs.out_of_quorum, False)):
            for name in names:
                key = short_name(name)
                if key not in newest or at > newest[key][0]:
                    newest[key] = (at, obs, in_quorum)
    out = {}
    for mon in sorted(mons):
        seen = newest.get(short_name(mon))
        if seen is None:
            out[mon] = "no quorum facts name it (no node reported it in `ceph quorum_status`)"
            continue
        at, obs, in_quorum = seen
        age = (now_at - at).total_seconds()
        if not in_quorum:
            out[mon] = f"out of quorum per {obs.observed_by} at {obs.observed_at}"
        elif age > max_age_seconds:
            out[mon] = (f"its quorum facts are older than {_age_words(max_age_seconds)} (last from "
                        f"{obs.observed_by} at {obs.observed_at}, {_age_words(age)} ago)")
    return out


@dataclasses.dataclass(frozen=True)
class LeaseFacts:
    """What the rules beyond the registry and the leases read, gathered by the caller in the same transaction."""

    paused: Pause | None = None
    # ceph-mon host -> why it does not count as running (mons_not_live); absent: it counts.
    mons_not_live: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # node -> its newest report's inhibitors that no acceptance lets through.
    unaccepted_inhibitors: Mapping[str, tuple[Inhibitor, ...]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Blocker:
    """One safety rule refusing a lease now: the leases in its way, and how many of them must end first."""

    # "one-by-one", "budget", "whole-role", "min-ceph-mons", "live-quorum", "paused" or "inhibitors"
    rule: str
    holders: tuple[str, ...]
    must_release: int
    reason: str  # the same, in words an operator can act on
    nodes: tuple[str, ...] = ()  # live-quorum: the mons not counted; inhibitors: the keys

    def as_dict(self) -> dict:
        return {"rule": self.rule, "holders": list(self.holders), "must_release": self.must_release,
                "nodes": list(self.nodes)}


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


def decide_lease(requester: str, nodes: Mapping[str, Node], leases: Mapping[str, str], rules: LeaseRules,
                 facts: LeaseFacts = LeaseFacts()) -> Decision:
    """May `requester` be taken down now? `leases` maps node name -> since (ISO time).

    The caller answers "unknown node" itself: `requester` must be in `nodes`. A node already holding its lease
    keeps it whatever the rules say now (a paused fleet lets the nodes already down carry on)."""
    node = nodes[requester]
    if requester in leases:
        return Decision(granted=True, already_held=True)
    role_nodes = sorted(n.name for n in nodes.values() if n.role == node.role)
    leased_in_role = [name for name in role_nodes if name in leases]
    blockers = []

    if facts.paused is not None:
        p = facts.paused
        blockers.append(Blocker(
            "paused", (), 0,
            f"the fleet is paused since {p.since} (rule {p.rule}"
            + (f", node {p.node}" if p.node else "") + f", by {p.by}): {p.reason}; no new lease until "
            "`tripleo-upgrade-helper resume --reason TEXT`"
        ))

    if is_one_by_one(node.role, nodes.values(), rules):
        for holder in leased_in_role:
            blockers.append(Blocker(
                "one-by-one", (holder,), 1,
                f"{holder} of one-by-one role {node.role} already holds a lease since {leases[holder]}; "
                f"it ends when tripleo-upgrade-complete runs on {holder} (back in service), or with "
                f"`tripleo-upgrade-helper lease release {holder} --reason TEXT` if {holder} died holding it"
            ))
    else:
        budget = role_budget(node.role, len(role_nodes), False, rules)
        if budget.nodes is not None and len(leased_in_role) >= budget.nodes:
            blockers.append(Blocker(
                "budget", tuple(leased_in_role), len(leased_in_role) - budget.nodes + 1,
                f"the budget of role {node.role} ({budget.budget} of {len(role_nodes)} nodes = {budget.nodes} "
                f"down at once, from {budget.source}) is used up: {', '.join(leased_in_role)} already hold "
                "leases; wait until one of them is back in service and releases its lease"
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
        leased = [name for name in mons if name in leases]
        remaining = len(running) - 1
        if remaining < rules.min_ceph_mons:
            blockers.append(Blocker(
                "min-ceph-mons", tuple(leased), rules.min_ceph_mons - remaining,
                f"ceph-mon hosts without a lease would drop to {remaining}, below min_ceph_mons={rules.min_ceph_mons} "
                f"(running: {', '.join(running)}; leased: {', '.join(leased) or 'none'}); "
                "wait until a leased ceph-mon host is back in service and releases its lease"
            ))
        not_live = {name: why for name, why in facts.mons_not_live.items() if name in running}
        live_after = [name for name in running if name not in not_live and name != requester]
        if not_live and len(live_after) < rules.min_ceph_mons:
            blockers.append(Blocker(
                "live-quorum", tuple(leased), rules.min_ceph_mons - len(live_after),
                f"live ceph-mon hosts would drop to {len(live_after)}, below min_ceph_mons={rules.min_ceph_mons} "
                f"(live after this lease: {', '.join(live_after) or 'none'}; not counted: "
                + "; ".join(f"{name}: {why}" for name, why in sorted(not_live.items()))
                + "); bring those monitors back into quorum (or let a node report `ceph quorum_status` again) "
                "first", nodes=tuple(sorted(not_live))
            ))

    inhibitors = facts.unaccepted_inhibitors.get(requester, ())
    if inhibitors:
        blockers.append(Blocker(
            "inhibitors", (), 0,
            f"{requester}'s newest leapp report has {len(inhibitors)} inhibitor(s) not accepted: "
            + "; ".join(f"{i.title} [{i.key}]" for i in inhibitors)
            + f"; fix them and run `leapp preupgrade` on {requester} again, or accept one with "
            "`tripleo-upgrade-helper inhibitors accept KEY --node|--role|--fleet --reason TEXT`",
            nodes=tuple(i.key for i in inhibitors)
        ))

    return Decision(granted=not blockers, reasons=tuple(b.reason for b in blockers), blockers=tuple(blockers))


def silent_pause(leased: Mapping[str, tuple[str, str | None]], resumed_at: str | None, now: str,
                 limit_seconds: int) -> Pause | None:
    """The pause (rule node-silent) due because a leased node sent no status report for more than `limit_seconds`
    since its lease began, its newest report or the last resume, whichever is latest; None: every leased node
    spoke in time (or the rule is off: 0)."""
    if not limit_seconds:
        return None
    now_at = parse_time(now)
    silent = []
    for node, (since, last_report) in sorted(leased.items()):
        last = max(t for t in (since, last_report, resumed_at) if t)
        age = (now_at - parse_time(last)).total_seconds()
        if age > limit_seconds:
            silent.append((-age, node, last, last_report))
    if not silent:
        return None
    age, node, last, last_report = min(silent)
    heard = f"its last status report was at {last_report}" if last_report else "it never sent a status report"
    more = f" ({len(silent) - 1} more leased node(s) silent too)" if len(silent) > 1 else ""
    return Pause("node-silent", f"{node} holds a lease and was silent for {_age_words(-age)} (since {last}; "
                 f"{heard}), longer than silent_node_pause_after={limit_seconds} s{more}; check {node}'s console",
                 "daemon", now, node)


@dataclasses.dataclass(frozen=True)
class GroupDecision:
    allowed: bool
    decisions: tuple[tuple[str, Decision], ...]

    @property
    def reasons(self) -> list[str]:
        return [f"{name}: {reason}" for name, decision in self.decisions for reason in decision.reasons]


def decide_group(requested: Iterable[str], nodes: Mapping[str, Node], leases: Mapping[str, str],
                 rules: LeaseRules, facts: LeaseFacts = LeaseFacts()) -> GroupDecision:
    """May all of `requested` be down together? Each node is decided in the given order as if every earlier one
    that was allowed had been granted its lease (so a second node of a one-by-one role is refused, and a group
    holding a whole role is refused by the whole-role rule). Nothing is granted: the caller writes nothing."""
    assumed = dict(leases)
    decisions = []
    for name in dict.fromkeys(requested):
        decision = decide_lease(name, nodes, assumed, rules, facts)
        if decision.granted and not decision.already_held:
            assumed[name] = "(granted earlier in this check)"
        decisions.append((name, decision))
    return GroupDecision(all(d.granted for _, d in decisions), tuple(decisions))


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
    role: str, nodes: Mapping[str, Node], target_os_major: int, source: str | None = None, target: str | None = None,
    kept_old_os: str | None = None,
) -> TransferPlan:
    """The database transfer of `role`: from an old-OS node (the first, or `source`) to its single new-OS node
    (`target`, when given, must be that node: a check that the operator and the daemon mean the same one).
    `kept_old_os`: why the role stays on the old OS (then it has no transfer)."""
    role_nodes = [n for n in nodes.values() if n.role == role]
    old, new, unknown = split_by_os(role_nodes, target_os_major)
    reasons = []
    if kept_old_os is not None:
        reasons.append(f"role {role} stays on the old OS ({kept_old_os}): it has no transfer; "
                       f"`tripleo-upgrade-helper roles keep-old-os {role} --undo` if it is to be upgraded after all")
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
