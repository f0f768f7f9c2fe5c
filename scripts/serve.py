#!/usr/bin/env python3
"""Serve the site (the repository root, or another directory) on 127.0.0.1 for development.

Why not `python -m http.server`: it guesses MIME types from the OS tables, which
may lack `.wasm` (browsers then refuse WebAssembly streaming compilation) or
`.mjs`, and it lets the browser cache heuristically, so an edited main.py or a
retrained model may not show up on reload. This server pins the types the page
needs and sends `Cache-Control: no-cache` (revalidate every time; the service
worker does the offline caching).

Precompressed copies: when `foo.js.br` or `foo.js.gz` sits beside `foo.js` (as
`make site` writes them in dist/) and the request's Accept-Encoding allows it,
the copy is sent with `Content-Encoding: br` (preferred) or `gzip`, the
original's Content-Type and the copy's Content-Length; otherwise the plain file.
Either way such a file is sent with `Vary: Accept-Encoding`. A copy older than
its original is ignored. Nothing is compressed on the fly, so the repository
root (`make serve`) is served plain.

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
import os
import sys
import threading
import urllib.parse
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http import HTTPStatus
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

# Content codings of the precompressed copies, in the order this server prefers them.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def accepted_codings(header: str | None) -> dict[str, float]:
    """Parse an Accept-Encoding value into {coding: q}: 'gzip, br;q=0.5' -> {'gzip': 1.0, 'br': 0.5}."""
    codings: dict[str, float] = {}
    for item in (header or "").split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if not name:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        name = name.lower()
        codings["gzip" if name == "x-gzip" else name] = q
    return codings


def choose_coding(header: str | None, available: list[str]) -> str | None:
    """The coding to send among `available` (in server preference order), or None for the plain file.

    The highest q wins; ties go to the earlier (preferred) coding; q=0 refuses a coding, and a
    coding the header does not name is acceptable only through '*'.
    """
    accepted = accepted_codings(header)
    best, best_q = None, 0.0
    for coding in available:
        q = accepted.get(coding, accepted.get("*", 0.0))
        if q > best_q:
            best, best_q = coding, q
    return best


# A worker's rules come with its own response, not from the page's meta tag: the Python worker
# may compile WebAssembly and fetch from this origin, nothing else (a host should send the same).
WORKER_PATH = "/web/compute.js"
WORKER_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; object-src 'none'"


class DevRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with pinned MIME types and development cache headers."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    quiet = False
    _vary = False  # set while the plain copy of a file that has compressed ones is sent

    sent: list | None = None  # make_server(log=[...]): one entry per response, for benchmarks and tests

    def send_response(self, code, message=None) -> None:
        if self.sent is not None:
            self._entry = {"path": urllib.parse.urlsplit(self.path).path, "status": int(code), "bytes": 0, "coding": ""}
        super().send_response(code, message)

    def send_header(self, keyword, value) -> None:
        entry = getattr(self, "_entry", None)
        if entry is not None and keyword.lower() in ("content-length", "content-encoding"):
            entry["bytes" if keyword.lower() == "content-length" else "coding"] = (
                int(value) if keyword.lower() == "content-length" else str(value)
            )
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        entry = getattr(self, "_entry", None)
        if entry is not None and self.sent is not None:
            self.sent.append(entry)
            self._entry = None
        # no-cache = "store, but ask the server before reusing": edits show up
        # on reload, while ETag/Last-Modified keep revalidation cheap.
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        if urllib.parse.urlsplit(self.path).path.endswith(WORKER_PATH):
            self.send_header("Content-Security-Policy", WORKER_CSP)
        if self._vary:
            self.send_header("Vary", "Accept-Encoding")
        super().end_headers()

    def _file_path(self) -> str | None:
        """The file a GET/HEAD of self.path would send (index.html for a directory), or None."""
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            if not urllib.parse.urlsplit(self.path).path.endswith("/"):
                return None  # the stdlib redirects to the slashed URL
            path = os.path.join(path, "index.html")
        elif self.path.split("?", 1)[0].split("#", 1)[0].endswith("/"):
            return None  # a file asked for as a directory: the stdlib's 404
        return path if os.path.isfile(path) else None

    def _variants(self, path: str) -> dict[str, str]:
        """{coding: path} of the precompressed copies beside `path` that are not older than it."""
        mtime = os.stat(path).st_mtime
        found = {}
        for coding, suffix in ENCODINGS:
            try:
                if os.stat(path + suffix).st_mtime >= mtime:
                    found[coding] = path + suffix
            except OSError:
                pass
        return found

    def send_head(self):
        path = self._file_path()
        variants = self._variants(path) if path else {}
        if not variants:
            return super().send_head()
        coding = choose_coding(self.headers.get("Accept-Encoding"), list(variants))
        if coding is None:
            self._vary = True
            try:
                return super().send_head()
            finally:
                self._vary = False
        return self._send_encoded(path, variants[coding], coding)

    def _not_modified_since(self, mtime: float) -> bool:
        """The stdlib's If-Modified-Since test (ignored when If-None-Match is present)."""
        since = self.headers.get("If-Modified-Since")
        if not since or "If-None-Match" in self.headers:
            return False
        try:
            ims = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        if ims.tzinfo is None:
            ims = ims.replace(tzinfo=timezone.utc)
        return datetime.fromtimestamp(mtime, timezone.utc).replace(microsecond=0) <= ims

    def _send_encoded(self, path: str, variant: str, coding: str):
        """Headers for the precompressed copy `variant` of `path`; returns the open copy (or None on 304)."""
        try:
            f = open(variant, "rb")  # the caller sends and closes it, as in the stdlib
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        try:
            fs = os.fstat(f.fileno())
            if self._not_modified_since(fs.st_mtime):
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self.send_header("Vary", "Accept-Encoding")
                self.end_headers()
                f.close()
                return None
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Encoding", coding)
            self.send_header("Content-Length", str(fs.st_size))
            self.send_header("Last-Modified", self.date_time_string(fs.st_mtime))
            self.send_header("Vary", "Accept-Encoding")
            self.end_headers()
            return f
        except BaseException:
            f.close()
            raise

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
    port: int = 8000,
    directory: Path | str = ROOT,
    quiet: bool = False,
    host: str = "127.0.0.1",
    log: list | None = None,
) -> DevServer:
    """Create (but do not start) a server bound to host:port serving directory.

    ``log``: a list that gets {path, status, bytes, coding} for every response sent."""
    handler = type("Handler", (DevRequestHandler,), {"quiet": quiet, "sent": log})
    return DevServer((host, port), functools.partial(handler, directory=str(directory)))


def start_in_thread(port: int = 0, directory: Path | str = ROOT, quiet: bool = True, log: list | None = None):
    """Start a server in a daemon thread; returns (server, thread). Stop with server.shutdown()."""
    server = make_server(port, directory, quiet, log=log)
    thread = threading.Thread(target=server.serve_forever, name="dev-server", daemon=True)
    thread.start()
    return server, thread


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Serve the site on 127.0.0.1 with correct MIME types.")
    ap.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    ap.add_argument("--dir", type=Path, default=ROOT, help="directory to serve (default: the repository root)")
    ap.add_argument("-q", "--quiet", action="store_true", help="do not log each request")
    args = ap.parse_args(argv)
    if not (Path(args.dir) / "web" / "vendor" / "pyodide" / "pyodide.mjs").exists():
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
