# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unified Streaming publishing points: client and the work of the usp_* modules.

USP serves a publishing point from two virtual hosts over the same storage
(Publishing Point API, "Configuration",
https://docs.unified-streaming.com/documentation/live/publishing-point-api.html): the API vhost
(``UspHandleApi``) creates, reads, updates and deletes ``name.isml``, and the
origin vhost (``UspHandleIsm``) answers ``/state``, ``/statistics``,
``/archive`` and ``/purge``. The same ``GET name.isml`` means different things
on each, so the two base URLs are separate options and never guessed.

Data flows one way: parameters -> :class:`UspClient` (HTTP only) -> the work
function compares desired with current and decides ``changed``.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ansible.module_utils.basic import env_fallback

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, redact_url, status_advice
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HTTP_ARGUMENT_SPEC, HttpClient, is_connect_failure
from ansible_collections.mediaops.streaming.plugins.module_utils.smil import (
    body_differences,
    build_manifest,
    canonical_manifest,
    check_smil_size,
    describe_head_changes,
    find_body,
    head_differences,
    merge_head,
    normalise_options,
    parse_smil,
    read_body_tracks,
    read_head_options,
    read_smil_file,
    render_smil,
)

USP_ARGUMENT_SPEC = dict(
    api_url=dict(type="str", fallback=(env_fallback, ["USP_API_URL"])),
    origin_url=dict(type="str", fallback=(env_fallback, ["USP_ORIGIN_URL"])),
    username=dict(type="str", fallback=(env_fallback, ["USP_USERNAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["USP_PASSWORD"])),
    **HTTP_ARGUMENT_SPEC,
)

IDENTITY_ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    base_path=dict(type="str", default=""),
)

PUBLISHING_POINT_STATES = ("idle", "starting", "started", "stopping", "stopped")
# API reference, "Delete": the publishing point must be idle, starting or stopped.
DELETABLE_STATES = ("idle", "starting", "stopped")

# Letters, digits, '_', '-' and '.' (ASCII only), but not '.' or '..' alone: a
# name is a directory on the server, and anything else (/, ?, #, %, spaces,
# control characters, look-alike letters) would change which resource the URL
# addresses. Used with fullmatch: "$" would accept a trailing newline.
_PATH_PART = re.compile(r"(?!\.{1,2}\Z)[A-Za-z0-9._-]+")
# A directory or file name on the server's file system (NAME_MAX on Linux and
# most file systems); the point's own file is "{name}.isml", so the name itself
# may use 255 - 5 bytes.
MAX_PATH_PART_BYTES = 255
MAX_NAME_BYTES = MAX_PATH_PART_BYTES - len(".isml")
# The whole "{base_path}/{name}/{name}.isml": far below PATH_MAX (4096 bytes,
# which also holds the document root) and web servers' request-line limits
# (Apache's LimitRequestLine is 8190 bytes by default).
MAX_RESOURCE_BYTES = 1024
# How many times one task reads the point, decides and writes before it gives
# up on a point that other clients keep changing under it.
MAX_ROUNDS = 5
_DURATION = re.compile(r"^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$")


# -- identity ----------------------------------------------------------------


@dataclass(frozen=True)
class PublishingPoint:
    """Where a publishing point lives: ``{base_path}/{name}/{name}.isml``."""

    name: str
    base_path: str = ""

    @property
    def directory(self) -> str:
        return f"{self.base_path}/{self.name}" if self.base_path else self.name

    @property
    def resource(self) -> str:
        return f"{self.directory}/{self.name}.isml"


def _shown(value: str, limit: int = 60) -> str:
    """A user's value for a message: repr (so control characters show as escapes), cut to ``limit`` characters."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"... ({len(value)} characters)"


def publishing_point_from_params(params) -> PublishingPoint:
    """Validate ``name`` and ``base_path`` before any request is made."""
    name = params.get("name") or ""
    if not _PATH_PART.fullmatch(name):
        raise StreamingError(
            f"invalid publishing point name {_shown(name)}: use ASCII letters, digits, '_', '-' and '.' only "
            "(no '/', '..', '%', query strings, spaces or control characters); put parent directories in base_path"
        )
    if len(name) > MAX_NAME_BYTES:
        raise StreamingError(
            f"invalid publishing point name {_shown(name)}: it is {len(name)} bytes long, the limit is {MAX_NAME_BYTES} "
            f"(the server stores the point as the file {{name}}.isml, and file names are limited to {MAX_PATH_PART_BYTES} bytes); use a shorter name"
        )
    given = params.get("base_path") or ""
    # One leading and one trailing slash are forgiven ("/events/" is "events");
    # any other empty part is a typo that would address another directory.
    # Nothing else is trimmed: a stray newline or tab is refused, not guessed away.
    base_path = given[1:] if given.startswith("/") else given
    base_path = base_path[:-1] if base_path.endswith("/") else base_path
    if base_path or given not in ("", "/"):
        for part in base_path.split("/"):
            if not _PATH_PART.fullmatch(part):
                raise StreamingError(
                    f"invalid base_path {_shown(given)}: part {_shown(part)} is not allowed; use directory names of ASCII letters, digits, "
                    "'_', '-' and '.' separated by single '/' (no '..', empty parts, '%', query strings, spaces or control characters)"
                )
            if len(part) > MAX_PATH_PART_BYTES:
                raise StreamingError(
                    f"invalid base_path {_shown(given)}: part {_shown(part)} is {len(part)} bytes long; "
                    f"directory names are limited to {MAX_PATH_PART_BYTES} bytes, so use a shorter one"
                )
    point = PublishingPoint(name=name, base_path=base_path)
    if len(point.resource) > MAX_RESOURCE_BYTES:
        raise StreamingError(
            f"the path of publishing point {_shown(point.directory)} is {len(point.resource)} bytes long ({{base_path}}/{{name}}/{{name}}.isml); "
            f"the limit is {MAX_RESOURCE_BYTES}: use a shorter base_path or name"
        )
    return point


def _base_url(value: str | None, option: str, env: str) -> str:
    if not value:
        raise StreamingError(f"{option} is required for this operation: set the {option} option or the {env} environment variable")
    if not re.match(r"^https?://[^/?#]+", value):
        raise StreamingError(f"{option} must be an http:// or https:// URL of the virtual host, got {value!r}")
    if "?" in value or "#" in value:
        raise StreamingError(f"{option} must not contain a query string or fragment")
    return value.rstrip("/")


# -- client ------------------------------------------------------------------


class UspClient:
    """HTTP calls to the API and origin virtual hosts; maps statuses to errors.

    It never decides ``changed``.
    """

    def __init__(self, params, warn=None):
        self.params = params
        self.http = HttpClient.from_params(params, warn=warn, username=params.get("username"), password=params.get("password"))

    def api_url(self, point: PublishingPoint) -> str:
        return f"{_base_url(self.params.get('api_url'), 'api_url', 'USP_API_URL')}/{point.resource}"

    def origin_url(self, point: PublishingPoint, what: str = "") -> str:
        base = _base_url(self.params.get("origin_url"), "origin_url", "USP_ORIGIN_URL")
        return f"{base}/{point.resource}" + (f"/{what}" if what else "")

    @staticmethod
    def _fail(response, message, advice=None, details=None):
        raise StreamingError(
            message,
            method=response.request.method,
            url=response.url,
            status=response.status_code,
            body=response.text,
            advice=advice or _default_advice(response.status_code),
            details=details,
        )

    @staticmethod
    def parse_answer(text, source: str, url: str, option: str):
        """Parse a SMIL answer to a GET of ``url``; a refusal names the request and says what to check."""
        try:
            return parse_smil(text, source=source)
        except StreamingError as exc:
            raise StreamingError(
                exc.message,
                method="GET",
                url=url,
                status=200,
                advice=f"Check that {option} points at the USP virtual host and that no proxy answers in its place; "
                "the answer was not used, and nothing was changed because of it",
            ) from None

    def _common_failures(self, response, point: PublishingPoint):
        status = response.status_code
        if status == 401:
            self._fail(response, "authentication failed", "Check username and password (USP_USERNAME/USP_PASSWORD) for the API virtual host")
        if status == 403:
            self._fail(response, "access denied", "Check that this host may use the virtual host (IP allow list, credentials)")
        if status == 400:
            self._fail(response, f"the server rejected the request for {point.resource}", "The directory and the .isml must have the same name")
        if status == 405:
            self._fail(response, "the server refused the method or the URL has a query string", "Check that api_url points at the API virtual host")
        if status == 415:
            self._fail(response, "the URL does not end in .isml", "Check api_url and base_path")

    def read_manifest(self, point: PublishingPoint) -> str | None:
        """The publishing point's server manifest (SMIL text), or None if there is none."""
        response = self.http.request("GET", self.api_url(point))
        if response.status_code == 200:
            return response.text
        if response.status_code == 404:
            return None
        self._common_failures(response, point)
        self._fail(response, f"could not read publishing point {point.directory}")
        return None  # pragma: no cover

    def create(self, point: PublishingPoint, manifest: str) -> bool:
        """POST the manifest: True if this request created the point, False if it already existed (HTTP 409).

        Raises :class:`UncertainCreate` when the request may have reached the
        server but its answer did not come back.
        """
        data = manifest.encode("utf-8")
        check_smil_size(len(data), f"the manifest for {point.directory}", sending=True)
        url = self.api_url(point)
        # A create is never repeated: if the first POST reached the server, a
        # second one would answer 409 and hide what really happened.
        try:
            response = self.http.request("POST", url, data=data, headers=_SMIL_HEADERS, repeatable=False)
        except StreamingError as exc:
            if exc.__cause__ is not None and is_connect_failure(exc.__cause__):
                raise  # no connection, so nothing was sent
            raise UncertainCreate(exc) from exc
        status = response.status_code
        if status == 201:
            return True
        if status == 409:
            return False
        if status in (502, 504):
            # A gateway answered: it may have passed the POST on before it gave up.
            raise UncertainCreate(
                StreamingError(f"a gateway answered the create of {point.directory} with an error", method="POST", url=url, status=status, body=response.text)
            )
        if status == 404:
            self._fail(
                response,
                f"could not create {point.directory}: the base path does not exist or no manifest was sent",
                f"Create the parent directory {point.base_path or '/'} on the server, or check base_path",
            )
        if status == 413:
            self._fail(response, "the manifest is larger than the server accepts (50 MB)", "Make the manifest smaller")
        if status == 400:
            self._fail(
                response,
                f"the server rejected the manifest for {point.directory}",
                "The SMIL may be malformed, or base_path may be inside another publishing point",
            )
        if status == 500:
            self._fail(response, f"the server failed to create the resources of {point.directory}", "See the web server's error log")
        self._common_failures(response, point)
        self._fail(response, f"could not create publishing point {point.directory}")
        return False  # pragma: no cover

    def update(self, point: PublishingPoint, manifest: str) -> bool:
        """PUT the manifest: True if updated, False if the point does not exist (HTTP 404)."""
        data = manifest.encode("utf-8")
        check_smil_size(len(data), f"the manifest for {point.directory}", sending=True)
        response = self.http.request("PUT", self.api_url(point), data=data, headers=_SMIL_HEADERS)
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            # The body is never empty, so this is "does not exist on server" (reference, Update).
            return False
        if response.status_code == 413:
            self._fail(response, "the manifest is larger than the server accepts (50 MB)", "Make the manifest smaller")
        self._common_failures(response, point)
        self._fail(response, f"could not update publishing point {point.directory}")
        return False  # pragma: no cover

    def delete(self, point: PublishingPoint) -> str:
        """DELETE: "deleted", "missing" (HTTP 404), or "repeated" (404 to a repeat of a DELETE whose first answer was lost)."""
        response = self.http.request("DELETE", self.api_url(point))
        if response.status_code == 200:
            return "deleted"
        if response.status_code == 404:
            return "repeated" if getattr(response, "attempts", 1) > 1 else "missing"
        if response.status_code == 403:
            state = self._state_for_message(point)
            self._fail(
                response,
                f"publishing point {point.directory} cannot be deleted while it is {state or 'ingesting (not idle, starting or stopped)'}; nothing was deleted",
                "Stop the encoder first (it must send End Of Stream so the point becomes 'stopped'), wait for the state with "
                "mediaops.streaming.usp_publishing_point_info wait_for=[stopped, idle], then run this task again",
                details={"publishing_point_state": state},
            )
        if response.status_code == 500:
            self._fail(
                response, f"the server failed to delete the resources of {point.directory}", "See the web server's error log; the point may be half deleted"
            )
        self._common_failures(response, point)
        self._fail(response, f"could not delete publishing point {point.directory}")
        return "missing"  # pragma: no cover

    def _state_for_message(self, point: PublishingPoint) -> str | None:
        """Best-effort state for an error message; never raises."""
        if not self.params.get("origin_url"):
            return None
        try:
            state = self.read_state(point)
        except StreamingError:
            return None
        return state["state"] if state else None

    def _read_origin(self, point: PublishingPoint, what: str):
        response = self.http.request("GET", self.origin_url(point, what))
        if response.status_code == 404:
            return None
        if response.status_code == 204:
            return ""
        if response.status_code != 200:
            if response.status_code in (401, 403):
                self._fail(
                    response,
                    f"access to {what} was denied",
                    "Check that the origin virtual host allows this host to read state, statistics and archive, and username and password if it asks for them",
                )
            self._fail(response, f"could not read the {what} of publishing point {point.directory}", "Check that origin_url points at the origin virtual host")
        return self.parse_answer(response.content, f"the {what} answer of {point.directory}", self.origin_url(point, what), "origin_url")

    def read_state(self, point: PublishingPoint) -> dict | None:
        root = self._read_origin(point, "state")
        if root is None or root == "":
            return None
        head = read_head_options(root)
        state = head.get("state")
        if state is None:
            raise StreamingError(
                f"the state answer of {point.directory} has no 'state' meta",
                method="GET",
                url=self.origin_url(point, "state"),
                status=200,
                advice="Check that origin_url points at the USP origin virtual host",
            )
        return {"state": state, "updated": head.get("updated")}

    def read_statistics(self, point: PublishingPoint) -> list | None:
        root = self._read_origin(point, "statistics")
        if root is None:
            return None
        if root == "":
            return []
        return [_statistics_track(track) for track in read_body_tracks(root)]

    def read_archive(self, point: PublishingPoint) -> list | None:
        """Archived ranges per track; [] when empty (HTTP 204), None when the point does not exist."""
        root = self._read_origin(point, "archive")
        if root is None:
            return None
        if root == "":
            return []
        return [_archive_track(track) for track in read_body_tracks(root)]

    def purge(self, point: PublishingPoint, window: str) -> None:
        # Purging a window twice leaves the same archive, so a retry is safe.
        response = self.http.request("POST", self.origin_url(point, "purge"), params={"t": window}, data=b"", repeatable=True)
        if response.status_code in (200, 204):
            return
        if response.status_code == 404:
            self._fail(response, f"publishing point {point.directory} does not exist on the origin", "Check name, base_path and origin_url")
        if response.status_code in (401, 403, 405):
            self._fail(
                response,
                "the origin refused the purge",
                "Check that the origin allows HTTP POST from this host on the publishing point URL, and username and password if it asks for them",
            )
        self._fail(response, f"purging the archive of {point.directory} failed")


_SMIL_HEADERS = {"Content-Type": "application/smil+xml; charset=utf-8"}


def _default_advice(status: int) -> str:
    """What to do about an answer that neither the reference nor the HTTP status explains (an HTML page with 200, a 418)."""
    return status_advice(status) or "Check that api_url or origin_url points at the USP virtual host for this call, then run the task again"


class UncertainCreate(Exception):
    """A create POST that may have reached the server, but whose answer was lost (``error`` says how)."""

    def __init__(self, error: StreamingError):
        super().__init__(str(error))
        self.error = error


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _statistics_track(track: dict) -> dict:
    params = track["params"]
    return {
        "src": track["src"],
        "type": track["type"],
        "system_bitrate": track["system_bitrate"],
        "track_id": _int_or_none(params.get("trackID")),
        "track_name": params.get("trackName"),
        "state": params.get("state"),
        "updated": params.get("updated"),
        "duration": _int_or_none(params.get("duration")),
    }


def _archive_track(track: dict) -> dict:
    params = track["params"]
    return {
        "src": track["src"],
        "type": track["type"],
        "track_id": _int_or_none(params.get("trackID")),
        "track_name": params.get("trackName"),
        "ranges": [{"start": item["start"], "end": item["end"]} for item in track["ranges"]],
    }


# -- usp_publishing_point ----------------------------------------------------


@dataclass(frozen=True)
class _Desired:
    """What the task wants on the server: the manifest to send, its parsed root (None when built from options) and its head."""

    text: str
    root: object
    head: dict


def _desired_manifest(params, point: PublishingPoint) -> _Desired:
    """The desired manifest from ``options``, ``manifest`` or ``src``, refused before any request when unsafe or too large."""
    if params.get("manifest") is not None:
        text = params["manifest"]
        check_smil_size(len(text.encode("utf-8")), "the manifest option", sending=True)
        root = parse_smil(text, source="the manifest option")
        return _Desired(text, root, read_head_options(root))
    if params.get("src") is not None:
        source = f"src file {params['src']}"
        raw = read_smil_file(params["src"], source)
        root = parse_smil(raw, source=source)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            # It is sent as UTF-8 text; replacing undecodable bytes would send another document.
            raise StreamingError(f"{source} is not UTF-8 text: save it as UTF-8 (mp4split writes UTF-8)") from None
        return _Desired(text, root, read_head_options(root))
    options = normalise_options(params.get("options") or {})
    text = build_manifest(point.name, options)
    check_smil_size(len(text.encode("utf-8")), "the manifest built from the options", sending=True)
    return _Desired(text, None, options)


def ensure_publishing_point(params, check_mode=False, diff=False, warn=None):
    """Work of ``usp_publishing_point``: make the publishing point match ``params``."""
    warn = warn or (lambda message: None)
    point = publishing_point_from_params(params)
    desired = _desired_manifest(params, point)
    client = UspClient(params, warn)
    if params["state"] == "absent":
        return _ensure_absent(client, point, check_mode, diff, warn)
    return _PresentRun(client, point, desired, params, check_mode, diff, warn).run()


def _read_current(client: UspClient, point: PublishingPoint):
    """(text, parsed root) of the point on the server, or (None, None)."""
    text = client.read_manifest(point)
    if text is None:
        return None, None
    return text, client.parse_answer(text, f"the manifest of {point.directory} from the server", client.api_url(point), "api_url")


def _ensure_absent(client: UspClient, point: PublishingPoint, check_mode, diff, warn):
    url = client.api_url(point)
    result = {"changed": False, "url": url, "settings": {}, "manifest": None}
    _text, current_root = _read_current(client, point)
    if current_root is None:
        return result
    if check_mode:
        state = client._state_for_message(point)
        if state is not None and state not in DELETABLE_STATES:
            raise StreamingError(
                f"publishing point {point.directory} is {state}: the delete would be refused (only idle, starting or stopped points can be deleted)",
                advice="Stop the encoder first, then run the task again",
                details={"publishing_point_state": state},
            )
    else:
        outcome = client.delete(point)
        if outcome == "missing":
            # Absent is what the task wants, so this is success; but it was not this task's doing.
            warn(f"publishing point {point.directory} was deleted by another client between this task's read and its delete; this task deleted nothing")
            return result
        if outcome == "repeated":
            warn(
                f"the answer to the delete of {point.directory} was lost and the repeated delete found nothing: "
                "the first request most likely deleted it, so this task reports a change"
            )
    result["changed"] = True
    if diff:
        result["diff"] = {"before": canonical_manifest(current_root), "after": "", "before_header": url, "after_header": url}
    return result


class _PresentRun:
    """``state=present``: rounds of read, compare and write until the point matches or ``MAX_ROUNDS`` is spent.

    Another client (a second fork, a second operator) may create, update or
    delete the point between this task's read and its write. Each answer that
    says so (409 to a create, 404 to an update or delete) starts a new round
    from a fresh read instead of failing, and ``changed`` says whether this
    task's own requests changed the server.
    """

    def __init__(self, client: UspClient, point: PublishingPoint, desired: _Desired, params, check_mode, diff, warn):
        self.client = client
        self.point = point
        self.desired = desired
        self.recreate = bool(params.get("recreate"))
        self.check_mode = check_mode
        self.diff = diff
        self.warn = warn
        self.url = client.api_url(point)
        self.writes: list[str] = []  # what this task's own requests did: created, updated, deleted
        self.pending = None  # (text, root) read back after a create whose answer was lost
        self.vanished = False  # an update found the point deleted by another client
        self.recreated = False
        self.first_read = True
        self.before_root = None  # the point as this task first found it, for the diff

    def run(self):
        # One round more than MAX_ROUNDS only to compare what a read-back in the last round found.
        for round_number in range(MAX_ROUNDS + 1):
            if round_number == MAX_ROUNDS and self.pending is None:
                break
            if self.pending is not None:
                (current_text, current_root), self.pending = self.pending, None
            else:
                current_text, current_root = _read_current(self.client, self.point)
            if self.first_read:
                self.first_read, self.before_root = False, current_root
            result = self._create() if current_root is None else self._converge(current_text, current_root)
            if result is not None:
                return result
        done = " and ".join(dict.fromkeys(self.writes))
        raise StreamingError(
            f"publishing point {self.point.directory} ({redact_url(self.url)}) kept changing while this task worked on it: in {MAX_ROUNDS} rounds "
            "of read, compare and write, another client created, updated or deleted it before each write ("
            + (f"this task {done} it on the way" if done else "this task changed nothing")
            + ")",
            url=self.url,
            advice="Run the task again when the other clients are done, or let one host manage the point (run_once: true, or throttle: 1)",
        )

    def _post(self) -> bool:
        """POST the desired manifest; True if this task's request created the point.

        False when another client had created it (409), or when the answer was
        lost and reading back found the point (``self.pending`` then holds it).
        """
        try:
            created = self.client.create(self.point, self.desired.text)
        except UncertainCreate as exc:
            self._read_back(exc.error)
            return False
        if created:
            self.writes.append("created")
        return created

    def _read_back(self, error: StreamingError) -> None:
        """After a create whose answer was lost: read the point once, never POST again."""
        try:
            text, root = _read_current(self.client, self.point)
        except StreamingError as read_error:
            raise StreamingError(
                f"whether publishing point {self.point.directory} was created is unknown: the create failed ({error.message}) "
                f"and reading the point back failed too ({read_error.message})",
                method=read_error.method,
                url=read_error.url,
                status=read_error.status,
                body=read_error.body_excerpt,
                advice="Check it with mediaops.streaming.usp_publishing_point_info, or run the task again: it creates the point or finds it",
            ) from None
        if root is None:
            raise StreamingError(
                f"publishing point {self.point.directory} was not created: {error.message}; reading it back shows that it does not exist, "
                "so nothing was created as far as the server shows, and the create was not sent again",
                method=error.method,
                url=error.url,
                status=error.status,
                body=error.body_excerpt,
                advice="Run the task again: that is safe, it creates the point, or finds it if the server completes the create late",
            )
        # Most likely this task's request created it: reported as a change, then compared like any other point.
        self.writes.append("created")
        self.warn(f"the create of {self.point.directory} got no answer ({error.message}), but the point exists now; this task reports it as created")
        self.pending = (text, root)

    def _create(self):
        created_root = self.desired.root if self.desired.root is not None else parse_smil(self.desired.text, source="the built manifest")
        if not self.check_mode:
            if not self._post():
                return None  # another client created it after our read, or a read-back found it: compare
            if self.vanished:
                self.warn(
                    f"publishing point {self.point.directory} was deleted by another client while this task updated it; "
                    "it was created again with the desired settings"
                )
        return self._result(True, read_head_options(created_root), self.desired.text, created_root)

    def _converge(self, current_text: str, current_root):
        current_head = read_head_options(current_root)
        body_changes = body_differences(current_root, self.desired.root) if self.desired.root is not None else []
        if body_changes:
            return self._recreate(body_changes)
        head_changes = head_differences(current_head, self.desired.head)
        if not head_changes:
            return self._result(bool(self.writes), current_head, current_text, current_root)
        merged_head = merge_head(current_head, self.desired.head)
        new_text = render_smil(merged_head, find_body(current_root))
        if not self.check_mode:
            if not self.client.update(self.point, new_text):
                self.vanished = True
                return None  # deleted by another client after our read: the next round creates it
            self.writes.append("updated")
        result = self._result(True, merged_head, new_text, new_text)
        result["changes"] = describe_head_changes(head_changes)
        return result

    def _recreate(self, body_changes: list[str]):
        point = self.point
        if not self.recreate:
            raise StreamingError(
                f"publishing point {point.directory} differs in its body, which the API cannot update: " + "; ".join(body_changes),
                advice="Set recreate=true to delete the publishing point and create it again (this removes its archive), "
                "or change the manifest to match the server",
                details={"body_differences": body_changes},
            )
        if self.check_mode:
            self.recreated = True
        else:
            deleted = self.client.delete(point) != "missing"
            if deleted:
                self.writes.append("deleted")
            created = self._post()
            self.recreated = self.recreated or deleted or created or self.pending is not None
            if not created:
                return None  # another client created it between our delete and our create, or a read-back found it: compare again
        return self._result(True, self.desired.head, self.desired.text, self.desired.root)

    def _result(self, changed: bool, settings: dict, manifest: str, after) -> dict:
        result = {"changed": changed, "url": self.url, "settings": settings, "manifest": manifest}
        if self.recreated:
            result["recreated"] = True
        if changed and self.diff:
            before = canonical_manifest(self.before_root) if self.before_root is not None else ""
            result["diff"] = {"before": before, "after": canonical_manifest(after), "before_header": self.url, "after_header": self.url}
        return result


# -- usp_publishing_point_info ----------------------------------------------

GATHER_CHOICES = ("settings", "state", "statistics", "archive")


def read_publishing_point_info(params, check_mode=False, diff=False, warn=None):
    """Work of ``usp_publishing_point_info``: read, and optionally wait for a state."""
    point = publishing_point_from_params(params)
    client = UspClient(params, warn)
    gather = params.get("gather")
    if not gather:
        gather = ["settings"] if params.get("api_url") else []
        if params.get("origin_url"):
            gather += ["state", "statistics", "archive"]
        if not gather:
            raise StreamingError("set api_url (USP_API_URL) and/or origin_url (USP_ORIGIN_URL): there is nothing to read without them")

    info = {
        "exists": None,
        "url": client.api_url(point) if params.get("api_url") else client.origin_url(point),
        "settings": None,
        "state": None,
        "updated": None,
        "tracks": None,
        "archive": None,
    }

    waited = 0.0
    if params.get("wait_for"):
        state, waited = _wait_for_state(client, point, params)
        info.update(exists=state is not None, state=state and state["state"], updated=state and state["updated"])

    if "settings" in gather:
        text = client.read_manifest(point)
        info["exists"] = text is not None
        if text is None:
            info["settings"] = {}
        else:
            info["settings"] = read_head_options(
                client.parse_answer(text, f"the manifest of {point.directory} from the server", client.api_url(point), "api_url")
            )
    if "state" in gather and not params.get("wait_for"):
        state = client.read_state(point)
        info.update(state=state and state["state"], updated=state and state["updated"])
        if info["exists"] is None:
            info["exists"] = state is not None
    if "statistics" in gather:
        info["tracks"] = client.read_statistics(point) or []
    if "archive" in gather:
        archive = client.read_archive(point)
        info["archive"] = archive or []
        if info["exists"] is None:
            info["exists"] = archive is not None
    return {"changed": False, "publishing_point": info, "waited": round(waited, 3)}


def _wait_for_state(client: UspClient, point: PublishingPoint, params):
    wanted = params["wait_for"]
    timeout = params.get("wait_timeout", 300)
    interval = max(0.1, params.get("wait_interval", 5))
    started = time.monotonic()
    while True:
        state = client.read_state(point)
        if state is not None and state["state"] in wanted:
            return state, time.monotonic() - started
        elapsed = time.monotonic() - started
        if elapsed >= timeout:
            last = state["state"] if state else "does not exist"
            raise StreamingError(
                f"publishing point {point.directory} did not reach {' or '.join(wanted)} within {timeout:g}s (last state: {last})",
                advice="If an encoder is still ingesting, stop it (it must send End Of Stream); raise wait_timeout if it is just slow",
                details={"publishing_point_state": state and state["state"]},
            )
        time.sleep(min(interval, max(0.0, timeout - elapsed)))


# -- usp_archive_purge -------------------------------------------------------


def parse_duration(value: str, option: str) -> float:
    """``HH:MM:SS[.fff]`` (hours may exceed 24) as seconds."""
    match = _DURATION.match(str(value).strip())
    if not match:
        raise StreamingError(f"{option} must be a duration HH:MM:SS (hours may exceed 24, e.g. 48:00:00), got {value!r}")
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def parse_time(value: str) -> float:
    """An ISO 8601 time from the server (``...Z`` or no zone = UTC) as epoch seconds."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def parse_purge_point(value: str, option: str) -> tuple[str, float]:
    """A range end from the user: ``HH:MM:SS`` offset on the media timeline or ISO 8601 time.

    Returns the text to send and the point in epoch seconds. The reference
    shows offsets and times on one timeline whose zero is 1970-01-01T00:00:00Z.
    """
    text = str(value).strip()
    if _DURATION.match(text):
        return text, parse_duration(text, option)
    try:
        seconds = parse_time(text)
    except ValueError:
        raise StreamingError(f"{option} must be HH:MM:SS (offset) or an ISO 8601 time such as 2026-11-23T10:00:00Z, got {value!r}") from None
    # The reference's own example sends UTC times without a zone designator.
    shown = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return shown, seconds


@dataclass(frozen=True)
class PurgeWindow:
    """What to send as ``t`` and which part of the timeline it removes."""

    t: str
    lower: float
    upper: float
    keep: float | None = None

    def bounds(self, archive: list) -> tuple[float, float]:
        if self.keep is None:
            return self.lower, self.upper
        # "t is the duration of the archive to be kept on disk": measured back
        # from the newest archived media (inferred; the reference names no anchor).
        ends = [parse_time(item["end"]) for track in archive for item in track["ranges"]]
        return -math.inf, (max(ends) - self.keep) if ends else -math.inf


def purge_window_from_params(params) -> PurgeWindow:
    if params.get("all"):
        return PurgeWindow("0", -math.inf, math.inf)
    if params.get("keep") is not None:
        keep = parse_duration(params["keep"], "keep")
        return PurgeWindow(str(params["keep"]).strip(), -math.inf, math.inf, keep=keep)
    if params.get("start") is not None and params.get("end") is not None:
        start_text, start = parse_purge_point(params["start"], "start")
        end_text, end = parse_purge_point(params["end"], "end")
        if end <= start:
            raise StreamingError(f"end ({params['end']}) must be after start ({params['start']})")
        return PurgeWindow(f"{start_text}-{end_text}", start, end)
    raise StreamingError("set exactly one of: all=true, keep (HH:MM:SS), or start and end")


def archive_in_window(archive: list, lower: float, upper: float) -> bool:
    return any(parse_time(item["start"]) < upper and parse_time(item["end"]) > lower for track in archive for item in track["ranges"])


def trim_archive(archive: list, lower: float, upper: float) -> list:
    """The archive as it would be after removing ``[lower, upper)`` (check-mode prediction)."""

    def iso(seconds: float) -> str:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    trimmed = []
    for track in archive:
        ranges = []
        for item in track["ranges"]:
            start, end = parse_time(item["start"]), parse_time(item["end"])
            if end <= lower or start >= upper:
                ranges.append(dict(item))
                continue
            if start < lower:
                ranges.append({"start": item["start"], "end": iso(lower)})
            if end > upper:
                ranges.append({"start": iso(upper), "end": item["end"]})
        if ranges:
            trimmed.append(dict(track, ranges=ranges))
    return trimmed


def purge_archive(params, check_mode=False, diff=False, warn=None):
    """Work of ``usp_archive_purge``: purge the window if anything is archived in it."""
    warn = warn or (lambda message: None)
    point = publishing_point_from_params(params)
    window = purge_window_from_params(params)
    client = UspClient(params, warn)
    archive_before = client.read_archive(point)
    result = {"changed": False, "url": client.origin_url(point), "t": window.t, "archive_before": archive_before or [], "archive_after": archive_before or []}
    if archive_before is None:
        warn(f"publishing point {point.directory} does not exist on the origin; there is nothing to purge")
        return result
    lower, upper = window.bounds(archive_before)
    if not archive_in_window(archive_before, lower, upper):
        return result
    result["changed"] = True
    if check_mode:
        result["archive_after"] = trim_archive(archive_before, lower, upper)
        return result
    client.purge(point, window.t)
    archive_after = client.read_archive(point) or []
    result["archive_after"] = archive_after
    if params.get("all") and archive_after:
        warn(
            f"the archive of {point.directory} is not empty after a complete purge: an encoder is probably still ingesting; "
            "stop it first if the archive must be empty"
        )
    return result
