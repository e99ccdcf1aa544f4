"""RFC 9530 `Content-Digest` / `Repr-Digest` header values, sha-256 only."""

from __future__ import annotations

import base64
import binascii

from helper_daemon.errors import ApiError


def repr_digest(sha256_hex: str) -> str:
    return "sha-256=:" + base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii") + ":"


def parse_content_digest(header: str) -> str:
    """The hex sha256 announced by a `Content-Digest` header; 400 when it is malformed or has no sha-256."""
    for member in header.split(","):
        algorithm, _, value = member.strip().partition("=")
        if algorithm.strip().lower() != "sha-256":
            continue
        value = value.split(";", 1)[0].strip()
        try:
            if not (len(value) > 2 and value[0] == value[-1] == ":"):
                raise ValueError(value)
            raw = base64.b64decode(value[1:-1], validate=True)
        except (ValueError, binascii.Error):
            raw = b""
        if len(raw) != 32:
            raise ApiError(400, "bad digest", f"Content-Digest sha-256 value {value[:100]!r} is not "
                           "':<base64 of 32 bytes>:' (RFC 9530)")
        return raw.hex()
    raise ApiError(400, "bad digest", "Content-Digest has no sha-256 member; only sha-256 is supported, "
                   "send 'Content-Digest: sha-256=:<base64>:' or no Content-Digest at all")
