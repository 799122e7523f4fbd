# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator of a Unified Streaming (USP) Origin with the Publishing Point API.

What it emulates (Unified Streaming "Publishing Point API" reference):

* two virtual hosts over one storage, as the reference requires ("Any given
  request can only be handled by either the ISM Handler or the API Handler"):

  - ``api`` (``UspHandleApi``): create (POST), read (GET), update (PUT) and
    delete (DELETE) of ``/<path>/<name>/<name>.isml`` with every status code
    the reference lists for those calls;
  - ``origin`` (``UspHandleIsm``): ``<point>.isml/state``, ``/statistics``,
    ``/archive`` and ``POST <point>.isml/purge?t=...``. ``GET <point>.isml``
    answers a Smooth client manifest, not the settings, so a client that asks
    the wrong virtual host gets the wrong document, as it would in production;

* the publishing point states (idle, starting, started, stopping, stopped)
  driven by a simulated encoder through Python methods or the control API
  (``POST /_emulator/encoder/start`` and friends), so tests and the demo can
  make a point go live, archive, drop, reconnect and stop.

Simplifications (each is something a client must not depend on):

* nothing is written to disk; "directories" are a set of paths. The root
  always exists; base directories come from ``base_dirs`` or the control
  action ``directories``;
* the encoder does not POST fMP4 to ``Streams(...)``; the control API moves
  media time forward one fragment at a time. Every track gets the same
  fragments, so all tracks share one archive timeline (real tracks differ by a
  few milliseconds, see the reference's /archive example);
* purge cuts archive ranges exactly at the requested times; the real server
  removes whole archive segment files (``archive_segment_length``), so it may
  keep a little more than asked. Automatic purging (``archive_length`` with
  ``archive_segment_length``) is trimmed the same way after each fragment;
* the media timeline is absolute: offset 0 is 1970-01-01T00:00:00Z, as in the
  reference's /archive and purge examples, and the statistics ``duration`` is
  the end of a track's timeline in 10 MHz ticks (the reference's example,
  479402800000, is 13:19:00 on the same day as its 13:16-13:21 archive);
* errors have a one-line plain-text body instead of Apache's HTML page.
"""

from __future__ import annotations

import copy
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote
from xml.sax.saxutils import quoteattr

from lxml import etree

from tests.emulators.base import Emulator, Request, Response, run_cli

SMIL_NS = "http://www.w3.org/2001/SMIL20/Language"
USP_VERSION = "1.12.9"
XML_PROLOG = f'<?xml version="1.0" encoding="utf-8"?>\n<!-- Created with Unified Streaming Platform (version={USP_VERSION}) -->\n'
STATES = ("idle", "starting", "started", "stopping", "stopped")
# Reference, Delete: "The publishing point must be idle, starting, or stopped."
DELETABLE_STATES = ("idle", "starting", "stopped")
TICKS_PER_US = 10  # the reference's durations are in 10 MHz ticks
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Posted SMIL comes from the code under test: never fetch, never expand.
_SMIL_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True, remove_comments=True, remove_pis=True)

_HMS = r"(\d+):([0-5]\d):([0-5]\d(?:\.\d{1,6})?)"
_ISO = r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z?"
_TRACK_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class UspEmulatorError(Exception):
    """A refused emulator operation; ``status`` is what the control API answers."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# -- time helpers ------------------------------------------------------------


def iso(us: int) -> str:
    """Microseconds since 1970 as USP prints times: microseconds and ``Z``."""
    return (EPOCH + timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _seconds_us(whole: str, fraction: str | None = None) -> int:
    # Exact decimal arithmetic: float seconds would drift by a microsecond.
    return int(whole) * 1_000_000 + int(((fraction or "") + "000000")[:6])


def parse_iso_us(text: str) -> int:
    """``1970-01-01T13:16:03.44Z`` (fraction and ``Z`` optional) to microseconds."""
    match = re.fullmatch(_ISO, text)
    if not match:
        raise ValueError(f"not an ISO 8601 UTC time: {text!r}")
    *parts, fraction = match.groups()
    moment = datetime(*(int(part) for part in parts), tzinfo=UTC)
    return (moment - EPOCH) // timedelta(seconds=1) * 1_000_000 + _seconds_us("0", fraction)


def _hms_us(hours: str, minutes: str, seconds: str) -> int:
    whole, _separator, fraction = seconds.partition(".")
    return (int(hours) * 3600 + int(minutes) * 60) * 1_000_000 + _seconds_us(whole, fraction)


def parse_purge_t(value: str | None) -> tuple[str, int, int]:
    """The ``t`` of a purge request as ``(kind, a, b)``.

    ``("all", 0, 0)`` for ``t=0``; ``("keep", duration, 0)`` for ``t=HH:MM:SS``;
    ``("range", start, end)`` for ``HH:MM:SS-HH:MM:SS`` (offsets on the media
    timeline) and ``<ISO>-<ISO>`` (absolute times). Times in microseconds.
    """
    if not value:
        raise ValueError("missing t")
    if value == "0":
        return ("all", 0, 0)
    if match := re.fullmatch(_HMS, value):
        return ("keep", _hms_us(*match.groups()), 0)
    if match := re.fullmatch(f"{_HMS}-{_HMS}", value):
        start, end = _hms_us(*match.groups()[:3]), _hms_us(*match.groups()[3:])
    elif match := re.fullmatch(f"({_ISO})-({_ISO})", value):
        start, end = parse_iso_us(match.group(1)), parse_iso_us(match.group(9))
    else:
        raise ValueError(f"unsupported t={value!r}")
    if start > end:
        raise ValueError(f"t={value!r} ends before it starts")
    return ("range", start, end)


def _to_us(moment: float | int | str) -> int:
    if isinstance(moment, str):
        return parse_iso_us(moment)
    if isinstance(moment, bool) or not isinstance(moment, (int, float)) or moment < 0:
        raise ValueError(f"start_time must be epoch seconds >= 0 or an ISO time, not {moment!r}")
    return round(moment * 1_000_000)


# -- archive ranges (sorted, disjoint [start, end] pairs in microseconds) ----


def add_range(ranges: list[list[int]], start: int, end: int) -> list[list[int]]:
    """``ranges`` plus ``[start, end]``, merging what touches: one range per contiguous stretch."""
    merged: list[list[int]] = []
    for first, last in sorted([*ranges, [start, end]]):
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return merged


def cut_range(ranges: list[list[int]], start: int, end: int) -> list[list[int]]:
    """``ranges`` without ``[start, end]``; a range spanning the cut is split in two."""
    if start >= end:
        return ranges
    kept = []
    for first, last in ranges:
        if last <= start or first >= end:
            kept.append([first, last])
            continue
        if first < start:
            kept.append([first, start])
        if last > end:
            kept.append([end, last])
    return kept


# -- SMIL ---------------------------------------------------------------------


def parse_smil(body: bytes) -> tuple[list[tuple[str, str]], etree._Element]:
    """The head metas (in order) and the body element of a posted server manifest.

    Raises ``ValueError`` when the content is not a SMIL server manifest
    (the reference's "Provided smil content malformed").
    """
    head, smil_body = _smil_sections(_smil_root(body))
    metas = _head_metas(head)
    if smil_body is None:
        smil_body = etree.fromstring(f'<body xmlns="{SMIL_NS}"><switch/></body>')
    return metas, _normalised_body(smil_body)


def _smil_root(body: bytes) -> etree._Element:
    try:
        root = etree.fromstring(body, _SMIL_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise ValueError("a DOCTYPE is not allowed")
    name = etree.QName(root)
    # mp4split writes the SMIL 2.0 namespace; tolerate none, refuse any other.
    if name.localname != "smil" or name.namespace not in (SMIL_NS, None):
        raise ValueError(f"root element is {root.tag!r}, expected smil")
    return root


def _smil_sections(root: etree._Element) -> tuple[etree._Element | None, etree._Element | None]:
    """The one head and the one body of a smil element (either may be missing)."""
    head, smil_body = None, None
    for child in root:
        local = etree.QName(child).localname
        if local == "head" and head is None:
            head = child
        elif local == "body" and smil_body is None:
            smil_body = child
        else:
            raise ValueError(f"unexpected element {local!r} in smil")
    return head, smil_body


def _head_metas(head: etree._Element | None) -> list[tuple[str, str]]:
    metas = []
    for meta in head if head is not None else ():
        if etree.QName(meta).localname != "meta" or not meta.get("name"):
            raise ValueError("the head may only hold <meta name=... content=...> elements")
        metas.append((meta.get("name"), meta.get("content", "")))
    return metas


def _normalised_body(smil_body: etree._Element) -> etree._Element:
    """A copy of the body in the SMIL namespace, without layout whitespace."""
    smil_body = copy.deepcopy(smil_body)
    for element in smil_body.iter(etree.Element):
        if not element.tag.startswith("{"):
            element.tag = f"{{{SMIL_NS}}}{element.tag}"
        # Layout whitespace (``<switch>\n</switch>``) would defeat pretty printing on GET.
        if element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    return smil_body


def server_manifest(metas: list[tuple[str, str]], body: etree._Element) -> str:
    """The settings as the API's GET returns them (mp4split's layout)."""
    root = etree.Element(f"{{{SMIL_NS}}}smil", nsmap={None: SMIL_NS})
    head = etree.SubElement(root, f"{{{SMIL_NS}}}head")
    for name, content in metas:
        etree.SubElement(head, f"{{{SMIL_NS}}}meta", {"name": name, "content": content})
    root.append(copy.deepcopy(body))
    etree.cleanup_namespaces(root)
    return XML_PROLOG + etree.tostring(root, pretty_print=True, encoding="unicode")


def _open_tag(tag: str, attrs: list[tuple[str, str]], depth: int) -> str:
    # The origin's own layout (the reference's /state example, and what real servers send):
    # one attribute per line and an explicit closing tag, even when empty.
    pad = "  " * depth
    lines = [f"{pad}<{tag}", *(f"{pad}  {key}={quoteattr(str(value))}" for key, value in attrs)]
    return "\n".join(lines) + ">"


def _element(tag: str, attrs: list[tuple[str, str]], depth: int, children: list[str] = ()) -> str:
    return "\n".join([_open_tag(tag, attrs, depth), *children, f"{'  ' * depth}</{tag}>"])


def _meta(name: str, content: str, depth: int = 2) -> str:
    return _element("meta", [("name", name), ("content", content)], depth)


def _param(name: str, value, depth: int = 3) -> str:
    return _element("param", [("name", name), ("value", value), ("valueType", "data")], depth)


def origin_smil(updated_us: int, head: list[str] = (), body: list[str] | None = None) -> str:
    children = [_element("head", [], 1, [_meta("updated", iso(updated_us)), *head])]
    if body is not None:
        children.append(_element("body", [], 1, body))
    return XML_PROLOG + _element("smil", [("xmlns", SMIL_NS)], 0, children) + "\n"


# -- model --------------------------------------------------------------------


@dataclass
class Track:
    type: str  # element name in statistics/archive: video, audio, textstream
    track_id: int
    track_name: str
    src: str
    system_bitrate: int
    state: str = "starting"
    updated_us: int = 0
    end_us: int = 0  # end of the track's media timeline: the statistics "duration"

    def as_dict(self) -> dict:
        shown_as_they_are = ("type", "track_id", "track_name", "src", "system_bitrate", "state")
        return {name: getattr(self, name) for name in shown_as_they_are} | {"updated": iso(self.updated_us), "duration": self.end_us * TICKS_PER_US}


@dataclass(eq=False)
class EncoderSession:
    """One encoder connection: from encoder_start to EOS, drop or deletion."""

    position_us: int
    fragment_us: int
    interval: float | None = None
    stopped: threading.Event = field(default_factory=threading.Event)


@dataclass(eq=False)
class PublishingPoint:
    path: str  # directory, e.g. "events/ch1" for /events/ch1/ch1.isml
    head: list[tuple[str, str]]
    body: etree._Element
    updated_us: int
    state: str = "idle"
    tracks: list[Track] = field(default_factory=list)
    archive: list[list[int]] = field(default_factory=list)
    session: EncoderSession | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def option(self, name: str, default: str = "") -> str:
        """The last head meta called ``name`` (mp4split option names, ``.`` as ``_``)."""
        values = [content for key, content in self.head if key == name]
        return values[-1] if values else default

    def int_option(self, name: str) -> int:
        try:
            return int(self.option(name, "0"))
        except ValueError:
            return 0

    @property
    def archiving(self) -> bool:
        # mp4split writes --archiving=1 as "true"; hand-written SMIL may say "1".
        return self.option("archiving").strip().lower() in ("true", "1")

    def as_dict(self) -> dict:
        return {
            "url": f"/{self.path}/{self.name}.isml",
            "state": self.state,
            "updated": iso(self.updated_us),
            "head": dict(self.head),
            "tracks": [track.as_dict() for track in self.tracks],
            "archive": [{"start": iso(start), "end": iso(end)} for start, end in self.archive],
            "encoder": None
            if self.session is None
            else {"position": iso(self.session.position_us), "fragment_seconds": self.session.fragment_us / 1e6, "interval": self.session.interval},
        }


@dataclass(eq=False)
class Gate:
    """Answers held until ``parties`` matching requests have been handled (see :meth:`UspEmulator.gate`)."""

    parties: int
    method: str | None = None
    path: str | None = None
    timeout: float = 30.0
    admitted: int = 0
    released_together: bool = False
    barrier: threading.Barrier = field(init=False)

    def __post_init__(self):
        if isinstance(self.parties, bool) or not isinstance(self.parties, int) or self.parties < 1:
            raise UspEmulatorError(f"parties must be a positive integer, not {self.parties!r}")
        self.barrier = threading.Barrier(self.parties)

    def matches(self, request: Request) -> bool:
        return (self.method is None or self.method.upper() == request.method) and (self.path is None or re.search(self.path, request.path) is not None)


@dataclass(eq=False)
class Interference:
    """Another client's action run just before a matching request (see :meth:`UspEmulator.interfere`)."""

    method: str | None
    path: str | None
    action: object
    count: int | None = 1

    def matches(self, request: Request) -> bool:
        return (self.method is None or self.method.upper() == request.method) and (self.path is None or re.search(self.path, request.path) is not None)


def _clean_dir(path: str) -> str:
    path = path.strip("/")
    if path and any(segment in ("", ".", "..") for segment in path.split("/")):
        raise ValueError(f"invalid directory {path!r}")
    return path


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


def _ancestors(path: str) -> list[str]:
    segments = path.split("/")
    return ["/".join(segments[:index]) for index in range(1, len(segments))]


# -- the emulator ---------------------------------------------------------------


class UspEmulator(Emulator):
    """Unified Streaming Origin emulator: Publishing Point API plus origin state/statistics/archive/purge.

    Python methods (thread-safe) and the control actions that call them with
    the same arguments (``POST /_emulator/<action>``, JSON object body):

    ========================================================================  ==============
    ``encoder_start(point, tracks=None, fragment_seconds=2.0, interval=None,  encoder/start
    start_time=None)``
    ``encoder_push(point, count=1)``                                          encoder/push
    ``encoder_eos(point, stopping_seconds=0)``                                encoder/eos
    ``encoder_drop(point)``                                                   encoder/drop
    ``set_state(point, state)``                                               state
    ``create_directory(path)``                                                directories
    ``reset()``                                                               reset
    ``dump_points()``                                                         points
    ========================================================================  ==============

    ``point`` is the publishing point's directory: ``ch1`` for ``/ch1/ch1.isml``,
    ``events/ch1`` for ``/events/ch1/ch1.isml``. ``point(path)`` returns the
    internal :class:`PublishingPoint` for assertions.

    For races (Python only): ``answered()`` pairs each routed request with the
    status the emulator decided (a ``status`` fault is not routed, so it never
    counts as accepted), ``accepted_writes()`` lists the writes that changed
    the storage, ``gate()`` holds the answers to matching requests until a
    number of them have been handled (many clients read before any of them
    can write), and ``interfere()``
    lets another client act just before a matching request is handled, using
    ``api_call()``.
    """

    listeners = ("api", "origin")
    #: reference: "Smil file larger than 50 megabytes" -> 413
    max_smil_bytes = 50 * 1024 * 1024

    def __init__(
        self,
        username: str | None = None,
        password: str | None = None,
        auth_origin: bool = False,
        base_dirs: list[str] | tuple[str, ...] = (),
    ):
        super().__init__(username=username, password=password)
        self.auth_origin = auth_origin
        self.base_dirs = tuple(_clean_dir(path) for path in base_dirs)
        self.points: dict[str, PublishingPoint] = {}
        self.directories: set[str] = set()
        self.outcomes: list[tuple[Request, int]] = []
        self.gates: list[Gate] = []
        self.interferences: list[Interference] = []
        #: wall clock for "updated" times; tests may replace it
        self.clock = time.time
        for path in self.base_dirs:
            self.create_directory(path)

    # -- command line --------------------------------------------------------

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--auth-origin", action="store_true", help="require basic auth on the origin listener too")
        parser.add_argument("--base-dir", action="append", default=[], help="create this base directory (repeatable)")

    @classmethod
    def from_args(cls, args):
        if (args.username is None) != (args.password is None):
            raise SystemExit("--username and --password go together")
        return cls(username=args.username, password=args.password, auth_origin=args.auth_origin, base_dirs=args.base_dir)

    def requires_auth(self, request: Request) -> bool:
        # The reference protects the API virtual host; the origin is where
        # encoders and players connect, so it is open unless asked otherwise.
        return self.credentials is not None and (request.listener == "api" or self.auth_origin)

    def stop(self) -> None:
        with self.lock:
            for point in self.points.values():
                self._end_session(point)
            for gate in self.gates:
                gate.barrier.abort()  # nobody stays parked at a gate once the test is over
        # Each listener's serve_forever() notices a shutdown only at its next
        # 0.5 s poll; shutting both down at once halves the wait of every test.
        stoppers = [threading.Thread(target=server.shutdown) for server in self._servers.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        super().stop()

    # -- storage -------------------------------------------------------------

    def _now_us(self) -> int:
        return round(self.clock() * 1_000_000)

    @staticmethod
    def _key(point: str) -> str:
        """Normalise a point path: ``events/ch1``, ``/events/ch1/`` and ``events/ch1/ch1.isml`` are one point."""
        key = point.strip("/")
        if key.endswith(".isml"):
            key = _parent(key)
        return key

    def point(self, path: str) -> PublishingPoint:
        """The publishing point at ``path`` ("ch1", "events/ch1"); ``UspEmulatorError`` (404) if none."""
        with self.lock:
            found = self.points.get(self._key(path))
        if found is None:
            raise UspEmulatorError(f"no publishing point {path!r}", status=404)
        return found

    def _dir_exists(self, path: str) -> bool:
        return path == "" or path in self.directories or path in self.points

    def create_directory(self, path: str) -> list[str]:
        """Create a base directory and its parents (``mkdir -p``); returns all directories."""
        path = _clean_dir(path)
        with self.lock:
            for directory in [*_ancestors(path), path]:
                if directory:
                    self.directories.add(directory)
            return sorted(self.directories)

    def reset(self) -> None:
        """Forget every point, directory, logged request and fault; keep the constructor's base_dirs."""
        with self.lock:
            for point in self.points.values():
                self._end_session(point)
            self.points.clear()
            self.directories.clear()
            for path in self.base_dirs:
                self.create_directory(path)
            self.clear_log()
            self.clear_faults()
            for gate in self.gates:
                gate.barrier.abort()
            self.gates.clear()
            self.interferences.clear()

    def clear_log(self) -> None:
        with self.lock:
            super().clear_log()
            self.outcomes.clear()

    # -- races -----------------------------------------------------------------

    def answered(self, method: str | None = None, path: str | None = None, status: int | None = None) -> list[tuple[Request, int]]:
        """``(request, status)`` for every routed request, in the order the emulator decided them."""
        with self.lock:
            entries = list(self.outcomes)
        return [
            (request, code)
            for request, code in entries
            if (method is None or request.method == method.upper()) and (path is None or re.search(path, request.path)) and (status is None or code == status)
        ]

    def accepted_writes(self) -> list[Request]:
        """API writes that changed the storage: POST answered 201, PUT and DELETE answered 200."""
        accepted = {"POST": 201, "PUT": 200, "DELETE": 200}
        return [request for request, code in self.answered() if request.listener == "api" and accepted.get(request.method) == code]

    def gate(self, parties: int, method: str | None = None, path: str | None = None, timeout: float = 30.0) -> Gate:
        """Handle the next ``parties`` matching requests as they come, but hold their answers until all of them are handled.

        Every client then reads the same state before any of them can act on
        it. After ``timeout`` seconds the held answers go out anyway
        (``gate.released_together`` stays false).
        """
        gate = Gate(parties=parties, method=method, path=path, timeout=timeout)
        with self.lock:
            self.gates.append(gate)
        return gate

    def interfere(self, method: str | None, path: str | None, action, count: int | None = 1) -> Interference:
        """Call ``action(emulator)`` just before each of the next ``count`` matching requests is handled.

        This is another client acting between the module's read and its write, e.g.
        ``usp.interfere("PUT", r"/ch1/", lambda emulator: emulator.api_call("DELETE", "/ch1/ch1.isml"))``.
        """
        interference = Interference(method=method, path=path, action=action, count=count)
        with self.lock:
            self.interferences.append(interference)
        return interference

    def api_call(self, method: str, path: str, body: bytes | str = b"") -> Response:
        """A request to the API virtual host from another client: handled as any other, but not logged."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        request = Request(listener="api", method=method.upper(), path=path, query={}, raw_query="", headers={}, body=data)
        with self.lock:
            return self._api(request)

    def _pass_gate(self, request: Request) -> None:
        with self.lock:
            gate = next((gate for gate in self.gates if gate.admitted < gate.parties and gate.matches(request)), None)
            if gate is None:
                return
            gate.admitted += 1
        # Waiting happens outside the lock, so the other requests can be handled meanwhile.
        try:
            gate.barrier.wait(gate.timeout)
        except threading.BrokenBarrierError:
            return
        gate.released_together = True

    def _interference_for(self, request: Request):
        return self._take_match(self.interferences, request)

    def dump_points(self) -> dict:
        with self.lock:
            return {path: point.as_dict() for path, point in sorted(self.points.items())}

    def set_state(self, point: str, state: str) -> PublishingPoint:
        """Force a state (and the same state on every track), e.g. to test a 403 on delete."""
        if state not in STATES:
            raise UspEmulatorError(f"unknown state {state!r}; expected one of {', '.join(STATES)}")
        with self.lock:
            target = self.point(point)
            self._set_state(target, state)
            return target

    def _set_state(self, point: PublishingPoint, state: str) -> None:
        point.state = state
        point.updated_us = self._now_us()
        for track in point.tracks:
            track.state = state

    # -- simulated encoder ---------------------------------------------------

    def encoder_start(
        self,
        point: str,
        tracks: list[dict] | None = None,
        fragment_seconds: float = 2.0,
        interval: float | None = None,
        start_time: float | str | None = None,
    ) -> PublishingPoint:
        """An encoder connects and announces its streams: state ``starting``.

        ``tracks``: dicts with ``type`` (video), ``track_id`` (position),
        ``track_name`` (type), ``src`` (``<name>-<id>.ismv``), ``system_bitrate``
        (1000000 for video, 128000 for audio); default one video and one audio.
        ``start_time``: media time of the first fragment, epoch seconds or ISO
        (default: now). A reconnect without ``start_time`` starts after a gap,
        never on top of what is already ingested. ``interval``: push a fragment
        every so many seconds in the background until EOS, drop or deletion.
        """
        if isinstance(fragment_seconds, bool) or not isinstance(fragment_seconds, (int, float)) or fragment_seconds <= 0:
            raise UspEmulatorError(f"fragment_seconds must be a positive number, not {fragment_seconds!r}")
        if interval is not None and (isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval <= 0):
            raise UspEmulatorError(f"interval must be a positive number, not {interval!r}")
        fragment_us = round(fragment_seconds * 1_000_000)
        try:
            start_us = None if start_time is None else _to_us(start_time)
        except ValueError as exc:
            raise UspEmulatorError(str(exc)) from None
        with self.lock:
            target = self.point(point)
            new_tracks = self._make_tracks(target.name, tracks) if tracks is not None or not target.tracks else target.tracks
            self._end_session(target)  # a reconnect replaces the old connection
            if start_us is None:
                start_us = self._now_us()
                ingested = max((track.end_us for track in target.tracks), default=0)
                if ingested:
                    start_us = max(start_us, ingested + fragment_us)
            target.tracks = new_tracks
            session = EncoderSession(position_us=start_us, fragment_us=fragment_us, interval=interval)
            target.session = session
            self._set_state(target, "starting")
            if interval is not None:
                threading.Thread(target=self._pusher, args=(target, session), name=f"usp-encoder-{target.path}", daemon=True).start()
            return target

    @staticmethod
    def _make_tracks(name: str, specs: list[dict] | None) -> list[Track]:
        if specs is None:
            specs = [{"type": "video"}, {"type": "audio"}]
        if not isinstance(specs, list) or not specs:
            raise UspEmulatorError("tracks must be a non-empty list of objects")
        tracks = []
        for index, given in enumerate(specs, 1):
            if not isinstance(given, dict):
                raise UspEmulatorError(f"track {index} must be an object")
            spec = dict(given)  # popped key by key; what is left over is unknown
            kind = spec.pop("type", "video")
            if not isinstance(kind, str) or not _TRACK_TYPE.fullmatch(kind):
                raise UspEmulatorError(f"invalid track type {kind!r}")
            try:
                track_id = int(spec.pop("track_id", index))
                bitrate = int(spec.pop("system_bitrate", {"video": 1_000_000, "audio": 128_000}.get(kind, 0)))
            except (TypeError, ValueError) as exc:
                raise UspEmulatorError(f"track {index}: {exc}") from None
            track_name = str(spec.pop("track_name", kind))
            src = str(spec.pop("src", f"{name}-{track_id}.ismv"))
            if spec:
                raise UspEmulatorError(f"track {index}: unknown keys {', '.join(sorted(spec))}")
            tracks.append(Track(kind, track_id, track_name, src, bitrate))
        if len({track.track_id for track in tracks}) != len(tracks):
            raise UspEmulatorError("track_id values must be unique")
        return tracks

    def encoder_push(self, point: str, count: int = 1) -> PublishingPoint:
        """``count`` fragments of ``fragment_seconds`` on every track: state ``started``."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise UspEmulatorError(f"count must be a positive integer, not {count!r}")
        with self.lock:
            target = self.point(point)
            if target.session is None:
                raise UspEmulatorError(f"no encoder is connected to {target.path!r}: call encoder/start first", status=409)
            for _fragment in range(count):
                self._push(target)
            return target

    def _push(self, point: PublishingPoint) -> None:
        session = point.session
        start, end = session.position_us, session.position_us + session.fragment_us
        session.position_us = end
        now = self._now_us()
        for track in point.tracks:
            track.end_us, track.updated_us, track.state = end, now, "started"
        point.state, point.updated_us = "started", now
        if point.archiving:
            point.archive = add_range(point.archive, start, end)
            keep_seconds = point.int_option("archive_length")
            # Reference: automatic purging needs archive_segment_length and archive_length.
            if keep_seconds > 0 and point.int_option("archive_segment_length") > 0:
                point.archive = cut_range(point.archive, 0, end - keep_seconds * 1_000_000)

    def _pusher(self, point: PublishingPoint, session: EncoderSession) -> None:
        while not session.stopped.wait(session.interval):
            with self.lock:
                if point.session is not session or self.points.get(point.path) is not point:
                    return
                self._push(point)

    def _end_session(self, point: PublishingPoint) -> None:
        if point.session is not None:
            point.session.stopped.set()  # the pusher thread exits on its next wake-up
            point.session = None

    def encoder_eos(self, point: str, stopping_seconds: float = 0) -> PublishingPoint:
        """End Of Stream: ``stopping`` (EOS on the first stream), then ``stopped`` (all streams)."""
        if isinstance(stopping_seconds, bool) or not isinstance(stopping_seconds, (int, float)) or stopping_seconds < 0:
            raise UspEmulatorError(f"stopping_seconds must be a number >= 0, not {stopping_seconds!r}")
        with self.lock:
            target = self.point(point)
            if target.session is None:
                raise UspEmulatorError(f"no encoder is connected to {target.path!r}", status=409)
            self._end_session(target)
            self._set_state(target, "stopping")
            # EOS so far on the first stream only.
            for track in target.tracks:
                track.state = "started"
            target.tracks[0].state = "stopped"
            if stopping_seconds > 0:
                timer = threading.Timer(stopping_seconds, self._finish_stopping, args=(target,))
                timer.daemon = True
                timer.start()
            else:
                self._finish_stopping(target)
            return target

    def _finish_stopping(self, point: PublishingPoint) -> None:
        with self.lock:
            # The point may have been deleted, re-created or restarted meanwhile.
            if self.points.get(point.path) is point and point.state == "stopping" and point.session is None:
                self._set_state(point, "stopped")

    def encoder_drop(self, point: str) -> PublishingPoint:
        """The encoder vanishes without EOS: no more fragments, the state stays as it is."""
        with self.lock:
            target = self.point(point)
            if target.session is None:
                raise UspEmulatorError(f"no encoder is connected to {target.path!r}", status=409)
            self._end_session(target)
            return target

    # -- control API -----------------------------------------------------------

    def control(self, action: str, payload: dict) -> Response:
        actions = {
            "encoder/start": lambda args: self.encoder_start(**args).as_dict(),
            "encoder/push": lambda args: self.encoder_push(**args).as_dict(),
            "encoder/eos": lambda args: self.encoder_eos(**args).as_dict(),
            "encoder/drop": lambda args: self.encoder_drop(**args).as_dict(),
            "state": lambda args: self.set_state(**args).as_dict(),
            "directories": lambda args: {"directories": self.create_directory(**args)},
            "reset": lambda args: self.reset(**args) or {"reset": True},
            "points": lambda args: self.dump_points(**args),
        }
        return self._json_control(actions, action, payload, emulator_error=UspEmulatorError, bad_request=(TypeError, ValueError))

    # -- HTTP --------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        with self.lock:
            interference = self._interference_for(request)
            if interference is not None:
                interference.action(self)
            response = self._api(request) if request.listener == "api" else self._origin(request)
            self.outcomes.append((request, response.status))
        # The answer is held, not the request: nobody can act on what it read
        # until every party has read, so they all read the same state.
        self._pass_gate(request)
        return response

    def _api(self, request: Request) -> Response:
        """UspHandleApi: create, read, update, delete of /<path>/<name>/<name>.isml."""
        if request.raw_query:
            return Response.text("Method Not Allowed: query string in URL\n", 405)
        path = unquote(request.path)
        if not path.endswith(".isml"):
            return Response.text("Unsupported Media Type: URL does not end in .isml\n", 415)
        segments = path.strip("/").split("/")
        name = segments[-1][: -len(".isml")]
        if not name or any(segment in ("", ".", "..") for segment in segments):
            return Response.text("Bad Request: invalid path\n", 400)
        if len(segments) < 2 or segments[-2] != name:
            return Response.text("Bad Request: path and publishing point name are not identical\n", 400)
        key = "/".join(segments[:-1])
        method = "GET" if request.method == "HEAD" else request.method
        handler = {"POST": self._api_create, "GET": self._api_read, "PUT": self._api_update, "DELETE": self._api_delete}.get(method)
        if handler is None:
            response = Response.text("Method Not Allowed\n", 405)
            response.headers["Allow"] = "GET, HEAD, POST, PUT, DELETE"
            return response
        return handler(key, request)

    def _smil_body(self, request: Request) -> tuple[list[tuple[str, str]], etree._Element] | Response:
        if len(request.body) > self.max_smil_bytes:
            return Response.text(f"Request Entity Too Large: smil larger than {self.max_smil_bytes} bytes\n", 413)
        if not request.body.strip():
            return Response.text("Not Found: no smil content provided\n", 404)
        try:
            return parse_smil(request.body)
        except ValueError as exc:
            return Response.text(f"Bad Request: provided smil content malformed: {exc}\n", 400)

    def _api_create(self, key: str, request: Request) -> Response:
        parsed = self._smil_body(request)
        if isinstance(parsed, Response):
            return parsed
        # Reference: "The directory cannot be created as a subdirectory of an existing publishing point."
        inside = [ancestor for ancestor in _ancestors(key) if ancestor in self.points]
        if inside:
            return Response.text(f"Bad Request: {key} is inside publishing point {inside[0]}\n", 400)
        if key in self.points:
            return Response.text("Conflict: publishing point already exists\n", 409)
        if not self._dir_exists(_parent(key)):
            return Response.text(f"Not Found: base path /{_parent(key)} does not exist\n", 404)
        if key in self.directories:
            # Reference: "The directory does not exist prior to the operation."
            return Response.text(f"Internal Server Error: creation of resources failed: directory /{key} exists\n", 500)
        metas, body = parsed
        self.points[key] = PublishingPoint(path=key, head=metas, body=body, updated_us=self._now_us())
        return Response(201)

    def _api_read(self, key: str, request: Request) -> Response:
        point = self.points.get(key)
        if point is None:
            return Response.text("Not Found: publishing point does not exist\n", 404)
        return Response.xml(server_manifest(point.head, point.body))

    def _api_update(self, key: str, request: Request) -> Response:
        parsed = self._smil_body(request)
        if isinstance(parsed, Response):
            return parsed
        point = self.points.get(key)
        if point is None:
            return Response.text("Not Found: publishing point does not exist on server\n", 404)
        # Reference: "Only the playout settings in the smil <head/> will be updated,
        # any options in the <body/> will be ignored."
        point.head = parsed[0]
        return Response(200)

    def _api_delete(self, key: str, request: Request) -> Response:
        point = self.points.get(key)
        if point is None:
            return Response.text("Not Found: publishing point does not exist\n", 404)
        if point.state not in DELETABLE_STATES:
            return Response.text(f"Forbidden: publishing point is {point.state}, not idle, starting or stopped\n", 403)
        self._end_session(point)
        del self.points[key]
        # The whole directory goes, subdirectories included (reference warning).
        self.directories = {path for path in self.directories if path != key and not path.startswith(f"{key}/")}
        return Response(200)

    def _origin(self, request: Request) -> Response:
        """UspHandleIsm: virtual paths after <point>.isml, and the point itself."""
        match = re.fullmatch(r"/((?:[^/]+/)*)([^/]+)\.isml(?:/(.*))?", unquote(request.path))
        if not match:
            return Response.text("Not Found\n", 404)
        directory, name, virtual = match.group(1).rstrip("/"), match.group(2), match.group(3) or ""
        point = self.points.get(directory) if directory.rsplit("/", 1)[-1] == name else None
        if point is None:
            return Response.text("Not Found: no such publishing point\n", 404)
        method = "GET" if request.method == "HEAD" else request.method
        if virtual.startswith("Streams("):
            return Response.text("Not Implemented: ingest is simulated through /_emulator/encoder/*\n", 501)
        handlers = {
            ("GET", ""): self._client_manifest,
            ("GET", "Manifest"): self._client_manifest,
            ("GET", "state"): self._state,
            ("GET", "statistics"): self._statistics,
            ("GET", "archive"): self._archive,
            ("POST", "purge"): self._purge,
        }
        handler = handlers.get((method, virtual))
        if handler is not None:
            return handler(point, request)
        allowed = {verb for verb, known in handlers if known == virtual}
        if allowed:
            response = Response.text("Method Not Allowed\n", 405)
            response.headers["Allow"] = ", ".join(sorted(allowed | ({"HEAD"} if "GET" in allowed else set())))
            return response
        return Response.text(f"Not Found: {virtual}\n", 404)

    def _client_manifest(self, point: PublishingPoint, request: Request) -> Response:
        # What players get from the origin: a Smooth client manifest, not the
        # server manifest the API returns for the same path.
        manifest = etree.Element("SmoothStreamingMedia", MajorVersion="2", MinorVersion="2", TimeScale="10000000", Duration="0", IsLive="TRUE")
        for track in point.tracks:
            url = f"QualityLevels({{bitrate}})/Fragments({track.track_name}={{start time}})"
            stream = etree.SubElement(manifest, "StreamIndex", Type=track.type, Name=track.track_name, QualityLevels="1", Url=url)
            etree.SubElement(stream, "QualityLevel", Index="0", Bitrate=str(track.system_bitrate))
        text = XML_PROLOG + etree.tostring(manifest, pretty_print=True, encoding="unicode")
        return Response(200, text.encode("utf-8"), {"Content-Type": "text/xml; charset=utf-8"})

    def _state(self, point: PublishingPoint, request: Request) -> Response:
        return Response.xml(origin_smil(point.updated_us, [_meta("state", point.state)]))

    def _statistics(self, point: PublishingPoint, request: Request) -> Response:
        tracks = [
            _element(
                track.type,
                [("src", track.src), ("systemBitrate", track.system_bitrate)],
                2,
                [
                    _param("trackID", track.track_id),
                    _param("trackName", track.track_name),
                    _param("state", track.state),
                    _param("updated", iso(track.updated_us)),
                    _param("duration", track.end_us * TICKS_PER_US),
                ],
            )
            for track in point.tracks
        ]
        return Response.xml(origin_smil(point.updated_us, body=tracks))

    def _archive(self, point: PublishingPoint, request: Request) -> Response:
        if not point.archive or not point.tracks:
            # Reference: "a subsequent request to archive would return an HTTP 204 empty response".
            return Response(204)
        ranges = [f"      <c start={quoteattr(iso(start))} end={quoteattr(iso(end))} />" for start, end in point.archive]
        tracks = [
            _element(
                track.type,
                [("src", track.src), ("systemBitrate", track.system_bitrate)],
                2,
                [_param("trackID", track.track_id), _param("trackName", track.track_name), *ranges],
            )
            for track in point.tracks
        ]
        return Response.xml(origin_smil(point.updated_us, body=tracks))

    def _purge(self, point: PublishingPoint, request: Request) -> Response:
        try:
            kind, first, second = parse_purge_t(request.arg("t"))
        except ValueError as exc:
            return Response.text(f"Bad Request: {exc}\n", 400)
        if kind == "all":
            point.archive = []
        elif kind == "keep" and point.archive:
            # "the time given by t is the duration of the archive to be kept on disk"
            latest = point.archive[-1][1]
            point.archive = cut_range(point.archive, 0, latest - first)
        elif kind == "range":
            point.archive = cut_range(point.archive, first, second)
        return Response(200)


if __name__ == "__main__":
    sys.exit(run_cli(UspEmulator))
