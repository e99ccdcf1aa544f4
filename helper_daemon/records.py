"""Every read and write of the daemon's SQLite rows (the schema is in db.py): nodes and their tokens, status
reports, leases, transfers and the audit trail.

Each function takes the connection of a `Database.transaction()` or of a `Database.write()` job (writes,
read-decide-write) or of a `Database.snapshot()` (consistent reads): the caller decides what one transaction
covers.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Optional

from helper_daemon import policy
from helper_daemon.db import utcnow

# --- nodes ----------------------------------------------------------------------------------------------------------


def node_with_token(conn: sqlite3.Connection, token_sha256: str) -> Optional[str]:
    """The name of the node whose token hashes to `token_sha256`, if any."""
    row = conn.execute("SELECT name FROM nodes WHERE token_sha256 = ?", (token_sha256,)).fetchone()
    return row["name"] if row is not None else None


def node_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM nodes WHERE name = ?", (name,)).fetchone() is not None


def insert_node(conn: sqlite3.Connection, name: str, role: str, ceph_mon: bool, one_by_one: bool,
                token_sha256: str) -> None:
    conn.execute("INSERT INTO nodes (name, role, ceph_mon, one_by_one, token_sha256, updated_at) VALUES (?,?,?,?,?,?)",
                 (name, role, int(ceph_mon), int(one_by_one), token_sha256, utcnow()))


def update_node(conn: sqlite3.Connection, name: str, role: str, ceph_mon: bool, one_by_one: bool,
                token_sha256: Optional[str]) -> None:
    """Change a node's role and flags; its token too when `token_sha256` is given."""
    conn.execute("UPDATE nodes SET role = ?, ceph_mon = ?, one_by_one = ? WHERE name = ?",
                 (role, int(ceph_mon), int(one_by_one), name))
    if token_sha256 is not None:
        conn.execute("UPDATE nodes SET token_sha256 = ? WHERE name = ?", (token_sha256, name))


def role_marked_one_by_one(conn: sqlite3.Connection, role: str, other_than: str) -> bool:
    """Is a node of `role`, other than `other_than`, marked one-by-one?"""
    return conn.execute("SELECT 1 FROM nodes WHERE role = ? AND one_by_one AND name != ?",
                        (role, other_than)).fetchone() is not None


def mark_role_one_by_one(conn: sqlite3.Connection, role: str, one_by_one: bool) -> None:
    conn.execute("UPDATE nodes SET one_by_one = ? WHERE role = ?", (int(one_by_one), role))


def registered_nodes(conn: sqlite3.Connection) -> list[dict]:
    """The registry as `nodes list` and GET /v1/nodes show it, by name."""
    rows = conn.execute("SELECT name, role, ceph_mon, one_by_one, phase, os_release, updated_at FROM nodes "
                        "ORDER BY name").fetchall()
    return [dict(r, ceph_mon=bool(r["ceph_mon"]), one_by_one=bool(r["one_by_one"])) for r in rows]


def policy_nodes(conn: sqlite3.Connection) -> dict[str, policy.Node]:
    """Every node as the lease and transfer rules see it."""
    rows = conn.execute("SELECT name, role, ceph_mon, one_by_one, os_release, phase FROM nodes").fetchall()
    return {r["name"]: policy.Node(r["name"], r["role"], bool(r["ceph_mon"]), bool(r["one_by_one"]),
                                   r["os_release"], r["phase"]) for r in rows}


def nodes_version(conn: sqlite3.Connection) -> int:
    """Changes whenever a row of `nodes` changes what the rules read (db.py's triggers, in any process)."""
    return conn.execute("SELECT version FROM nodes_version").fetchone()[0]


