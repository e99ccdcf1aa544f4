"""Stored node data: plain files under `<state>/nodes/<node>/<item>/`, never half-written, never lost.

An item directory holds immutable objects named `obj-<stored_at_ns>-<sha256>`; the newest one is the item.
An upload writes `.tmp-<random>` in the item directory, hashing as it goes, fsyncs it, then renames it to its
object name (atomic) and fsyncs the directory; only then are older objects removed. So a reader sees either
the previous complete copy or the new complete copy, and a crash at any point leaves at most a temp file or
an older object that `recover()` removes at the next start. Names are validated before they get here.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import os
import re
import secrets
import threading
import time
from pathlib import Path
from typing import BinaryIO, Iterator, Optional

from helper_daemon.errors import ApiError

OBJECT_RE = re.compile(r"obj-(\d{20})-([0-9a-f]{64})(\.zst)?")
# How the stored bytes are encoded, as the uploader declared it (Content-Type: application/zstd): the sha256 always
# covers the bytes as stored, so a zstd item's digest is that of the compressed bytes. Kept in the object's name.
ENCODINGS = {"identity": "", "zstd": ".zst"}
TMP_PREFIX = ".tmp-"
READ_CHUNK = 1024 * 1024  # one thread hop per MiB served
WRITEV_MAX = 512  # buffers per writev, below IOV_MAX (1024)
RESERVE_CHECK_EVERY = 16 * 1024 * 1024


class StoreError(ApiError):
    """An upload cannot be stored (or an item not read); the API answers it as is, `status` says why."""


@dataclasses.dataclass(frozen=True)
class StoredObject:
    node: str
    item: str
    path: Path
    size: int
    sha256: str
    stored_at_ns: int
    encoding: str = "identity"

    @property
    def stored_at(self) -> str:
        when = datetime.datetime.fromtimestamp(self.stored_at_ns / 1e9, datetime.timezone.utc)
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def describe(self) -> dict:
        """How the API lists a stored item (GET /v1/nodes/<node>/data, GET /v1/status)."""
        return {"item": self.item, "size": self.size, "sha256": self.sha256, "stored_at": self.stored_at,
                "encoding": self.encoding}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _objects(item_dir: Path) -> list[tuple[int, str, Path]]:
    """(stored_at_ns, sha256, path) of the complete objects in an item directory, newest first."""
    found = []
    try:
        names = os.listdir(item_dir)
    except (FileNotFoundError, NotADirectoryError):
        return []
    for name in names:
        match = OBJECT_RE.fullmatch(name)
        if match:
            found.append((int(match.group(1)), match.group(2), item_dir / name))
    return sorted(found, reverse=True)


class Upload:
    """One upload in progress: a private temp file, hashed while written. One writer at a time; `abort()` may
    come from another thread while a write runs: it waits for that write, and later writes are refused."""

    def __init__(self, store: "ItemStore", node: str, item: str, encoding: str = "identity"):
        self.store, self.node, self.item, self.encoding = store, node, item, encoding
        self.item_dir = store.item_dir(node, item)
        self.tmp_path = self.item_dir / f"{TMP_PREFIX}{secrets.token_hex(8)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        for attempt in range(3):
            # A concurrent delete may remove the empty directories between makedirs and open: try again.
            os.makedirs(self.item_dir, mode=0o700, exist_ok=True)
            try:
                fd = os.open(self.tmp_path, flags, 0o600)
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise
        self._file: Optional[BinaryIO] = os.fdopen(fd, "wb", buffering=0)
        self._hash = hashlib.sha256()
        self.size = 0
        self._next_check = 0
        self._lock = threading.Lock()

    def write(self, data: bytes | bytearray) -> int:
        """Append `data`; returns its length."""
        return self.write_chunks([data])

    def write_chunks(self, chunks: list) -> int:
        """Append the `chunks` (bytes as they came off the socket) with one writev, no copy into a batch first;
        returns how many bytes that was."""
        with self._lock:
            if self._file is None:
                raise StoreError(409, "upload ended", f"the upload of item {self.item!r} of node {self.node!r} "
                                 "has already ended")
            return self._write(chunks)

    def _write(self, chunks: list) -> int:
        total = sum(len(chunk) for chunk in chunks)
        if self.size + total > self._next_check:
            # Room for everything up to the next check, so the reserve is never crossed in between.
            self.store.check_reserve(total + RESERVE_CHECK_EVERY)
            self._next_check = self.size + total + RESERVE_CHECK_EVERY
        fd = self._file.fileno()
        pending = [memoryview(chunk) for chunk in chunks if len(chunk)]
        while pending:
            written = os.writev(fd, pending[:WRITEV_MAX])
            while written:  # drop what was written; a partial write leaves the rest of a chunk
                if written >= len(pending[0]):
                    written -= len(pending.pop(0))
                else:
                    pending[0] = pending[0][written:]
                    written = 0
        for chunk in chunks:
            self._hash.update(chunk)
        self.size += total
        return total

    def commit(self, expected_sha256: Optional[str] = None) -> StoredObject:
        """Make the upload the item's current object, or raise StoreError (400) leaving nothing."""
        sha256 = self._hash.hexdigest()
        if expected_sha256 is not None and expected_sha256 != sha256:
            raise StoreError(400, "digest mismatch", f"Content-Digest says sha256 {expected_sha256} but the "
                             f"{self.size} bytes received hash to {sha256}; nothing was stored")
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        with self.store.item_lock(self.node, self.item):
            previous = _objects(self.item_dir)
            stored_at_ns = max([time.time_ns()] + [ns + 1 for ns, _, _ in previous[:1]])
            final = self.item_dir / f"obj-{stored_at_ns:020d}-{sha256}{ENCODINGS[self.encoding]}"
            os.replace(self.tmp_path, final)
            # The new name, and the item and node directories if they are new, must survive a power cut.
            for directory in (self.item_dir, self.item_dir.parent, self.store.root):
                _fsync_dir(directory)
            for _, _, old in previous:
                old.unlink(missing_ok=True)
            if previous:
                _fsync_dir(self.item_dir)
        return StoredObject(self.node, self.item, final, self.size, sha256, stored_at_ns, self.encoding)

    def abort(self) -> None:
        """Forget the upload: nothing of it stays (safe to call after commit: then it does nothing)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
        self.tmp_path.unlink(missing_ok=True)
        self.store.prune_empty(self.node, self.item)


class ItemStore:
    def __init__(self, root: Path, disk_reserve_bytes: int = 0):
        self.root = Path(root)
        self.disk_reserve_bytes = disk_reserve_bytes
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.root.mkdir(mode=0o700, exist_ok=True)

    def item_lock(self, node: str, item: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault((node, item), threading.Lock())

    def item_dir(self, node: str, item: str) -> Path:
        return self.root / node / item

    def free_bytes(self) -> int:
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize

    def check_reserve(self, incoming: int) -> None:
        """Raise 507 when writing `incoming` more bytes would leave less than the reserve free."""
        free = self.free_bytes()
        if free - incoming < self.disk_reserve_bytes:
            raise StoreError(507, "insufficient storage",
                             f"storing {incoming} more bytes would leave {max(free - incoming, 0)} bytes free on "
                             f"{self.root}, below the reserve of {self.disk_reserve_bytes} bytes; free space there or "
                             "lower disk_reserve_bytes; nothing was stored")

    def begin_upload(self, node: str, item: str, encoding: str = "identity") -> Upload:
        return Upload(self, node, item, encoding)

    def current(self, node: str, item: str) -> Optional[StoredObject]:
        return self._listed(node, item)[0]

    def _listed(self, node: str, item: str) -> tuple[Optional[StoredObject], list[tuple[int, str, Path]]]:
        """The current object and every complete object (`_objects`) of an item, from one directory listing."""
        objects = _objects(self.item_dir(node, item))
        if not objects:
            return None, objects
        ns, sha256, path = objects[0]
        try:
            size = path.stat().st_size
        except FileNotFoundError:  # replaced just now by a newer upload
            return self._listed(node, item)
        encoding = "zstd" if path.name.endswith(ENCODINGS["zstd"]) else "identity"
        return StoredObject(node, item, path, size, sha256, ns, encoding), objects

    def open_current(self, node: str, item: str) -> tuple[Optional[StoredObject], Optional[BinaryIO]]:
        """The current object and an open file on it: the open file stays readable even if it is replaced."""
        for _ in range(5):
            obj = self.current(node, item)
            if obj is None:
                return None, None
            try:
                fileobj = open(obj.path, "rb")
            except FileNotFoundError:
                continue
            return obj, fileobj
        raise StoreError(503, "busy", f"item {item!r} of node {node!r} is being replaced repeatedly; retry")

    def list_items(self, node: str) -> list[StoredObject]:
        node_dir = self.root / node
        try:
            items = sorted(os.listdir(node_dir))
        except FileNotFoundError:
            return []
        return [obj for obj in (self.current(node, item) for item in items if not item.startswith(".")) if obj]

    def all_items(self) -> dict[str, list[StoredObject]]:
        """Every node that has stored data, with its items."""
        nodes = sorted(os.listdir(self.root)) if self.root.is_dir() else []
        return {node: objs for node in nodes for objs in [self.list_items(node)] if objs}

    def delete(self, node: str, item: str) -> Optional[StoredObject]:
        """Remove an item; returns what was removed (None if there was nothing)."""
        with self.item_lock(node, item):
            # Under the item lock no upload adds an object between the listing and the unlinks.
            obj, objects = self._listed(node, item)
            for _, _, path in objects:
                path.unlink(missing_ok=True)
            if obj is not None:
                _fsync_dir(obj.path.parent)
        self.prune_empty(node, item)
        return obj

    def prune_empty(self, node: str, item: str) -> None:
        """Drop the item and node directories once empty (an upload in progress keeps them)."""
        for path in (self.root / node / item, self.root / node):
            try:
                path.rmdir()
            except OSError:
                return

    def recover(self) -> list[Path]:
        """At start, before serving: remove temp files of interrupted uploads and superseded objects."""
        removed = []
        for node_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for item_dir in sorted(p for p in node_dir.iterdir() if p.is_dir()):
                for path in item_dir.iterdir():
                    if path.name.startswith(TMP_PREFIX):
                        path.unlink()
                        removed.append(path)
                for _, _, path in _objects(item_dir)[1:]:
                    path.unlink()
                    removed.append(path)
                self.prune_empty(node_dir.name, item_dir.name)
        return removed

    def iter_file(self, fileobj: BinaryIO, on_chunk=None) -> Iterator[bytes]:
        """The bytes of an open object, in chunks; closes it at the end or when the client goes away."""
        try:
            while True:
                chunk = fileobj.read(READ_CHUNK)
                if not chunk:
                    return
                if on_chunk is not None:
                    on_chunk(len(chunk))
                yield chunk
        finally:
            fileobj.close()
