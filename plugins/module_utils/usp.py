# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unified Streaming publishing points: client and the work of the usp_* modules.

USP serves a publishing point from two virtual hosts over the same storage
(API reference, "Configuration"; field notes): the API vhost
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

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HTTP_ARGUMENT_SPEC, HttpClient
from ansible_collections.mediaops.streaming.plugins.module_utils.smil import (
    body_differences,
    build_manifest,
    canonical_manifest,
    describe_head_changes,
    find_body,
    head_differences,
    merge_head,
    normalise_options,
    parse_smil,
    read_body_tracks,
    read_head_options,
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

# Letters, digits, '_', '-' and '.', but not '.' or '..' alone: a name is a
# directory on the server, and anything else (/, ?, #, %, spaces) would change
# which resource the URL addresses.
_PATH_PART = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._-]+$")
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


def publishing_point_from_params(params) -> PublishingPoint:
    """Validate ``name`` and ``base_path`` before any request is made."""
    name = params.get("name") or ""
    if not _PATH_PART.match(name):
        raise StreamingError(
            f"invalid publishing point name {name!r}: use letters, digits, '_', '-' and '.' only "
            "(no '/', '..', query strings or spaces); put parent directories in base_path"
        )
    given = (params.get("base_path") or "").strip()
    # One leading and one trailing slash are forgiven ("/events/" is "events");
    # any other empty part is a typo that would address another directory.
    base_path = given[1:] if given.startswith("/") else given
    base_path = base_path[:-1] if base_path.endswith("/") else base_path
    if base_path or given not in ("", "/"):
        for part in base_path.split("/"):
            if not _PATH_PART.match(part):
                raise StreamingError(
                    f"invalid base_path {params.get('base_path')!r}: part {part!r} is not allowed; "
                    "use directory names of letters, digits, '_', '-' and '.' separated by single '/' (no '..', empty parts or query strings)"
                )
    return PublishingPoint(name=name, base_path=base_path)


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
            advice=advice,
            details=details,
        )

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

    def create(self, point: PublishingPoint, manifest: str) -> None:
        # A create is never repeated: if the first POST reached the server, a
        # second one would answer 409 and hide what really happened.
        response = self.http.request("POST", self.api_url(point), data=manifest.encode("utf-8"), headers=_SMIL_HEADERS, repeatable=False)
        status = response.status_code
        if status == 201:
            return
        if status == 409:
            self._fail(response, f"publishing point {point.directory} already exists", "Another process created it meanwhile; run the task again")
        if status == 404:
            self._fail(
                response,
                f"could not create {point.directory}: the base path does not exist or no manifest was sent",
                f"Create the parent directory {point.base_path or '/'} on the server, or check base_path",
            )
        if status == 413:
            self._fail(response, "the manifest is larger than the server accepts (50 MB)")
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

    def update(self, point: PublishingPoint, manifest: str) -> None:
        response = self.http.request("PUT", self.api_url(point), data=manifest.encode("utf-8"), headers=_SMIL_HEADERS)
        if response.status_code == 200:
            return
        if response.status_code == 404:
            self._fail(response, f"publishing point {point.directory} disappeared before it could be updated", "Run the task again to create it")
        if response.status_code == 413:
            self._fail(response, "the manifest is larger than the server accepts (50 MB)")
        self._common_failures(response, point)
        self._fail(response, f"could not update publishing point {point.directory}")

    def delete(self, point: PublishingPoint) -> bool:
        """Delete; True if deleted, False if it did not exist."""
        response = self.http.request("DELETE", self.api_url(point))
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
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
        return False  # pragma: no cover

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
                self._fail(response, f"access to {what} was denied", "The origin virtual host must allow this host to read state, statistics and archive")
            self._fail(response, f"could not read the {what} of publishing point {point.directory}", "Check that origin_url points at the origin virtual host")
        return parse_smil(response.content, source=f"the {what} answer of {point.directory}")

    def read_state(self, point: PublishingPoint) -> dict | None:
        root = self._read_origin(point, "state")
        if root is None or root == "":
            return None
        head = read_head_options(root)
        state = head.get("state")
        if state is None:
            raise StreamingError(f"the state answer of {point.directory} has no 'state' meta", url=self.origin_url(point, "state"))
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
            self._fail(response, f"publishing point {point.directory} does not exist on the origin")
        if response.status_code in (401, 403, 405):
            self._fail(response, "the origin refused the purge", "The origin must allow HTTP POST from this host on the publishing point URL")
        self._fail(response, f"purging the archive of {point.directory} failed")


