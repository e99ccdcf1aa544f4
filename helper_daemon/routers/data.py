"""Node data: streamed, verified, atomic uploads and downloads of opaque items (archives)."""

from __future__ import annotations

import asyncio
import email.utils
import errno
import functools
import os
from typing import Optional

from anyio import to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.requests import ClientDisconnect

from helper_daemon import records
from helper_daemon.auth import Caller, ItemReaderCaller, ItemWriterCaller, NodeOrAdminCaller
from helper_daemon.db import Database
from helper_daemon.dependencies import DatabaseDep, ItemName, MetricsDep, NodeName, SettingsDep, StoreDep
from helper_daemon.digests import parse_content_digest, repr_digest
from helper_daemon.errors import ApiError, documented
from helper_daemon.logs import event
from helper_daemon.store import StoredObject, StoreError
from helper_daemon.schemas import ItemList, ItemStored



class _ItemPathConvertor(PathConvertor):
    """The rest of the path, whatever it holds: Starlette's `path` convertor (`.*`) silently drops a trailing
    newline, so "mysql\n" would be served as "mysql"; this one hands the item pattern the whole text to refuse
    (and "a/b" too, rather than a 404 from no route)."""

    regex = r"[\s\S]*"


register_url_convertor("item_path", _ItemPathConvertor())

router = APIRouter(prefix="/v1/nodes/{node}/data", tags=["node data"])

WRITE_BATCH = 1024 * 1024  # bytes gathered before one write in a worker thread

_BINARY = {"type": "string", "format": "binary"}
_STORED_HEADERS = {
    "Content-Length": {"schema": {"type": "integer"}, "description": "the item's size in bytes"},
    "Repr-Digest": {"schema": {"type": "string"}, "description": "sha-256=:<base64>: of the item (RFC 9530)"},
    "Item-Encoding": {"schema": {"type": "string", "enum": ["identity", "zstd"]},
                      "description": "how the stored bytes are encoded, as uploaded (zstd: Content-Type "
                      "application/zstd); Repr-Digest and Content-Length are those of the stored bytes"},
    "Item-State": {"schema": {"type": "string", "enum": ["uploading"]},
                   "description": "GET ?follow=true only: the body follows an upload in progress (chunked, no "
                   "Content-Length or Repr-Digest; HEAD gives the stored item's once it ended)"},
}
# The streamed body is read by the route itself, so FastAPI cannot describe it: these describe it.
UPLOAD_BODY = {
    "requestBody": {"required": False, "description": "the item's bytes, at most max_item_bytes (none: an "
                    "empty item). With a 'Content-Digest: sha-256=:<base64>:' header (RFC 9530) they are verified: "
                    "a mismatch is a 400 and stores nothing. "
                    "Content-Type application/zstd stores the item with encoding zstd (the bytes are a zstd "
                    "frame, and its sha256 is theirs); any other type stores it as identity (opaque bytes).",
                    "content": {"application/octet-stream": {"schema": _BINARY},
                                "application/zstd": {"schema": _BINARY}}},
}
ITEM_CONTENT = {"description": "the item's bytes", "headers": _STORED_HEADERS,
                "content": {"application/octet-stream": {"schema": _BINARY}, "application/zstd": {"schema": _BINARY}}}
ITEM_HEADERS = {"description": "the item's size and digest, no body", "headers": _STORED_HEADERS,
                "content": {"application/octet-stream": {"schema": _BINARY}}}


class _LiveUpload:
    """An upload in progress that GET ?follow=true readers follow: `published` bytes of its temp file are written
    and readable; `outcome` becomes "stored" or "failed"; `changed` is set (and replaced) on every change."""

    def __init__(self, upload):
        self.upload = upload
        self.published = 0
        self.outcome: Optional[str] = None
        self.changed = asyncio.Event()

    def publish(self, outcome: Optional[str] = None) -> None:
        self.published = self.upload.size
        self.outcome = outcome or self.outcome
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()


# (node, item) -> the upload in progress (the newest one when two run); only touched on the event loop.
_live_uploads: dict[tuple[str, str], _LiveUpload] = {}
FOLLOW_READ = 1024 * 1024


def _content_length(request: Request) -> Optional[int]:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise ApiError(400, "bad request", f"Content-Length {value!r} is not a number")
    return int(value)


def _audit(db: Database, caller: Caller, action: str, node: str, item: Optional[str] = None,
           obj: Optional[StoredObject] = None, size: Optional[int] = None, detail: Optional[str] = None) -> None:
    size = obj.size if obj is not None else size
    sha256 = obj.sha256 if obj is not None else None
    with db.transaction() as conn:
        records.audit(conn, caller.name, action, node, item, size, sha256, detail)
    event("data access", actor=caller.name, action=action, node=node, item=item, size=size, sha256=sha256,
          detail=detail)


