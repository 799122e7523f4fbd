# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Red5 Pro Stream Manager: connection options, REST client and the modules' work.

The Stream Manager REST API (``{url}/streammanager/api/{version}/...``) answers
where a stream is published (its origin), where to watch it (an edge), its
stats, the list of active streams, and, for administrators, clears the stream
registry. Versions 1.0, 2.0, 3.0, 3.1 and 4.0 of the path are spoken; their
differences (field notes, Red5 section) are kept in the tables below so that a
parameter a version lacks is refused before any request instead of being
silently ignored by the server.

The client speaks HTTP and maps answers; the work functions at the bottom
(``read_stream_info``, ``clear_stream_registry``) decide what the task returns.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import env_fallback

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, excerpt
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HTTP_ARGUMENT_SPEC, HttpClient

API_VERSIONS = ("1.0", "2.0", "3.0", "3.1", "4.0")
DEFAULT_API_VERSION = "2.0"

# Optional parameters that only some path versions accept (field notes: "Optional
# read parameters in 3.1/4.0"; includeActive on the admin delete in 3.1/4.0).
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
# 3.1/4.0 clear only inactive entries unless includeActive=true (field notes).
# 1.0 and 3.0 are not described: they are taken to behave like 2.0 (inferred).
VERSIONS_CLEARING_ONLY_INACTIVE = ("3.1", "4.0")

ACTIONS = ("broadcast", "subscribe")

RED5_ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True, fallback=(env_fallback, ["RED5_SM_URL"])),
    api_version=dict(type="str", default=DEFAULT_API_VERSION, choices=list(API_VERSIONS), fallback=(env_fallback, ["RED5_SM_API_VERSION"])),
    access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["RED5_SM_ACCESS_TOKEN"])),
    **HTTP_ARGUMENT_SPEC,
)

_SEGMENT = re.compile(r"^[A-Za-z0-9_.~@+=,:-]+$")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Keys whose snake_case spelling is part of the public contract (DESIGN.md).
_KNOWN_KEYS = {
    "name": "name",
    "scope": "scope",
    "serverAddress": "server_address",
    "region": "region",
    "currentSubscribers": "current_subscribers",
    "type": "type",
}


# -- pure helpers (no HTTP) ---------------------------------------------------


def _check_segment(segment: str, what: str, value: str) -> None:
    if segment in ("", ".", "..") or not _SEGMENT.match(segment):
        raise StreamingError(
            f"invalid {what} {value!r}",
            advice="Use letters, digits and _ . ~ @ + = , : - in each part; nested scopes are written with / (for example live/sub)",
        )


def normalise_scope(scope: str | None) -> str:
    """A scope as the collection compares and returns it: no leading or trailing slash.

    Read and stats answers carry ``"/live"``, 3.1/4.0 list items ``"live"``
    (field notes); both mean the same scope.
    """
    return (scope or "").strip().strip("/")


def validate_scope(scope: str | None) -> str:
    """The normalised scope, or StreamingError when a part of it cannot be a path segment."""
    normalised = normalise_scope(scope)
    if not normalised:
        raise StreamingError("scope must not be empty", advice="Red5 streams always live in a scope, by default 'live'")
    for segment in normalised.split("/"):
        _check_segment(segment, "scope", scope)
    return normalised


def validate_name(name: str) -> str:
    if name is None or "/" in name:
        raise StreamingError(f"invalid stream name {name!r}", advice="The stream name is one path segment; put parent parts in scope (scope: live/sub)")
    _check_segment(name, "stream name", name)
    return name


def event_path(scope: str, name: str, stats: bool = False) -> str:
    """``event/<scope parts>/<name>[/stats]``: the scope without a leading slash, nested parts as segments (field notes)."""
    parts = [*validate_scope(scope).split("/"), validate_name(name)]
    if stats:
        parts.append("stats")
    return "event/" + "/".join(quote(part, safe="") for part in parts)