_SMIL_HEADERS = {"Content-Type": "application/smil+xml; charset=utf-8"}


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


def _desired_manifest(params, point: PublishingPoint):
    """(manifest text, parsed root or None, desired head options) from options/manifest/src."""
    if params.get("manifest") is not None:
        text = params["manifest"]
        root = parse_smil(text, source="the manifest option")
        return text, root, read_head_options(root)
    if params.get("src") is not None:
        try:
            with open(params["src"], "rb") as handle:
                raw = handle.read()
        except OSError as exc:
            raise StreamingError(f"cannot read src {params['src']}: {exc.strerror}") from exc
        root = parse_smil(raw, source=f"src file {params['src']}")
        return raw.decode("utf-8", errors="replace"), root, read_head_options(root)
    options = normalise_options(params.get("options") or {})
    text = build_manifest(point.name, options)
    return text, None, options


def ensure_publishing_point(params, check_mode=False, diff=False, warn=None):
    """Work of ``usp_publishing_point``: make the publishing point match ``params``."""
    point = publishing_point_from_params(params)
    client = UspClient(params, warn)
    url = client.api_url(point)
    desired_text, desired_root, desired_head = _desired_manifest(params, point)
    current_text = client.read_manifest(point)
    current_root = parse_smil(current_text, source=f"the manifest of {point.directory} from the server") if current_text is not None else None

    result = {"changed": False, "url": url}
    before = canonical_manifest(current_root) if current_root is not None else ""

    if params["state"] == "absent":
        if current_root is None:
            return dict(result, settings={}, manifest=None)
        if check_mode:
            state = client._state_for_message(point)
            if state is not None and state not in DELETABLE_STATES:
                raise StreamingError(
                    f"publishing point {point.directory} is {state}: the delete would be refused (only idle, starting or stopped points can be deleted)",
                    advice="Stop the encoder first, then run the task again",
                    details={"publishing_point_state": state},
                )
        else:
            client.delete(point)
        result.update(changed=True, settings={}, manifest=None)
        if diff:
            result["diff"] = {"before": before, "after": "", "before_header": url, "after_header": url}
        return result

    if current_root is None:
        if not check_mode:
            client.create(point, desired_text)
        created_root = desired_root if desired_root is not None else parse_smil(desired_text, source="the built manifest")
        result.update(changed=True, settings=read_head_options(created_root), manifest=desired_text)
        if diff:
            result["diff"] = {"before": "", "after": canonical_manifest(created_root), "before_header": url, "after_header": url}
        return result

    current_head = read_head_options(current_root)
    body_changes = body_differences(current_root, desired_root) if desired_root is not None else []
    head_changes = head_differences(current_head, desired_head)

    if body_changes:
        if not params.get("recreate"):
            raise StreamingError(
                f"publishing point {point.directory} differs in its body, which the API cannot update: " + "; ".join(body_changes),
                advice="Set recreate=true to delete the publishing point and create it again (this removes its archive), "
                "or change the manifest to match the server",
                details={"body_differences": body_changes},
            )
        if not check_mode:
            client.delete(point)
            client.create(point, desired_text)
        result.update(changed=True, recreated=True, settings=desired_head, manifest=desired_text)
        if diff:
            result["diff"] = {"before": before, "after": canonical_manifest(desired_root), "before_header": url, "after_header": url}
        return result

    if not head_changes:
        return dict(result, settings=current_head, manifest=current_text)

    merged_head = merge_head(current_head, desired_head)
    new_text = render_smil(merged_head, find_body(current_root))
    if not check_mode:
        client.update(point, new_text)
    result.update(changed=True, settings=merged_head, manifest=new_text, changes=describe_head_changes(head_changes))
    if diff:
        result["diff"] = {"before": before, "after": canonical_manifest(new_text), "before_header": url, "after_header": url}
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
        info["settings"] = read_head_options(parse_smil(text, source=f"the manifest of {point.directory}")) if text is not None else {}
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
