"""The fleet table of `tripleo-upgrade-helper status`: the answer of GET /v1/status as fixed-width text."""

from __future__ import annotations

HEADER = ("NODE", "ROLE", "PHASE", "OS", "LEASE", "INHIBITORS", "DATA")


def human_size(size: float) -> str:
    if size < 1024:
        return f"{int(size)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            return f"{size:.1f} {unit}"


def _when(timestamp: str | None) -> str:
    """2026-11-24T10:00:01.123456Z -> 2026-11-24 10:00:01 (UTC)."""
    return timestamp[:19].replace("T", " ") if timestamp else "-"


def _first_line(text: str) -> str:
    lines = text.strip().splitlines() or [""]
    return lines[0] + (f" (+{len(lines) - 1} more lines)" if len(lines) > 1 else "")


def _row(node: dict) -> tuple[str, ...]:
    items = node["items"]
    return (
        node["name"],
        node["role"] + (" (mon)" if node["ceph_mon"] else ""),
        node["phase"] or "-",
        f"{node['os_release']} ({node['os']})" if node["os_release"] else "unknown",
        "since " + _when(node["lease"]["since"]) if node["lease"] else "-",
        str(len(node["inhibitors"])) if node["inhibitors"] else "-",
        f"{len(items)} item{'s' if len(items) != 1 else ''}, {human_size(node['stored_bytes'])}" if items else "-",
    )


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Fixed-width columns, two spaces apart, no trailing blanks (`rows` must not be empty)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def render(status: dict) -> str:
    nodes = sorted(status["nodes"], key=lambda n: (n["role"], n["name"]))
    lines = table([HEADER] + [_row(n) for n in nodes])

    problems = [f"  {n['name']}: inhibitor {i['title']} [{i['key']}]" for n in nodes for i in n["inhibitors"]]
    # An error is often a multi-line log excerpt: its first line here, the rest in `status --json`.
    problems += [f"  {n['name']}: error {_first_line(n['error'])}" for n in nodes if n["error"]]
    if problems:
        lines += ["", "Problems:"] + problems

    lines += ["", f"Roles (new OS = major {status['target_os_major']}):"]
    role_rows = [(r["role"], f"{r['nodes']} node{'s' if r['nodes'] != 1 else ''}", f"old OS {r['old_os']}",
                  f"new OS {r['new_os']}", f"unknown OS {r['unknown_os']}", f"leased {r['leased']}",
                  "one-by-one" if r["one_by_one"] else "") for r in status["roles"]]
    lines += ["  " + line for line in table(role_rows)] if role_rows else ["  (no node registered)"]

    mon = status["ceph_mon"]
    if mon["running"] or mon["leased"]:
        verdict = "OK" if mon["ok"] else "BELOW MINIMUM"
        lines += ["", f"ceph-mon hosts running: {len(mon['running'])} (min {mon['min']}, {verdict}): "
                      f"{', '.join(mon['running']) or 'none'}; leased: {', '.join(mon['leased']) or 'none'}"]
    else:
        lines += ["", "ceph-mon hosts: none registered"]

    # What tripleo-upgrade-stop-services reported (the transfer step): the push waits for "down".
    reported = [n for n in nodes if n.get("services")]
    if reported:
        lines += ["", "Services (tripleo-upgrade-stop-services): " + "; ".join(
            f"{n['name']} {n['services']['state']} since {_when(n['services']['at'])}" for n in reported)]

    if status["transfers"]:
        lines += ["", "Transfers:"]
        lines += ["  " + line for line in table([
            (f"#{t['id']}", t["role"], f"{t['source']} -> {t['target']}", ",".join(t["items"]),
             t["state"] + (" " + _when(t["sealed_at"]) if t["sealed_at"] else ""),
             f"forced: {t['forced_reason']}" if t["forced_reason"] else "")
            for t in status["transfers"]])]
    return "\n".join(lines)