async def _audit_async(*args, **kwargs) -> None:
    """`_audit` off the event loop: its commit waits for the disk."""
    await to_thread.run_sync(functools.partial(_audit, *args, **kwargs))


def _start_write(upload, chunks: list) -> asyncio.Future:
    writing = asyncio.ensure_future(to_thread.run_sync(upload.write_chunks, chunks))
    # An upload that fails elsewhere leaves this unawaited: take its outcome so it is not logged as lost.
    writing.add_done_callback(lambda done: done.cancelled() or done.exception())
    return writing


async def _written(writing: Optional[asyncio.Future], metrics, live: _LiveUpload) -> None:
    """Wait for the batch being written, if any; its error (disk full, reserve) is raised here."""
    if writing is not None:
        metrics.add("bytes_received", await writing)
        live.publish()


@router.put("/{item:item_path}", status_code=201, summary="Store an item (streamed body)",
            response_model=ItemStored, responses=documented(400, 401, 403, 404, 409, 413, 500, 507, refusal=(
                "the node is the source of an open transfer of this item and has not reported its services down")),
            openapi_extra=UPLOAD_BODY)
async def put_item(node: NodeName, item: ItemName, request: Request, caller: ItemWriterCaller, db: DatabaseDep,
                   store: StoreDep, metrics: MetricsDep, settings: SettingsDep) -> dict:
    length = _content_length(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    encoding = "zstd" if content_type == "application/zstd" else "identity"
    header = request.headers.get("content-digest")
    expected = parse_content_digest(header) if header else None
    too_large = ApiError(413, "too large", f"item {item!r} exceeds max_item_bytes={settings.max_item_bytes}; "
                         "nothing was stored")
    if length is not None and length > settings.max_item_bytes:
        raise too_large
    try:
        if length is not None:
            store.check_reserve(length)
        upload = await to_thread.run_sync(store.begin_upload, node, item, encoding)
    except StoreError as exc:
        await _audit_async(db, caller, "put-refused", node, item, size=length, detail=exc.detail)
        raise
    metrics.add("uploads_in_flight")
    live = _live_uploads[(node, item)] = _LiveUpload(upload)
    obj = None
    # One batch is written and hashed in a worker thread while the next one arrives: the disk and the network
    # overlap (1 GiB by `curl -T` on loopback, 2 cores: median 8.4 s -> 3.7 s).
    # The chunks are kept as received and written with one writev per batch: no copy into a batch buffer.
    writing = None
    try:
        batch, batched, received = [], 0, 0
        async for chunk in request.stream():
            batch.append(chunk)
            batched += len(chunk)
            received += len(chunk)
            if received > settings.max_item_bytes:
                raise too_large
            if batched >= WRITE_BATCH:
                await _written(writing, metrics, live)
                writing = _start_write(upload, batch)
                batch, batched = [], 0
        await _written(writing, metrics, live)
        writing = None
        if batched:
            metrics.add("bytes_received", await to_thread.run_sync(upload.write_chunks, batch))
            live.publish()
        if length is not None and upload.size != length:
            raise ApiError(400, "incomplete body", f"received {upload.size} of {length} bytes; nothing was stored")
        obj = await to_thread.run_sync(upload.commit, expected)
    except ClientDisconnect:
        await _audit_async(db, caller, "put-aborted", node, item, size=upload.size,
                           detail="the client went away before the whole body arrived; nothing was stored")
        raise ApiError(400, "incomplete body", "the client disconnected mid-body; nothing was stored") from None
    except ApiError as exc:  # a StoreError too
        await _audit_async(db, caller, "put-refused", node, item, size=upload.size, detail=exc.detail)
        raise
    except OSError as exc:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        detail = f"writing item {item!r} of node {node!r} failed: {exc.strerror}; nothing was stored"
        await _audit_async(db, caller, "put-failed", node, item, size=upload.size, detail=detail)
        raise ApiError(507 if full else 500, "insufficient storage" if full else "storage error", detail) from None
    finally:
        # Not in a worker thread: this must run even when the request task is being cancelled. It waits for a
        # batch still being written (Upload's lock), so nothing is written after the temp file is removed.
        upload.abort()
        metrics.add("uploads_in_flight", -1)
        live.publish("stored" if obj is not None else "failed")
        if _live_uploads.get((node, item)) is live:
            del _live_uploads[(node, item)]
    metrics.add("uploads_total")
    await _audit_async(db, caller, "put", node, item, obj)
    return {"node": node, "item": item, "size": obj.size, "sha256": obj.sha256, "encoding": obj.encoding}


def _object_headers(obj: StoredObject) -> dict:
    return {"content-length": str(obj.size), "repr-digest": repr_digest(obj.sha256), "item-encoding": obj.encoding,
            "content-type": "application/zstd" if obj.encoding == "zstd" else "application/octet-stream",
            "last-modified": email.utils.formatdate(obj.stored_at_ns / 1e9, usegmt=True)}


def _via_transfer(caller: Caller) -> Optional[str]:
    return f"read granted by open transfer {caller.transfer_id}" if caller.transfer_id else None


def _missing(node: str, item: str) -> ApiError:
    return ApiError(404, "no such item", f"node {node!r} has no stored item {item!r}")


async def _follow(live: _LiveUpload, fd: int, metrics):
    """The bytes of an upload in progress as they are stored, to its end; raises (cutting the response, so the
    reader never takes a part for the whole) when the upload fails."""
    position = 0
    try:
        while True:
            changed = live.changed
            end, outcome = live.published, live.outcome
            while position < end:
                # Just written, so in the page cache: read on the loop, no thread hop per chunk.
                data = os.pread(fd, min(FOLLOW_READ, end - position), position)
                if not data:
                    raise OSError(errno.EIO, "the followed upload's file ended early")
                position += len(data)
                metrics.add("bytes_served", len(data))
                yield data
            if outcome == "stored":
                return
            if outcome == "failed":
                raise RuntimeError("the followed upload failed; the response is cut so the reader cannot use it")
            await changed.wait()
    finally:
        os.close(fd)


def _open_live(node: str, item: str) -> tuple[Optional[_LiveUpload], Optional[int]]:
    live = _live_uploads.get((node, item))
    if live is None or live.outcome is not None:
        return None, None
    try:
        return live, os.open(live.upload.tmp_path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:  # stored (renamed) or removed just now: serve what is stored
        return None, None


@router.get("/{item:item_path}", summary="Download an item (streamed; follow=true: also an upload in progress)",
            response_class=StreamingResponse,
            responses={200: ITEM_CONTENT, **documented(400, 401, 403, 404, 503)})
async def get_item(node: NodeName, item: ItemName, caller: ItemReaderCaller, db: DatabaseDep, store: StoreDep,
                   metrics: MetricsDep, follow: bool = False):
    """With `follow=true` and an upload of the item in progress, its bytes are sent as they are stored (chunked,
    `Item-State: uploading`, no digest: the reader checks the stored item's with HEAD once the body ended; a failed
    upload cuts the body). Otherwise, and without an upload in progress, the stored item."""
    live, fd = _open_live(node, item) if follow else (None, None)
    if live is not None:
        await _audit_async(db, caller, "get", node, item, detail=", ".join(
            filter(None, ["following the upload in progress", _via_transfer(caller)])))
        zstd = live.upload.encoding == "zstd"
        return StreamingResponse(_follow(live, fd, metrics),
                                 media_type="application/zstd" if zstd else "application/octet-stream",
                                 headers={"item-state": "uploading", "item-encoding": live.upload.encoding})
    obj, fileobj = await to_thread.run_sync(store.open_current, node, item)
    if obj is None:
        if fileobj is not None:
            fileobj.close()
        raise _missing(node, item)
    await _audit_async(db, caller, "get", node, item, obj, detail=_via_transfer(caller))
    headers = _object_headers(obj)
    return StreamingResponse(store.iter_file(fileobj, lambda n: metrics.add("bytes_served", n)),
                             headers=headers, media_type=headers["content-type"])


@router.head("/{item:item_path}", summary="Size and digest of an item",
             responses={200: ITEM_HEADERS, **documented(400, 401, 403, 404)})
def head_item(node: NodeName, item: ItemName, caller: ItemReaderCaller, db: DatabaseDep, store: StoreDep) -> Response:
    obj = store.current(node, item)
    if obj is None:
        raise _missing(node, item)
    _audit(db, caller, "head", node, item, obj, detail=_via_transfer(caller))
    return Response(headers=_object_headers(obj))


@router.get("", summary="List a node's stored items", response_model=ItemList,
            responses=documented(400, 401, 403, 404))
def list_items(node: NodeName, caller: NodeOrAdminCaller, db: DatabaseDep, store: StoreDep) -> dict:
    objs = store.list_items(node)
    _audit(db, caller, "list", node, size=sum(o.size for o in objs), detail=f"{len(objs)} items")
    # free_bytes lets a node check, before it goes down, that its persist set will fit above the reserve.
    return {"items": [o.describe() for o in objs],
            "free_bytes": max(store.free_bytes() - store.disk_reserve_bytes, 0)}


@router.delete("/{item:item_path}", status_code=204, summary="Remove an item (idempotent)",
               responses=documented(400, 401, 403, 404))
def delete_item(node: NodeName, item: ItemName, caller: NodeOrAdminCaller, db: DatabaseDep,
                store: StoreDep) -> Response:
    obj = store.delete(node, item)
    _audit(db, caller, "delete", node, item, obj, detail=None if obj else "nothing was stored")
    return Response(status_code=204)


