# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the playbook names, checked before it becomes part of a Stream Manager request.

Stream Manager 1.x's REST API (``{url}/streammanager/api/{version}/...``) is
spoken in versions 1.0, 2.0, 3.0, 3.1 and 4.0, and Stream Manager 2.0's
(``{url}/as/v1/...``) as ``sm2``; which optional parameters each version has is
kept here (docs/red5.md, "API versions"), so that a parameter a version lacks
is refused before any request instead of being silently ignored by the server.
Scopes, stream names, regions and geozones become path segments or query
values as they are, so they are checked character by character
(docs/red5.md, "Refused before any request").
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import describe, printable

# The Stream Manager 1.x REST API versions (paths /streammanager/api/{version}/).
API_VERSIONS = ("1.0", "2.0", "3.0", "3.1", "4.0")
# Stream Manager 2.0 (/as/v1, JWT login), and "detect which one the server speaks".
SM2 = "sm2"
AUTO = "auto"
API_VERSION_CHOICES = (*API_VERSIONS, SM2, AUTO)
DEFAULT_API_VERSION = "2.0"
DEFAULT_NODE_GROUP = "default"
ACTIONS = ("broadcast", "subscribe")

# Optional parameters that only some API versions accept (docs/red5.md, "API versions").
# Older servers ignore unknown query parameters, so sending them would silently
# do something else than asked (fall back to another region despite strict,
# clear live entries despite include_active=false): they are refused instead.
# Stream Manager 2.0 has strict and endpoints on its subscribe lookup; geozones
# became sub-groups, transcoding needs provisions, and nothing clears entries.
PARAMETER_VERSIONS = {
    "strict": ("3.1", "4.0", SM2),
    "geozone": ("3.1", "4.0"),
    "endpoints": ("3.1", "4.0", SM2),
    "transcode": ("3.1", "4.0"),
    "include_active": ("3.1", "4.0"),
}
_PARAMETER_ADVICE_SM2 = {
    "geozone": "On Stream Manager 2.0, give the sub-group (or a parent sub-group, or a comma-separated preference list) as region",
    "transcode": "Stream Manager 2.0 transcodes only provisioned streams, whose variants are streams of their own (name_1, name_2...): look them up by name",
    "include_active": "Stream Manager 2.0 has nothing to clear: its stream entries expire by themselves",
}

# The versions whose admin delete clears only inactive entries unless
# includeActive=true; the others clear every entry (docs/red5.md, "API versions").
VERSIONS_CLEARING_ONLY_INACTIVE = ("3.1", "4.0")

# What a scope part or a stream name may hold. It becomes a path segment
# as it is: "/", "?", "#" and "%" would change which resource is asked for,
# and control characters or spaces are template accidents.
_SEGMENT_CHARACTERS = "A-Za-z0-9_.~@+=,:-"
_NOT_IN_SEGMENT = re.compile(f"[^{_SEGMENT_CHARACTERS}]")
_NOT_IN_SCOPE = re.compile(f"[^/{_SEGMENT_CHARACTERS}]")
_SEGMENT_ADVICE = "Use letters, digits and _ . ~ @ + = , : - in each part; nested scopes are written with / (for example live/sub)"
# Far above real scope and stream names, far below what a server or proxy
# accepts in a request line.
MAX_SEGMENT_LENGTH = 255
# Red5 Pro's node group names (installation guide: at most 16 characters).
_NODE_GROUP = re.compile(r"[A-Za-z0-9_.-]{1,16}")
MAX_SCOPE_LENGTH = 1024


def _character(char: str) -> str:
    return f'"{char}"' if char.isprintable() and char != " " else f"U+{ord(char):04X}"


def _check_path_text(value: str, what: str, pattern: re.Pattern) -> None:
    """Refuse the first character of ``value`` that ``pattern`` finds, naming it and its position."""
    bad = pattern.search(value)
    if bad:
        raise StreamingError(
            f'invalid {what} "{printable(value, 60, collapse=False)}": the character {_character(bad.group())} at position {bad.start() + 1} is not allowed',
            advice=_SEGMENT_ADVICE,
        )


def _check_segment(segment: str, what: str, value: str) -> None:
    shown = printable(value, 60, collapse=False)
    if segment in ("", ".", ".."):
        raise StreamingError(f'invalid {what} "{shown}": "{segment}" cannot be a part of a path', advice=_SEGMENT_ADVICE)
    if len(segment) > MAX_SEGMENT_LENGTH:
        raise StreamingError(f'invalid {what} "{shown}": a part of {len(segment)} characters is longer than {MAX_SEGMENT_LENGTH}', advice=_SEGMENT_ADVICE)


def normalise_scope(scope: str | None) -> str:
    """A scope as the collection compares and returns it: no leading or trailing slash.

    Read and stats answers carry ``"/live"``, 3.1/4.0 list items ``"live"``
    (docs/red5.md, "API versions"); both mean the same scope.
    """
    return (scope or "").strip().strip("/")


