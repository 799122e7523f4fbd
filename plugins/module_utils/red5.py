# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Red5 Pro Stream Manager: connection options, REST client and the modules' work.

The Stream Manager REST API (``{url}/streammanager/api/{version}/...``) answers
where a stream is published (its origin), where to watch it (an edge), its
stats, the list of active streams, and, for administrators, clears the stream
registry. Versions 1.0, 2.0, 3.0, 3.1 and 4.0 of the path are spoken; their
differences (docs/red5.md, "API versions") are kept in the tables below so
that a parameter a version lacks is refused before any request instead of
being silently ignored by the server.

The client speaks HTTP and maps answers; the work functions at the bottom
(``read_stream_info``, ``clear_stream_registry``) decide what the task returns.
Answers are untrusted: they are read with a size bound, decoded with bounds
(the decoder is shared with the ScaleEngine client), and every field used is
checked for its type (docs/red5.md, "Broken or hostile answers"); scopes and
names from the playbook are checked before they become a path.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import env_fallback

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HTTP_ARGUMENT_SPEC, HttpClient
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import (
    MAX_ANSWER_BYTES,
    AnswerError,
    answer_text,
    decode_json_answer,
    describe,
    printable,
)

API_VERSIONS = ("1.0", "2.0", "3.0", "3.1", "4.0")
DEFAULT_API_VERSION = "2.0"

# Optional parameters that only some path versions accept (docs/red5.md, "API
# versions": the read parameters of 3.1/4.0, includeActive on their admin delete).
# Older servers ignore unknown query parameters, so sending them would silently
# do something else than asked (fall back to another region despite strict,
# clear live entries despite include_active=false): they are refused instead.
PARAMETER_VERSIONS = {
    "strict": ("3.1", "4.0"),
    "geozone": ("3.1", "4.0"),
    "endpoints": ("3.1", "4.0"),
    "transcode": ("3.1", "4.0"),
    "include_active": ("3.1", "4.0"),
}

# 2.0's admin delete clears every entry (reference, "Delete All Streams");
# 3.1/4.0 clear only inactive entries unless includeActive=true (docs/red5.md, "API versions").
# 1.0 and 3.0 are not described: they are taken to behave like 2.0 (inferred).
VERSIONS_CLEARING_ONLY_INACTIVE = ("3.1", "4.0")

ACTIONS = ("broadcast", "subscribe")

RED5_ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True, fallback=(env_fallback, ["RED5_SM_URL"])),
    api_version=dict(type="str", default=DEFAULT_API_VERSION, choices=list(API_VERSIONS), fallback=(env_fallback, ["RED5_SM_API_VERSION"])),
    access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["RED5_SM_ACCESS_TOKEN"])),
    **HTTP_ARGUMENT_SPEC,
)

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
MAX_SCOPE_LENGTH = 1024
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Keys whose snake_case spelling is part of the public contract (the RETURN
# documentation of red5_stream_info).
_KNOWN_KEYS = {
    "name": "name",
    "scope": "scope",
    "serverAddress": "server_address",
    "region": "region",
    "currentSubscribers": "current_subscribers",
    "type": "type",
}


# -- pure helpers (no HTTP) ---------------------------------------------------


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
    """``event/<scope parts>/<name>[/stats]``: the scope without a leading slash, nested parts as segments (docs/red5.md)."""
    parts = [*validate_scope(scope).split("/"), validate_name(name)]
    if stats:
        parts.append("stats")
    return "event/" + "/".join(quote(part, safe="") for part in parts)


def api_base(url: str, api_version: str) -> str:
    """The versioned API root, with a trailing slash: ``{url}/streammanager/api/{version}/``."""
    if api_version not in API_VERSIONS:
        raise StreamingError(f"unsupported api_version {api_version!r}", advice=f"Use one of {', '.join(API_VERSIONS)}")
    if not isinstance(url, str) or not re.match(r"^https?://[^/?#\s]+", url) or re.search(r"[\x00-\x20\x7f]", url):
        raise StreamingError(
            f'invalid Stream Manager url "{printable(str(url), 120, collapse=False)}"',
            advice="Give the base URL with scheme, host and port and without spaces or control characters, e.g. http://sm.example.com:5080",
        )
    return f"{url.rstrip('/')}/streammanager/api/{api_version}/"


def check_parameter_support(api_version: str, requested: dict) -> None:
    """Refuse parameters the API version lacks, naming them, the version and the versions that have them."""
    for parameter, value in requested.items():
        supported = PARAMETER_VERSIONS[parameter]
        if value is not None and api_version not in supported:
            raise StreamingError(
                f"{parameter} is not available with Stream Manager API {api_version}",
                advice=f"It exists in API {' and '.join(supported)} only: set api_version accordingly (if the server supports it) or remove {parameter}",
            )


def clears_only_inactive(api_version: str) -> bool:
    return api_version in VERSIONS_CLEARING_ONLY_INACTIVE


def epoch_ms_to_iso(value) -> str | None:
    """Epoch milliseconds (``startTime``) as ISO 8601 UTC with milliseconds, e.g. ``2016-02-01T23:34:16.708Z``.

    None for what is not a whole number of milliseconds (also given as a
    string of digits) between the years 1 and 9999.
    """
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    try:
        moment = datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def snake_case(key: str) -> str:
    return _KNOWN_KEYS.get(key) or _CAMEL_BOUNDARY.sub("_", key).lower()


_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,20}")
# Fields the modules return as text; a server that sends another type there
# is refused rather than passed on to playbooks that act on it (an address).
_TEXT_FIELDS = ("name", "scope", "serverAddress", "region", "type")


