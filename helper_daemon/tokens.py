"""Bearer tokens: 256 bits of randomness, only their sha256 is kept by the daemon."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from helper_daemon.settings import Settings, SettingsError


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class KnownTokens:
    """node -> the sha256 of the token SQLite last said is that node's: lets a busy route recognise the caller
    without a SQLite read, in a write that checks the token again in its transaction (auth.NodeWrite). At most one
    entry per registered node; a stale one is forgotten as soon as its write is refused."""

    def __init__(self):
        self._digests: dict[str, str] = {}

    def is_token_of(self, node: str, digest: str) -> bool:
        return self._digests.get(node) == digest

    def learn(self, node: str, digest: str) -> None:
        self._digests[node] = digest

    def forget(self, node: str, digest: str) -> None:
        if self._digests.get(node) == digest:
            self._digests.pop(node, None)


def write_secret_file(path: Path, content: str) -> None:
    """Write a 0600 file atomically (a reader never sees it half-written or with wider permissions)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, content.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_token_file(path: Path) -> str:
    try:
        token = Path(path).read_text().strip()
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the token file: {exc.strerror}") from exc
    if not token:
        raise SettingsError(f"{path}: the token file is empty")
    return token


def ensure_admin_token(settings: Settings) -> str:
    """The admin token's sha256: from the configured file, else from <state_dir>/admin-token, created once."""
    path = settings.admin_token_path  # the configured file, if any: never created here
    if settings.admin_token_file is None and not path.exists():
        write_secret_file(path, new_token() + "\n")
    return token_sha256(read_token_file(path))
