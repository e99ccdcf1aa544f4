"""The facts the lease rules beyond the registry read (issue 15): the fleet's pause (and a silent leased node's
due pause), the admin's budgets, the live ceph-mon quorum, the inhibitors not accepted. Gathered from records.py
inside the caller's transaction, decided by policy.py; shared by the routers that decide leases and show them.
"""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Iterable

from helper_daemon import policy, records
from helper_daemon.settings import Settings


def current_pause(conn: sqlite3.Connection, settings: Settings, now: str) -> tuple[policy.Pause | None, bool]:
    """(the pause in force, whether it is a node-silent pause due now but not yet written)."""
    pause = records.fleet_pause(conn)
    if pause is not None:
        return pause, False
    limit = settings.silent_node_pause_after
    if not limit:
        return None, False
    # Only a lease older than the limit can be silent for longer (its silence counts from its start at the
    # earliest): in a burst of lease requests none is, and no report time is read.
    since_before = (policy.parse_time(now) - datetime.timedelta(seconds=limit)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    due = policy.silent_pause(records.leased_last_reports(conn, since_before), records.last_resume(conn), now, limit)
    return due, due is not None


def lease_rules(conn: sqlite3.Connection, settings: Settings) -> policy.LeaseRules:
    return settings.lease_rules.with_budgets(records.admin_budgets(conn))


def mons_not_live(conn: sqlite3.Connection, mons: Iterable[str], settings: Settings, now: str,
                  extra: Iterable[policy.QuorumObservation] = ()) -> dict[str, str]:
    observations = {o.observed_by: o for o in records.quorum_observations(conn)}
    observations.update({o.observed_by: o for o in extra})
    return policy.mons_not_live(mons, observations.values(), now, settings.ceph_mon_facts_max_age)


def lease_facts(conn: sqlite3.Connection, nodes: dict[str, policy.Node], requested: Iterable[str],
                settings: Settings, now: str, pause: policy.Pause | None,
                extra_observations: Iterable[policy.QuorumObservation] = ()) -> policy.LeaseFacts:
    """The facts behind the decisions on `requested` (registered nodes, all in `nodes`)."""
    requested = list(requested)
    not_live = {}
    if any(nodes[name].ceph_mon for name in requested):
        not_live = mons_not_live(conn, [n.name for n in nodes.values() if n.ceph_mon], settings, now,
                                 extra_observations)
    unaccepted, accepted = {}, None
    for name in requested:
        inhibitors = records.inhibitors_of(conn, name)
        if inhibitors:
            accepted = records.acceptances(conn) if accepted is None else accepted
            unaccepted[name] = policy.unaccepted(inhibitors, name, nodes[name].role, accepted)
    return policy.LeaseFacts(pause, not_live, unaccepted)


def observation(quorum, caller_node: str | None) -> policy.QuorumObservation:
    """A CephMonQuorum body as an observation: a node's own token records it as that node's view."""
    return policy.QuorumObservation(caller_node or quorum.observed_by or "admin", quorum.observed_at_utc(),
                                    tuple(quorum.in_), tuple(quorum.out))


def record_quorum(conn: sqlite3.Connection, quorum, caller_node: str | None) -> None:
    """Record what the caller saw of the ceph-mon quorum (a CephMonQuorum body), if it sent anything."""
    if quorum is not None:
        obs = observation(quorum, caller_node)
        records.record_quorum(conn, obs.observed_by, obs.observed_at, list(obs.in_quorum), list(obs.out_of_quorum))
