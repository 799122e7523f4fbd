# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work of ``usp_archive_purge``: purge a window of the archive if anything is archived in it.

The purge call and its ``t`` parameter: Publishing Point API reference, "Purge
part of an archive"
(https://docs.unified-streaming.com/documentation/live/publishing-point-api.html#purge-part-of-an-archive);
how the module reads ``keep``, ``start`` and ``end``: docs/usp.md, "Purges read the archive first".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.client import UspClient
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.identity import publishing_point_from_params

_DURATION = re.compile(r"^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$")


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
        # from the newest archived media (inferred; the reference names no anchor; docs/usp.md).
        ends = [parse_time(item["end"]) for track in archive for item in track["ranges"]]
        return -math.inf, (max(ends) - self.keep) if ends else -math.inf


def purge_window_from_params(params) -> PurgeWindow:
    """The window of ``all``, ``keep`` or ``start`` and ``end``."""
    # get(): a caller without the module's spec (a test) may leave options out.
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
    # The module's spec (args.ARCHIVE_PURGE_*) refuses this first; kept because test_usp.py asserts this sentence for a call without the spec.
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


def purge_archive(params, context, client=None) -> dict:
    """Work of ``usp_archive_purge``: ``url``, ``t``, ``archive_before`` and ``archive_after`` (read back, or predicted in check mode)."""
    point = publishing_point_from_params(params)
    window = purge_window_from_params(params)
    with client or UspClient(params, context) as usp:
        url = usp.origin_url(point)
        archive_before = usp.read_archive(point)
        result = {"url": url, "t": window.t, "archive_before": archive_before or [], "archive_after": archive_before or []}
        if archive_before is None:
            context.warn(f"publishing point {point.directory} does not exist on the origin; there is nothing to purge")
            return result
        lower, upper = window.bounds(archive_before)
        if not archive_in_window(archive_before, lower, upper):
            return result
        context.perform(usp.purge, point, window.t)
        if context.check_mode:
            archive_after = trim_archive(archive_before, lower, upper)
        else:
            archive_after = usp.read_archive(point) or []
            if params["all"] and archive_after:
                context.warn(
                    f"the archive of {point.directory} is not empty after a complete purge: an encoder is probably still ingesting; "
                    "stop it first if the archive must be empty"
                )
    result["archive_after"] = archive_after
    # A dict, not the bare list: Ansible's diff display serialises mappings and text only (docs/usp.md, "Diff mode").
    context.record_before({"archive": archive_before}, header=url)
    context.record_after({"archive": archive_after}, header=url)
    return result
