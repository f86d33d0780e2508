"""`python -m devcloud serve [--host H] [--port P] [--state-dir DIR] [--reset] [--transition-seconds S]`."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from devcloud.config import config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devcloud")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the cloud on one port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--state-dir", type=Path, default=Path(".state/devcloud"))
    serve.add_argument("--reset", action="store_true", help="start from a clean state")
    serve.add_argument("--transition-seconds", type=float, default=None)
    serve.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    config.host, config.port, config.state_dir = args.host, args.port, args.state_dir
    if args.transition_seconds is not None:
        config.transition_seconds = args.transition_seconds

    from devcloud.app import build_app, start
    from devcloud.web import serve as serve_http

    app = build_app(reset=args.reset)
    server = serve_http(app, args.host, args.port, verbose=args.verbose)
    start()

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"devcloud serving on {config.base_url} (state in {config.state_dir})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        from devcloud.state import store

        store.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