def validate_scope(scope: str | None) -> str:
    """The scope without leading and trailing slashes, or StreamingError when a part of it cannot be a path segment.

    Only slashes are dropped: a space or a newline around it is refused like
    one inside it, so that nothing the playbook did not mean reaches the server.
    """
    if scope is not None and not isinstance(scope, str):
        raise StreamingError(f"scope must be text, not {describe(scope)}")
    normalised = (scope or "").strip("/")
    if not normalised:
        raise StreamingError("scope must not be empty", advice="Red5 streams always live in a scope, by default 'live'")
    _check_path_text(scope, "scope", _NOT_IN_SCOPE)
    if len(normalised) > MAX_SCOPE_LENGTH:
        raise StreamingError(f'invalid scope "{printable(scope, 60, collapse=False)}": it is {len(normalised)} characters long, more than {MAX_SCOPE_LENGTH}')
    for segment in normalised.split("/"):
        _check_segment(segment, "scope", scope)
    return normalised


def validate_name(name: str) -> str:
    """The stream name, or StreamingError when it cannot be one path segment."""
    if not isinstance(name, str) or "/" in name:
        raise StreamingError(
            f'invalid stream name "{printable(str(name), 60, collapse=False)}"',
            advice="The stream name is one path segment; put parent parts in scope (scope: live/sub)",
        )
    _check_path_text(name, "stream name", _NOT_IN_SEGMENT)
    _check_segment(name, "stream name", name)
    return name


def validate_place(value: str, what: str) -> str:
    """A region or geozone code (us-east-1, nyc3, europe) checked like a path segment: it travels in the query."""
    if not isinstance(value, str):
        raise StreamingError(f"{what} must be text, not {describe(value)}")
    _check_path_text(value, what, _NOT_IN_SEGMENT)
    _check_segment(value, what, value)
    return value


def event_path(scope: str, name: str, stats: bool = False) -> str:
    """``event/<scope parts>/<name>[/stats]``: the scope without a leading slash, nested parts as segments (docs/red5.md, "red5_stream_info")."""
    parts = [*validate_scope(scope).split("/"), validate_name(name)]
    if stats:
        parts.append("stats")
    return "event/" + "/".join(quote(part, safe="") for part in parts)


def validate_url(url: str) -> str:
    """The Stream Manager base URL without trailing slash, or StreamingError when it cannot be one."""
    if not isinstance(url, str) or not re.match(r"^https?://[^/?#\s]+", url) or re.search(r"[\x00-\x20\x7f]", url):
        raise StreamingError(
            f'invalid Stream Manager url "{printable(str(url), 120, collapse=False)}"',
            advice="Give the base URL with scheme, host and port and without spaces or control characters, e.g. http://sm.example.com:5080",
        )
    return url.rstrip("/")


def api_base(url: str, api_version: str) -> str:
    """The versioned API root of Stream Manager 1.x, with a trailing slash: ``{url}/streammanager/api/{version}/``."""
    if api_version not in API_VERSIONS:
        raise StreamingError(f"unsupported api_version {api_version!r}", advice=f"Use one of {', '.join(API_VERSION_CHOICES)}")
    return f"{validate_url(url)}/streammanager/api/{api_version}/"


def sm2_base(url: str) -> str:
    """Stream Manager 2.0's API root, with a trailing slash: ``{url}/as/v1/`` (a url that already ends in /as/v1 is taken as it is)."""
    base = validate_url(url)
    if base.endswith("/as/v1"):
        base = base[: -len("/as/v1")]
    return f"{base}/as/v1/"


def validate_node_group(node_group: str) -> str:
    """A Stream Manager 2.0 node group name (1-16 letters, digits, ``-``, ``_``, ``.``), or StreamingError."""
    if not isinstance(node_group, str) or not _NODE_GROUP.fullmatch(node_group):
        raise StreamingError(
            f'invalid node_group "{printable(str(node_group), 60, collapse=False)}"',
            advice="A node group name has 1 to 16 letters, digits, -, _ or .; default names the only node group when there is exactly one",
        )
    return node_group


def guid_path(scope: str, name: str) -> str:
    """``<scope parts>/<name>``, each part a path segment: Stream Manager 2.0's streamGuid as it goes into a URL."""
    parts = [*validate_scope(scope).split("/"), validate_name(name)]
    return "/".join(quote(part, safe="") for part in parts)


def describe_version(api_version: str) -> str:
    """How messages name a version: "Stream Manager API 3.1" or "Stream Manager 2.0 (api_version sm2)"."""
    return "Stream Manager 2.0 (api_version sm2)" if api_version == SM2 else f"Stream Manager API {api_version}"


def check_parameter_support(api_version: str, requested: dict) -> None:
    """Refuse parameters the API version lacks, naming them, the version and the versions that have them.

    ``auto`` is not checked: the version is known only after detection, which
    checks again with the version it found, before any request of the task's own.
    """
    if api_version == AUTO:
        return
    for parameter, value in requested.items():
        supported = PARAMETER_VERSIONS[parameter]
        if value is not None and api_version not in supported:
            old = [version for version in supported if version != SM2]
            where = f"API {' and '.join(old)}" + (" and on Stream Manager 2.0 (sm2)" if SM2 in supported else "")
            advice = f"It exists in {where} only: set api_version accordingly (if the server supports it) or remove {parameter}"
            if api_version == SM2:
                advice = f"{_PARAMETER_ADVICE_SM2[parameter]}; remove {parameter}"
            raise StreamingError(f"{parameter} is not available with {describe_version(api_version)}", advice=advice)


def clears_only_inactive(api_version: str) -> bool:
    """Whether the admin delete of this version keeps the entries of live streams unless includeActive=true."""
    return api_version in VERSIONS_CLEARING_ONLY_INACTIVE
