# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which publishing point a task means, and on which virtual hosts: checked before any request.

A publishing point is the server manifest ``{base_path}/{name}/{name}.isml``
(docs/usp.md, "Names are checked before any request" and "Limits"). USP serves
it from two virtual hosts over the same storage (Publishing Point API,
https://docs.unified-streaming.com/documentation/live/publishing-point-api.html):
the API vhost (``UspHandleApi``) creates, reads, updates and deletes
``name.isml``, and the origin vhost (``UspHandleIsm``) answers ``/state``,
``/statistics``, ``/archive`` and ``/purge``. The same ``GET name.isml`` means
different things on each, so the two base URLs are separate options and never
guessed (docs/usp.md, "Two virtual hosts, two URLs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError

PUBLISHING_POINT_STATES = ("idle", "starting", "started", "stopping", "stopped")
# Publishing Point API reference, "Delete": the point must be idle, starting or stopped.
DELETABLE_STATES = ("idle", "starting", "stopped")

# Letters, digits, '_', '-' and '.' (ASCII only), but not '.' or '..' alone: a
# name is a directory on the server, and anything else (/, ?, #, %, spaces,
# control characters, look-alike letters) would change which resource the URL
# addresses. Used with fullmatch: "$" would accept a trailing newline.
_PATH_PART = re.compile(r"(?!\.{1,2}\Z)[A-Za-z0-9._-]+")
# A directory or file name on the server's file system (NAME_MAX on Linux and
# most file systems); the point's own file is "{name}.isml", so the name itself
# may use 255 - 5 bytes (docs/usp.md, "Limits").
MAX_PATH_PART_BYTES = 255
MAX_NAME_BYTES = MAX_PATH_PART_BYTES - len(".isml")
# The whole "{base_path}/{name}/{name}.isml": far below PATH_MAX (4096 bytes,
# which also holds the document root) and web servers' request-line limits
# (docs/usp.md, "Limits").
MAX_RESOURCE_BYTES = 1024


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


def _check_part(part: str, max_bytes: int, bad_characters: str, too_long: str) -> None:
    """The two rules for every part of a point's path (characters, then length), each broken rule raised with the caller's words."""
    if not _PATH_PART.fullmatch(part):
        raise StreamingError(bad_characters)
    if len(part) > max_bytes:
        raise StreamingError(too_long)


def _check_name(name: str) -> None:
    _check_part(
        name,
        MAX_NAME_BYTES,
        bad_characters=f"invalid publishing point name {_shown(name)}: use ASCII letters, digits, '_', '-' and '.' only "
        "(no '/', '..', '%', query strings, spaces or control characters); put parent directories in base_path",
        too_long=f"invalid publishing point name {_shown(name)}: it is {len(name)} bytes long, the limit is {MAX_NAME_BYTES} "
        f"(the server stores the point as the file {{name}}.isml, and file names are limited to {MAX_PATH_PART_BYTES} bytes); use a shorter name",
    )


def _checked_base_path(given: str) -> str:
    """``base_path`` without its one forgiven leading and trailing slash, every part checked."""
    # One leading and one trailing slash are forgiven ("/events/" is "events");
    # any other empty part is a typo that would address another directory.
    # Nothing else is trimmed: a stray newline or tab is refused, not guessed away.
    base_path = given[1:] if given.startswith("/") else given
    base_path = base_path[:-1] if base_path.endswith("/") else base_path
    if not base_path and given in ("", "/"):
        return base_path
    for part in base_path.split("/"):
        _check_part(
            part,
            MAX_PATH_PART_BYTES,
            bad_characters=f"invalid base_path {_shown(given)}: part {_shown(part)} is not allowed; use directory names of ASCII letters, digits, "
            "'_', '-' and '.' separated by single '/' (no '..', empty parts, '%', query strings, spaces or control characters)",
            too_long=f"invalid base_path {_shown(given)}: part {_shown(part)} is {len(part)} bytes long; "
            f"directory names are limited to {MAX_PATH_PART_BYTES} bytes, so use a shorter one",
        )
    return base_path


def publishing_point_from_params(params) -> PublishingPoint:
    """Validate ``name`` and ``base_path`` before any request is made."""
    # get(): the point may be named by a caller without the spec's defaults (a test, an action plugin).
    name = params.get("name") or ""
    _check_name(name)
    point = PublishingPoint(name=name, base_path=_checked_base_path(params.get("base_path") or ""))
    if len(point.resource) > MAX_RESOURCE_BYTES:
        raise StreamingError(
            f"the path of publishing point {_shown(point.directory)} is {len(point.resource)} bytes long ({{base_path}}/{{name}}/{{name}}.isml); "
            f"the limit is {MAX_RESOURCE_BYTES}: use a shorter base_path or name"
        )
    return point


def base_url(value: str | None, option: str, env: str) -> str:
    """The base URL of a virtual host from option ``option``, without its trailing slash; refused when missing or not a plain http(s) URL."""
    # Not "required" in the argument spec: each module needs api_url or origin_url only for some
    # operations, and this message names the environment variable, which Ansible's would not.
    if not value:
        raise StreamingError(f"{option} is required for this operation: set the {option} option or the {env} environment variable")
    if not re.match(r"^https?://[^/?#]+", value):
        raise StreamingError(f"{option} must be an http:// or https:// URL of the virtual host, got {value!r}")
    if "?" in value or "#" in value:
        raise StreamingError(f"{option} must not contain a query string or fragment")
    return value.rstrip("/")