def lease_nodes(conn: sqlite3.Connection, node: str, cache: Optional[dict] = None) -> dict[str, policy.Node]:
    """What a lease decision for `node` needs: the nodes of its role and, for a ceph-mon host, every ceph-mon
    host (indexed; not the whole fleet). Empty when `node` is not registered.

    `cache` (a dict the caller keeps for this database) reuses the rows loaded for the same role while
    `nodes_version` is unchanged: a role of hundreds of nodes is then not read again for every request."""
    me = conn.execute("SELECT role, ceph_mon FROM nodes WHERE name = ?", (node,)).fetchone()
    if me is None:
        return {}
    key = (me[0], bool(me[1]))
    version = nodes_version(conn) if cache is not None else None
    if cache is not None and key in cache and cache[key][0] == version:
        return cache[key][1]
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: cheaper for hundreds of rows
    rows = cursor.execute("SELECT name, role, ceph_mon, one_by_one, os_release, phase FROM nodes "
                          "WHERE role = ? OR (ceph_mon AND ?)", key).fetchall()
    nodes = {r[0]: policy.Node(r[0], r[1], bool(r[2]), bool(r[3]), r[4], r[5]) for r in rows}
    if cache is not None:
        cache[key] = (version, nodes)
    return nodes


def fleet_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every node with its last reported state, by role then name, for GET /v1/status. Each node's
    `last_report_at` is an index seek whatever the history; `report_key` changes whenever the node's current
    reports do (its updated_at and newest timeline row), so the caller reads `inhibitors()` again only for the
    nodes whose key moved, not every node's reports."""
    return conn.execute(
        "SELECT name, role, ceph_mon, one_by_one, phase, os_release, leapp_run_id, error, "
        "(SELECT MAX(at) FROM node_events WHERE node = nodes.name) AS last_report_at, "
        "updated_at || '/' || COALESCE((SELECT MAX(id) FROM node_events WHERE node = nodes.name), '') AS report_key "
        "FROM nodes ORDER BY role, name").fetchall()


def inhibitors(conn: sqlite3.Connection, names: list[str]) -> dict[str, str]:
    """Node name -> a JSON array of {"key","title","remediation"} of the inhibitors in its current reports,
    picked out in SQLite (not the whole reports)."""
    rows = conn.execute(
        "SELECT name, (SELECT json_group_array(json_object('key', value ->> '$.key', 'title', value ->> '$.title', "
        "'remediation', value ->> '$.remediation')) FROM json_each(nodes.reports_json) "
        "WHERE value ->> '$.inhibitor') FROM nodes WHERE name IN (SELECT value FROM json_each(?))",
        (json.dumps(names),)).fetchall()
    return {r[0]: r[1] for r in rows}


def node_phases(conn: sqlite3.Connection) -> dict[str, Optional[str]]:
    return {row["name"]: row["phase"] for row in conn.execute("SELECT name, phase FROM nodes")}


