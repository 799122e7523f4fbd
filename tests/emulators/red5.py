# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator of a Red5 Pro Stream Manager REST API (streams and the admin delete).

What it emulates (Red5 Pro "REST API for Streams" reference and docs/red5.md):

* ``/streammanager/api/{version}/`` for versions 1.0, 2.0, 3.0, 3.1 and 4.0
  (``versions`` limits them; any other version path is a plain-text 404, as a
  servlet container answers an unmapped path);
* nodes per region: origins and edges, each region in a geozone. Broadcast
  picks an origin and subscribe an edge in the requested region; when it has
  none, the next best region answers: the regions are ranked in the order they
  were configured (unless ``strict=true`` on 3.1/4.0, which answers 400);
* ``GET event/{scope...}/{name}?action=broadcast|subscribe[&region=]``:
  broadcast answers an origin whether or not the stream is live (that is how a
  broadcaster learns where to publish; a live stream answers its own origin),
  subscribe of a stream that is not live answers **400** with the error body;
* ``GET event/{scope...}/{name}/stats``: **404** with the error body when the
  stream is not live (so clients meet both documented statuses);
* ``GET event/list`` and ``event/list/stats``: the active streams. Read, stats
  and old-version list answers carry ``"scope": "/live"``; 3.1/4.0 list items
  carry ``"live"`` and ``"type"``: one ``origin`` item per stream plus one
  ``edge`` item per edge that served a subscribe lookup for it;
* 3.1/4.0 read parameters ``strict``, ``geozone`` (exclusive with ``region``),
  ``endpoints=N`` (N>1 answers an array) and ``transcode``; older versions
  ignore them, like a real server ignores unknown query parameters;
* ``DELETE admin/event?accessToken=...``: 401 with the error body on a wrong
  or missing token; 1.0/2.0/3.0 clear every entry, 3.1/4.0 only inactive ones
  unless ``includeActive=true``; answers ``{"count", "timestamp"}``;
* errors as ``{"errorMessage": ..., "timestamp": ...}`` with
  ``application/json``.

The registry holds one entry per broadcast. Stopping a broadcast leaves its
entry, inactive, until an admin delete clears it (a stale entry: what the admin
call is for). Broadcasts, subscriber counts and nodes are driven by the control
API: ``POST /_emulator/broadcast/start`` (``scope``, ``name``, optional
``region``, ``origin``, ``start_time`` in epoch ms, ``subscribers`` and
``delay`` in seconds to start it later), ``broadcast/stop``, ``subscribers``
(``scope``, ``name``, ``count``), ``nodes`` (``regions``: a list of
``{"region", "geozone", "origins", "edges"}``), ``token`` (``access_token``),
``registry`` (the entries) and ``reset``.

Simplifications: edge selection takes the first edge of the region (no load
balancing), subscriber counts are whatever the control API sets, and the
emulator has no notion of nodes going down.

This module must not import the collection: it is an independent reading of
the reference, so it catches the client's mistakes instead of sharing them.
"""

from __future__ import annotations

import copy
import re
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote

from tests.emulators.base import Emulator, Request, Response, run_cli

VERSIONS = ("1.0", "2.0", "3.0", "3.1", "4.0")
NEW_VERSIONS = ("3.1", "4.0")
DEFAULT_TOKEN = "emulator-admin-token"
DEFAULT_REGIONS = [
    {"region": "us-east-1", "geozone": "americas", "origins": ["10.0.1.10"], "edges": ["10.0.1.20", "10.0.1.21"]},
    {"region": "eu-west-1", "geozone": "europe", "origins": ["10.0.2.10"], "edges": ["10.0.2.20"]},
    {"region": "ap-southeast-1", "geozone": "asia", "origins": [], "edges": ["10.0.3.20"]},
]
_PATH = re.compile(r"^/streammanager/api/(?P<version>[^/]+)/(?P<rest>.*)$")


class Red5Error(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Broadcast:
    scope: str  # without leading slash
    name: str
    origin: str
    region: str
    start_time: int  # epoch milliseconds
    subscribers: int = 0
    active: bool = True
    edges: dict[str, dict] = field(default_factory=dict)  # address -> {"region", "subscribers"}

    def as_dict(self) -> dict:
        return asdict(self)  # a deep copy: the caller may change it


def error_body(message: str, status: int) -> Response:
    return Response.json({"errorMessage": message, "timestamp": int(time.time() * 1000)}, status=status)


def _not_found() -> Response:
    """What the Stream Manager's web server answers for a path outside the API."""
    return Response(404, b"<html><body><h1>404 Not Found</h1></body></html>", {"Content-Type": "text/html"})


