# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulators in one process, wired together like a live channel.

A channel here is what an operator sees in production: an encoder publishes
the stream to ScaleEngine (the stream is live there), a ScaleEngine
PushPublish session pushes it into a Unified Streaming publishing point of the
same name (which archives it), and the stream is registered as broadcasting on
a Red5 Pro Stream Manager: one 1.x (``/streammanager/api/...``) and one 2.0
(``/as/v1/...``), so a test or the demo can point the Red5 modules at either.
The wiring makes the emulators agree:

* ScaleEngine ``stream.close`` of ``app/inst/<name>``, or a
  ``pushpublish.disconnect`` that disconnects the session pushing into USP,
  ends the ingest: the USP point ``<name>`` receives End Of Stream
  (``stopping``, then ``stopped`` after ``eos_delay`` seconds);
* the simulated encoder starting on USP point ``<name>`` (for example through
  ``POST /_emulator/encoder/start`` on the USP origin) makes the ScaleEngine
  stream live again, with its PushPublish session into USP;
* optionally (``red5_follows``) the Red5 broadcast ``<scope>/<name>`` starts
  ``red5_delay`` seconds after the USP encoder and stops with it, on both
  Stream Managers (on 2.0 a clean unpublish: the stream disappears at once).

``python -m tests.emulators.stack --channels 3`` starts everything, optionally
with channels that are already live and archiving, and prints one JSON line
with every URL and the ScaleEngine and Stream Manager 2.0 credentials the emulators accept. Tests
build the same thing in-process with :func:`build_stack`.

Like the emulators it combines, this module never imports the collection.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from tests.emulators.base import serve_until_signalled
from tests.emulators.red5 import Red5Emulator
from tests.emulators.red5_sm2 import Red5Sm2Emulator, Sm2Error
from tests.emulators.scaleengine import API_PATH, DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_CDN, ScaleEngineEmulator
from tests.emulators.usp import UspEmulator

#: head options of a pre-created channel: a typical live point with archiving
#: on (mp4split --archiving=1 --archive_segment_length=60 --dvr_window_length=30
#: --restart_on_encoder_reconnect)
CHANNEL_OPTIONS = {
    "archiving": "true",
    "archive_segment_length": "60",
    "dvr_window_length": "30",
    "restart_on_encoder_reconnect": "true",
}
SMIL_NS = "http://www.w3.org/2001/SMIL20/Language"


def _name_of(point: str) -> str:
    """``events/ch1``, ``/ch1/`` or ``ch1/ch1.isml`` -> ``ch1``: the stream name on every service."""
    key = point.strip("/")
    if key.endswith(".isml"):
        key = key.rpartition("/")[0]
    return key.rsplit("/", 1)[-1]