def roles(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT role FROM nodes ORDER BY role")]


# --- status reports -------------------------------------------------------------------------------------------------


class NotRegistered(LookupError):
    """No node of that name (with that token): nothing was written."""


_RECORD_STATUS = ("UPDATE nodes SET phase = ?, os_release = COALESCE(?, os_release), "
                  "leapp_run_id = COALESCE(?, leapp_run_id), error = ?, reports_json = ?, updated_at = ? "
                  "WHERE name = ?")


def record_status(conn: sqlite3.Connection, node: str, at: str, phase: str, os_release: Optional[str],
                  leapp_run_id: Optional[str], error: Optional[str], reports_json: str,
                  timeline_length: int, timeline_bytes: int, token_sha256: Optional[str] = None) -> Optional[str]:
    """Make this report the node's current state and the newest of its timeline, which keeps the latest
    `timeline_length` reports within `timeline_bytes` (the newest one always) and a summary of the older ones;
    returns the node's OS release. NotRegistered, with nothing written, when no node `node` exists or, given
    `token_sha256`, its token is no longer that one (rotated since the caller was recognised).

    A report without an OS release or run id (an early failure) keeps the last known one: the fleet view and the
    transfer plan must not forget that a node already runs the new OS."""
    row = (phase, os_release, leapp_run_id, error, reports_json)
    if token_sha256 is None:
        known = conn.execute(_RECORD_STATUS + " RETURNING os_release", row + (at, node)).fetchone()
    else:
        known = conn.execute(_RECORD_STATUS + " AND token_sha256 = ? RETURNING os_release",
                             row + (at, node, token_sha256)).fetchone()
    if known is None:
        raise NotRegistered(node)
    conn.execute("INSERT INTO node_events (node, at, phase, os_release, leapp_run_id, error, reports_json) "
                 "VALUES (?,?,?,?,?,?,?)", (node, at) + row)
    _drop_older_reports(conn, node, timeline_length, timeline_bytes)
    return known[0]


def _drop_older_reports(conn: sqlite3.Connection, node: str, keep: int, keep_bytes: int) -> None:
    # The size expression is that of the index node_events_timeline (db.py): the query reads that index only.
    newest_first = conn.execute("SELECT id, at, phase, length(CAST(reports_json AS BLOB)) + "
                                "length(CAST(COALESCE(error, '') AS BLOB)) AS size FROM node_events WHERE node = ? "
                                "ORDER BY id DESC", (node,)).fetchall()
    kept, kept_bytes = 0, 0
    for row in newest_first:
        if kept == keep or (kept and kept_bytes + row["size"] > keep_bytes):
            break
        kept, kept_bytes = kept + 1, kept_bytes + row["size"]
    older = newest_first[kept:]
    if not older:
        return
    summary = older_reports(conn, node) or {"count": 0, "first_at": older[-1]["at"], "phases": []}
    phases = sorted(set(summary["phases"]) | {r["phase"] for r in older})
    conn.execute("INSERT OR REPLACE INTO node_events_dropped (node, count, first_at, last_at, phases) "
                 "VALUES (?,?,?,?,?)", (node, summary["count"] + len(older), min(summary["first_at"], older[-1]["at"]),
                                        older[0]["at"], ",".join(phases)))
    conn.execute("DELETE FROM node_events WHERE node = ? AND id <= ?", (node, older[0]["id"]))


def older_reports(conn: sqlite3.Connection, node: str) -> Optional[dict]:
    """What the timeline dropped: {"count", "first_at", "last_at", "phases"}; None when it dropped nothing."""
    row = conn.execute("SELECT count, first_at, last_at, phases FROM node_events_dropped WHERE node = ?",
                       (node,)).fetchone()
    return None if row is None else dict(row, phases=row["phases"].split(","))


def _shaped_report(row: sqlite3.Row) -> dict:
    out = dict(row)
    out["reports"] = json.loads(out.pop("reports_json") or "[]")
    return out


def node_status(conn: sqlite3.Connection, node: str) -> tuple[dict, list[dict]]:
    """The node's current state and its timeline, oldest first."""
    current = conn.execute("SELECT phase, os_release, leapp_run_id, error, reports_json, updated_at FROM nodes "
                           "WHERE name = ?", (node,)).fetchone()
    events = conn.execute("SELECT at, phase, os_release, leapp_run_id, error, reports_json FROM node_events "
                          "WHERE node = ? ORDER BY id", (node,)).fetchall()
    return _shaped_report(current), [_shaped_report(e) for e in events]


def started_nodes(conn: sqlite3.Connection) -> set[str]:
    """Nodes that ever reported phase `completed`: their services ran on the new OS, their database is live."""
    rows = conn.execute("SELECT node FROM node_events WHERE phase = 'completed' "
                        "UNION SELECT name FROM nodes WHERE phase = 'completed' "
                        "UNION SELECT node FROM node_events_dropped WHERE ',' || phases || ',' LIKE '%,completed,%'"
                        ).fetchall()
    return {r[0] for r in rows}


# --- leases ---------------------------------------------------------------------------------------------------------


def leases(conn: sqlite3.Connection) -> dict[str, dict]:
    """Node name -> {"node", "since", "granted_by"}, by node."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: every lease decision reads them all
    return {node: {"node": node, "since": since, "granted_by": granted_by}
            for node, since, granted_by in cursor.execute("SELECT node, since, granted_by FROM leases ORDER BY node")}


def lease_times(conn: sqlite3.Connection) -> dict[str, str]:
    """Node name -> since, of every lease held: what a lease decision reads (built in C from plain rows)."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return dict(cursor.execute("SELECT node, since FROM leases"))


def grant_lease(conn: sqlite3.Connection, node: str, since: str, granted_by: str) -> None:
    conn.execute("INSERT INTO leases (node, since, granted_by) VALUES (?,?,?)", (node, since, granted_by))


def release_lease(conn: sqlite3.Connection, node: str) -> Optional[str]:
    """End the node's lease; returns since when it was held (None: no lease was held)."""
    held = conn.execute("SELECT since FROM leases WHERE node = ?", (node,)).fetchone()
    if held is None:
        return None
    conn.execute("DELETE FROM leases WHERE node = ?", (node,))
    return held["since"]


def lease_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM leases").fetchone()[0]


# --- transfers ------------------------------------------------------------------------------------------------------

_TRANSFER_COLUMNS = "id, role, source, target, items_json, state, forced_reason, created_at, sealed_at"


def _transfers(conn: sqlite3.Connection, where: str = "", params: tuple = ()) -> list[dict]:
    rows = conn.execute(f"SELECT {_TRANSFER_COLUMNS} FROM transfers {where} ORDER BY CAST(id AS INTEGER)",
                        params).fetchall()
    return [dict({k: r[k] for k in r.keys() if k != "items_json"}, items=json.loads(r["items_json"])) for r in rows]


def all_transfers(conn: sqlite3.Connection) -> list[dict]:
    return _transfers(conn)


def transfers_of_role(conn: sqlite3.Connection, role: str) -> list[dict]:
    return _transfers(conn, "WHERE role = ?", (role,))


def transfers_of_node(conn: sqlite3.Connection, node: str) -> list[dict]:
    """Transfers where `node` is the source or the target."""
    return _transfers(conn, "WHERE source = ? OR target = ?", (node, node))


def transfer(conn: sqlite3.Connection, transfer_id: str) -> Optional[dict]:
    found = _transfers(conn, "WHERE id = ?", (transfer_id,))
    return found[0] if found else None


def open_transfer_granting(conn: sqlite3.Connection, source: str, target: str, item: str) -> Optional[str]:
    """The id of an open transfer letting `target` read `source`'s `item`, if any."""
    rows = conn.execute("SELECT id, items_json FROM transfers WHERE state = 'open' AND source = ? AND target = ?",
                        (source, target)).fetchall()
    return next((r["id"] for r in rows if item in json.loads(r["items_json"])), None)


def insert_transfer(conn: sqlite3.Connection, role: str, source: str, target: str, items: list[str],
                    forced_reason: Optional[str]) -> dict:
    """Open a transfer with the next id; returns it."""
    next_id = str(conn.execute("SELECT COALESCE(MAX(CAST(id AS INTEGER)), 0) + 1 FROM transfers").fetchone()[0])
    conn.execute("INSERT INTO transfers (id, role, source, target, items_json, state, forced_reason, created_at) "
                 "VALUES (?,?,?,?,?,'open',?,?)", (next_id, role, source, target, json.dumps(items), forced_reason,
                                                   utcnow()))
    return transfer(conn, next_id)


def seal_transfer(conn: sqlite3.Connection, transfer_id: str, sealed_at: str) -> None:
    conn.execute("UPDATE transfers SET state = 'sealed', sealed_at = ? WHERE id = ?", (sealed_at, transfer_id))


# --- node services (phase-independent) --------------------------------------------------------------------------


def set_services(conn: sqlite3.Connection, node: str, state: str, at: str, detail: str) -> None:
    conn.execute("INSERT OR REPLACE INTO node_services (node, state, at, detail) VALUES (?,?,?,?)",
                 (node, state, at, detail))


def services(conn: sqlite3.Connection) -> dict[str, dict]:
    """Node name -> {"state", "at", "detail"} for every node that reported its services; others are unknown."""
    return {r["node"]: {"state": r["state"], "at": r["at"], "detail": r["detail"]}
            for r in conn.execute("SELECT node, state, at, detail FROM node_services")}


def open_transfers_from(conn: sqlite3.Connection, source: str, item: str) -> list[str]:
    """Ids of the open transfers that take `source`'s `item`."""
    rows = conn.execute("SELECT id, items_json FROM transfers WHERE state = 'open' AND source = ?",
                        (source,)).fetchall()
    return [r["id"] for r in rows if item in json.loads(r["items_json"])]


# --- audit ----------------------------------------------------------------------------------------------------------


def audit(conn: sqlite3.Connection, actor: str, action: str, node: Optional[str] = None, item: Optional[str] = None,
          size: Optional[int] = None, sha256: Optional[str] = None, detail: Optional[str] = None) -> None:
    """Record one access in the audit trail, inside the caller's transaction."""
    conn.execute("INSERT INTO audit (at, actor, action, node, item, size, sha256, detail) VALUES (?,?,?,?,?,?,?,?)",
                 (utcnow(), actor, action, node, item, size, sha256, detail))


# --- the safety controls (issue 15) ---------------------------------------------------------------------------------


def lease_group_nodes(conn: sqlite3.Connection, names: list[str], cache: Optional[dict] = None
                      ) -> tuple[dict[str, policy.Node], list[str]]:
    """What a group lease check needs: the rows of the roles of `names` (and the ceph-mon hosts when one of them
    is one), as lease_nodes reads them; and the names that are not registered."""
    nodes: dict[str, policy.Node] = {}
    unknown = []
    for name in names:
        if name in nodes:
            continue
        found = lease_nodes(conn, name, cache)
        if not found:
            unknown.append(name)
        nodes.update(found)
    return nodes, unknown


# pause


def fleet_pause(conn: sqlite3.Connection) -> Optional[policy.Pause]:
    row = conn.execute("SELECT rule, reason, actor, since, node FROM fleet_pause WHERE id = 0 AND paused"
                       ).fetchone()
    return None if row is None else policy.Pause(row["rule"], row["reason"], row["actor"], row["since"], row["node"])


def last_resume(conn: sqlite3.Connection) -> Optional[str]:
    row = conn.execute("SELECT resumed_at FROM fleet_pause WHERE id = 0").fetchone()
    return row["resumed_at"] if row is not None else None


def pause_fleet(conn: sqlite3.Connection, pause: policy.Pause) -> None:
    conn.execute("INSERT INTO fleet_pause (id, paused, rule, reason, actor, since, node) VALUES (0, 1, ?,?,?,?,?) "
                 "ON CONFLICT (id) DO UPDATE SET paused = 1, rule = excluded.rule, reason = excluded.reason, "
                 "actor = excluded.actor, since = excluded.since, node = excluded.node",
                 (pause.rule, pause.reason, pause.by, pause.since, pause.node))


def resume_fleet(conn: sqlite3.Connection, at: str) -> None:
    conn.execute("INSERT INTO fleet_pause (id, paused, resumed_at) VALUES (0, 0, ?) "
                 "ON CONFLICT (id) DO UPDATE SET paused = 0, resumed_at = excluded.resumed_at", (at,))


def leased_last_reports(conn: sqlite3.Connection, since_before: str) -> dict[str, tuple[str, Optional[str]]]:
    """Leased node -> (lease since, its newest status report's time or None), of the leases held since before
    `since_before` (a utcnow() text)."""
    rows = conn.execute("SELECT node, since, (SELECT MAX(at) FROM node_events WHERE node_events.node = leases.node) "
                        "AS last_at FROM leases WHERE since < ?", (since_before,)).fetchall()
    return {r["node"]: (r["since"], r["last_at"]) for r in rows}


# role settings: budgets and roles kept on the old OS


def admin_budgets(conn: sqlite3.Connection) -> dict[str, policy.Budget]:
    return {r["role"]: json.loads(r["budget_json"])
            for r in conn.execute("SELECT role, budget_json FROM role_settings WHERE budget_json IS NOT NULL")}


def set_role_budget(conn: sqlite3.Connection, role: str, budget: Optional[policy.Budget], actor: str) -> None:
    conn.execute("INSERT INTO role_settings (role, budget_json, budget_by, budget_at) VALUES (?,?,?,?) "
                 "ON CONFLICT (role) DO UPDATE SET budget_json = excluded.budget_json, budget_by = excluded.budget_by, "
                 "budget_at = excluded.budget_at",
                 (role, json.dumps(budget) if budget is not None else None, actor, utcnow()))


def kept_roles(conn: sqlite3.Connection) -> dict[str, dict]:
    """Role -> {"reason", "by", "at"} for every role marked to stay on the old OS."""
    return {r["role"]: {"reason": r["keep_old_os_reason"], "by": r["keep_old_os_by"], "at": r["keep_old_os_at"]}
            for r in conn.execute("SELECT role, keep_old_os_reason, keep_old_os_by, keep_old_os_at FROM role_settings "
                                  "WHERE keep_old_os_reason IS NOT NULL")}


def set_keep_old_os(conn: sqlite3.Connection, role: str, reason: Optional[str], actor: str) -> None:
    """Mark the role to stay on the old OS (reason given) or to be upgraded again (None)."""
    conn.execute("INSERT INTO role_settings (role, keep_old_os_reason, keep_old_os_by, keep_old_os_at) "
                 "VALUES (?,?,?,?) ON CONFLICT (role) DO UPDATE SET keep_old_os_reason = excluded.keep_old_os_reason, "
                 "keep_old_os_by = excluded.keep_old_os_by, keep_old_os_at = excluded.keep_old_os_at",
                 (role, reason, actor if reason is not None else None, utcnow() if reason is not None else None))


def role_exists(conn: sqlite3.Connection, role: str) -> bool:
    return conn.execute("SELECT 1 FROM nodes WHERE role = ? LIMIT 1", (role,)).fetchone() is not None


def node_role(conn: sqlite3.Connection, node: str) -> Optional[str]:
    row = conn.execute("SELECT role FROM nodes WHERE name = ?", (node,)).fetchone()
    return row["role"] if row is not None else None


def set_ceph_osd(conn: sqlite3.Connection, node: str, ceph_osd: bool) -> None:
    conn.execute("UPDATE nodes SET ceph_osd = ? WHERE name = ?", (int(ceph_osd), node))


# accepted inhibitors


def _acceptance(row: sqlite3.Row) -> policy.Acceptance:
    return policy.Acceptance(row["id"], row["key"], row["scope"], row["target"], row["reason"], row["actor"],
                             row["at"])


def acceptances(conn: sqlite3.Connection) -> list[policy.Acceptance]:
    return [_acceptance(r) for r in conn.execute("SELECT id, key, scope, target, reason, actor, at "
                                                 "FROM accepted_inhibitors ORDER BY id")]


def accept_inhibitor(conn: sqlite3.Connection, key: str, scope: str, target: Optional[str], reason: str,
                     actor: str) -> policy.Acceptance:
    cursor = conn.execute("INSERT INTO accepted_inhibitors (key, scope, target, reason, actor, at) "
                          "VALUES (?,?,?,?,?,?)", (key, scope, target, reason, actor, utcnow()))
    return _acceptance(conn.execute("SELECT id, key, scope, target, reason, actor, at FROM accepted_inhibitors "
                                    "WHERE id = ?", (cursor.lastrowid,)).fetchone())


def revoke_acceptance(conn: sqlite3.Connection, acceptance_id: int) -> Optional[policy.Acceptance]:
    row = conn.execute("SELECT id, key, scope, target, reason, actor, at FROM accepted_inhibitors WHERE id = ?",
                       (acceptance_id,)).fetchone()
    if row is None:
        return None
    conn.execute("DELETE FROM accepted_inhibitors WHERE id = ?", (acceptance_id,))
    return _acceptance(row)


def inhibitors_of(conn: sqlite3.Connection, node: str) -> list[policy.Inhibitor]:
    """The inhibitors of the node's newest report (its current state), in report order."""
    rows = conn.execute("SELECT value ->> '$.key' AS key, value ->> '$.title' AS title FROM nodes, "
                        "json_each(nodes.reports_json) WHERE nodes.name = ? AND value ->> '$.inhibitor'",
                        (node,)).fetchall()
    return [policy.Inhibitor(r["key"] or "", r["title"] or "") for r in rows]


# ceph-mon quorum facts


def record_quorum(conn: sqlite3.Connection, observed_by: str, observed_at: str, in_quorum: list[str],
                  out_of_quorum: list[str]) -> None:
    conn.execute("INSERT OR REPLACE INTO ceph_mon_quorum (observed_by, observed_at, recorded_at, in_json, out_json) "
                 "VALUES (?,?,?,?,?)", (observed_by, observed_at, utcnow(), json.dumps(in_quorum),
                                        json.dumps(out_of_quorum)))


def quorum_observations(conn: sqlite3.Connection) -> list[policy.QuorumObservation]:
    return [policy.QuorumObservation(r["observed_by"], r["observed_at"], tuple(json.loads(r["in_json"])),
                                     tuple(json.loads(r["out_json"])))
            for r in conn.execute("SELECT observed_by, observed_at, in_json, out_json FROM ceph_mon_quorum "
                                  "ORDER BY observed_by")]


# ceph OSD flags


def osd_flags(conn: sqlite3.Connection) -> list[dict]:
    """Every flag the project holds or is clearing: {"flag", "node", "state", "since"}, by flag then node."""
    return [dict(r) for r in conn.execute("SELECT flag, node, state, since FROM ceph_osd_flags ORDER BY flag, node")]


def hold_osd_flags(conn: sqlite3.Connection, node: str, flags: list[str], at: str) -> None:
    conn.executemany("INSERT INTO ceph_osd_flags (flag, node, state, since) VALUES (?,?,'held',?) "
                     "ON CONFLICT (flag, node) DO UPDATE SET state = 'held'", [(f, node, at) for f in flags])


def drop_osd_flag_rows(conn: sqlite3.Connection, node: Optional[str], flags: list[str],
                       state: Optional[str] = None) -> int:
    """Delete the rows of `flags` (of `node` only, in `state` only, when given); how many went."""
    where, params = "flag IN (%s)" % ",".join("?" * len(flags)), list(flags)
    if node is not None:
        where, params = where + " AND node = ?", params + [node]
    if state is not None:
        where, params = where + " AND state = ?", params + [state]
    return conn.execute(f"DELETE FROM ceph_osd_flags WHERE {where}", params).rowcount


def mark_osd_flags_clearing(conn: sqlite3.Connection, node: str, flags: list[str], at: str) -> None:
    conn.executemany("UPDATE ceph_osd_flags SET state = 'clearing', since = ? WHERE flag = ? AND node = ?",
                     [(at, f, node) for f in flags])


# status report extras


def set_leapp_result(conn: sqlite3.Connection, node: str, result: dict) -> None:
    conn.execute("UPDATE nodes SET leapp_result_json = ? WHERE name = ?", (json.dumps(result), node))


def safety_columns(conn: sqlite3.Connection) -> dict[str, dict]:
    """Node -> {"ceph_osd", "leapp_result"} for the fleet view."""
    return {r["name"]: {"ceph_osd": bool(r["ceph_osd"]),
                        "leapp_result": json.loads(r["leapp_result_json"]) if r["leapp_result_json"] else None}
            for r in conn.execute("SELECT name, ceph_osd, leapp_result_json FROM nodes")}


def lease_nodes_of_role(conn: sqlite3.Connection, role: str) -> list[policy.Node]:
    rows = conn.execute("SELECT name, role, ceph_mon, one_by_one, os_release, phase FROM nodes WHERE role = ?",
                        (role,)).fetchall()
    return [policy.Node(r[0], r[1], bool(r[2]), bool(r[3]), r[4], r[5]) for r in rows]
