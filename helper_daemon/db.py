"""The daemon's metadata: one SQLite file (WAL) in the state dir, its schema and its transactions. Stored bytes
live in the store; every query lives in records.py.

Writers go through `Database.transaction()`: a process-wide lock plus `BEGIN IMMEDIATE`, so a decision that
reads then writes (a lease, a transfer) sees no other writer in between, in this process or another one (the CLI).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sqlite3
import threading
from pathlib import Path
from typing import Iterator

DB_FILE = "helper.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS nodes (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    ceph_mon INTEGER NOT NULL DEFAULT 0,
    one_by_one INTEGER NOT NULL DEFAULT 0,
    token_sha256 TEXT NOT NULL UNIQUE,
    phase TEXT,
    os_release TEXT,
    leapp_run_id TEXT,
    error TEXT,
    reports_json TEXT,
    updated_at TEXT
);
-- nodes_version counts changes of what the lease and transfer rules read from `nodes` (in any process: the CLI
-- registers nodes too), so a decision may reuse the rows it loaded while the count is the same.
CREATE TABLE IF NOT EXISTS nodes_version (id INTEGER PRIMARY KEY CHECK (id = 0), version INTEGER NOT NULL);
INSERT OR IGNORE INTO nodes_version (id, version) VALUES (0, 0);
CREATE TRIGGER IF NOT EXISTS nodes_inserted AFTER INSERT ON nodes
    BEGIN UPDATE nodes_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS nodes_deleted AFTER DELETE ON nodes
    BEGIN UPDATE nodes_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS nodes_updated AFTER UPDATE ON nodes
    WHEN OLD.name IS NOT NEW.name OR OLD.role IS NOT NEW.role OR OLD.ceph_mon IS NOT NEW.ceph_mon
      OR OLD.one_by_one IS NOT NEW.one_by_one OR OLD.os_release IS NOT NEW.os_release OR OLD.phase IS NOT NEW.phase
    BEGIN UPDATE nodes_version SET version = version + 1; END;
CREATE TABLE IF NOT EXISTS node_events (
    id INTEGER PRIMARY KEY,
    node TEXT NOT NULL,
    at TEXT NOT NULL,
    phase TEXT,
    os_release TEXT,
    leapp_run_id TEXT,
    error TEXT,
    reports_json TEXT
);
CREATE INDEX IF NOT EXISTS node_events_node ON node_events (node, id);
-- GET /v1/status: each node's latest report time, one index seek per node whatever the history.
CREATE INDEX IF NOT EXISTS node_events_node_at ON node_events (node, at);
-- Lease decisions load the rows of the requester's role and the ceph-mon hosts only.
CREATE INDEX IF NOT EXISTS nodes_role ON nodes (role);
CREATE INDEX IF NOT EXISTS nodes_ceph_mon ON nodes (ceph_mon) WHERE ceph_mon;
-- What the bounded timeline dropped, per node: how many reports, when, and which phases (so "this node once
-- reported completed" survives the reports themselves).
CREATE TABLE IF NOT EXISTS node_events_dropped (
    node TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    phases TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    node TEXT PRIMARY KEY,
    since TEXT NOT NULL,
    granted_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transfers (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    items_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'sealed')),
    forced_reason TEXT,
    created_at TEXT NOT NULL,
    sealed_at TEXT
);
-- What a node last said of its own TripleO services (tripleo-upgrade-stop-services): "down" before its
-- database may be pushed in a transfer, "up" when it started them again. Independent of the upgrade phase.
CREATE TABLE IF NOT EXISTS node_services (
    node TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('down', 'up')),
    at TEXT NOT NULL,
    detail TEXT NOT NULL
);
-- Issue 15, the safety controls. The fleet's pause (one row; paused = 0 once resumed, resumed_at kept so a silent
-- node is timed from the resume).
CREATE TABLE IF NOT EXISTS fleet_pause (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    paused INTEGER NOT NULL,
    rule TEXT,
    reason TEXT,
    actor TEXT,
    since TEXT,
    node TEXT,
    resumed_at TEXT
);
-- Per role: the admin's disruption budget (JSON: 2 or "25%") and whether the role stays on the old OS.
CREATE TABLE IF NOT EXISTS role_settings (
    role TEXT PRIMARY KEY,
    budget_json TEXT,
    budget_by TEXT,
    budget_at TEXT,
    keep_old_os_reason TEXT,
    keep_old_os_by TEXT,
    keep_old_os_at TEXT
);
CREATE TABLE IF NOT EXISTS accepted_inhibitors (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('node', 'role', 'fleet')),
    target TEXT,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
-- The newest `ceph quorum_status` each node reported (with a lease request or a status report).
CREATE TABLE IF NOT EXISTS ceph_mon_quorum (
    observed_by TEXT PRIMARY KEY,
    observed_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    in_json TEXT NOT NULL,
    out_json TEXT NOT NULL
);
-- Ceph OSD flags the project set: held by a node going down, or being cleared by the last node back.
CREATE TABLE IF NOT EXISTS ceph_osd_flags (
    flag TEXT NOT NULL,
    node TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('held', 'clearing')),
    since TEXT NOT NULL,
    PRIMARY KEY (flag, node)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    node TEXT,
    item TEXT,
    size INTEGER,
    sha256 TEXT,
    detail TEXT
);
"""


# Columns added to tables of an existing state dir (CREATE TABLE IF NOT EXISTS leaves those as they were).
COLUMNS_ADDED = (
    ("nodes", "ceph_osd", "INTEGER NOT NULL DEFAULT 0"),
    ("nodes", "leapp_result_json", "TEXT"),
)


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Bring an existing database up to SCHEMA in place (inside the caller's transaction); the columns added."""
    added = []
    for table, column, declaration in COLUMNS_ADDED:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            added.append(f"{table}.{column}")
    return added


def utcnow() -> str:
    """Timestamps everywhere: ISO 8601 UTC with a Z, sortable as text."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Database:
    """One SQLite database; one connection per thread, writes serialised."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        # The database holds token hashes and the audit trail: private to the daemon's user from the start.
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        with self._write_lock:
            self._connection().executescript(SCHEMA)
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            migrate(conn)
            conn.execute("COMMIT")

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> "Database":
        return cls(Path(state_dir) / DB_FILE)

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: no implicit transactions; every transaction is explicit below.
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=True)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self._write_lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read-only transaction: every query in the block sees the same consistent state."""
        conn = self._connection()
        conn.execute("BEGIN DEFERRED")
        try:
            yield conn
        finally:
            conn.execute("ROLLBACK")
