"""Command line of the undercloud helper daemon.

`serve` runs the daemon. `nodes import|add|list` work on the node registry in the state dir directly (so nodes
can be registered before the daemon first starts). `cleanup` and `status` ask the running daemon, which owns
the stored data and the live state, over HTTP with the admin token.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from helper_daemon.settings import Settings, SettingsError, check_tls_files, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config, state_dir=getattr(args, "state_dir", None), listen=getattr(args, "listen", None),
                         tls_cert=getattr(args, "tls_cert", None), tls_key=getattr(args, "tls_key", None))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from helper_daemon.app import create_app
    from helper_daemon.logs import event, setup_logging

    settings = _settings(args)
    check_tls_files(settings)
    setup_logging(settings.log_level)
    for notice in settings.notices:
        print(f"tripleo-upgrade-helper: {notice}", file=sys.stderr)
        event("deprecated setting", notice=notice)
    app = create_app(settings)
    event("starting", listen=settings.listen, state_dir=str(settings.state_dir), tls=bool(settings.tls_cert))
    # uvicorn handles SIGTERM/SIGINT: it stops accepting, finishes in-flight requests, then exits 0.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        log_config=None,
        access_log=False,
        log_level=settings.log_level,
    )
    return 0


def _registry_db(args: argparse.Namespace):
    from helper_daemon.db import Database
    from helper_daemon.state_dir import prepare_state_dir

    return Database.in_state_dir(prepare_state_dir(_settings(args).state_dir))


def _hand_out_tokens(regs, token_dir: Path | None) -> None:
    """New tokens are shown once: printed, or written 0600 as <token-dir>/<node>.token."""
    from helper_daemon.tokens import write_secret_file

    if token_dir is not None:
        token_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for reg in regs:
        flags = " ceph-mon" if reg.ceph_mon else ""
        flags += " one-by-one" if reg.one_by_one else ""
        state = "registered" if reg.created else "updated"
        if reg.token is None:
            print(f"{reg.name}: {state}, role {reg.role}{flags}; kept its existing token")
        elif token_dir is not None:
            write_secret_file(token_dir / f"{reg.name}.token", reg.token + "\n")
            print(f"{reg.name}: {state}, role {reg.role}{flags}; token written to {token_dir / reg.name}.token")
        else:
            print(f"{reg.name}: {state}, role {reg.role}{flags}; token (shown once): {reg.token}")


def _nodes_add(args: argparse.Namespace) -> int:
    from helper_daemon import registry

    reg = registry.add_node(_registry_db(args), args.node, args.role, args.ceph_mon, args.one_by_one,
                            args.rotate_token)
    _hand_out_tokens([reg], args.token_dir)
    return 0


def _nodes_import(args: argparse.Namespace) -> int:
    from helper_daemon import registry
    from helper_daemon.inventory import load_inventory

    nodes = load_inventory(args.inventory)
    regs = registry.import_nodes(_registry_db(args), nodes, args.rotate_tokens, keep_old_os=tuple(args.keep_old_os))
    _hand_out_tokens(regs, args.token_dir)
    print(f"{len(regs)} overcloud node(s) from {args.inventory}: {sum(r.created for r in regs)} new, "
          f"{sum(bool(r.token) for r in regs)} new token(s)")
    osd_hosts = [n.name for n in nodes if n.ceph_osd]
    if osd_hosts:
        print(f"Ceph OSD hosts (group ceph_osd): {', '.join(osd_hosts)}")
    for role in dict.fromkeys(args.keep_old_os):
        print(f"role {role} stays on the old OS (undo: tripleo-upgrade-helper roles keep-old-os {role} --undo)")
    return 0


def _nodes_list(args: argparse.Namespace) -> int:
    from helper_daemon import registry
    from helper_daemon.fleet_table import table

    rows = registry.list_nodes(_registry_db(args))
    header = ("NODE", "ROLE", "CEPH-MON", "ONE-BY-ONE", "PHASE", "OS")
    for line in table([header] + [(r["name"], r["role"], "yes" if r["ceph_mon"] else "",
                                   "yes" if r["one_by_one"] else "", r["phase"] or "-", r["os_release"] or "-")
                                  for r in rows]):
        print(line)
    return 0


def _admin_http(args: argparse.Namespace):
    """An `AdminHTTP` to the running daemon, from --url/--admin-token-file/--ca-file or the settings."""
    from helper_daemon.admin_http import AdminHTTP

    return AdminHTTP.from_settings(_settings(args), args.url, args.admin_token_file, args.ca_file)


def _cleanup(args: argparse.Namespace) -> int:
    status, answer = _admin_http(args).call("POST", "/v1/cleanup", {"force": args.force, "reason": args.reason},
                                           ok=(409,))
    if status == 409:
        print("cleanup refused: " + answer.get("detail", ""), file=sys.stderr)
        for reason in answer.get("reasons", []):
            print(f"  - {reason}", file=sys.stderr)
        return 1
    for reason in answer.get("overridden", []):
        print(f"forced past: {reason}")
    for item in answer["removed"]:
        print(f"removed {item['node']}/{item['item']}: {item['size']} bytes, sha256 {item['sha256']}")
    print(f"cleanup done: {len(answer['removed'])} item(s) removed; the audit log keeps the record")
    return 0


def _status(args: argparse.Namespace) -> int:
    from helper_daemon.fleet_table import render

    if args.watch:
        from helper_daemon.cli_workflow import watch

        return watch(_admin_http(args), args.json, args.interval)
    _, fleet = _admin_http(args).call("GET", "/v1/status")
    print(json.dumps(fleet, indent=2) if args.json else render(fleet))
    return 0


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", type=Path, help="state directory (default /var/lib/tripleo-upgrade)")
    parser.add_argument("--config", type=Path, help="YAML file with daemon settings (see 'serve --help')")


def _add_http(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)
    parser.add_argument("--url", help="daemon URL (default: from the listen setting, https when TLS is set up)")
    parser.add_argument("--admin-token-file", type=Path, help="admin token (default: <state-dir>/admin-token)")
    parser.add_argument("--ca-file", type=Path, help="CA bundle to verify the daemon's TLS certificate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tripleo-upgrade-helper", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the daemon")
    _add_common(serve)
    serve.add_argument("--listen", help="HOST:PORT to listen on (default 127.0.0.1:8990)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate; enables TLS with --tls-key")
    serve.add_argument("--tls-key", type=Path, help="PEM private key for --tls-cert")
    serve.set_defaults(func=_serve)

    nodes = sub.add_parser("nodes", help="the node registry").add_subparsers(dest="nodes_command", required=True)
    imp = nodes.add_parser("import", help="register every overcloud node of a TripleO static inventory")
    imp.add_argument("inventory", type=Path, help="tripleo-ansible-inventory.yaml")
    imp.add_argument("--rotate-tokens", action="store_true", help="issue new tokens to nodes already registered")
    imp.add_argument("--token-dir", type=Path, help="write new tokens 0600 as DIR/<node>.token instead of printing")
    imp.add_argument("--keep-old-os", action="append", default=[], metavar="ROLE",
                     help="this role stays on the old OS (repeat for several); see `roles keep-old-os`")
    _add_common(imp)
    imp.set_defaults(func=_nodes_import)
    add = nodes.add_parser("add", help="register or update one node")
    add.add_argument("node")
    add.add_argument("--role", required=True, help="TripleO role name, for example Controller")
    add.add_argument("--ceph-mon", action="store_true", help="the node runs a ceph-mon")
    add.add_argument("--one-by-one", action=argparse.BooleanOptionalAction, default=None,
                     help="its role is upgraded one node at a time (default: yes for ceph-mon hosts' roles)")
    add.add_argument("--rotate-token", action="store_true", help="issue a new token if the node exists")
    add.add_argument("--token-dir", type=Path, help="write a new token 0600 as DIR/<node>.token instead of printing")
    _add_common(add)
    add.set_defaults(func=_nodes_add)
    lst = nodes.add_parser("list", help="registered nodes")
    _add_common(lst)
    lst.set_defaults(func=_nodes_list)

    clean = sub.add_parser("cleanup", help="remove all stored node data (system_upgrade_cleanup)")
    clean.add_argument("--force", action="store_true", help="even if some nodes have not restored their data")
    clean.add_argument("--reason", default="", help="why forcing is right; kept in the audit log")
    _add_http(clean)
    clean.set_defaults(func=_cleanup)

    status = sub.add_parser("status", help="the fleet at a glance")
    _add_http(status)
    status.add_argument("--json", action="store_true", help="print the raw JSON of GET /v1/status")
    status.set_defaults(func=_status)

    from helper_daemon import cli_workflow

    cli_workflow.add_watch(status)
    cli_workflow.add_commands(sub, _add_http, nodes)
    return parser


def main(argv: list[str] | None = None) -> int:
    from helper_daemon.admin_http import DaemonAnswered, DaemonUnreachable
    from helper_daemon.cli_workflow import WorkflowError, print_refusal
    from helper_daemon.errors import ApiError
    from helper_daemon.inventory import InventoryError

    parser = build_parser()
    args = parser.parse_args(argv)
    problem = getattr(args, "check", lambda _: None)(args)
    if problem:
        parser.error(problem)  # exit 2, like every other usage error
    # Exit codes a script can use: 0 done, 1 refused or failed (the reasons printed), 2 bad usage or settings.
    try:
        return args.func(args)
    except DaemonAnswered as exc:
        print_refusal(exc, getattr(args, "json", False))
        return 1
    except (DaemonUnreachable, WorkflowError) as exc:
        print(f"tripleo-upgrade-helper: {exc}", file=sys.stderr)
        return 1
    except (SettingsError, InventoryError) as exc:
        print(f"tripleo-upgrade-helper: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:
        print(f"tripleo-upgrade-helper: {exc.detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