def _bool_arg(value: str | None) -> bool:
    return (value or "").lower() == "true"


class Red5Emulator(Emulator):
    """Red5 Pro Stream Manager emulator: stream lookups, stats, lists and the admin delete."""

    listeners = ("api",)

    def __init__(
        self,
        regions: list[dict] | None = None,
        access_token: str = DEFAULT_TOKEN,
        versions: tuple[str, ...] | list[str] = VERSIONS,
        username: str | None = None,
        password: str | None = None,
    ):
        super().__init__(username=username, password=password)
        self.regions: list[dict] = []
        self.set_nodes(regions if regions is not None else DEFAULT_REGIONS)
        self.access_token = access_token
        self.versions = tuple(versions)
        self.registry: dict[tuple[str, str], Broadcast] = {}
        self._timers: list[threading.Timer] = []

    # -- command line ------------------------------------------------------

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--access-token", default=DEFAULT_TOKEN, help="administrator token for /admin calls")
        parser.add_argument("--version", action="append", dest="versions", choices=VERSIONS, help="serve only this API version (repeatable)")
        parser.add_argument("--broadcast", action="append", default=[], metavar="SCOPE/NAME", help="start a broadcast at startup (repeatable)")

    @classmethod
    def from_args(cls, args):
        emulator = cls(access_token=args.access_token, versions=args.versions or VERSIONS, username=args.username, password=args.password)
        for path in args.broadcast:
            scope, _separator, name = path.strip("/").rpartition("/")
            emulator.start_broadcast(scope=scope or "live", name=name)
        return emulator

    def stop(self) -> None:
        with self.lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
        super().stop()

    # -- nodes and broadcasts (Python API, also behind the control API) ---------

    def set_nodes(self, regions: list[dict]) -> list[dict]:
        cleaned = []
        for entry in regions:
            if not isinstance(entry, dict) or not entry.get("region"):
                raise Red5Error("each region needs a 'region' name")
            cleaned.append(
                {
                    "region": str(entry["region"]),
                    "geozone": str(entry.get("geozone") or ""),
                    "origins": [str(node) for node in entry.get("origins", [])],
                    "edges": [str(node) for node in entry.get("edges", [])],
                }
            )
        with self.lock:
            self.regions = cleaned
        return copy.deepcopy(cleaned)

    def start_broadcast(
        self,
        scope: str = "live",
        name: str = "",
        region: str | None = None,
        origin: str | None = None,
        start_time: int | None = None,
        subscribers: int = 0,
        delay: float = 0,
    ) -> dict:
        """Start (or, after ``delay`` seconds, schedule) a broadcast, as if an encoder published to an origin."""
        scope = scope.strip("/")
        if not scope or not name:
            raise Red5Error("broadcast needs scope and name")
        if delay and delay > 0:
            timer = threading.Timer(
                delay, self.start_broadcast, kwargs=dict(scope=scope, name=name, region=region, origin=origin, subscribers=subscribers, start_time=start_time)
            )
            timer.daemon = True
            with self.lock:
                self._timers.append(timer)
            timer.start()
            return {"scheduled": True, "scope": scope, "name": name, "delay": delay}
        with self.lock:
            if origin is None:
                origin, region = self._pick("origins", region, strict=False)
            elif region is None:
                region = self._region_of(origin)
            broadcast = Broadcast(
                scope=scope,
                name=name,
                origin=origin,
                region=region,
                start_time=int(start_time if start_time is not None else time.time() * 1000),
                subscribers=int(subscribers),
            )
            self.registry[(scope, name)] = broadcast
            return broadcast.as_dict()

    def stop_broadcast(self, scope: str = "live", name: str = "") -> dict:
        """The encoder stopped: the entry stays, inactive, until an admin delete clears it."""
        with self.lock:
            broadcast = self.registry.get((scope.strip("/"), name))
            if broadcast is None:
                raise Red5Error(f"no broadcast {scope}/{name}", status=404)
            broadcast.active = False
            return broadcast.as_dict()

    def set_subscribers(self, scope: str = "live", name: str = "", count: int = 0) -> dict:
        with self.lock:
            broadcast = self.registry.get((scope.strip("/"), name))
            if broadcast is None:
                raise Red5Error(f"no broadcast {scope}/{name}", status=404)
            broadcast.subscribers = int(count)
            return broadcast.as_dict()

    def reset(self) -> None:
        with self.lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
            self.registry.clear()
        self.clear_log()
        self.clear_faults()

    def dump_registry(self) -> list[dict]:
        with self.lock:
            return [broadcast.as_dict() for broadcast in self.registry.values()]

    def _region_of(self, address: str) -> str:
        for entry in self.regions:
            if address in entry["origins"] or address in entry["edges"]:
                return entry["region"]
        return ""

    def _pick(self, kind: str, region: str | None, strict: bool, geozone: str | None = None, count: int = 1, prefer: str | None = None):
        """Nodes of ``kind`` in the wanted region (or geozone), else from the next best region.

        "Best" is the configured order of the regions; ``prefer`` (the region of
        a stream's origin) comes first when nothing was asked for. Returns
        ``(address, region)`` or, with ``count`` > 1, a list of them.
        """
        if geozone:
            wanted = [entry for entry in self.regions if entry["geozone"] == geozone]
        elif region:
            wanted = [entry for entry in self.regions if entry["region"] == region]
        elif prefer:
            wanted = [entry for entry in self.regions if entry["region"] == prefer]
        else:
            wanted = []
        candidates = [(node, entry["region"]) for entry in wanted for node in entry[kind]]
        if not candidates and (geozone or region) and strict:
            where = f"geozone {geozone}" if geozone else f"region {region}"
            raise Red5Error(f"No {kind[:-1]} available in {where} (strict)", status=400)
        if len(candidates) < count:
            seen = {node for node, _region in candidates}
            candidates += [
                (node, entry["region"]) for entry in self.regions if not (strict and (geozone or region)) for node in entry[kind] if node not in seen
            ]
        if not candidates:
            raise Red5Error(f"No {kind[:-1]} available", status=400)
        return candidates[0] if count == 1 else candidates[:count]

    # -- control API -------------------------------------------------------------

    def control(self, action: str, payload: dict) -> Response:
        actions = {
            "broadcast/start": lambda args: self.start_broadcast(**args),
            "broadcast/stop": lambda args: self.stop_broadcast(**args),
            "subscribers": lambda args: self.set_subscribers(**args),
            "nodes": lambda args: {"regions": self.set_nodes(args.get("regions", []))},
            "token": lambda args: setattr(self, "access_token", args["access_token"]) or {"token": "set"},
            "registry": lambda args: self.dump_registry(),
            "reset": lambda args: self.reset() or {"reset": True},
        }
        return self._json_control(
            actions, action, payload, emulator_error=Red5Error, bad_request=(TypeError, KeyError, ValueError), bad_prefix="bad control request: "
        )

    # -- the API ---------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        match = _PATH.match(request.path)
        if not match or match.group("version") not in self.versions:
            return _not_found()
        version = match.group("version")
        segments = [unquote(part) for part in match.group("rest").split("/") if part]
        try:
            return self._dispatch(request, version, segments)
        except Red5Error as exc:
            return error_body(str(exc), exc.status)

    def _dispatch(self, request: Request, version: str, segments: list[str]) -> Response:
        if segments == ["admin", "event"]:
            return self._admin_delete(request, version) if request.method == "DELETE" else error_body("Method not allowed", 405)
        if request.method != "GET":
            return error_body("Method not allowed", 405)
        if segments in (["event", "list"], ["event", "list", "stats"]):
            return Response.json(self._list(version, stats=segments[-1] == "stats"))
        if len(segments) >= 4 and segments[0] == "event" and segments[-1] == "stats":
            return self._stats(segments[1:-2], segments[-2])
        if len(segments) >= 3 and segments[0] == "event":
            return self._lookup(request, version, segments[1:-1], segments[-1])
        return _not_found()

    def _live(self, scope_parts: list[str], name: str) -> Broadcast | None:
        broadcast = self.registry.get(("/".join(scope_parts), name))
        return broadcast if broadcast and broadcast.active else None

    @staticmethod
    def _answer(broadcast: Broadcast, address: str, region: str, stats: bool = False) -> dict:
        item = {"name": broadcast.name, "scope": "/" + broadcast.scope, "serverAddress": address, "region": region}
        if stats:
            item["currentSubscribers"] = broadcast.subscribers
            item["startTime"] = broadcast.start_time
        return item

    def _stats(self, scope_parts: list[str], name: str) -> Response:
        with self.lock:
            broadcast = self._live(scope_parts, name)
            if broadcast is None:
                raise Red5Error(f"Stream {'/'.join(scope_parts)}/{name} is not broadcasting", status=404)
            return Response.json(self._answer(broadcast, broadcast.origin, broadcast.region, stats=True))

    def _lookup(self, request: Request, version: str, scope_parts: list[str], name: str) -> Response:
        action = request.arg("action")
        if action not in ("broadcast", "subscribe"):
            raise Red5Error("Parameter action must be broadcast or subscribe", status=400)
        region = request.arg("region")
        new = version in NEW_VERSIONS
        strict = new and _bool_arg(request.arg("strict"))
        geozone = request.arg("geozone") if new else None
        count = 1
        if new and request.arg("endpoints"):
            try:
                count = int(request.arg("endpoints"))
            except ValueError:
                raise Red5Error("Parameter endpoints must be a number", status=400) from None
            if count < 1:
                raise Red5Error("Parameter endpoints must be 1 or more", status=400)
        if region and geozone:
            raise Red5Error("Parameters region and geozone are mutually exclusive", status=400)
        scope = "/".join(scope_parts)
        with self.lock:
            broadcast = self._live(scope_parts, name)
            if action == "broadcast":
                if broadcast is not None:
                    picked = [(broadcast.origin, broadcast.region)] * count
                else:
                    picked = self._pick("origins", region, strict, geozone, count=count)
                    picked = [picked] if count == 1 else picked
                template = broadcast or Broadcast(scope=scope, name=name, origin="", region="", start_time=0)
            else:
                if broadcast is None:
                    raise Red5Error(f"Stream {scope}/{name} is not broadcasting", status=400)
                picked = self._pick("edges", region, strict, geozone, count=count, prefer=broadcast.region)
                picked = [picked] if count == 1 else picked
                for address, edge_region in picked:
                    edge = broadcast.edges.setdefault(address, {"region": edge_region, "subscribers": 0})
                    edge["subscribers"] += 1
                template = broadcast
            answers = [self._answer(template, address, node_region) for address, node_region in picked]
        return Response.json(answers if count > 1 else answers[0])

    def _list(self, version: str, stats: bool) -> list[dict]:
        items = []
        with self.lock:
            for broadcast in self.registry.values():
                if not broadcast.active:
                    continue
                item = self._answer(broadcast, broadcast.origin, broadcast.region, stats=stats)
                if version in NEW_VERSIONS:
                    # 3.1/4.0 list items: scope without slash, and the node type (docs/red5.md, "API versions").
                    item["scope"] = broadcast.scope
                    item["type"] = "origin"
                    items.append(item)
                    for address, edge in broadcast.edges.items():
                        edge_item = {"name": broadcast.name, "scope": broadcast.scope, "serverAddress": address, "region": edge["region"], "type": "edge"}
                        if stats:
                            edge_item["currentSubscribers"] = edge["subscribers"]
                            edge_item["startTime"] = broadcast.start_time
                        items.append(edge_item)
                else:
                    items.append(item)
        return items

    def _admin_delete(self, request: Request, version: str) -> Response:
        token = request.arg("accessToken")
        if not token or token != self.access_token:
            # The body never echoes the token (a client's redaction is tested elsewhere).
            return error_body("Invalid or missing accessToken", 401)
        include_active = version in NEW_VERSIONS and _bool_arg(request.arg("includeActive"))
        with self.lock:
            if version in NEW_VERSIONS and not include_active:
                doomed = [key for key, broadcast in self.registry.items() if not broadcast.active]
            else:
                doomed = list(self.registry)
            for key in doomed:
                del self.registry[key]
        return Response.json({"count": len(doomed), "timestamp": int(time.time() * 1000)})


if __name__ == "__main__":
    sys.exit(run_cli(Red5Emulator))