def api_base(url: str, api_version: str) -> str:
    """The versioned API root, with a trailing slash: ``{url}/streammanager/api/{version}/``."""
    if api_version not in API_VERSIONS:
        raise StreamingError(f"unsupported api_version {api_version!r}", advice=f"Use one of {', '.join(API_VERSIONS)}")
    if not url or not re.match(r"^https?://[^/?#]+", url):
        raise StreamingError(f"invalid Stream Manager url {url!r}", advice="Give the base URL with scheme, host and port, e.g. http://sm.example.com:5080")
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
    """Epoch milliseconds (``startTime``) as ISO 8601 UTC with milliseconds, e.g. ``2016-02-01T23:34:16.708Z``."""
    if value is None or isinstance(value, bool):
        return None
    try:
        milliseconds = int(value)
    except (TypeError, ValueError):
        return None
    try:
        moment = datetime.fromtimestamp(milliseconds / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def snake_case(key: str) -> str:
    return _KNOWN_KEYS.get(key) or _CAMEL_BOUNDARY.sub("_", key).lower()


def normalise_stream(item: dict) -> dict:
    """One stream answer with snake_case keys, the scope without slash and ``start_time`` as ISO 8601.

    ``start_time_ms`` keeps the epoch milliseconds the server sent. Keys this
    collection does not know are kept, in snake_case, so newer servers lose nothing.
    """
    stream = {}
    for key, value in item.items():
        if key == "startTime":
            stream["start_time"] = epoch_ms_to_iso(value)
            stream["start_time_ms"] = value
        elif key == "scope":
            stream["scope"] = normalise_scope(value)
        else:
            stream[snake_case(key)] = value
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


def parse_answer(response, method: str, url: str, not_found_ok: bool = False, secret: str | None = None) -> Answer:
    """Map one HTTP answer of the Stream Manager.

    * 2xx with a JSON body: the data (the content type must be JSON, as real
      clients require, so an HTML login page or proxy error is not mistaken
      for an answer);
    * an ``errorMessage`` in a 2xx body is an error answer like a 400
      (field notes: real clients do the same);
    * 400 or 404 with ``errorMessage``: "not publishing" when the caller
      expects that (``not_found_ok``), a failure otherwise;
    * anything else: a failure naming the request, the status and the server's message.

    ``secret`` (the access token) is masked in anything quoted from the body.
    """
    status = response.status_code
    text = response.text or ""
    if secret:
        text = text.replace(secret, "REDACTED")
    media_type = _media_type(response)
    data = None
    parse_error = None
    if text.strip():
        try:
            data = json.loads(text)
        except ValueError as exc:
            parse_error = exc
    error_message = data.get("errorMessage") if isinstance(data, dict) else None
    if error_message is not None:
        error_message = str(error_message)
        if secret:
            error_message = error_message.replace(secret, "REDACTED")

    if 200 <= status < 300 and error_message is None:
        if not _is_json_type(media_type):
            raise StreamingError(
                f"the Stream Manager answered with Content-Type {media_type or 'none'} instead of application/json",
                method=method,
                url=url,
                status=status,
                body=text,
                advice="Check that url points at the Stream Manager itself (not a proxy or login page) and that it speaks the api_version given",
            )
        if parse_error is not None or not text.strip():
            raise StreamingError(
                "the Stream Manager's answer is not valid JSON",
                method=method,
                url=url,
                status=status,
                body=text,
                advice="The answer may have been cut off; run the task again, and check the Stream Manager's log if it persists",
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
        return cls(HttpClient.from_params(params, warn=warn), params["url"], version, params.get("access_token"))

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
            query["region"] = region
        if geozone:
            query["geozone"] = geozone
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
        """``GET event/list[/stats]``: every active stream, normalised."""
        answer = self._get("event/list/stats" if stats else "event/list")
        if not isinstance(answer.data, list):
            raise StreamingError(
                "the Stream Manager's stream list is not a JSON array",
                method="GET",
                url=answer.url,
                status=answer.status,
                body=str(answer.data),
                advice="Check that api_version matches the server",
            )
        return [normalise_stream(item) for item in answer.data if isinstance(item, dict)]

    def delete_stream_entries(self, include_active: bool | None = None) -> dict:
        """``DELETE admin/event?accessToken=...[&includeActive=true]``: clear the stream registry; returns ``{"count", "timestamp"}``.

        The token travels only on this admin call (field notes) and is masked
        in the URL and body of any error.
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
        data = answer.data
        if not isinstance(data, dict) or not isinstance(data.get("count"), int) or isinstance(data.get("count"), bool):
            raise StreamingError(
                "the Stream Manager's answer to the registry delete has no count",
                method="DELETE",
                url=shown,
                status=answer.status,
                body=excerpt(str(data)),
                advice="Check that api_version matches the server",
            )
        return data


# -- work functions (called by the modules through runner.run_module) ---------

_LOOKUP_OPTIONS = ("region", "strict", "geozone", "endpoints", "transcode")


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
    if params.get("endpoints") is not None and params["endpoints"] < 1:
        raise StreamingError(f"endpoints must be 1 or more, not {params['endpoints']}")
    if not params.get("action") and not params.get("stats", True) and not params.get("wait_for_publishing"):
        raise StreamingError("nothing to read: stats is false and no action is given", advice="Set stats: true, or action: broadcast or subscribe")
    if params.get("wait_for_publishing"):
        if (params.get("wait_timeout") or 0) <= 0:
            raise StreamingError("wait_timeout must be more than 0 seconds")
        if (params.get("wait_interval") or 0) <= 0:
            raise StreamingError("wait_interval must be more than 0 seconds")


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
        if not isinstance(stats_answer.data, dict):
            raise StreamingError("the Stream Manager's stream stats are not a JSON object", method="GET", url=stats_answer.url, status=stats_answer.status)
        stream.update(normalise_stream(stats_answer.data))

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
        # endpoints=N>1 (3.1/4.0) answers an array instead of an object (field notes).
        if isinstance(lookup.data, list):
            nodes = [normalise_stream(item) for item in lookup.data if isinstance(item, dict)]
            if not nodes:
                raise StreamingError("the Stream Manager answered an empty list of endpoints", method="GET", url=lookup.url, status=lookup.status)
            stream.update(nodes[0])
            stream["endpoints"] = nodes
        elif isinstance(lookup.data, dict):
            stream.update(normalise_stream(lookup.data))
        else:
            raise StreamingError("the Stream Manager's stream answer is not a JSON object", method="GET", url=lookup.url, status=lookup.status)
    stream.setdefault("name", name)
    stream.setdefault("scope", scope)
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