class WiredUspEmulator(UspEmulator):
    """USP emulator that reports its simulated encoder starting and stopping.

    ``on_encoder_start`` / ``on_encoder_stop`` are called with the point's
    name after the state changed, outside the emulator's lock.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_encoder_start = None
        self.on_encoder_stop = None

    def encoder_start(self, point, *args, **kwargs):
        target = super().encoder_start(point, *args, **kwargs)
        if self.on_encoder_start is not None:
            self.on_encoder_start(target.name)
        return target

    def encoder_eos(self, point, *args, **kwargs):
        target = super().encoder_eos(point, *args, **kwargs)
        if self.on_encoder_stop is not None:
            self.on_encoder_stop(target.name)
        return target

    def encoder_drop(self, point):
        target = super().encoder_drop(point)
        if self.on_encoder_stop is not None:
            self.on_encoder_stop(target.name)
        return target


@dataclass
class Stack:
    """USP, ScaleEngine and both Red5 Stream Manager emulators wired as described in the module docstring."""

    usp: WiredUspEmulator
    scaleengine: ScaleEngineEmulator
    red5: Red5Emulator
    red5_sm2: Red5Sm2Emulator = field(default_factory=Red5Sm2Emulator)
    app: str = "demo-origin"
    inst: str = "live"
    scope: str = "live"
    eos_delay: float = 0.5
    red5_follows: bool = True
    red5_delay: float = 0.5
    #: channels whose encoder ignores ScaleEngine: it keeps pushing into USP after a close or disconnect
    stubborn: set[str] = field(default_factory=set)

    def __post_init__(self):
        self.scaleengine.on_stream_close = self._scaleengine_stream_closed
        self.scaleengine.on_pushpublish_disconnect = self._pushpublish_disconnected
        self.usp.on_encoder_start = self._encoder_started
        self.usp.on_encoder_stop = self._encoder_stopped
        self._guard = threading.local()

    # -- lifecycle -------------------------------------------------------------

    def start(self, ports: dict[str, int] | None = None, host: str = "127.0.0.1") -> Stack:
        ports = ports or {}
        self.usp.start({"api": ports.get("usp_api", 0), "origin": ports.get("usp_origin", 0)}, host=host)
        self.scaleengine.start({"api": ports.get("scaleengine", 0)}, host=host)
        self.red5.start({"api": ports.get("red5", 0)}, host=host)
        self.red5_sm2.start({"api": ports.get("red5_sm2", 0)}, host=host)
        return self

    def stop(self) -> None:
        for emulator in (self.red5_sm2, self.red5, self.scaleengine, self.usp):
            emulator.stop()

    def urls(self) -> dict:
        """Everything a client needs, as one JSON-able dict (printed by the command line)."""
        return {
            "usp_api": self.usp.url("api"),
            "usp_origin": self.usp.url("origin"),
            "scaleengine_api": self.scaleengine.url() + API_PATH,
            "scaleengine_cdn": self.scaleengine.cdn,
            "scaleengine_api_key": self.scaleengine.api_key,
            "scaleengine_api_secret": self.scaleengine.api_secret,
            "scaleengine_app": self.app,
            "scaleengine_inst": self.inst,
            "red5": self.red5.url(),
            "red5_scope": self.scope,
            "red5_sm2": self.red5_sm2.url(),
            "red5_sm2_username": self.red5_sm2.username,
            "red5_sm2_password": self.red5_sm2.password,
        }

    def env(self) -> dict[str, str]:
        """The environment variables an AWX credential would inject for these three services."""
        env = {
            "USP_API_URL": self.usp.url("api"),
            "USP_ORIGIN_URL": self.usp.url("origin"),
            "SCALEENGINE_API_URL": self.scaleengine.url() + API_PATH,
            "SCALEENGINE_CDN": str(self.scaleengine.cdn),
            "SCALEENGINE_API_KEY": self.scaleengine.api_key,
            "SCALEENGINE_API_SECRET": self.scaleengine.api_secret,
            "RED5_SM_URL": self.red5.url(),
        }
        if self.usp.credentials is not None:
            env["USP_USERNAME"], env["USP_PASSWORD"] = self.usp.credentials
        return env

    def clear_logs(self) -> None:
        for emulator in (self.usp, self.scaleengine, self.red5, self.red5_sm2):
            emulator.clear_log()

    # -- channels ------------------------------------------------------------------

    def create_point(self, name: str, options: dict | None = None, base_path: str = "") -> None:
        """Create a publishing point through USP's own API, as an operator would."""
        head = {"clientManifestRelativePath": f"{name}.ismc", "creator": "Unified Streaming Platform (USP)", "lookahead_fragments": "2"}
        head.update(options if options is not None else CHANNEL_OPTIONS)
        metas = "\n".join(f"    <meta name={quoteattr(key)} content={quoteattr(str(value))} />" for key, value in head.items())
        smil = (
            f'<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="{SMIL_NS}">\n  <head>\n{metas}\n  </head>\n'
            "  <body>\n    <switch></switch>\n  </body>\n</smil>\n"
        )
        path = "/".join(part for part in (base_path.strip("/"), name, f"{name}.isml") if part)
        request = urllib.request.Request(f"{self.usp.url('api')}/{path}", data=smil.encode("utf-8"), method="POST")
        request.add_header("Content-Type", "application/smil+xml")
        if self.usp.credentials is not None:
            user, password = self.usp.credentials
            request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii"))
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 201:
                raise RuntimeError(f"creating {path} answered {response.status}")

    def add_channel(
        self, name: str, options: dict | None = None, base_path: str = "", interval: float | None = 0.5, fragments: int = 30, live: bool = True
    ) -> None:
        """A publishing point with archiving on and, if ``live``, an encoder that already pushed ``fragments`` fragments.

        With ``interval`` the encoder keeps pushing a fragment every so many
        seconds in the background. Going live also makes the ScaleEngine stream
        live (with its PushPublish session into USP) and, with ``red5_follows``,
        starts the Red5 broadcast.
        """
        self.create_point(name, options, base_path)
        if not live:
            return
        point = f"{base_path.strip('/')}/{name}".strip("/")
        # Start the media timeline far enough in the past that the pre-pushed
        # fragments (2 s each, the emulator's default) end about now.
        self.usp.encoder_start(point, interval=interval, start_time=max(0.0, time.time() - 2.0 * fragments))
        if fragments:
            self.usp.encoder_push(point, count=fragments)

    def is_live(self, name: str) -> bool:
        """Whether the channel's ScaleEngine stream is live."""
        return self.scaleengine.is_live(self.app, self.inst, name)

    def _usp_point(self, name: str) -> str | None:
        """The USP point (directory) called ``name``, wherever its base path is."""
        with self.usp.lock:
            for key in self.usp.points:
                if _name_of(key) == name:
                    return key
        return None

    # -- wiring ----------------------------------------------------------------------

    def _scaleengine_stream_closed(self, app: str, inst: str, stream: str) -> None:
        if (app, inst) == (self.app, self.inst):
            self._end_ingest(stream)

    def _pushpublish_disconnected(self, app: str, inst: str, stream: str, session: dict) -> None:
        # Only the session that pushes into USP ends the ingest; pushes to other CDNs do not.
        if (app, inst) == (self.app, self.inst) and session.get("entry_name") == f"usp-{stream}":
            self._end_ingest(stream)

    def _end_ingest(self, name: str) -> None:
        if name in self.stubborn:
            return
        point = self._usp_point(name)
        if point is None:
            return
        with self.usp.lock:
            connected = self.usp.points[point].session is not None
        if connected:
            self.usp.encoder_eos(point, stopping_seconds=self.eos_delay)

    def _encoder_started(self, name: str) -> None:
        if getattr(self._guard, "active", False):
            return
        self._guard.active = True
        try:
            if not self.is_live(name):
                self.scaleengine.start_stream(self.app, self.inst, name)
                origin = self.usp.url("origin")
                self.scaleengine.add_pushpublish(self.app, self.inst, name, f"usp-{name}", target=f"{origin}/{name}/{name}.isml")
            if self.red5_follows:
                self.red5.start_broadcast(scope=self.scope, name=name, delay=self.red5_delay)
                self.red5_sm2.start_broadcast(scope=self.scope, name=name, delay=self.red5_delay)
        finally:
            self._guard.active = False

    def _encoder_stopped(self, name: str) -> None:
        # The encoder is gone: its ScaleEngine stream too (a stream.close already removed it).
        self.scaleengine.stop_stream(self.app, self.inst, name)
        if self.red5_follows:
            with self.red5.lock:
                live = (self.scope, name) in self.red5.registry and self.red5.registry[(self.scope, name)].active
            if live:
                self.red5.stop_broadcast(scope=self.scope, name=name)
            # Not live there (never started, or its delayed start is still pending) is fine: stopping is checked and done at once.
            with contextlib.suppress(Sm2Error):
                self.red5_sm2.stop_broadcast(scope=self.scope, name=name)


