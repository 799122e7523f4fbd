# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The work of ``red5_stream_info``: one stream (stats and/or address lookup), or the list of active streams.

Read-only: nothing here goes through ``context.perform``, and check mode
changes nothing about what is done. Every parameter is checked before the
first request (docs/red5.md, "Refused before any request").
"""

from __future__ import annotations

import math
import time

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import AnswerError
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.answers import Answer, in_scope, normalise_stream, unusable
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.client import Red5Client
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.connect import open_client
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.paths import SM2, check_parameter_support, validate_name, validate_place, validate_scope

LOOKUP_OPTIONS = ("region", "strict", "geozone", "endpoints", "transcode")
# Lookup options that only some API versions have (docs/red5.md, "API versions").
_VERSIONED_LOOKUP_OPTIONS = ("strict", "geozone", "endpoints", "transcode")
# A day: longer than any encoder takes to come back, short enough that a typo cannot park a job forever.
MAX_WAIT_SECONDS = 86400
DEFAULT_SCOPE = "live"


def _stream_identity(params: dict) -> tuple[str, str]:
    return validate_scope(params["scope"] or DEFAULT_SCOPE), validate_name(params["name"])


def _check_listing(params: dict) -> None:
    """Without name: no option that needs one, and a scope that can be compared."""
    # Kept in code rather than as required_by/required_if: the message names
    # every option given without name ("action, region need(s) name"), which
    # Ansible's "missing parameter(s) required by" wording does not.
    given = [key for key in ("action", *LOOKUP_OPTIONS) if params[key] is not None]
    if params["wait_for_publishing"]:
        given.append("wait_for_publishing")
    if given:
        raise StreamingError(
            f"{', '.join(given)} need(s) name",
            advice="Give the stream name to look up one stream; without name the module lists every active stream",
        )
    if params["scope"] is not None:
        validate_scope(params["scope"])


def _check_lookup(params: dict) -> None:
    """With name: lookup options only with an action, and values that can travel in the query."""
    # Kept in code rather than as required_by: the message says what the
    # options are for ("... apply to the address lookup"), as the tests assert.
    lookup_given = [key for key in LOOKUP_OPTIONS if params[key] is not None]
    if lookup_given and not params["action"]:
        raise StreamingError(
            f"{', '.join(lookup_given)} apply to the address lookup",
            advice="Set action (broadcast for the origin, subscribe for an edge) to use them",
        )
    for key in ("region", "geozone"):
        if params[key]:
            validate_place(params[key], key)
    if params["endpoints"] is not None and params["endpoints"] < 1:
        raise StreamingError(f"endpoints must be 1 or more, not {params['endpoints']}")


def _check_wait(params: dict) -> None:
    if not params["action"] and not params["stats"] and not params["wait_for_publishing"]:
        raise StreamingError("nothing to read: stats is false and no action is given", advice="Set stats: true, or action: broadcast or subscribe")
    if params["wait_for_publishing"]:
        # NaN compares false with everything and infinity never runs out: either would poll forever.
        for key in ("wait_timeout", "wait_interval"):
            value = params[key]
            if not math.isfinite(value) or value <= 0 or value > MAX_WAIT_SECONDS:
                raise StreamingError(f"{key} must be more than 0 and at most {MAX_WAIT_SECONDS} seconds, not {value:g}")


def check_version_support(api_version: str, params: dict) -> None:
    """Refuse the lookup options the version lacks, and on Stream Manager 2.0 those a broadcast lookup does not use."""
    check_parameter_support(api_version, {key: params[key] for key in _VERSIONED_LOOKUP_OPTIONS})
    if api_version == SM2 and params["action"] == "broadcast":
        given = [key for key in ("region", "strict", "endpoints") if params[key] is not None]
        if given:
            raise StreamingError(
                f"{', '.join(given)} cannot be used with action broadcast on Stream Manager 2.0",
                advice="On Stream Manager 2.0, action broadcast reports the origin the live stream is on (from its stats); "
                "region, strict and endpoints choose an edge with action subscribe",
            )


def check_stream_info_params(params: dict) -> None:
    """Refuse, before any request, what the argument spec cannot express: version support, paths, values, combinations."""
    check_version_support(params["api_version"], params)
    if params["name"] is None:
        _check_listing(params)
        return
    _stream_identity(params)
    _check_lookup(params)
    _check_wait(params)


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


def _not_publishing(answer: Answer) -> dict:
    return {"exists": False, "stream": {}, "message": answer.message}


def _lookup_stream(lookup: Answer, action: str) -> dict:
    """The stream as a lookup answered it: one node, or with endpoints > 1 a list of them (docs/red5.md, "red5_stream_info")."""
    try:
        if not isinstance(lookup.data, list):
            return normalise_stream(lookup.data, f"the {action} lookup's answer")
        nodes = [normalise_stream(item, f"endpoint {index} of the {action} lookup") for index, item in enumerate(lookup.data) if item is not None]
        if not nodes:
            raise AnswerError(f"the {action} lookup answered an empty list of endpoints")
    except AnswerError as exc:
        raise unusable(lookup, str(exc)) from None
    return {**nodes[0], "endpoints": nodes}


def _read_stats(client: Red5Client, params: dict, scope: str, name: str, needed: bool) -> Answer | None:
    """The stats answer the task asked for (waited for, or read once), or None when neither the task nor the lookup needs it."""
    if params["wait_for_publishing"]:
        return wait_until_publishing(client, scope, name, float(params["wait_timeout"]), float(params["wait_interval"]))
    if params["stats"] or needed:
        return client.read_stream_stats(scope, name)
    return None


def _region_fallback(params: dict, stream: dict) -> dict:
    """``region_fallback`` when a region was asked for: whether the node answered is outside it (2.0 takes a preference list)."""
    if not (params["action"] and params["region"]):
        return {}
    wanted = {part.strip() for part in params["region"].split(",")}
    return {"region_fallback": stream.get("region") not in wanted}


def _read_one_stream(client: Red5Client, params: dict) -> dict:
    scope, name = _stream_identity(params)
    action = params["action"]
    # On Stream Manager 2.0 the origin of a live stream is where its stats say
    # it is: the publish lookup would distribute provisions (sm2.Sm2Client.read_stream).
    origin_from_stats = action == "broadcast" and client.api_version == SM2
    stats_answer = _read_stats(client, params, scope, name, needed=origin_from_stats)
    if stats_answer is not None and not stats_answer.found:
        return _not_publishing(stats_answer)

    stream = {}
    # Stats fetched for the wait are kept unless a lookup was asked for instead of them.
    if stats_answer is not None and (params["stats"] or not action or origin_from_stats):
        try:
            stream.update(normalise_stream(stats_answer.data, "the stream's stats"))
        except AnswerError as exc:
            raise unusable(stats_answer, str(exc)) from None

    if action and not origin_from_stats:
        lookup = client.read_stream(scope, name, action, **{key: params[key] for key in LOOKUP_OPTIONS})
        if not lookup.found:
            return _not_publishing(lookup)
        stream.update(_lookup_stream(lookup, action))
    # What the request named fills in what the answer left out (or sent as null).
    for key, value in (("name", name), ("scope", scope)):
        if stream.get(key) is None:
            stream[key] = value
    return {"exists": True, "stream": stream, **_region_fallback(params, stream)}


def read_stream_info(params: dict, context, client: Red5Client | None = None) -> dict:
    """``streams`` (without name) or ``exists``, ``stream`` and ``message`` (with name), and ``api_version``; ``changed`` is added by the context."""
    check_stream_info_params(params)
    with client or open_client(params, context) as red5:
        # With api_version auto the version is known only now, before any request but the detection's.
        check_version_support(red5.api_version, params)
        if params["name"] is not None:
            return {**_read_one_stream(red5, params), "api_version": red5.api_version}
        streams = red5.list_streams(stats=params["stats"])
        if params["scope"] is not None:
            scope = validate_scope(params["scope"])
            streams = [stream for stream in streams if in_scope(stream, scope)]
        return {"streams": streams, "api_version": red5.api_version}
