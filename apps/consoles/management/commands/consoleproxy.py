"""`manage.py consoleproxy`: Stratus' console proxy (websockify with Stratus' token plugin), WebSocket only."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.consoles.networks import allowed_networks
from apps.consoles.proxy import ConsoleProxyServer


class Command(BaseCommand):
    help = "Run the console proxy: browser (noVNC over WebSocket) to the compute node's VNC server."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=None, help="listen address (default STRATUS_CONSOLE_PROXY_HOST)")
        parser.add_argument("--port", type=int, default=None, help="listen port (default STRATUS_CONSOLE_PROXY_PORT)")
        parser.add_argument(
            "--heartbeat", type=int, default=30, help="seconds between WebSocket pings on idle consoles (0: none)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host = options["host"] or settings.STRATUS_CONSOLE_PROXY_HOST
        port = options["port"] if options["port"] is not None else settings.STRATUS_CONSOLE_PROXY_PORT
        networks = allowed_networks()  # a mistyped STRATUS_CONSOLE_ALLOWED_NETWORKS stops the proxy here, not later
        server = ConsoleProxyServer(host, port, heartbeat=options["heartbeat"])

        def stop(signum: int, frame: Any) -> None:
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(
            f"console proxy listening on {host}:{server.server_address[1]} (WebSocket only); VNC hosts allowed in "
            + ", ".join(str(n) for n in networks),
            ending="\n",
        )
        self.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.5)
        finally:
            server.server_close()
