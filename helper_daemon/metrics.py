"""Counters for /metrics, kept on app.state; rendered in the Prometheus text format (version 0.0.4)."""

from __future__ import annotations

import collections
import threading


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self.bytes_received = 0
        self.bytes_served = 0
        self.uploads_in_flight = 0
        self.uploads_total = 0
        self.errors_by_status: collections.Counter = collections.Counter()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def count_error(self, status: int) -> None:
        with self._lock:
            self.errors_by_status[status] += 1

    def render(self, bytes_stored: int, items_stored: int, leases_held: int) -> str:
        with self._lock:
            samples = [
                ("tripleo_helper_stored_bytes", "gauge", "Bytes of node data stored now.", {None: bytes_stored}),
                ("tripleo_helper_stored_items", "gauge", "Node data items stored now.", {None: items_stored}),
                ("tripleo_helper_received_bytes_total", "counter", "Bytes of node data received in uploads.",
                 {None: self.bytes_received}),
                ("tripleo_helper_served_bytes_total", "counter", "Bytes of node data sent to clients.",
                 {None: self.bytes_served}),
                ("tripleo_helper_uploads_in_flight", "gauge", "Uploads being received now.",
                 {None: self.uploads_in_flight}),
                ("tripleo_helper_uploads_total", "counter", "Uploads stored.", {None: self.uploads_total}),
                ("tripleo_helper_leases_held", "gauge", "Upgrade leases held now.", {None: leases_held}),
                ("tripleo_helper_http_errors_total", "counter", "HTTP responses with an error status.",
                 {f'status="{code}"': n for code, n in sorted(self.errors_by_status.items())}),
            ]
        lines = []
        for name, kind, help_text, values in samples:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            lines += [f"{name}{'{' + labels + '}' if labels else ''} {value}" for labels, value in values.items()]
        return "\n".join(lines) + "\n"
