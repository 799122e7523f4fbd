# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator of a Red5 Pro Stream Manager 2.0 (the ``/as/v1`` REST API, JWT login).

What it emulates (Red5 Pro "Stream Manager 2.0" API pages on red5.net: Auth API,
Streams API, Admin API, curl cheat sheet, environment variables):

* ``PUT /as/v1/auth/login`` with HTTP Basic: 200 ``{"token": <JWT>}``. The JWT
  is HS256 (header ``{"alg":"HS256"}``), payload ``{"sub", "roles": "ROLE_ADMIN",
  "exp"}``, base64url without padding, signed with ``jwt_secret``; ``exp`` is
  ``token_ttl`` seconds away (the shipped compose files give 800 minutes);
* a Bearer check on the admin calls (and on the stream calls when
  ``streams_require_auth``): a missing, malformed, badly signed or expired
  (``exp <= now``) token answers 401 ``{"error": "Missing or invalid JWT
  Authorization header"}``;
* ``GET /as/v1/admin/healthz`` without auth, ``GET /as/v1/admin/nodegroup``
  (the node-group names) and ``GET /as/v1/admin/nodegroup/status/{ng}``
  (``[{"nodeEvent", "scalingEvent"}]`` per node, optional ``subGroup``, ``role``
  and ``state`` filters; 404 ``No master NodeGroupConfig found``);
* the public stream calls, the guid spliced in as raw path segments
  (``live/stream1``, ``live/room2/stream12``):
  ``GET /as/v1/streams/stream/{ng}/publish/{guid}`` (a PUBLISH node; 409 for a
  live stream), ``.../subscribe/{guid}`` (a SUBSCRIBE node; 404 unless live),
  ``GET /as/v1/streams/stream/{ng}`` (``stats``, ``aggregate``) and
  ``.../stream/{guid}`` ("Get Stream Stats", ``aggregate``). Every answer is a
  JSON array of node-stream objects ``streamGuid, serverAddress, nodeRole,
  subGroup, nodeState, subscribers`` (plus ``durationMs`` in stats rows).
  Lookups (publish, subscribe) answer the node's public IP, lists and stats its
  private IP, as the reference's examples do. ``subgroup``, ``subGroup`` and
  ``region`` all name the wanted sub-group(s) (a comma-separated preference
  list), ``strict``, ``endpoints`` (400 below 1) and ``transcode`` are honoured;
* node groups made of sub-groups (``ashburn``...) of nodes with a free-form role:
  ``origin`` can PUBLISH, ``edge`` SUBSCRIBE, ``allinone`` both, ``relay`` and
  ``transcoder`` neither for lookups (a node's ``capabilities`` may say
  otherwise). Only INSERVICE nodes answer lookups or appear in stream rows;
* ``default`` names the only node group when there is exactly one; another
  unknown name answers 404 ``{"error": "Node group <name> not found"}``;
* stream entries expire by themselves: a broadcast whose node stops reporting
  (``lose_broadcast``) stays listed, as live, for ``stream_timeout`` seconds
  (``R5AS_STREAM_TIMEOUT``, 30 by default), then disappears. There is no call
  to clear stream entries, and the emulator does not invent one;
* errors as ``{"error": ...}`` with ``application/json``; an unknown route
  under ``/as/v1/`` as Spring Boot's default 404 JSON (``timestamp, status,
  error, path``); any other path (``/streammanager/api/4.0/event/list``...)
  reaches the debug UI behind the Traefik catch-all: a 200 HTML page with
  ``catch_all_html`` (the trap a version detection must not fall into), else a
  404 HTML page.

Assumptions (the reference marks these [INF], [UNKNOWN] or [CONFLICT]; the
emulator picks one reading so clients meet it):

* a failed login answers 401 with an empty body and
  ``WWW-Authenticate: Basic realm="Realm"``; other methods on the login path 405;
* with ``require_content_length`` a PUT or POST without a ``Content-Length``
  header answers 411 (the front end the Red5 installers work around by sending
  ``Content-Length: 0``); the login accepts an empty body;
