"""The state directory holds secrets (node data, token hashes, the admin token): private or nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from helper_daemon.settings import SettingsError


def prepare_state_dir(path: Path) -> Path:
    """Create the state dir 0700 if missing; refuse one that the group or others can read or enter."""
    os.umask(0o077)  # every file and directory the daemon creates is private to its user
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = path.stat().st_mode
    except OSError as exc:
        raise SettingsError(f"state_dir {path}: cannot create or read it: {exc.strerror}") from exc
    if not stat.S_ISDIR(mode):
        raise SettingsError(f"state_dir {path}: not a directory")
    if mode & 0o077:
        raise SettingsError(f"state_dir {path} has mode {stat.S_IMODE(mode):04o}: the group or others can reach "
                            f"the node data and tokens in it; run 'chmod 0700 {path}' and start again")
    return path
