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
        (f"{node['os_release']} ({node['os']}" + (", kept" if node.get("kept_on_old_os") else "") + ")"
         if node["os_release"] else "unknown" + (" (kept)" if node.get("kept_on_old_os") else "")),
        "since " + _when(node["lease"]["since"]) if node["lease"] else "-",
        _inhibitor_count(node["inhibitors"]),
        f"{len(items)} item{'s' if len(items) != 1 else ''}, {human_size(node['stored_bytes'])}" if items else "-",
    )


def _inhibitor_count(inhibitors: list[dict]) -> str:
    if not inhibitors:
        return "-"
    accepted = sum(bool(i.get("accepted")) for i in inhibitors)
    return str(len(inhibitors) - accepted) + (f" (+{accepted} accepted)" if accepted else "")


def _budget(role: dict) -> str:
    if role.get("budget") is None:
        return "none"
    return str(role["budget"])


def role_budget_rows(roles: list[dict]) -> list[tuple[str, ...]]:
    """ROLE, NODES, BUDGET, FROM, DOWN, MAY GO NOW, OLD OS (`roles list`)."""
    return [(r["role"], str(r["nodes"]), _budget(r) + (f" = {r['allowed_down']}" if r.get("budget") is not None
                                                       else f" (all but one: {r.get('allowed_down', '-')})"),
             r.get("budget_source", "-"), str(r.get("down", r["leased"])), str(r.get("may_go_now", "-")),
             f"kept: {r['keep_old_os']['reason']}" if r.get("keep_old_os") else "upgrade") for r in roles]


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Fixed-width columns, two spaces apart, no trailing blanks (`rows` must not be empty)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _accepted_for(inhibitor: dict) -> str:
    by = inhibitor.get("accepted_by") or {}
    where = "the fleet" if by.get("scope") == "fleet" else f"{by.get('scope')} {by.get('target')}"
    return f"accepted #{by.get('id')} for {where}: {by.get('reason')}"


def render(status: dict) -> str:
    nodes = sorted(status["nodes"], key=lambda n: (n["role"], n["name"]))
    lines = []
    pause = status.get("paused")
    if pause:
        node = f", node {pause['node']}" if pause.get("node") else ""
        lines += [f"PAUSED since {_when(pause['since'])} by {pause['by']} (rule {pause['rule']}{node}): "
                  f"{pause['reason']}", "  no new lease until `tripleo-upgrade-helper resume --reason TEXT`; "
                  "nodes already down carry on", ""]
    lines += table([HEADER] + [_row(n) for n in nodes])

    problems = [f"  {n['name']}: inhibitor {i['title']} [{i['key']}]" for n in nodes for i in n["inhibitors"]
                if not i.get("accepted")]
    # An error is often a multi-line log excerpt: its first line here, the rest in `status --json`.
    problems += [f"  {n['name']}: error {_first_line(n['error'])}" for n in nodes if n["error"]]
    if problems:
        lines += ["", "Problems:"] + problems
    accepted = [f"  {n['name']}: {i['title']} [{i['key']}] ({_accepted_for(i)})" for n in nodes
                for i in n["inhibitors"] if i.get("accepted")]
    if accepted:
        lines += ["", "Accepted inhibitors:"] + accepted

    lines += ["", f"Roles (new OS = major {status['target_os_major']}):"]
    role_rows = [(r["role"], f"{r['nodes']} node{'s' if r['nodes'] != 1 else ''}", f"old OS {r['old_os']}",
                  f"new OS {r['new_os']}", f"unknown OS {r['unknown_os']}", f"leased {r['leased']}",
                  "one-by-one" if r["one_by_one"] else "",
                  f"down {r.get('down', r['leased'])} of {r.get('allowed_down', '-')} allowed" if "allowed_down" in r
                  else "", "kept on old OS (intended)" if r.get("keep_old_os") else "") for r in status["roles"]]
    lines += ["  " + line for line in table(role_rows)] if role_rows else ["  (no node registered)"]

    mon = status["ceph_mon"]
    if mon["running"] or mon["leased"]:
        verdict = "OK" if mon["ok"] else "BELOW MINIMUM"
        lines += ["", f"ceph-mon hosts running: {len(mon['running'])} (min {mon['min']}, {verdict}): "
                      f"{', '.join(mon['running']) or 'none'}; leased: {', '.join(mon['leased']) or 'none'}"]
        if mon.get("not_live"):
            lines += [f"  live (in quorum, fresh facts): {len(mon['live'])} "
                      f"({'OK' if mon['live_ok'] else 'BELOW MINIMUM'}); not counted: "
                      + "; ".join(f"{name}: {why}" for name, why in mon["not_live"].items())]
    else:
        lines += ["", "ceph-mon hosts: none registered"]

    # What tripleo-upgrade-stop-services reported (the transfer step): the push waits for "down".
    reported = [n for n in nodes if n.get("services")]
    if reported:
        lines += ["", "Services (tripleo-upgrade-stop-services): " + "; ".join(
            f"{n['name']} {n['services']['state']} since {_when(n['services']['at'])}" for n in reported)]

    flags = status.get("ceph_osd_flags") or []
    if flags:
        lines += ["", "Ceph OSD flags set by the upgrade: " + "; ".join(
            f"{f['flag']} {'held' if f['state'] == 'held' else 'being cleared'} by {f['node']} since "
            f"{_when(f['since'])}" for f in flags)]

    if status["transfers"]:
        lines += ["", "Transfers:"]
        lines += ["  " + line for line in table([
            (f"#{t['id']}", t["role"], f"{t['source']} -> {t['target']}", ",".join(t["items"]),
             t["state"] + (" " + _when(t["sealed_at"]) if t["sealed_at"] else ""),
             f"forced: {t['forced_reason']}" if t["forced_reason"] else "")
            for t in status["transfers"]])]
    return "\n".join(lines)