* the 401 body of a bad Bearer token is ``{"error": "Missing or invalid JWT
  Authorization header"}`` (the docs' wording); every admin path except
  ``healthz`` checks the token before routing, as a security filter does;
* ``healthz`` answers ``{"status": "UP"}`` (Spring Boot's health shape);
* the 409 of a publish lookup for a live stream carries ``{"error": ...}``;
* ``stats=false`` rows are the stats rows without ``subscribers`` and
  ``durationMs``;
* Get Stream Stats of a stream that is not live answers 404 ``{"error": ...}``
  (``not_live_stats="404"``) or 200 ``[]`` (``"empty"``): a client must handle both;
* capacity ranking: a publish lookup takes PUBLISH nodes in preference order,
  then configured order (no shuffling); a subscribe lookup takes the least
  loaded SUBSCRIBE node (fewest subscribers over all its streams), then
  configured order. The chosen edge then carries the stream (it shows in
  ``aggregate=false`` rows) and gains one subscriber; the subscribe answer
  shows that node's count including the new subscriber;
* ``strict=true`` means every restriction must be met: the requested
  sub-groups (if any) must supply ``endpoints`` nodes, else 404; without
  ``strict`` the other sub-groups fill in, and fewer than ``endpoints`` nodes
  in the whole group answer what there is (404 only with none);
* ``transcode=true`` answers 404 (the emulator has no provisions); with
  ``endpoints`` > 1 it answers 400 first;
* a guid without ``/`` answers 400 ``{"error": ...}``; an encoded slash
  (``%2F``) or an empty segment in the path answers 400 in Spring Boot's
  default JSON (Spring Security's firewall rejects such URLs);
* the ``default`` alias also works on the admin status call;
* a Bearer token on a public stream call is not checked unless
  ``streams_require_auth``.

Not emulated: provisions, mixers, the proxy (WHIP/WHEP), node-group creation
or changes through the admin API (the control API sets the node groups), the
unauthenticated ``streams/stream/node-groups`` list (one client uses it; no doc).

Driven through the Python API or the control API (``POST /_emulator/<action>``
with a JSON object): ``broadcast/start`` (``scope``, ``name``, optional
``region`` (a sub-group), ``origin`` (node address or id), ``start_time`` (epoch
ms), ``subscribers``, ``delay`` (seconds), ``node_group``), ``broadcast/stop``
(clean unpublish), ``broadcast/lose`` (the node stops reporting),
``subscribers`` (``scope``, ``name``, ``count``, optional ``node``),
``node_groups`` (``node_groups``: see :data:`DEFAULT_NODE_GROUPS`), ``auth``
(``username``, ``password``, ``token_ttl``, ``streams_require_auth``),
``not_live_stats`` (``mode``: ``"404"`` or ``"empty"``), ``streams`` (the
state) and ``reset``.

This module must not import the collection: it is an independent reading of
the reference, so it catches the client's mistakes instead of sharing them.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import math
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import unquote

from tests.emulators.base import Emulator, Request, Response, run_cli

API_PREFIX = "/as/v1/"
DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "emulator-sm2-pass"
DEFAULT_JWT_SECRET = "emulator-sm2-jwt-secret-not-for-production"
DEFAULT_TOKEN_TTL = 800 * 60
DEFAULT_STREAM_TIMEOUT = 30.0
JWT_ERROR = "Missing or invalid JWT Authorization header"
NOT_LIVE_STATS_MODES = ("404", "empty")
INSERVICE = "INSERVICE"
ROLE_CAPABILITIES = {
    "origin": ("PUBLISH",),
    "edge": ("SUBSCRIBE",),
    "allinone": ("PUBLISH", "SUBSCRIBE"),
}
DEFAULT_NODE_GROUPS = [
    {
        "name": "ng-live",
        "subgroups": [
            {
                "name": "ashburn",
                "nodes": [
                    {"id": "ashburn-origin-1", "role": "origin", "private_ip": "10.0.0.1", "public_ip": "132.226.54.10"},
                    {"id": "ashburn-edge-1", "role": "edge", "private_ip": "10.0.0.101", "public_ip": "132.226.54.20"},
                    {"id": "ashburn-edge-2", "role": "edge", "private_ip": "10.0.0.102", "public_ip": "132.226.54.21"},
                ],
            },
            {
                "name": "frankfurt",
                "nodes": [
                    {"id": "frankfurt-origin-1", "role": "origin", "private_ip": "10.0.1.1", "public_ip": "129.213.27.10"},
                    {"id": "frankfurt-edge-1", "role": "edge", "private_ip": "10.0.1.101", "public_ip": "129.213.27.20"},
                ],
            },
            {
                "name": "mumbai",
                "nodes": [
                    {"id": "mumbai-edge-1", "role": "edge", "private_ip": "10.0.2.101", "public_ip": "152.67.1.20"},
                ],
            },
        ],
    }
]
_NODE_GROUP_NAME = re.compile(r"^[A-Za-z0-9._-]{1,16}$")
CATCH_ALL_PAGE = (
    b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Red5 Pro Stream Manager</title></head>\n'
    b'<body><div id="root"></div><script src="/static/js/main.js"></script></body></html>\n'
)
NOT_FOUND_PAGE = b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>\n"
LENGTH_REQUIRED_PAGE = b"<html><head><title>411 Length Required</title></head><body><h1>411 Length Required</h1></body></html>\n"


class Sm2Error(Exception):
    """An answer ``{"error": message}`` with ``status``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Node:
    id: str
    role: str
    private_ip: str
    public_ip: str
    sub_group: str
    capabilities: tuple[str, ...]
    state: str = INSERVICE

    def can(self, capability: str) -> bool:
        return capability in self.capabilities and self.state == INSERVICE

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "role": self.role,
            "private_ip": self.private_ip,
            "public_ip": self.public_ip,
            "state": self.state,
            "capabilities": list(self.capabilities),
        }


@dataclass
class NodeGroup:
    name: str
    subgroups: list[str]
    nodes: list[Node]  # in configured order, sub-group after sub-group

    def node(self, key: str) -> Node | None:
        """The node whose id, private or public address is ``key``."""
        for node in self.nodes:
            if key in (node.id, node.private_ip, node.public_ip):
                return node
        return None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "subgroups": [{"name": sub, "nodes": [node.as_dict() for node in self.nodes if node.sub_group == sub]} for sub in self.subgroups],
        }


@dataclass
class Broadcast:
    node_group: str
    scope: str  # without leading or trailing slash
    name: str
    origin: str  # node id
    start_time: int  # epoch milliseconds
    subscribers: int = 0  # on the origin
    carriers: dict[str, int] = field(default_factory=dict)  # node id -> subscribers, nodes other than the origin carrying the stream
    lost_at: float | None = None  # time.monotonic() when the node stopped reporting it

    @property
    def guid(self) -> str:
        return f"{self.scope}/{self.name}"

    def subscribers_on(self, node_id: str) -> int:
        return self.subscribers if node_id == self.origin else self.carriers.get(node_id, 0)

    def total_subscribers(self) -> int:
        return self.subscribers + sum(self.carriers.values())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _compact_json(data) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


def _error(message: str, status: int) -> Response:
    return Response.json({"error": message}, status=status)


def _spring_error(request: Request, status: int, error: str) -> Response:
    """Spring Boot's default error JSON, for what no controller handles."""
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return Response.json({"timestamp": stamp, "status": status, "error": error, "path": request.path}, status=status)


def _method_not_allowed(request: Request, allowed: str) -> Response:
    response = _spring_error(request, 405, "Method Not Allowed")
    response.headers["Allow"] = allowed
    return response


def _bool_arg(request: Request, name: str, default: bool) -> bool:
    value = request.arg(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Sm2Error(f"Parameter {name} must be true or false, not {value!r}", status=400)


def _endpoints_arg(request: Request) -> int:
    value = request.arg("endpoints")
    if value is None or value == "":
        return 1
    try:
        count = int(value)
    except ValueError:
        raise Sm2Error(f"Parameter endpoints must be a number, not {value!r}", status=400) from None
    if count < 1:
        raise Sm2Error("Parameter endpoints must be 1 or more", status=400)
    return count


def _wanted_subgroups(request: Request) -> list[str]:
    """The sub-group preference list: ``region`` wins over ``subgroup``, which wins over ``subGroup``."""
    for name in ("region", "subgroup", "subGroup"):
        value = request.arg(name)
        if value:
            return [part.strip() for part in value.split(",") if part.strip()]
    return []


def _normalize_node_groups(node_groups: list[dict]) -> dict[str, NodeGroup]:
    if not isinstance(node_groups, list) or not node_groups:
        raise Sm2Error("node_groups must be a non-empty list of {'name', 'subgroups': [{'name', 'nodes': [...]}]}")
    groups: dict[str, NodeGroup] = {}
    for entry in node_groups:
        name = str(entry.get("name") or "") if isinstance(entry, dict) else ""
        if not _NODE_GROUP_NAME.match(name):
            raise Sm2Error(f"node group name {name!r} must be 1-16 letters, digits, '-', '_' or '.'")
        if name in groups:
            raise Sm2Error(f"node group {name!r} is configured twice")
        subgroups, nodes = [], []
        for subgroup in entry.get("subgroups") or []:
            sub_name = str(subgroup.get("name") or "")
            if not sub_name or sub_name in subgroups:
                raise Sm2Error(f"node group {name!r}: each sub-group needs a unique 'name'")
            subgroups.append(sub_name)
            for node in subgroup.get("nodes") or []:
                nodes.append(_normalize_node(name, sub_name, node, nodes))
        groups[name] = NodeGroup(name=name, subgroups=subgroups, nodes=nodes)
    return groups


def _normalize_node(group: str, sub_group: str, node: dict, configured: list[Node]) -> Node:
    if not isinstance(node, dict) or not node.get("role") or not node.get("private_ip") or not node.get("public_ip"):
        raise Sm2Error(f"node group {group!r}, sub-group {sub_group!r}: each node needs 'role', 'private_ip' and 'public_ip'")
    role = str(node["role"])
    same_role = sum(1 for other in configured if other.sub_group == sub_group and other.role == role)
    node_id = str(node.get("id") or f"{sub_group}-{role}-{same_role + 1}")
    if any(other.id == node_id for other in configured):
        raise Sm2Error(f"node group {group!r}: node id {node_id!r} is used twice")
    capabilities = node.get("capabilities")
    return Node(
        id=node_id,
        role=role,
        private_ip=str(node["private_ip"]),
        public_ip=str(node["public_ip"]),
        sub_group=sub_group,
        capabilities=tuple(str(item).upper() for item in capabilities) if capabilities is not None else ROLE_CAPABILITIES.get(role, ()),
        state=str(node.get("state") or INSERVICE),
    )


def _split_guid(scope: str, name: str) -> tuple[str, str]:
    scope = scope.strip("/")
    if not scope or not name or "/" in name:
        raise Sm2Error(f"a broadcast needs a scope and a name without '/' (got scope {scope!r}, name {name!r})")
    return scope, name


class Red5Sm2Emulator(Emulator):
    """Red5 Pro Stream Manager 2.0 emulator: JWT login, admin node-group views, public stream lookups, lists and stats."""

    listeners = ("api",)

    def __init__(
        self,
        node_groups: list[dict] | None = None,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        token_ttl: int = DEFAULT_TOKEN_TTL,
        jwt_secret: str = DEFAULT_JWT_SECRET,
        stream_timeout: float = DEFAULT_STREAM_TIMEOUT,
        streams_require_auth: bool = False,
        catch_all_html: bool = True,
        require_content_length: bool = True,
        not_live_stats: str = "404",
    ):
        # The base class would demand HTTP Basic on every request: SM 2.0 wants it on the login only.
        super().__init__()
        self.registry: dict[tuple[str, str], Broadcast] = {}  # (node group, guid) -> broadcast
        self._timers: list[threading.Timer] = []
        self.node_groups: dict[str, NodeGroup] = {}
        self.set_node_groups(node_groups if node_groups is not None else DEFAULT_NODE_GROUPS)
        self.username = username
        self.password = password
        self.token_ttl = int(token_ttl)
        self.jwt_secret = jwt_secret
        self.stream_timeout = float(stream_timeout)
        self.streams_require_auth = bool(streams_require_auth)
        self.catch_all_html = catch_all_html
        self.require_content_length = require_content_length
        self.not_live_stats = "404"
        self.set_not_live_stats(not_live_stats)

    # -- command line ------------------------------------------------------

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--broadcast", action="append", default=[], metavar="SCOPE/NAME", help="start a broadcast at startup (repeatable)")
        parser.add_argument("--token-ttl", type=int, default=DEFAULT_TOKEN_TTL, help="seconds a login token lives (default: 800 minutes)")
        parser.add_argument("--stream-timeout", type=float, default=DEFAULT_STREAM_TIMEOUT, help="seconds a lost stream stays listed")
        parser.add_argument("--streams-require-auth", action="store_true", help="protect the stream calls with the Bearer token too")
        parser.add_argument("--no-catch-all-html", action="store_true", help="answer paths outside /as/v1/ with a 404 page, not the debug UI")

    @classmethod
    def from_args(cls, args):
        emulator = cls(
            username=args.username if args.username is not None else DEFAULT_USERNAME,
            password=args.password if args.password is not None else DEFAULT_PASSWORD,
            token_ttl=args.token_ttl,
            stream_timeout=args.stream_timeout,
            streams_require_auth=args.streams_require_auth,
            catch_all_html=not args.no_catch_all_html,
        )
        for path in args.broadcast:
            scope, _separator, name = path.strip("/").rpartition("/")
            emulator.start_broadcast(scope=scope or "live", name=name)
        return emulator

    def stop(self) -> None:
        self._cancel_timers()
        super().stop()

    def _cancel_timers(self) -> None:
        with self.lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()

    # -- configuration (Python API, also behind the control API) ---------------

    def set_node_groups(self, node_groups: list[dict]) -> list[dict]:
        """Replace the node groups; broadcasts whose group or origin is gone disappear, and so do vanished carriers."""
        groups = _normalize_node_groups(node_groups)
        with self.lock:
            self.node_groups = groups
            for key, broadcast in list(self.registry.items()):
                group = groups.get(broadcast.node_group)
                if group is None or group.node(broadcast.origin) is None:
                    del self.registry[key]
                    continue
                broadcast.carriers = {node_id: count for node_id, count in broadcast.carriers.items() if group.node(node_id) is not None}
            return [group.as_dict() for group in groups.values()]

    def set_auth(
        self, username: str | None = None, password: str | None = None, token_ttl: int | None = None, streams_require_auth: bool | None = None
    ) -> dict:
        """Change the login credentials, the token lifetime or whether the stream calls need a token; answers the settings, not the password."""
        with self.lock:
            if username is not None:
                self.username = str(username)
            if password is not None:
                self.password = str(password)
            if token_ttl is not None:
                self.token_ttl = int(token_ttl)
            if streams_require_auth is not None:
                self.streams_require_auth = bool(streams_require_auth)
            return {"username": self.username, "token_ttl": self.token_ttl, "streams_require_auth": self.streams_require_auth}

    def set_not_live_stats(self, mode: str) -> dict:
        """``"404"``: Get Stream Stats of a stream that is not live answers 404; ``"empty"``: 200 ``[]``."""
        mode = str(mode)
        if mode not in NOT_LIVE_STATS_MODES:
            raise Sm2Error(f"not_live_stats mode must be one of {', '.join(NOT_LIVE_STATS_MODES)}, not {mode!r}")
        self.not_live_stats = mode
        return {"mode": mode}

    def issue_token(self, username: str | None = None, ttl: float | None = None) -> str:
        """A token as the login answers it (``ttl`` may be negative, for an expired one)."""
        lifetime = self.token_ttl if ttl is None else ttl
        header = _b64url(_compact_json({"alg": "HS256"}))
        payload = _b64url(_compact_json({"sub": username or self.username, "roles": "ROLE_ADMIN", "exp": math.ceil(time.time() + lifetime)}))
        signature = hmac.new(self.jwt_secret.encode("utf-8"), f"{header}.{payload}".encode("ascii"), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64url(signature)}"

    # -- broadcasts (Python API, also behind the control API) -------------------

    def start_broadcast(
        self,
        scope: str = "live",
        name: str = "",
        region: str | None = None,
        origin: str | None = None,
        start_time: int | None = None,
        subscribers: int = 0,
        delay: float = 0,
        node_group: str | None = None,
    ) -> dict:
        """Start (or, after ``delay`` seconds, schedule) a broadcast, as if an encoder published to an origin.

        ``region`` is a sub-group name (without a PUBLISH node there, the first
        one of the group answers); ``origin`` a node's id or address;
        ``node_group`` defaults to the first configured group. Starting a
        stream that exists (live or lost) replaces it.
        """
        scope, name = _split_guid(scope, name)
        if delay and delay > 0:
            kwargs = dict(scope=scope, name=name, region=region, origin=origin, start_time=start_time, subscribers=subscribers, node_group=node_group)
            timer = threading.Timer(delay, self.start_broadcast, kwargs=kwargs)
            timer.daemon = True
            with self.lock:
                self._timers.append(timer)
            timer.start()
            return {"scheduled": True, "scope": scope, "name": name, "delay": delay}
        with self.lock:
            group = self._group_for_control(node_group)
            if origin is not None:
                node = group.node(str(origin))
                if node is None:
                    raise Sm2Error(f"no node {origin!r} in node group {group.name}", status=404)
                if "PUBLISH" not in node.capabilities:
                    raise Sm2Error(f"node {node.id} ({node.role}) cannot publish")
            else:
                candidates = self._rank(group, "PUBLISH", [region] if region else [], strict=False)
                if not candidates:
                    raise Sm2Error(f"node group {group.name} has no PUBLISH node in service", status=404)
                node = candidates[0]
            broadcast = Broadcast(
                node_group=group.name,
                scope=scope,
                name=name,
                origin=node.id,
                start_time=int(start_time if start_time is not None else time.time() * 1000),
                subscribers=int(subscribers),
            )
            self.registry[(group.name, broadcast.guid)] = broadcast
            return self._describe(broadcast)

    def stop_broadcast(self, scope: str = "live", name: str = "", node_group: str | None = None) -> dict:
        """The encoder unpublished cleanly: the stream disappears at once."""
        with self.lock:
            broadcast = self._find(scope, name, node_group)
            del self.registry[(broadcast.node_group, broadcast.guid)]
            described = self._describe(broadcast)
            described.update(live=False, lost=False)
            return described

    def lose_broadcast(self, scope: str = "live", name: str = "", node_group: str | None = None) -> dict:
        """The node stopped reporting the stream: it stays listed, as live, for ``stream_timeout`` seconds."""
        with self.lock:
            broadcast = self._find(scope, name, node_group)
            if broadcast.lost_at is None:
                broadcast.lost_at = time.monotonic()
            return self._describe(broadcast)

    def set_subscribers(self, scope: str = "live", name: str = "", count: int = 0, node: str | None = None, node_group: str | None = None) -> dict:
        """Set the subscriber count on the origin, or on ``node`` (id or address), which then carries the stream."""
        with self.lock:
            broadcast = self._find(scope, name, node_group)
            if node is None:
                broadcast.subscribers = int(count)
                return self._describe(broadcast)
            target = self.node_groups[broadcast.node_group].node(str(node))
            if target is None:
                raise Sm2Error(f"no node {node!r} in node group {broadcast.node_group}", status=404)
            if target.id == broadcast.origin:
                broadcast.subscribers = int(count)
            else:
                broadcast.carriers[target.id] = int(count)
            return self._describe(broadcast)

    def is_live(self, scope: str = "live", name: str = "", node_group: str | None = None) -> bool:
        """Whether the stream is listed (a lost stream is, until it expires)."""
        with self.lock:
            try:
                self._find(scope, name, node_group)
            except Sm2Error:
                return False
            return True

    def streams(self) -> list[dict]:
        """Every stream the emulator holds: node group, scope, name, origin, subscribers, carriers, live or lost."""
        with self.lock:
            self._expire()
            return [self._describe(broadcast) for broadcast in self.registry.values()]

    def reset(self) -> None:
        """Forget every broadcast, timer, logged request and fault; the node groups and the auth settings stay."""
        self._cancel_timers()
        with self.lock:
            self.registry.clear()
        self.clear_log()
        self.clear_faults()

    def _group_for_control(self, node_group: str | None) -> NodeGroup:
        if node_group is None:
            return next(iter(self.node_groups.values()))
        group = self.node_groups.get(node_group)
        if group is None:
            raise Sm2Error(f"no node group {node_group!r}; configured: {', '.join(self.node_groups)}", status=404)
        return group

    def _find(self, scope: str, name: str, node_group: str | None) -> Broadcast:
        self._expire()
        guid = "/".join(_split_guid(scope, name))
        found = [broadcast for (group, key), broadcast in self.registry.items() if key == guid and node_group in (None, group)]
        if not found:
            raise Sm2Error(f"no broadcast {guid}" + (f" in node group {node_group}" if node_group else ""), status=404)
        if len(found) > 1:
            raise Sm2Error(f"{guid} is live in several node groups; name the node_group")
        return found[0]

    def _expire(self) -> None:
        """Drop the lost streams whose node has been silent for ``stream_timeout`` seconds."""
        now = time.monotonic()
        for key, broadcast in list(self.registry.items()):
            if broadcast.lost_at is not None and now - broadcast.lost_at >= self.stream_timeout:
                del self.registry[key]

    def _describe(self, broadcast: Broadcast) -> dict:
        group = self.node_groups[broadcast.node_group]
        origin = group.node(broadcast.origin)
        expires_in = None if broadcast.lost_at is None else max(0.0, self.stream_timeout - (time.monotonic() - broadcast.lost_at))
        return {
            "node_group": broadcast.node_group,
            "scope": broadcast.scope,
            "name": broadcast.name,
            "stream_guid": broadcast.guid,
            "origin": dict(origin.as_dict(), sub_group=origin.sub_group),
            "start_time": broadcast.start_time,
            "subscribers": broadcast.subscribers,
            "carriers": copy.deepcopy(broadcast.carriers),
            "total_subscribers": broadcast.total_subscribers(),
            "live": True,
            "lost": broadcast.lost_at is not None,
            "expires_in": expires_in,
        }

    def _node_load(self, group: NodeGroup, node: Node) -> int:
        return sum(broadcast.subscribers_on(node.id) for broadcast in self.registry.values() if broadcast.node_group == group.name)

    def _rank(self, group: NodeGroup, capability: str, wanted: list[str], strict: bool, by_load: bool = False) -> list[Node]:
        """In-service nodes able to ``capability``: the ``wanted`` sub-groups first, in that order, then (unless ``strict``) the others."""
        preference = {sub: index for index, sub in reversed(list(enumerate(wanted)))}
        candidates = []
        for index, node in enumerate(group.nodes):
            if not node.can(capability):
                continue
            rank = preference.get(node.sub_group, len(wanted))
            if strict and wanted and rank == len(wanted):
                continue
            candidates.append((rank, self._node_load(group, node) if by_load else 0, index, node))
        return [node for *_keys, node in sorted(candidates, key=lambda item: item[:3])]

    # -- control API -------------------------------------------------------------

    def control(self, action: str, payload: dict) -> Response:
        actions = {
            "broadcast/start": lambda args: self.start_broadcast(**args),
            "broadcast/stop": lambda args: self.stop_broadcast(**args),
            "broadcast/lose": lambda args: self.lose_broadcast(**args),
            "subscribers": lambda args: self.set_subscribers(**args),
            "node_groups": lambda args: {"node_groups": self.set_node_groups(args["node_groups"])},
            "auth": lambda args: self.set_auth(**args),
            "not_live_stats": lambda args: self.set_not_live_stats(args["mode"]),
            "streams": lambda args: self.streams(),
            "reset": lambda args: self.reset() or {"reset": True},
        }
        return self._json_control(
            actions, action, payload, emulator_error=Sm2Error, bad_request=(TypeError, KeyError, ValueError, AttributeError), bad_prefix="bad control request: "
        )

    # -- the API ---------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        if self.require_content_length and request.method in ("PUT", "POST") and "content-length" not in request.headers:
            # The front end refuses a body-less PUT without Content-Length before any service sees it.
            return Response(411, LENGTH_REQUIRED_PAGE, {"Content-Type": "text/html", "Connection": "close"})
        if not request.path.startswith(API_PREFIX):
            return self._catch_all()
        raw = request.path[len(API_PREFIX) :]
        if "%2f" in raw.lower() or "" in raw.split("/")[:-1]:
            return _spring_error(request, 400, "Bad Request")
        segments = [unquote(part) for part in raw.split("/")]
        services = {"auth": self._auth_routes, "admin": self._admin_routes, "streams": self._streams_routes}
        service = services.get(segments[0])
        try:
            response = service(request, segments[1:]) if service else None
        except Sm2Error as exc:
            return _error(str(exc), exc.status)
        return response or _spring_error(request, 404, "Not Found")

    def _catch_all(self) -> Response:
        if self.catch_all_html:
            return Response(200, CATCH_ALL_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        return Response(404, NOT_FOUND_PAGE, {"Content-Type": "text/html"})

    # auth

    def _auth_routes(self, request: Request, segments: list[str]) -> Response | None:
        if segments != ["login"]:
            return None
        if request.method != "PUT":
            return _method_not_allowed(request, "PUT")
        user = self._basic_user(request)
        if user is None:
            return Response(401, b"", {"WWW-Authenticate": 'Basic realm="Realm"'})
        return Response.json({"token": self.issue_token(user)})

    def _basic_user(self, request: Request) -> str | None:
        """The user name of valid HTTP Basic credentials, else None."""
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            user, separator, password = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            return None
        with self.lock:
            expected_user, expected_password = self.username, self.password
        same_user = hmac.compare_digest(user.encode("utf-8"), expected_user.encode("utf-8"))
        same_password = hmac.compare_digest(password.encode("utf-8"), expected_password.encode("utf-8"))
        return user if separator and same_user and same_password else None

    def _bearer_ok(self, request: Request) -> bool:
        match = re.fullmatch(r"(?i:bearer) ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)", request.headers.get("authorization", ""))
        if not match:
            return False
        header, payload, signature = match.groups()
        expected = hmac.new(self.jwt_secret.encode("utf-8"), f"{header}.{payload}".encode("ascii"), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_b64url_decode(signature), expected):
                return False
            claims = json.loads(_b64url_decode(payload))
            algorithm = json.loads(_b64url_decode(header)).get("alg")
        except (ValueError, binascii.Error, AttributeError):
            return False
        expiry = claims.get("exp") if isinstance(claims, dict) else None
        return algorithm == "HS256" and isinstance(expiry, (int, float)) and expiry > time.time()

    def _require_bearer(self, request: Request) -> None:
        if not self._bearer_ok(request):
            raise Sm2Error(JWT_ERROR, status=401)

    # admin

    def _admin_routes(self, request: Request, segments: list[str]) -> Response | None:
        public = segments == ["healthz"]
        if not public:
            # A security filter checks the token before any routing: an unknown admin path without one is a 401 too.
            self._require_bearer(request)
        if not (public or segments == ["nodegroup"] or (len(segments) == 3 and segments[:2] == ["nodegroup", "status"])):
            return None
        if request.method not in ("GET", "HEAD"):
            return _method_not_allowed(request, "GET")
        if public:
            return Response.json({"status": "UP"})
        with self.lock:
            return Response.json(list(self.node_groups) if segments == ["nodegroup"] else self._status(request, segments[2]))

    def _status(self, request: Request, name: str) -> list[dict]:
        with self.lock:
            self._expire()
            group = self._resolve(name, "No master NodeGroupConfig found")
            now_ms = int(time.time() * 1000)
            rows = []
            for node in group.nodes:
                if any(request.arg(key) not in (None, value) for key, value in (("subGroup", node.sub_group), ("role", node.role), ("state", node.state))):
                    continue
                broadcasts = [broadcast for broadcast in self.registry.values() if broadcast.node_group == group.name]
                subscribers = sum(broadcast.subscribers_on(node.id) for broadcast in broadcasts)
                common = {"nodeGroupName": group.name, "nodeId": node.id, "nodeRoleName": node.role}
                node_event = dict(
                    common,
                    clientCount=subscribers,
                    metrics=[],
                    parents=[],
                    postProcessorCount=0,
                    privateIp=node.private_ip,
                    publicIp=node.public_ip,
                    publisherCount=sum(1 for broadcast in broadcasts if broadcast.origin == node.id),
                    restreamerCount=0,
                    subGroupName=node.sub_group,
                    subscriberCount=subscribers,
                    timestamp=now_ms,
                )
                scaling_event = dict(common, state=node.state, subGroupName=node.sub_group, timestamp=now_ms)
                rows.append({"nodeEvent": node_event, "scalingEvent": scaling_event})
            return rows

    def _resolve(self, name: str, missing: str | None = None) -> NodeGroup:
        """The node group called ``name``, or the only one when ``name`` is ``default``."""
        group = self.node_groups.get(name)
        if group is None and name == "default" and len(self.node_groups) == 1:
            group = next(iter(self.node_groups.values()))
        if group is None:
            raise Sm2Error(missing or f"Node group {name} not found", status=404)
        return group

    # streams

    def _streams_routes(self, request: Request, segments: list[str]) -> Response | None:
        """``/as/v1/streams/stream/{ng}[/(publish|subscribe|stream)/{guid...}]``; the other as-streams calls are not emulated."""
        if segments[0] != "stream" or len(segments) < 2:
            return None
        group_name, call = segments[1], segments[2:]
        if self.streams_require_auth:
            self._require_bearer(request)
        if call and (call[0] not in ("publish", "subscribe", "stream") or len(call) < 2):
            return None
        if request.method not in ("GET", "HEAD"):
            return _method_not_allowed(request, "GET")
        with self.lock:
            self._expire()
            group = self._resolve(group_name)
            if not call:
                return Response.json(self._list(group, stats=_bool_arg(request, "stats", False), aggregate=_bool_arg(request, "aggregate", True)))
            guid = "/".join(call[1:])
            if "/" not in guid:
                raise Sm2Error(f"streamGuid {guid!r} must contain at least one '/' (<scope>/<name>)")
            lookups = {"publish": self._publish, "subscribe": self._subscribe}
            if call[0] in lookups:
                return Response.json(lookups[call[0]](request, group, guid))
            return self._stream_stats(request, group, guid)

    @staticmethod
    def _row(guid: str, node: Node, public: bool, subscribers: int | None = None, duration_ms: int | None = None) -> dict:
        row = {
            "streamGuid": guid,
            "serverAddress": node.public_ip if public else node.private_ip,
            "nodeRole": node.role,
            "subGroup": node.sub_group,
            "nodeState": node.state,
        }
        if subscribers is not None:
            row["subscribers"] = subscribers
        if duration_ms is not None:
            row["durationMs"] = duration_ms
        return row

    def _stream_rows(self, group: NodeGroup, broadcast: Broadcast, stats: bool, aggregate: bool) -> list[dict]:
        """Rows of one live stream, private addresses: its origin (subscribers totalled), or every node carrying it."""
        duration = max(0, int(time.time() * 1000) - broadcast.start_time) if stats else None
        origin = group.node(broadcast.origin)
        if aggregate:
            nodes = [(origin, broadcast.total_subscribers())]
        else:
            nodes = [(origin, broadcast.subscribers)] + [(group.node(node_id), count) for node_id, count in broadcast.carriers.items()]
        return [
            self._row(broadcast.guid, node, public=False, subscribers=count if stats else None, duration_ms=duration)
            for node, count in nodes
            if node is not None and node.state == INSERVICE
        ]

    def _live(self, group: NodeGroup, guid: str) -> Broadcast | None:
        return self.registry.get((group.name, guid))

    def _list(self, group: NodeGroup, stats: bool, aggregate: bool) -> list[dict]:
        rows = []
        for broadcast in self.registry.values():
            if broadcast.node_group == group.name:
                rows += self._stream_rows(group, broadcast, stats, aggregate)
        return rows

    def _stream_stats(self, request: Request, group: NodeGroup, guid: str) -> Response:
        aggregate = _bool_arg(request, "aggregate", True)
        broadcast = self._live(group, guid)
        rows = self._stream_rows(group, broadcast, stats=True, aggregate=aggregate) if broadcast else []
        if not rows and self.not_live_stats == "404":
            raise Sm2Error(f"Stream {guid} not found in node group {group.name}", status=404)
        return Response.json(rows)

    def _pick(self, request: Request, group: NodeGroup, capability: str, by_load: bool) -> list[Node]:
        """The ``endpoints`` nodes a lookup answers, or the 404 of restrictions that cannot be met."""
        endpoints = _endpoints_arg(request)
        strict = _bool_arg(request, "strict", False)
        wanted = _wanted_subgroups(request)
        candidates = self._rank(group, capability, wanted, strict=strict, by_load=by_load)
        if strict and len(candidates) < endpoints:
            where = f" in sub-group(s) {', '.join(wanted)}" if wanted else ""
            raise Sm2Error(f"Unable to find {endpoints} {capability} node(s){where} in node group {group.name} (strict)", status=404)
        if not candidates:
            raise Sm2Error(f"No {capability} node available in node group {group.name}", status=404)
        return candidates[:endpoints]

    def _publish(self, request: Request, group: NodeGroup, guid: str) -> list[dict]:
        endpoints = _endpoints_arg(request)
        if _bool_arg(request, "transcode", False):
            if endpoints > 1:
                raise Sm2Error("Parameter endpoints must be 1 with transcode=true")
            raise Sm2Error(f"No provision found for {guid} in node group {group.name}; transcode needs one", status=404)
        if self._live(group, guid) is not None:
            raise Sm2Error(f"Stream {guid} is already being published in node group {group.name}", status=409)
        return [self._row(guid, node, public=True, subscribers=0) for node in self._pick(request, group, "PUBLISH", by_load=False)]

    def _subscribe(self, request: Request, group: NodeGroup, guid: str) -> list[dict]:
        broadcast = self._live(group, guid)
        if broadcast is None:
            # Validate the parameters first: a bad endpoints is a 400 whether or not the stream is live.
            _endpoints_arg(request)
            raise Sm2Error(f"Stream {guid} is not live in node group {group.name}", status=404)
        rows = []
        for node in self._pick(request, group, "SUBSCRIBE", by_load=True):
            if node.id == broadcast.origin:
                broadcast.subscribers += 1
            else:
                broadcast.carriers[node.id] = broadcast.carriers.get(node.id, 0) + 1
            rows.append(self._row(guid, node, public=True, subscribers=broadcast.subscribers_on(node.id)))
        return rows


if __name__ == "__main__":
    sys.exit(run_cli(Red5Sm2Emulator))