def build_stack(
    channels: list[str] | tuple[str, ...] = (),
    *,
    options: dict | None = None,
    interval: float | None = 0.5,
    fragments: int = 30,
    usp_username: str | None = None,
    usp_password: str | None = None,
    api_secret: str = DEFAULT_API_SECRET,
    eos_delay: float = 0.5,
    red5_follows: bool = True,
    red5_delay: float = 0.5,
    ports: dict[str, int] | None = None,
    host: str = "127.0.0.1",
) -> Stack:
    """Start the wired emulators and, for each name in ``channels``, a live archiving channel.

    The request logs start empty: setting the channels up is not part of what a test observes.
    """
    stack = Stack(
        usp=WiredUspEmulator(username=usp_username, password=usp_password),
        scaleengine=ScaleEngineEmulator(cdn=DEFAULT_CDN, api_key=DEFAULT_API_KEY, api_secret=api_secret, seed=False),
        red5=Red5Emulator(),
        red5_sm2=Red5Sm2Emulator(),
        eos_delay=eos_delay,
        red5_follows=red5_follows,
        red5_delay=red5_delay,
    ).start(ports, host=host)
    try:
        for name in channels:
            stack.add_channel(name, options=options, interval=interval, fragments=fragments)
    except Exception:
        stack.stop()
        raise
    stack.clear_logs()
    return stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="USP, ScaleEngine and Red5 (1.x and 2.0) emulators in one process, wired like a live channel.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--channels", type=int, default=0, help="pre-create this many live, archiving channels")
    parser.add_argument("--prefix", default="channel", help="channel names: <prefix>01, <prefix>02, ...")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two fragments of each simulated encoder")
    parser.add_argument("--fragments", type=int, default=30, help="fragments each channel has already archived at startup")
    parser.add_argument("--eos-delay", type=float, default=0.5, help="seconds a point stays 'stopping' after End Of Stream")
    parser.add_argument("--red5-delay", type=float, default=0.5, help="seconds between the encoder starting and the Red5 broadcast")
    parser.add_argument("--no-red5-follow", action="store_true", help="do not start/stop Red5 broadcasts (both Stream Managers) with the USP encoder")
    parser.add_argument("--usp-username", help="require HTTP basic auth on the USP API")
    parser.add_argument("--usp-password")
    for port in ("usp-api", "usp-origin", "scaleengine", "red5", "red5-sm2"):
        parser.add_argument(f"--{port}-port", type=int, default=0, help=f"port of the {port} listener (0: any free port)")
    args = parser.parse_args(argv)
    if (args.usp_username is None) != (args.usp_password is None):
        parser.error("--usp-username and --usp-password go together")

    names = [f"{args.prefix}{index:02d}" for index in range(1, args.channels + 1)]
    ports = {
        "usp_api": args.usp_api_port,
        "usp_origin": args.usp_origin_port,
        "scaleengine": args.scaleengine_port,
        "red5": args.red5_port,
        "red5_sm2": args.red5_sm2_port,
    }
    stack = build_stack(
        names,
        interval=args.interval,
        fragments=args.fragments,
        usp_username=args.usp_username,
        usp_password=args.usp_password,
        eos_delay=args.eos_delay,
        red5_follows=not args.no_red5_follow,
        red5_delay=args.red5_delay,
        ports=ports,
        host=args.host,
    )
    print(json.dumps(dict(stack.urls(), channels=names)), flush=True)
    return serve_until_signalled(stack.stop)


if __name__ == "__main__":
    sys.exit(main())
