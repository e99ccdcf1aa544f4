"""The CLI's way to the running daemon: JSON over HTTP(S) with the admin token, stdlib only."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from helper_daemon.settings import Settings
from helper_daemon.tokens import read_token_file


class DaemonUnreachable(RuntimeError):
    """The daemon did not answer, or answered with an error; the message says which URL and what it said."""


class DaemonAnswered(DaemonUnreachable):
    """The daemon answered with an error status: `answer` is its JSON body (error, detail, reasons, blockers...)."""

    def __init__(self, message: str, status: int, answer: dict):
        super().__init__(message)
        self.status = status
        self.answer = answer


class AdminHTTP:
    def __init__(self, url: str, token: str, ca_file: Optional[Path] = None, timeout: float = 60.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    @classmethod
    def from_settings(cls, settings: Settings, url: Optional[str] = None, admin_token_file: Optional[Path] = None,
                      ca_file: Optional[Path] = None) -> "AdminHTTP":
        if url is None:
            host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
            host = f"[{host}]" if ":" in host else host
            url = f"{'https' if settings.tls_cert else 'http'}://{host}:{settings.port}"
        token = read_token_file(admin_token_file or settings.admin_token_path)
        return cls(url, token, ca_file or settings.tls_cert)

    def call(self, method: str, path: str, body: Optional[dict] = None, ok: tuple = ()) -> tuple[int, dict]:
        """(status, JSON answer); raises DaemonUnreachable on a status >= 400 not listed in `ok`."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                answer = json.loads(exc.read() or b"{}")
            except ValueError:
                answer = {}
            if exc.code in ok:
                return exc.code, answer
            if not isinstance(answer, dict):
                answer = {}
            raise DaemonAnswered(f"{method} {self.url}{path}: HTTP {exc.code} {answer.get('error', exc.reason)}: "
                                 f"{answer.get('detail', '')}", exc.code, answer) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DaemonUnreachable(f"{method} {self.url}{path}: cannot reach the daemon ({reason}); is "
                                    "'tripleo-upgrade-helper serve' running? see --url") from None
