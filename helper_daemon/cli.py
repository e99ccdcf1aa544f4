"""Command line: `tripleo-upgrade-helper serve|...`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helper_daemon.settings import SettingsError, load_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from helper_daemon.app import create_app

    settings = load_settings(
        args.config, state_dir=args.state_dir, listen=args.listen, tls_cert=args.tls_cert, tls_key=args.tls_key
    )
    app = create_app(settings)
    # uvicorn handles SIGTERM/SIGINT: it stops accepting, finishes in-flight requests, then exits 0.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        log_level="info",
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tripleo-upgrade-helper", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the daemon")
    serve.add_argument("--state-dir", type=Path, help="state directory (default /var/lib/tripleo-upgrade)")
    serve.add_argument("--listen", help="HOST:PORT to listen on (default 127.0.0.1:8990)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate; enables TLS with --tls-key")
    serve.add_argument("--tls-key", type=Path, help="PEM private key for --tls-cert")
    serve.add_argument("--config", type=Path, help="YAML file with any of the settings above")
    serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as exc:
        print(f"tripleo-upgrade-helper: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
