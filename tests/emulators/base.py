"""Shared plumbing for the vendor API emulators used by the tests and the demo.

Each emulator is a real HTTP/1.1 server on 127.0.0.1 (one or more listeners,
e.g. USP's API and origin virtual hosts) with:

* a request log that tests assert on (what was sent, in which order);
* fault injection (delay, an HTTP status burst, a TCP reset before or in the
  middle of the answer, a body cut short of its Content-Length, a malformed
  body, replaced headers), matched by method, path and a pattern over the
  query and body, and consumed a given number of times;
* optional TLS (``start(ssl_context=...)``), for tests with a private CA;
* a control API under ``/_emulator/`` so a separate process (the demo, a
  playbook) can drive it: ``GET/DELETE /_emulator/requests``,
  ``POST/DELETE /_emulator/faults`` and emulator-specific actions with
  ``POST /_emulator/<action>`` and a JSON body.

Subclasses implement :meth:`Emulator.route` (and optionally
:meth:`Emulator.control`). Nothing here is vendor specific.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CONTROL_PREFIX = "/_emulator/"


@dataclass
class Request:
    """One request as the emulator saw it."""

    listener: str
    method: str
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]
    body: bytes
    time: float = field(default_factory=time.time)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def as_dict(self) -> dict:
        return {
            "listener": self.listener,
            "method": self.method,
            "path": self.path,
            "query": self.raw_query,
            "headers": self.headers,
            "body": self.body.decode("utf-8", errors="replace"),
            "time": self.time,
        }


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data, status: int = 200, headers: dict | None = None) -> Response:
        merged = {"Content-Type": "application/json"}
        merged.update(headers or {})
        return cls(status, json.dumps(data).encode("utf-8"), merged)

    @classmethod
    def xml(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": "application/smil+xml; charset=utf-8"})

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": "text/plain; charset=utf-8"})


@dataclass
class Fault:
    """An injected misbehaviour.

    kind: ``delay`` (sleep ``seconds`` then answer normally), ``status`` (answer
    ``status`` with ``body`` and ``headers`` instead of the real answer),
    ``reset`` (close the TCP connection with RST before answering),
    ``reset_mid`` (send the status line, the headers and half the body, then
    RST), ``truncate`` (announce the whole body in Content-Length, send half,
    then close normally), ``malformed`` (answer with the real status but a
    body cut in half, correctly framed), ``headers`` (the real answer with
    ``headers`` replacing its own, e.g. a wrong Content-Type) or ``echo``
    (answer ``status`` with a body that repeats the whole request: request
    line, every header including Authorization, and the body, as a careless
    server or proxy does in its error pages).
    ``match`` is a regular expression searched in ``path?query`` followed by a
    newline and the request body, to single out one request among many to the
    same path (a ScaleEngine command, one publishing point's purge).
    ``count`` is how many matching requests it affects (``None``: all).
    """

    kind: str
    method: str | None = None
    path: str | None = None
    listener: str | None = None
    count: int | None = 1
    seconds: float = 0.0
    status: int = 503
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    match: str | None = None

    KINDS = ("delay", "status", "reset", "reset_mid", "truncate", "malformed", "headers", "echo")

    def __post_init__(self):
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(self.KINDS)}")
        self._path_re = re.compile(self.path) if self.path else None
        self._match_re = re.compile(self.match) if self.match else None

    def matches(self, request: Request) -> bool:
        if self.method and self.method.upper() != request.method:
            return False
        if self.listener and self.listener != request.listener:
            return False
        if self._match_re:
            text = f"{request.path}?{request.raw_query}\n" + request.body.decode("utf-8", errors="replace")
            if not self._match_re.search(text):
                return False
        return not (self._path_re and not self._path_re.search(request.path))


class Emulator:
    """Base class: state, request log, faults, listeners."""

    #: listener names, in the order ports are given on the command line
    listeners: tuple[str, ...] = ("api",)

    def __init__(self, username: str | None = None, password: str | None = None):
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.credentials = (username, password) if username is not None else None
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        self._scheme = "http"

    # -- to be implemented by subclasses ---------------------------------

    def route(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def control(self, action: str, payload: dict) -> Response:
        return Response.json({"error": f"unknown control action {action!r}"}, status=404)

    def _json_control(
        self, actions: dict, action: str, payload, *, emulator_error: type[Exception], bad_request: tuple[type[Exception], ...], bad_prefix: str = ""
    ) -> Response:
        """Answer a control ``action`` from ``actions`` (name -> function of the JSON payload returning JSON data).

        ``emulator_error`` (with a ``status``) is answered with its status; ``bad_request`` errors
        (unknown or badly typed arguments) with 400 and ``bad_prefix`` before their message.
        """
        if action not in actions:
            return Emulator.control(self, action, payload)
        if not isinstance(payload, dict):
            return Response.json({"error": "the control body must be a JSON object"}, status=400)
        try:
            return Response.json(actions[action](payload))
        except emulator_error as exc:
            return Response.json({"error": str(exc)}, status=exc.status)
        except bad_request as exc:
            return Response.json({"error": f"{bad_prefix}{exc}"}, status=400)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add emulator-specific command-line options (see :func:`run_cli`)."""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Emulator:
        return cls(username=args.username, password=args.password)

    def requires_auth(self, request: Request) -> bool:
        """Whether ``request`` must carry the basic-auth credentials."""
        return self.credentials is not None

    # -- request log and faults ------------------------------------------

    def log(self, method: str | None = None, listener: str | None = None, path: str | None = None) -> list[Request]:
        with self.lock:
            entries = list(self.requests)
        return [
            entry
            for entry in entries
            if (method is None or entry.method == method.upper())
            and (listener is None or entry.listener == listener)
            and (path is None or re.search(path, entry.path))
        ]

    def clear_log(self) -> None:
        with self.lock:
            self.requests.clear()

    def add_fault(self, **spec) -> Fault:
        fault = Fault(**spec)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _take_fault(self, request: Request) -> Fault | None:
        return self._take_match(self.faults, request)

    def _take_match(self, entries: list, request: Request):
        """The first of ``entries`` (faults, interferences: ``matches(request)`` and a ``count``) that matches ``request``.

        Taking it uses one of its ``count``; the last use removes it from ``entries``.
        """
        with self.lock:
            for entry in entries:
                if entry.matches(request):
                    if entry.count is not None:
                        entry.count -= 1
                        if entry.count <= 0:
                            entries.remove(entry)
                    return entry
        return None

    # -- lifecycle -------------------------------------------------------

    def start(self, ports: dict[str, int] | None = None, host: str = "127.0.0.1", ssl_context=None) -> Emulator:
        """Listen on ``host``; with ``ssl_context`` (an ``ssl.SSLContext`` for servers) every listener speaks HTTPS."""
        ports = ports or {}
        if ssl_context is not None:
            self._scheme = "https"
        for name in self.listeners:
            server = _Server((host, ports.get(name, 0)), _Handler)
            if ssl_context is not None:
                # The handshake runs in the handler thread (see _Handler.setup), so a
                # client that rejects the certificate cannot stall the accept loop.
                server.socket = ssl_context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
            server.emulator = self
            server.listener = name
            self._servers[name] = server
            # A short poll interval: shutdown() waits up to one interval per listener.
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"emulator-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def url(self, listener: str | None = None) -> str:
        server = self._servers[listener or self.listeners[0]]
        host, port = server.server_address[:2]
        return f"{self._scheme}://{host}:{port}"

    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in self.listeners}

    # -- dispatch (called from the handler thread) -----------------------

    def _control(self, request: Request) -> Response:
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return Response.json({"error": "control body must be JSON"}, status=400)
        if action == "requests":
            return self._control_requests(request)
        if action == "faults":
            return self._control_faults(request, payload)
        return self.control(action, payload)

    def _control_requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.clear_log()
            return Response.json({"cleared": True})
        return Response.json([entry.as_dict() for entry in self.log()])

    def _control_faults(self, request: Request, payload: dict) -> Response:
        if request.method == "DELETE":
            self.clear_faults()
            return Response.json({"cleared": True})
        try:
            self.add_fault(**payload)
        except (TypeError, ValueError, re.error) as exc:
            return Response.json({"error": str(exc)}, status=400)
        return Response.json({"added": payload}, status=201)

    def _authorized(self, request: Request) -> bool:
        if not self.requires_auth(request):
            return True
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _separator, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return (user, password) == self.credentials


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: Emulator
    listener: str


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The handler writes an answer's headers and its body in two sends; with
    # Nagle's algorithm on, the body of every answer after the first on a kept-alive
    # connection waits for the client's delayed ACK (about 40 ms on Linux). Real
    # servers (Apache for USP, nginx in front of the others) send the two at once.
    disable_nagle_algorithm = True
    server: _Server
    _was_reset = False

    def log_message(self, format, *args):
        pass

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            try:
                self.request.do_handshake()
            except (OSError, ssl.SSLError):
                # The client refused our certificate (or is not speaking TLS):
                # there is nothing to answer.
                self._was_reset = True
                with contextlib.suppress(OSError):
                    self.request.close()
                self.rfile, self.wfile = io.BytesIO(), io.BytesIO()
                return
            self.request.settimeout(None)
        super().setup()

    def handle(self):
        if self._was_reset:
            return
        # A client that gives up mid-answer (a timeout, a refused oversized
        # body) resets its keep-alive connection; that is not an emulator error.
        with contextlib.suppress(ConnectionError):
            super().handle()

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def _dispatch(self):
        emulator = self.server.emulator
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            listener=self.server.listener,
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            raw_query=parts.query,
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
        )
        if parts.path.startswith(CONTROL_PREFIX):
            self._send(emulator._control(request))
            return

        with emulator.lock:
            emulator.requests.append(request)
        fault = emulator._take_fault(request)
        if fault and fault.kind == "delay":
            time.sleep(fault.seconds)
        if fault and fault.kind == "reset":
            self._reset()
            return
        if fault and fault.kind == "status":
            self._send(Response(fault.status, fault.body.encode("utf-8"), dict(fault.headers)))
            return
        if fault and fault.kind == "echo":
            lines = [f"{request.method} {self.path}"] + [f"{name}: {value}" for name, value in self.headers.items()]
            echoed = ("\n".join(lines) + "\n\n").encode("utf-8") + request.body
            self._send(Response(fault.status, fault.body.encode("utf-8") + echoed, dict(fault.headers)))
            return

        if not emulator._authorized(request):
            response = Response.text("Unauthorized\n", status=401)
            response.headers["WWW-Authenticate"] = 'Basic realm="Restricted Content"'
        else:
            try:
                response = emulator.route(request)
            except Exception as exc:  # an emulator bug must show up as a 500, not a hung client
                response = Response.text(f"emulator error: {exc!r}\n", status=500)
        if fault and fault.kind == "malformed":
            response.body = response.body[: len(response.body) // 2] or b"<"
        if fault and fault.kind == "headers":
            response.headers = {key: value for key, value in response.headers.items() if key.lower() not in {name.lower() for name in fault.headers}}
            response.headers.update(fault.headers)
        if fault and fault.kind in ("reset_mid", "truncate"):
            self._send_cut(response, reset=fault.kind == "reset_mid")
            return
        self._send(response)

    def _send(self, response: Response):
        self.send_response(response.status)
        headers = dict(response.headers)
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def _send_cut(self, response: Response, reset: bool):
        """Announce the whole body, send half of it (at least one byte short), then RST or close."""
        body = response.body or b"{}"
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        if reset:
            self._reset()
        else:
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

    def _reset(self):
        # SO_LINGER with a zero timeout makes close() send RST: the client sees
        # "connection reset by peer", as with a crashed or overloaded server.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True
        self._was_reset = True

    def finish(self):
        if self._was_reset:
            return
        with contextlib.suppress(OSError):
            super().finish()


def run_cli(emulator_class: type[Emulator], argv: list[str] | None = None) -> int:
    """Run an emulator in the foreground until SIGINT/SIGTERM.

    One ``--<listener>-port`` option per listener of the class (0 picks a free
    port). The listening URLs are printed as one JSON line on stdout, so a
    script can wait for that line and read the ports from it.
    """
    parser = argparse.ArgumentParser(description=(emulator_class.__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--username", help="require HTTP basic auth with this user name")
    parser.add_argument("--password", help="password for --username")
    for name in emulator_class.listeners:
        parser.add_argument(f"--{name}-port", type=int, default=0, help=f"port of the {name} listener (0: any free port)")
    emulator_class.add_arguments(parser)
    args = parser.parse_args(argv)

    emulator = emulator_class.from_args(args)
    emulator.start(ports={name: getattr(args, f"{name}_port") for name in emulator.listeners}, host=args.host)
    print(json.dumps(emulator.urls()), flush=True)
    return serve_until_signalled(emulator.stop)


def serve_until_signalled(stop) -> int:
    """Wait for SIGINT or SIGTERM, then call ``stop()``; the exit status of a command that ran until it was stopped."""
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_signal_args: stopped.set())
    stopped.wait()
    stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run one of the vendor emulators, e.g. python -m tests.emulators.usp")