def _whole_number(value, key: str, where: str, minimum: int | None = None) -> int:
    """An integer field, also accepted as a string of digits (as some servers write long numbers)."""
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        wanted = "a whole number" if minimum is None else f"a whole number of {minimum} or more"
        raise AnswerError(f'the "{key}" of {where} is {describe(value)}, not {wanted}')
    return value


def normalise_stream(item, where: str = "the stream") -> dict:
    """One stream answer with snake_case keys, the scope without slash and ``start_time`` as ISO 8601.

    ``start_time_ms`` keeps the epoch milliseconds the server sent. Keys this
    collection does not know are kept, in snake_case, so newer servers lose
    nothing; they never replace a key the collection returns itself (a
    ``start_time`` sent by the server does not hide the converted one).
    Raises :class:`AnswerError`, naming ``where`` and the key, when a known
    key holds a value of the wrong type: ``name``, ``scope``,
    ``serverAddress``, ``region`` and ``type`` must be text,
    ``currentSubscribers`` a whole number of 0 or more and ``startTime``
    epoch milliseconds (strings of digits are accepted for both; ``null``
    for any of them is returned as ``null``).
    """
    if not isinstance(item, dict):
        raise AnswerError(f"{where} is {describe(item)}, not an object")
    stream = {}
    for key, value in item.items():
        if key not in _KNOWN_KEYS and key != "startTime":
            stream[snake_case(key)] = value
    for key in _TEXT_FIELDS:
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            raise AnswerError(f'the "{key}" of {where} is {describe(value)}, not text')
    for key, value in item.items():
        if key == "startTime":
            if value is None:
                stream["start_time"] = stream["start_time_ms"] = None
                continue
            milliseconds = _whole_number(value, key, where)
            stream["start_time"] = epoch_ms_to_iso(milliseconds)
            if stream["start_time"] is None:
                raise AnswerError(f'the "startTime" of {where} is {describe(value)}, not epoch milliseconds between the years 1 and 9999')
            stream["start_time_ms"] = milliseconds
        elif key == "scope":
            stream["scope"] = None if value is None else normalise_scope(value)
        elif key == "currentSubscribers":
            stream["current_subscribers"] = None if value is None else _whole_number(value, key, where, minimum=0)
        elif key in _KNOWN_KEYS:
            stream[_KNOWN_KEYS[key]] = value
    return stream


def in_scope(stream: dict, scope: str) -> bool:
    """Whether a normalised stream is in ``scope`` or one of its nested scopes."""
    return stream.get("scope") == scope or str(stream.get("scope", "")).startswith(scope + "/")


