#!/usr/bin/env python3
"""Serve the site (the repository root, or another directory) on 127.0.0.1 for development.

Why not `python -m http.server`: it guesses MIME types from the OS tables, which
may lack `.wasm` (browsers then refuse WebAssembly streaming compilation) or
`.mjs`, and it lets the browser cache heuristically, so an edited main.py or a
retrained model may not show up on reload. This server pins the types the page
needs and sends `Cache-Control: no-cache` (revalidate every time; the service
worker does the offline caching).

Usable from tests:
    server, thread = start_in_thread(port=0)   # 0 = a free port
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    ...; server.shutdown()

Standard library only.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The types a static host must get right for this page; everything else falls
# back to the mimetypes module.
MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".toml": "application/toml",
    ".py": "text/x-python",
    ".npz": "application/octet-stream",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".css": "text/css",
    ".html": "text/html",
    ".map": "application/json",
}


class DevRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with pinned MIME types and development cache headers."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    quiet = False

    def end_headers(self) -> None:
        # no-cache = "store, but ask the server before reusing": edits show up
        # on reload, while ETag/Last-Modified keep revalidation cheap.
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        if not self.quiet:
            super().log_message(format, *args)


class DevServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        # A browser that closes a connection mid-response (navigation, aborted
        # fetch, test teardown) is normal, not a server error worth a traceback.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)


def make_server(
    port: int = 8000, directory: Path | str = ROOT, quiet: bool = False, host: str = "127.0.0.1"
) -> DevServer:
    """Create (but do not start) a server bound to host:port serving directory."""
    handler = type("Handler", (DevRequestHandler,), {"quiet": quiet})
    return DevServer((host, port), functools.partial(handler, directory=str(directory)))


def start_in_thread(port: int = 0, directory: Path | str = ROOT, quiet: bool = True):
    """Start a server in a daemon thread; returns (server, thread). Stop with server.shutdown()."""
    server = make_server(port, directory, quiet)
    thread = threading.Thread(target=server.serve_forever, name="dev-server", daemon=True)
    thread.start()
    return server, thread


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Serve the site on 127.0.0.1 with correct MIME types.")
    ap.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    ap.add_argument("--dir", type=Path, default=ROOT, help="directory to serve (default: the repository root)")
    ap.add_argument("-q", "--quiet", action="store_true", help="do not log each request")
    args = ap.parse_args(argv)
    if not (Path(args.dir) / "web" / "vendor" / ".stamp.json").exists():
        print("note: web/vendor/ is missing; run `make vendor` (python scripts/vendor.py) first", file=sys.stderr)
    server = make_server(args.port, args.dir, args.quiet)
    print(
        f"serving {Path(args.dir).resolve()} on http://127.0.0.1:{server.server_address[1]}/ (Ctrl+C stops)", flush=True
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
