"""The operator's workflow on the undercloud, one command per step (README "The upgrade, step by step"):
`transfer plan|open|list|show`, `lease list|release`, `nodes show`, and `status --watch`.

Each asks the running daemon with the admin token (found as `status` finds it; --url, --admin-token-file and
--ca-file override), prints a table or, with --json, the daemon's JSON answer, and exits 0 when done, 1 when the
daemon refused or the request failed (every reason the daemon gave is printed), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Callable, Optional

from helper_daemon.fleet_table import human_size, render, table


def _when(timestamp: Optional[str]) -> str:
    return timestamp[:19].replace("T", " ") if timestamp else "-"


def _print_json(answer) -> None:
    print(json.dumps(answer, indent=2, sort_keys=True))


def _services(services: Optional[dict]) -> str:
    return f"{services['state']} since {_when(services['at'])}" if services else "not reported"


# --- transfers ------------------------------------------------------------------------------------------------------


def _plan(args, http) -> int:
    query = "&".join(f"role={_quote(r)}" for r in args.role)
    _, answer = http.call("GET", "/v1/transfer/plan" + (f"?{query}" if query else ""))
    if args.json:
        _print_json(answer)
        return 0
    lines = []
    for plan in answer["plans"]:
        verdict = "can open now" if plan["valid"] else "cannot open now"
        lines.append(f"{plan['role']}: {verdict}")
        lines.append(f"  source  {plan['source'] or '-'} (services {_services(plan['source_services'])})"
                     if plan["source"] else "  source  -")
        lines.append(f"  target  {plan['target'] or '-'}")
        lines.append(f"  old OS  {', '.join(plan['old_os']) or '-'}; new OS {', '.join(plan['new_os']) or '-'}"
                     + (f"; unknown OS {', '.join(plan['unknown_os'])}" if plan["unknown_os"] else ""))
        lines += [f"  - {reason}" for reason in plan["reasons"]]
        if plan["source"] and (plan["source_services"] or {}).get("state") != "down":
            lines.append(f"  before the push: tripleo-upgrade-stop-services on {plan['source']}")
        lines += [f"  earlier: {_transfer_line(t)}" for t in plan["transfers"]]
    print("\n".join(lines) if lines else "no role has any node registered")
    return 0


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _transfer_line(t: dict) -> str:
    state = t["state"] + (f" {_when(t['sealed_at'])}" if t["sealed_at"] else "")
    forced = f", forced: {t['forced_reason']}" if t["forced_reason"] else ""
    return (f"#{t['id']} {t['role']} {t['source']} -> {t['target']} items {','.join(t['items'])}, opened "
            f"{_when(t['created_at'])}, {state}{forced}")


def _open(args, http) -> int:
    body = {"role": args.role, "items": args.item or ["mysql"], "force": args.force,
            "reason": args.reason or ""}
    if args.source:
        body["source"] = args.source
    if args.target:
        body["target"] = args.target
    _, answer = http.call("POST", "/v1/transfers", body)
    if args.json:
        _print_json(answer)
        return 0
    print(f"transfer #{answer['id']} opened: role {answer['role']}, {answer['source']} -> {answer['target']}, "
          f"items {', '.join(answer['items'])}" + (f" (forced: {answer['forced_reason']})"
                                                   if answer["forced_reason"] else ""))
    print(f"next: tripleo-upgrade-stop-services on every old-OS node of {answer['role']} "
          f"(check: tripleo-upgrade-helper transfer plan --role {answer['role']}), then tripleo-transfer-push on "
          f"{answer['source']}, then tripleo-transfer-pull on {answer['target']}")
    return 0


def _transfers(http) -> list[dict]:
    return http.call("GET", "/v1/status")[1]["transfers"]


def _list(args, http) -> int:
    transfers = _transfers(http)
    if args.json:
        _print_json({"transfers": transfers})
        return 0
    if not transfers:
        print("no transfer yet: see 'tripleo-upgrade-helper transfer plan'")
        return 0
    rows = [("ID", "ROLE", "SOURCE", "TARGET", "ITEMS", "STATE", "OPENED", "FORCED")]
    rows += [(t["id"], t["role"], t["source"], t["target"], ",".join(t["items"]),
              t["state"] + (f" {_when(t['sealed_at'])}" if t["sealed_at"] else ""), _when(t["created_at"]),
              t["forced_reason"] or "") for t in transfers]
    print("\n".join(table(rows)))
    return 0


def _show(args, http) -> int:
    transfer = next((t for t in _transfers(http) if t["id"] == args.id), None)
    if transfer is None:
        raise WorkflowError(f"there is no transfer {args.id!r}; see 'tripleo-upgrade-helper transfer list'")
    if args.json:
        _print_json(transfer)
        return 0
    print("\n".join(f"{key:<14}{value}" for key, value in (
        ("transfer", f"#{transfer['id']}"), ("role", transfer["role"]), ("source", transfer["source"]),
        ("target", transfer["target"]), ("items", ", ".join(transfer["items"])), ("state", transfer["state"]),
        ("opened", _when(transfer["created_at"])), ("sealed", _when(transfer["sealed_at"])),
        ("forced reason", transfer["forced_reason"] or "-"))))
    return 0


# --- leases ---------------------------------------------------------------------------------------------------------


def _lease_list(args, http) -> int:
    fleet = http.call("GET", "/v1/status")[1]
    roles = {n["name"]: n["role"] for n in fleet["nodes"]}
    if args.json:
        _print_json({"leases": fleet["leases"], "policy": fleet["policy"], "ceph_mon": fleet["ceph_mon"]})
        return 0
    if fleet["leases"]:
        print("\n".join(table([("NODE", "ROLE", "SINCE", "GRANTED BY")] + [
            (lease["node"], roles.get(lease["node"], "?"), _when(lease["since"]), lease["granted_by"])
            for lease in fleet["leases"]])))
    else:
        print("no node holds a lease")
    mon = fleet["ceph_mon"]
    print(f"ceph-mon hosts running: {len(mon['running'])} (min {mon['min']}"
          f"{'' if mon['ok'] else ', BELOW MINIMUM'})")
    return 0


def _lease_release(args, http) -> int:
    _, answer = http.call("POST", f"/v1/nodes/{_quote(args.node)}/lease/release", {"reason": args.reason})
    if args.json:
        _print_json(answer)
    elif answer["released"]:
        print(f"lease of {answer['node']} (held since {_when(answer['since'])}) released; reason kept in the "
              "audit log")
    else:
        print(f"{answer['node']} held no lease; nothing changed (recorded in the audit log)")
    return 0


def _lease_check(args, http) -> int:
    """Exit 0: every node may be down together now; 1: refused (each node's reasons printed); 2: no answer (the
    daemon unreachable, an unknown node, a bad token)."""
    from helper_daemon.admin_http import DaemonAnswered, DaemonUnreachable

    names = [name.strip() for arg in args.nodes for name in arg.split(",") if name.strip()]
    if not names:
        print("tripleo-upgrade-helper: lease check: no node named", file=sys.stderr)
        return 2
    try:
        _, answer = http.call("POST", "/v1/leases/check", {"nodes": names})
    except DaemonAnswered as exc:
        print(f"tripleo-upgrade-helper: lease check: {exc.answer.get('detail') or exc}", file=sys.stderr)
        return 2
    except DaemonUnreachable as exc:
        print(f"tripleo-upgrade-helper: lease check: {exc}", file=sys.stderr)
        return 2
    if args.json:
        _print_json(answer)
    else:
        for node in answer["nodes"]:
            verdict = "already holds its lease" if node["already_held"] else (
                "granted" if node["granted"] else "refused")
            print(f"{node['node']}: {verdict}")
            for reason in node["reasons"]:
                print(f"  - {reason}")
        print("allowed: these nodes may be down together now" if answer["allowed"] else
              "refused: these nodes may not all be down together now")
    return 0 if answer["allowed"] else 1


# --- accepted inhibitors -------------------------------------------------------------------------------------------


def _acceptance_line(a: dict) -> str:
    where = "the fleet" if a["scope"] == "fleet" else f"{a['scope']} {a['target']}"
    return f"#{a['id']} {a['key']} for {where}, by {a['by']} at {_when(a['at'])}: {a['reason']}"


def _inhibitors_accept(args, http) -> int:
    scope, target = ("node", args.node) if args.node else ("role", args.role) if args.role else ("fleet", None)
    _, answer = http.call("POST", "/v1/inhibitors/accepted", {"key": args.key, "scope": scope, "target": target,
                                                              "reason": args.reason})
    if args.json:
        _print_json(answer)
    else:
        print(f"accepted {_acceptance_line(answer)}")
        print(f"revoke with: tripleo-upgrade-helper inhibitors revoke {answer['id']}")
    return 0


def _inhibitors_list(args, http) -> int:
    _, answer = http.call("GET", "/v1/inhibitors/accepted")
    if args.json:
        _print_json(answer)
    elif answer["accepted"]:
        print("\n".join(_acceptance_line(a) for a in answer["accepted"]))
    else:
        print("no inhibitor is accepted")
    return 0


def _inhibitors_revoke(args, http) -> int:
    http.call("DELETE", f"/v1/inhibitors/accepted/{args.id}")
    if args.json:
        _print_json({"revoked": args.id})
    else:
        print(f"acceptance #{args.id} revoked (recorded in the audit log)")
    return 0


def _check_accept(args: argparse.Namespace) -> Optional[str]:
    if sum(bool(x) for x in (args.node, args.role, args.fleet)) != 1:
        return "say whom it is accepted for: exactly one of --node NODE, --role ROLE, --fleet"
    return None if args.reason.strip() else "--reason must say why the inhibitor is safe to pass"


# --- pause, resume, roles -------------------------------------------------------------------------------------------


def _pause_line(pause: Optional[dict]) -> str:
    if not pause:
        return "not paused: leases are granted"
    node = f", node {pause['node']}" if pause.get("node") else ""
    return f"PAUSED since {_when(pause['since'])} by {pause['by']} (rule {pause['rule']}{node}): {pause['reason']}"


def _pause(args, http) -> int:
    _, answer = http.call("POST", "/v1/fleet/pause", {"reason": args.reason})
    if args.json:
        _print_json(answer)
    else:
        print(_pause_line(answer["paused"]) + ("" if answer["changed"] else " (it was paused already; kept)"))
        print("nodes already down carry on; no new lease until `tripleo-upgrade-helper resume --reason TEXT`")
    return 0


def _resume(args, http) -> int:
    _, answer = http.call("POST", "/v1/fleet/resume", {"reason": args.reason})
    if args.json:
        _print_json(answer)
    else:
        print("resumed: leases are granted again" if answer["changed"] else "was not paused; nothing changed")
    return 0


def _budget_value(text: str):
    from helper_daemon.policy import budget_error

    if text.strip().lower() in ("none", "default"):
        return None
    value = int(text) if text.strip().isdigit() else text.strip()
    problem = budget_error(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem} (or 'default': back to the configured budget)")
    return value


def _roles_list(args, http) -> int:
    fleet = http.call("GET", "/v1/status")[1]
    if args.json:
        _print_json({"roles": fleet["roles"], "policy": fleet["policy"], "paused": fleet.get("paused")})
        return 0
    from helper_daemon.fleet_table import role_budget_rows

    print("\n".join(table([("ROLE", "NODES", "BUDGET", "FROM", "DOWN", "MAY GO NOW", "OLD OS")]
                          + role_budget_rows(fleet["roles"]))))
    print(_pause_line(fleet.get("paused")))
    return 0


def _roles_budget(args, http) -> int:
    _, answer = http.call("PUT", f"/v1/roles/{_quote(args.role)}/budget", {"budget": args.budget})
    if args.json:
        _print_json(answer)
    else:
        allowed = "all but one" if answer["nodes"] is None else str(answer["nodes"])
        print(f"role {answer['role']}: budget {answer['budget'] if answer['budget'] is not None else 'none'} "
              f"(from {answer['source']}): {allowed} node(s) down at once")
    return 0


def _roles_keep(args, http) -> int:
    role = _quote(args.role)
    if args.undo:
        http.call("DELETE", f"/v1/roles/{role}/keep-old-os")
        answer = {"role": args.role, "keep_old_os": None}
    else:
        _, answer = http.call("PUT", f"/v1/roles/{role}/keep-old-os", {"reason": args.reason})
    if args.json:
        _print_json(answer)
    elif answer["keep_old_os"]:
        print(f"role {args.role} stays on the old OS ({answer['keep_old_os']['reason']}): no transfer plan, cleanup "
              "does not wait for it, status shows it as intended")
    else:
        print(f"role {args.role} is to be upgraded (no longer kept on the old OS)")
    return 0


def _check_keep(args: argparse.Namespace) -> Optional[str]:
    if args.undo:
        return "--undo takes no --reason" if args.reason else None
    return None if (args.reason or "").strip() else "--reason must say why the role stays on the old OS"


# --- nodes show -----------------------------------------------------------------------------------------------------


def _node_show(args, http) -> int:
    node = _quote(args.node)
    status = http.call("GET", f"/v1/nodes/{node}/status")[1]
    items = http.call("GET", f"/v1/nodes/{node}/data")[1]["items"]
    transfers = http.call("GET", f"/v1/nodes/{node}/transfers")[1]["transfers"]
    fleet_row = next((n for n in http.call("GET", "/v1/status")[1]["nodes"] if n["name"] == args.node), None)
    if fleet_row is None:
        raise WorkflowError(f"node {args.node!r} is not registered")
    if args.json:
        _print_json({"node": args.node, "status": status, "items": items, "transfers": transfers,
                     "fleet": fleet_row})
        return 0
    lines = [f"node        {args.node} (role {fleet_row['role']}{', ceph-mon' if fleet_row['ceph_mon'] else ''})",
             f"phase       {status['phase'] or '-'} (reported {_when(status['updated_at'])})",
             f"OS release  {status['os_release'] or 'unknown'} ({fleet_row['os']})",
             f"services    {_services(fleet_row['services'])}"
             + (f": {fleet_row['services']['detail']}" if fleet_row["services"] else ""),
             "lease       " + (f"held since {_when(fleet_row['lease']['since'])} (by "
                                f"{fleet_row['lease']['granted_by']})" if fleet_row["lease"] else "none")]
    if status["error"]:
        lines += ["error       " + status["error"].strip().replace("\n", "\n            ")]
    inhibitors = [r for r in status["reports"] if r.get("inhibitor")]
    lines += ["inhibitors  " + ("none" if not inhibitors else "")]
    lines += [f"  - {r['title']} [{r['key']}]" + (f": {r['remediation']}" if r.get("remediation") else "")
              for r in inhibitors]
    lines += ["stored      " + ("nothing" if not items else "")]
    lines += [f"  - {i['item']}: {human_size(i['size'])}, sha256 {i['sha256']}, {_when(i['stored_at'])}"
              for i in items]
    lines += ["transfers   " + ("none" if not transfers else "")]
    lines += ["  - " + _transfer_line(t) for t in transfers]
    older = status["older_reports"]
    lines += ["timeline" + (f" ({older['count']} older reports: {', '.join(older['phases'])})" if older else "")]
    lines += [f"  {_when(e['at'])}  {e['phase'] or '-':<11} {e['os_release'] or '':<6} "
              f"{sum(1 for r in e['reports'] if r.get('inhibitor'))} inhibitor(s)"
              + (f"  error: {e['error'].strip().splitlines()[0]}" if e["error"] and e["error"].strip() else "")
              for e in status["timeline"]]
    print("\n".join(lines))
    return 0


# --- status --watch -------------------------------------------------------------------------------------------------


def watch(http, as_json: bool, interval: float, out=sys.stdout, sleep: Callable[[float], None] = time.sleep,
          rounds: Optional[int] = None) -> int:
    """Redraw the fleet every `interval` seconds until interrupted (Ctrl-C ends it with 0); a daemon that does
    not answer is said in the frame and asked again, not a reason to stop watching."""
    from helper_daemon.admin_http import DaemonUnreachable

    done = 0
    try:
        while rounds is None or done < rounds:
            try:
                fleet = http.call("GET", "/v1/status")[1]
                frame = json.dumps(fleet, sort_keys=True) if as_json else render(fleet)
            except DaemonUnreachable as exc:
                frame = json.dumps({"error": str(exc)}) if as_json else f"tripleo-upgrade-helper: {exc}"
            if as_json:
                out.write(frame + "\n")
            else:
                # Clear the screen and home the cursor: the table is redrawn in place.
                out.write(f"\x1b[H\x1b[2J{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, every "
                          f"{interval:g}s (Ctrl-C ends)\n\n{frame}\n")
            out.flush()
            done += 1
            if rounds is None or done < rounds:
                sleep(interval)
    except KeyboardInterrupt:
        out.write("\n")
    return 0


# --- wiring ---------------------------------------------------------------------------------------------------------


class WorkflowError(RuntimeError):
    """A request this command refuses by itself (an unknown transfer id); exit 1."""


def _with_http(handler):
    def run(args: argparse.Namespace) -> int:
        from helper_daemon.cli import _admin_http

        return handler(args, _admin_http(args))
    return run


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0.1 <= number <= 3600:
        raise argparse.ArgumentTypeError(f"{value!r}: give between 0.1 and 3600 seconds")
    return number


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the daemon's JSON answer instead of a table")


def add_commands(sub, add_http: Callable[[argparse.ArgumentParser], None],
                 nodes_sub) -> None:
    """Add `transfer`, `lease` and `nodes show` to the CLI (`sub`: its subparsers, `nodes_sub`: those of nodes)."""
    transfer = sub.add_parser("transfer", help="the one-shot database transfer of a role").add_subparsers(
        dest="transfer_command", required=True)
    plan = transfer.add_parser("plan", help="per role: the source and target a transfer would use, or why none")
    plan.add_argument("--role", action="append", default=[], help="repeat for several roles (default: every role)")
    opening = transfer.add_parser("open", help="open the role's one-shot transfer grant")
    opening.add_argument("--role", required=True, help="TripleO role, for example Controller")
    opening.add_argument("--source", help="an old-OS node of the role (default: the plan's source)")
    opening.add_argument("--target", help="the role's one new-OS node (default: the plan's target)")
    opening.add_argument("--item", action="append", help="stored item to transfer; repeat (default: mysql)")
    opening.add_argument("--force", action="store_true",
                         help="open again after a sealed transfer (never once the target reported completed)")
    opening.add_argument("--reason", help="required with --force: why, kept in the transfer and the audit log")
    listing = transfer.add_parser("list", help="every transfer with its state")
    show = transfer.add_parser("show", help="one transfer")
    show.add_argument("id", help="transfer id, as 'transfer list' shows it")
    for parser, handler in ((plan, _plan), (opening, _open), (listing, _list), (show, _show)):
        add_http(parser)
        _json_flag(parser)
        parser.set_defaults(func=_with_http(handler))
    opening.set_defaults(check=_check_open)

    lease = sub.add_parser("lease", help="upgrade leases").add_subparsers(dest="lease_command", required=True)
    lease_list = lease.add_parser("list", help="who holds a lease, since when")
    release = lease.add_parser("release", help="end the lease of a node that died holding it (audited)")
    release.add_argument("node")
    release.add_argument("--reason", required=True, help="why; kept in the audit log")
    check = lease.add_parser("check", help="may these nodes be down together now (the Ansible --limit guard)? "
                                           "exit 0 yes, 1 no, 2 no answer")
    check.add_argument("nodes", nargs="+", metavar="NODE",
                       help="node names, or one comma-separated list (the Ansible --limit form)")
    for parser, handler in ((lease_list, _lease_list), (release, _lease_release), (check, _lease_check)):
        add_http(parser)
        _json_flag(parser)
        parser.set_defaults(func=_with_http(handler))
    release.set_defaults(check=lambda args: None if args.reason.strip() else "--reason must say why")

    inhibitors = sub.add_parser("inhibitors", help="accepted leapp inhibitors").add_subparsers(
        dest="inhibitors_command", required=True)
    accept = inhibitors.add_parser("accept", help="let an inhibitor through, by its report key (audited)")
    accept.add_argument("key", help="the leapp report entry's key, as `status` or `nodes show` shows it")
    accept.add_argument("--node", help="for this node only")
    accept.add_argument("--role", help="for every node of this role")
    accept.add_argument("--fleet", action="store_true", help="for every node")
    accept.add_argument("--reason", required=True, help="why it is safe; kept in the audit log")
    accepted_list = inhibitors.add_parser("list", help="every accepted inhibitor, with its id")
    revoke = inhibitors.add_parser("revoke", help="revoke an acceptance (audited)")
    revoke.add_argument("id", type=int, help="its id, as `inhibitors list` shows it")
    for parser, handler in ((accept, _inhibitors_accept), (accepted_list, _inhibitors_list),
                            (revoke, _inhibitors_revoke)):
        add_http(parser)
        _json_flag(parser)
        parser.set_defaults(func=_with_http(handler))
    accept.set_defaults(check=_check_accept)

    pause = sub.add_parser("pause", help="pause the fleet: no new lease (nodes already down carry on); audited")
    pause.add_argument("--reason", required=True, help="why; kept in the audit log")
    resume = sub.add_parser("resume", help="resume the fleet after a pause (by the admin or a rule); audited")
    resume.add_argument("--reason", required=True, help="why it is safe again; kept in the audit log")
    roles = sub.add_parser("roles", help="per role: disruption budgets, roles kept on the old OS").add_subparsers(
        dest="roles_command", required=True)
    roles_list = roles.add_parser("list", help="per role: budget, nodes down, how many more may go now")
    budget = roles.add_parser("budget", help="set a role's disruption budget (audited)")
    budget.add_argument("role")
    budget.add_argument("budget", type=_budget_value,
                        help="nodes down at once (2), a share of the role (25%%), or 'default' (the configured one)")
    keep = roles.add_parser("keep-old-os", help="mark a role to stay on the old OS (or --undo); audited")
    keep.add_argument("role")
    keep.add_argument("--reason", help="why it stays; kept in the audit log")
    keep.add_argument("--undo", action="store_true", help="the role is upgraded after all")
    for parser, handler in ((pause, _pause), (resume, _resume), (roles_list, _roles_list), (budget, _roles_budget),
                            (keep, _roles_keep)):
        add_http(parser)
        _json_flag(parser)
        parser.set_defaults(func=_with_http(handler))
    for parser in (pause, resume):
        parser.set_defaults(check=lambda args: None if args.reason.strip() else "--reason must say why")
    keep.set_defaults(check=_check_keep)

    node_show = nodes_sub.add_parser("show", help="one node: phase, OS, timeline, items, inhibitors, lease, "
                                                  "transfers (asks the daemon)")
    node_show.add_argument("node")
    add_http(node_show)
    _json_flag(node_show)
    node_show.set_defaults(func=_with_http(_node_show))


def add_watch(status: argparse.ArgumentParser) -> None:
    status.add_argument("--watch", action="store_true", help="redraw the table until interrupted (Ctrl-C)")
    status.add_argument("--interval", type=_positive, default=5.0, help="seconds between redraws (default 5)")


def _check_open(args: argparse.Namespace) -> Optional[str]:
    if args.force and not (args.reason or "").strip():
        return "--force needs --reason TEXT (kept in the audit log)"
    if args.reason and not args.force:
        return "--reason goes with --force"
    return None


def print_refusal(exc, as_json: bool) -> None:
    """A refusal in full: its one-line error, then every reason and blocker the daemon gave."""
    answer = getattr(exc, "answer", None) or {}
    if as_json and answer:
        _print_json(answer)
    print(f"tripleo-upgrade-helper: {answer.get('detail') or exc}", file=sys.stderr)
    reasons = answer.get("reasons") or []
    if len(reasons) > 1 or (reasons and reasons[0] not in (answer.get("detail") or "")):
        for reason in reasons:
            print(f"  - {reason}", file=sys.stderr)
    for blocker in answer.get("blockers") or []:
        print(f"  - rule {blocker.get('rule')}: held by {', '.join(blocker.get('holders') or []) or '-'}; "
              f"{blocker.get('must_release')} must end first", file=sys.stderr)