def _media_type(response) -> str:
    return (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _is_json_type(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


@dataclass
class Answer:
    """A mapped Stream Manager answer: the data, or the errorMessage of a "not publishing" answer."""

    found: bool
    data: object = None
    message: str | None = None
    status: int | None = None
    method: str = "GET"
    url: str = ""


_UNUSABLE_ADVICE = (
    "The answer may have been cut off, or url may point at something other than the Stream Manager (a proxy, a login page): "
    "run the task again, and if it persists check url, api_version and the Stream Manager's log"
)


def unusable(answer: Answer, problem: str, advice: str = _UNUSABLE_ADVICE) -> StreamingError:
    """The error for a successful answer whose content cannot be used, naming what is wrong with it."""
    return StreamingError(f"the Stream Manager's answer cannot be used: {problem}", method=answer.method, url=answer.url, status=answer.status, advice=advice)


def _masked(text: str, secret: str | None) -> str:
    return text.replace(secret, "REDACTED") if secret else text


def parse_answer(response, method: str, url: str, not_found_ok: bool = False, secret: str | None = None) -> Answer:
    """Map one HTTP answer of the Stream Manager.

    * 2xx with a JSON body: the data (the content type must be JSON, as real
      clients require, so an HTML login page or proxy error is not mistaken
      for an answer), decoded within the bounds of ``decode_json_answer``;
    * an ``errorMessage`` in a 2xx body is an error answer like a 400
      (real clients do the same; docs/red5.md, "Errors");
    * 400 or 404 with ``errorMessage``: "not publishing" when the caller
      expects that (``not_found_ok``), a failure otherwise;
    * anything else: a failure naming the request, the status and the server's message.

    ``secret`` (the access token) is masked in anything quoted from the body,
    before it is shortened, so no part of it is shown.
    """
    status = response.status_code
    content = response.content or b""
    text = printable(_masked(content.decode("utf-8", errors="replace"), secret))
    media_type = _media_type(response)
    data = None
    problem = None
    if content.strip():
        try:
            data = decode_json_answer(content)
        except AnswerError as exc:
            problem = str(exc)
    else:
        problem = "the body is empty"
    error_message = data.get("errorMessage") if isinstance(data, dict) else None
    if error_message is not None:
        error_message = printable(_masked(answer_text(error_message, MAX_ANSWER_BYTES), secret), 500) or "(an empty errorMessage)"

    if 200 <= status < 300 and error_message is None:
        if not _is_json_type(media_type):
            raise StreamingError(
                f"the Stream Manager answered with Content-Type {printable(media_type, 60) or 'none'} instead of application/json",
                method=method,
                url=url,
                status=status,
                body=text,
                advice="Check that url points at the Stream Manager itself (not a proxy or login page) and that it speaks the api_version given",
            )
        if problem is not None:
            raise StreamingError(
                f"the Stream Manager's answer cannot be used: {problem}", method=method, url=url, status=status, body=text, advice=_UNUSABLE_ADVICE
            )
        return Answer(True, data=data, status=status, method=method, url=url)

    if error_message is not None and (status in (400, 404) or 200 <= status < 300) and not_found_ok:
        return Answer(False, message=error_message, status=status, method=method, url=url)

    if error_message is not None:
        message = f"the Stream Manager refused the request: {error_message}"
        body = None
    elif status == 404:
        message = "no Stream Manager API answered at this address"
        body = text
    else:
        message = "the Stream Manager request failed"
        body = text
    if status == 404 and error_message is None:
        advice = "Check url (scheme, host and port, usually 5080) and api_version: the server may not speak this API version"
    elif status in (401, 403):
        advice = "Check access_token (or RED5_SM_ACCESS_TOKEN): it must be the Stream Manager's administrator token"
    elif status >= 500:
        advice = "The Stream Manager failed to answer; check its log and that its database and nodes are up"
    elif 200 <= status < 300:
        advice = "The Stream Manager reported the error in a successful answer; check the request parameters"
    else:
        advice = "Check the request parameters against the api_version in use"
    raise StreamingError(message, method=method, url=url, status=status, body=body, advice=advice)


# -- client --------------------------------------------------------------------


class Red5Client:
    """The Stream Manager REST API for one version; it maps answers and never decides ``changed``."""

    def __init__(self, http: HttpClient, url: str, api_version: str = DEFAULT_API_VERSION, access_token: str | None = None):
        self.http = http
        self.api_version = api_version
        self.base = api_base(url, api_version)
        self._access_token = access_token

    @classmethod
    def from_params(cls, params: dict, warn=None) -> Red5Client:
        version = params.get("api_version") or DEFAULT_API_VERSION
        api_base(params["url"], version)  # refuse a bad URL or version before opening a session
        http = HttpClient.from_params(params, warn=warn)
        # Stop reading an answer at the size that would be decoded at all.
        http.max_response_bytes = MAX_ANSWER_BYTES
        return cls(http, params["url"], version, params.get("access_token"))

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, params: dict | None = None, not_found_ok: bool = False) -> Answer:
        url = self.base + path
        response = self.http.request("GET", url, params=params or None, headers={"Accept": "application/json"})
        shown = f"{url}?{urlencode(params)}" if params else url
        return parse_answer(response, "GET", shown, not_found_ok=not_found_ok)

    def read_stream(
        self,
        scope: str,
        name: str,
        action: str,
        region: str | None = None,
        strict: bool | None = None,
        geozone: str | None = None,
        endpoints: int | None = None,
        transcode: bool | None = None,
    ) -> Answer:
        """``GET event/{scope}/{name}?action=...``: the origin (broadcast) or edge (subscribe) for the stream.

        A subscribe request for a stream that is not publishing answers 400 or
        404 (reference): that is ``Answer(found=False)``, not an error.
        """
        if action not in ACTIONS:
            raise StreamingError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
        check_parameter_support(self.api_version, dict(strict=strict, geozone=geozone, endpoints=endpoints, transcode=transcode))
        query = {"action": action}
        if region:
            query["region"] = validate_place(region, "region")
        if geozone:
            query["geozone"] = validate_place(geozone, "geozone")
        if strict is not None:
            query["strict"] = "true" if strict else "false"
        if endpoints is not None:
            query["endpoints"] = str(endpoints)
        if transcode is not None:
            query["transcode"] = "true" if transcode else "false"
        return self._get(event_path(scope, name), query, not_found_ok=True)

    def read_stream_stats(self, scope: str, name: str) -> Answer:
        """``GET event/{scope}/{name}/stats``; a stream that is not broadcasting is ``Answer(found=False)`` (reference)."""
        return self._get(event_path(scope, name, stats=True), not_found_ok=True)

    def list_streams(self, stats: bool = False) -> list[dict]:
        """``GET event/list[/stats]``: every active stream, normalised.

        ``null`` items are skipped; an item without ``name`` or ``scope``
        cannot be told apart from the others and is refused, like any item
        ``normalise_stream`` refuses.
        """
        answer = self._get("event/list/stats" if stats else "event/list")
        if not isinstance(answer.data, list):
            raise unusable(answer, f"the stream list is {describe(answer.data)}, not a JSON array", advice="Check that api_version matches the server")
        streams = []
        try:
            for index, item in enumerate(answer.data):
                if item is None:
                    continue
                where = f"item {index} of the stream list"
                stream = normalise_stream(item, where)
                missing = [key for key in ("name", "scope") if stream.get(key) is None]
                if missing:
                    raise AnswerError(f"{where} has no {' and no '.join(missing)}")
                streams.append(stream)
        except AnswerError as exc:
            raise unusable(answer, str(exc)) from None
        return streams

    def delete_stream_entries(self, include_active: bool | None = None) -> dict:
        """``DELETE admin/event?accessToken=...[&includeActive=true]``: clear the stream registry; returns ``{"count", "timestamp"}``.

        The token travels only on this admin call (docs/red5.md) and is masked
        in the URL and body of any error. ``count`` is a whole number of 0 or
        more (also accepted as a string of digits); the entries are cleared
        by then, so an answer without a usable count fails saying so.
        """
        if not self._access_token:
            raise StreamingError(
                "access_token is required to clear the stream registry",
                advice="Set access_token (or the RED5_SM_ACCESS_TOKEN environment variable) to the Stream Manager's administrator token",
            )
        check_parameter_support(self.api_version, dict(include_active=include_active))
        url = self.base + "admin/event"
        query = {"accessToken": self._access_token}
        if include_active:
            query["includeActive"] = "true"
        # DELETE is idempotent: the HTTP client may repeat it after a reset or a 503.
        response = self.http.request("DELETE", url, params=query, headers={"Accept": "application/json"})
        shown = url + ("?accessToken=REDACTED&includeActive=true" if include_active else "?accessToken=REDACTED")
        answer = parse_answer(response, "DELETE", shown, secret=self._access_token)
        advice = (
            "The Stream Manager accepted the delete, so the entries are probably cleared; check that api_version matches the server "
            "and run the task again to see the count of what is left"
        )
        if not isinstance(answer.data, dict):
            raise unusable(answer, f"the registry delete answered {describe(answer.data)}, not an object with a count", advice=advice)
        if "count" not in answer.data:
            raise unusable(answer, "the registry delete answered an object without a count", advice=advice)
        try:
            count = _whole_number(answer.data["count"], "count", "the registry delete's answer", minimum=0)
        except AnswerError as exc:
            raise unusable(answer, str(exc), advice=advice) from None
        return dict(answer.data, count=count)


# -- work functions (called by the modules through runner.run_module) ---------

_LOOKUP_OPTIONS = ("region", "strict", "geozone", "endpoints", "transcode")
# A day: longer than any encoder takes to come back, short enough that a typo cannot park a job forever.
MAX_WAIT_SECONDS = 86400


def _stream_identity(params: dict) -> tuple[str, str]:
    scope = validate_scope(params.get("scope") or "live")
    return scope, validate_name(params["name"])


def _validate_info_params(params: dict) -> None:
    version = params.get("api_version") or DEFAULT_API_VERSION
    check_parameter_support(version, {key: params.get(key) for key in ("strict", "geozone", "endpoints", "transcode")})
    if params.get("name") is None:
        given = [key for key in ("action", *_LOOKUP_OPTIONS) if params.get(key) is not None]
        if params.get("wait_for_publishing"):
            given.append("wait_for_publishing")
        if given:
            raise StreamingError(
                f"{', '.join(given)} need(s) name",
                advice="Give the stream name to look up one stream; without name the module lists every active stream",
            )
        if params.get("scope") is not None:
            validate_scope(params["scope"])
        return
    _stream_identity(params)
    lookup_given = [key for key in _LOOKUP_OPTIONS if params.get(key) is not None]
    if lookup_given and not params.get("action"):
        raise StreamingError(
            f"{', '.join(lookup_given)} apply to the address lookup",
            advice="Set action (broadcast for the origin, subscribe for an edge) to use them",
        )
    if params.get("region") and params.get("geozone"):
        raise StreamingError("region and geozone are mutually exclusive", advice="Ask for a region or for a geozone, not both")
    for key in ("region", "geozone"):
        if params.get(key):
            validate_place(params[key], key)
    if params.get("endpoints") is not None and params["endpoints"] < 1:
        raise StreamingError(f"endpoints must be 1 or more, not {params['endpoints']}")
    if not params.get("action") and not params.get("stats", True) and not params.get("wait_for_publishing"):
        raise StreamingError("nothing to read: stats is false and no action is given", advice="Set stats: true, or action: broadcast or subscribe")
    if params.get("wait_for_publishing"):
        # NaN compares false with everything and infinity never runs out: either would poll forever.
        for key in ("wait_timeout", "wait_interval"):
            value = params.get(key) or 0
            if not math.isfinite(value) or value <= 0 or value > MAX_WAIT_SECONDS:
                raise StreamingError(f"{key} must be more than 0 and at most {MAX_WAIT_SECONDS} seconds, not {value:g}")


def wait_until_publishing(client: Red5Client, scope: str, name: str, timeout: float, interval: float, clock=time.monotonic, sleep=time.sleep) -> Answer:
    """Poll the stats call until the stream is broadcasting; StreamingError with the last answer on timeout."""
    started = clock()
    checks = 0
    while True:
        answer = client.read_stream_stats(scope, name)
        checks += 1
        if answer.found:
            return answer
        elapsed = clock() - started
        if elapsed >= timeout:
            break
        sleep(max(0.0, min(interval, timeout - elapsed)))
    last = f"HTTP {answer.status}: {answer.message}" if answer.message else f"HTTP {answer.status}"
    raise StreamingError(
        f"stream {scope}/{name} was not publishing after waiting {clock() - started:.0f}s ({checks} checks, wait_timeout {timeout:g}s); last answer {last}",
        method=answer.method,
        url=answer.url,
        advice="Check that the encoder is publishing to the origin the Stream Manager assigned, or raise wait_timeout",
    )


def read_stream_info(params: dict, check_mode: bool = False, diff: bool = False, warn=None) -> dict:
    """The work of ``red5_stream_info``: one stream (address lookup and/or stats) or the list of active streams.

    Read-only, so check mode changes nothing about what is done.
    """
    _validate_info_params(params)
    client = Red5Client.from_params(params, warn=warn)
    try:
        if params.get("name") is None:
            streams = client.list_streams(stats=params.get("stats", True))
            if params.get("scope") is not None:
                scope = validate_scope(params["scope"])
                streams = [stream for stream in streams if in_scope(stream, scope)]
            return {"changed": False, "streams": streams}
        return _read_one_stream(client, params)
    finally:
        client.close()


def _not_publishing(answer: Answer) -> dict:
    return {"changed": False, "exists": False, "stream": {}, "message": answer.message}


def _read_one_stream(client: Red5Client, params: dict) -> dict:
    scope, name = _stream_identity(params)
    stats_answer = None
    if params.get("wait_for_publishing"):
        stats_answer = wait_until_publishing(client, scope, name, float(params["wait_timeout"]), float(params["wait_interval"]))
    elif params.get("stats", True):
        stats_answer = client.read_stream_stats(scope, name)
        if not stats_answer.found:
            return _not_publishing(stats_answer)

    stream = {}
    # Stats fetched for the wait are kept unless a lookup was asked for instead of them.
    if stats_answer is not None and (params.get("stats", True) or not params.get("action")):
        try:
            stream.update(normalise_stream(stats_answer.data, "the stream's stats"))
        except AnswerError as exc:
            raise unusable(stats_answer, str(exc)) from None

    action = params.get("action")
    if action:
        lookup = client.read_stream(
            scope,
            name,
            action,
            region=params.get("region"),
            strict=params.get("strict"),
            geozone=params.get("geozone"),
            endpoints=params.get("endpoints"),
            transcode=params.get("transcode"),
        )
        if not lookup.found:
            return _not_publishing(lookup)
        try:
            # endpoints=N>1 (3.1/4.0) answers an array instead of an object (docs/red5.md, "red5_stream_info").
            if isinstance(lookup.data, list):
                nodes = [normalise_stream(item, f"endpoint {index} of the {action} lookup") for index, item in enumerate(lookup.data) if item is not None]
                if not nodes:
                    raise AnswerError(f"the {action} lookup answered an empty list of endpoints")
                stream.update(nodes[0])
                stream["endpoints"] = nodes
            else:
                stream.update(normalise_stream(lookup.data, f"the {action} lookup's answer"))
        except AnswerError as exc:
            raise unusable(lookup, str(exc)) from None
    # What the request named fills in what the answer left out (or sent as null).
    for key, value in (("name", name), ("scope", scope)):
        if stream.get(key) is None:
            stream[key] = value
    return {"changed": False, "exists": True, "stream": stream}


def _unique_streams(streams: list[dict]) -> set[tuple[str, str]]:
    # 3.1/4.0 lists may name a stream once per node (type origin and edge).
    return {(str(stream.get("scope", "")), str(stream.get("name", ""))) for stream in streams}


def clear_stream_registry(params: dict, check_mode: bool = False, diff: bool = False, warn=None) -> dict:
    """The work of ``red5_stream_registry``: clear stream entries with the admin delete.

    ``changed`` is true when the server reports ``count`` > 0. Check mode
    lists the active streams instead (no token sent, nothing deleted) and
    predicts the count from them: every listed stream where the version
    clears all entries or ``include_active`` is true, none otherwise. Entries
    of streams that stopped are not in the list, so the prediction is a lower bound.
    """
    warn = warn or (lambda message: None)
    version = params.get("api_version") or DEFAULT_API_VERSION
    include_active = params.get("include_active")
    check_parameter_support(version, dict(include_active=include_active))
    if not params.get("access_token"):
        raise StreamingError(
            "access_token is required to clear the stream registry",
            advice="Set access_token (or the RED5_SM_ACCESS_TOKEN environment variable) to the Stream Manager's administrator token",
        )
    client = Red5Client.from_params(params, warn=warn)
    try:
        if check_mode:
            active = len(_unique_streams(client.list_streams(stats=False)))
            if clears_only_inactive(version) and not include_active:
                warn(
                    f"check mode cannot predict this clear: API {version} clears only inactive entries, which the stream list does not show; "
                    "count is reported as 0"
                )
                count = 0
            else:
                count = active
            return {"changed": count > 0, "count": count}
        answer = client.delete_stream_entries(include_active=include_active)
        count = answer["count"]
        return {"changed": count > 0, "count": count}
    finally:
        client.close()
