"""The daemon's metadata: one SQLite file (WAL) in the state dir, its schema and its transactions. Stored bytes
live in the store; every query lives in records.py.

Writers go through `Database.transaction()`: a process-wide lock plus `BEGIN IMMEDIATE`, so a decision that
reads then writes (a lease, a transfer) sees no other writer in between, in this process or another one (the CLI).

The busy writes of the daemon (status reports, leases) go through `await Database.write(job)` instead: one writer
thread runs the jobs queued meanwhile one after the other in ONE transaction (group commit: one fsync for many
writes), each in its own savepoint so a job that raises undoes only its own writes, and answers each caller only
once that transaction is committed. Nothing is acknowledged before it is on disk; a crash before the commit loses
only writes nobody was told about.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import queue
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Iterator, Optional, TypeVar

T = TypeVar("T")

DB_FILE = "helper.sqlite3"
# At most this many queued writes share one transaction (one commit): bounds the wait of the last one.
MAX_GROUP = 256
# Each connection's page cache (KiB): the daemon keeps one connection per worker thread; SQLite's default is 2 MiB.
CACHE_KIB = 1024

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
-- The timeline of a node, newest first, with each report's size: read from this index alone (the bounded
-- timeline checks it at every report) instead of every kept report's JSON. It serves (node, id) lookups too.
CREATE INDEX IF NOT EXISTS node_events_timeline ON node_events (node, id, at, phase,
    length(CAST(reports_json AS BLOB)) + length(CAST(COALESCE(error, '') AS BLOB)));
DROP INDEX IF EXISTS node_events_node;
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
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._writer: Optional[threading.Thread] = None
        self._writer_lock = threading.Lock()
        self.commits = 0  # group commits done by the writer thread (tests, benchmarks)
        # generation(): a connection that never writes, so its data_version moves with every commit of any other
        # connection (this process's or the CLI's), and a count of the daemon's changes outside SQLite.
        self._watch: Optional[sqlite3.Connection] = None
        self._watch_lock = threading.Lock()
        self._changes = 0
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
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
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

    # --- change generation ----------------------------------------------------------------------------------------

    def changed(self) -> None:
        """Note a change made outside SQLite (stored items): answers cached under the current generation go stale."""
        with self._watch_lock:
            self._changes += 1

    def generation(self) -> tuple[int, int]:
        """Different after every commit to the database (by any connection, in any process) and every changed();
        an answer computed from state read after this call is current while generation() returns the same."""
        with self._watch_lock:
            if self._watch is None:
                self._watch = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None,
                                              check_same_thread=False)
            return self._watch.execute("PRAGMA data_version").fetchone()[0], self._changes

    # --- group commit ---------------------------------------------------------------------------------------------

    async def write(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run `job(conn)` in the writer thread, inside the next group commit; returns its result (or raises its
        exception, its writes undone) once the transaction holding it is committed. Jobs run one at a time, in
        the order they were queued, each seeing the writes of the jobs before it."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._start_writer()
        self._jobs.put((job, loop, future))
        return await future

    def _start_writer(self) -> None:
        if self._writer is not None:
            return
        with self._writer_lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="sqlite-writer", daemon=True)
                self._writer.start()

    def close(self) -> None:
        """Stop the writer thread once the writes queued before are done (the daemon's shutdown)."""
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            self._jobs.put(None)
            writer.join()

    def _write_loop(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            with self._write_lock:
                # Taken once the lock is ours: the writes queued while another transaction (a sync one, the
                # previous group) held it join this group.
                group, stop = [first], False
                while len(group) < MAX_GROUP:
                    try:
                        more = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    group.append(more)
                outcomes = self._run_group([job for job, _, _ in group])
            by_loop: dict = {}
            for (_, loop, future), outcome in zip(group, outcomes):
                by_loop.setdefault(loop, []).append((future, outcome))
            for loop, answers in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_answer, answers)
                except RuntimeError:  # that event loop is closed: nobody waits for these answers any more
                    pass
            if stop:
                return

    def _run_group(self, jobs: list) -> list:
        """Run the jobs in one transaction, each in a savepoint; [(ok, result or exception)] once committed.
        The caller holds the write lock."""
        outcomes = []
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except Exception as exc:  # noqa: BLE001 - every caller gets the reason, none is left waiting
            return [(False, exc)] * len(jobs)
        try:
            for job in jobs:
                conn.execute("SAVEPOINT job")
                try:
                    result = job(conn)
                except Exception as exc:  # noqa: BLE001 - the job's own answer (ApiError, ...)
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((False, exc))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((True, result))
            conn.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - the commit failed (disk full, I/O error): nothing is durable
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [(False, exc)] * len(jobs)
        self.commits += 1
        return outcomes


def _answer(answers: list) -> None:
    """On the caller's event loop: hand each waiting request its job's outcome."""
    for future, (ok, value) in answers:
        if future.done():  # the request was cancelled (client gone); its write stands
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
