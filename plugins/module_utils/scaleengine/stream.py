# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work of ``scaleengine_stream``: close the stream when (and only when) it is live."""

from __future__ import annotations

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.answers import is_failure, is_not_found, same_id
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.change import perform_change, request_fields
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.client import ScaleEngineClient
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.names import check_names


def _stream_details(client, params) -> dict | None:
    """The details of the stream named ``params["stream"]``, or None when it is not live."""
    fields = request_fields(("app", params["app"]), ("inst", params["inst"]), ("stream", params["stream"]), ("origin_url", params["origin_url"]))
    answer = client.send("stream.details", fields)
    if is_not_found(answer):
        return None
    if is_failure(answer):
        raise client.failure("stream.details", answer)
    found = client.records("stream.details", answer)
    return found[0] if found else None


def active_streams(client, params) -> list:
    """The live streams of the application instance (``stream.active``); an answer saying none is live gives none."""
    answer = client.send("stream.active", request_fields(("app", params["app"]), ("inst", params["inst"]), ("origin_url", params["origin_url"])))
    if is_not_found(answer):
        return []
    if is_failure(answer):
        raise client.failure("stream.active", answer)
    return client.records("stream.active", answer)


def find_stream(client, params) -> dict | None:
    """The live stream's details, by ``stream`` (``stream.details``) or else by ``stream_id`` (``stream.active``); None when it is not live."""
    if params["stream"]:
        return _stream_details(client, params)
    for item in active_streams(client, params):
        if same_id(item.get("stream_id"), params["stream_id"]) or same_id(item.get("id"), params["stream_id"]):
            return item
    return None


def _stream_label(params) -> str:
    return f"{params['app']}/{params['inst']}/" + (params["stream"] if params["stream"] else f"stream_id {params['stream_id']}")


def _close_fields(params) -> dict:
    if params["stream"]:
        return request_fields(("app", params["app"]), ("inst", params["inst"]), ("stream", params["stream"]), ("origin_url", params["origin_url"]))
    # The reference closes a stream given by id by its stream_id alone (docs/scaleengine.md, "What was inferred").
    return request_fields(("stream_id", params["stream_id"]), ("origin_url", params["origin_url"]))


def close_stream(params, context, client=None) -> dict:
    """Work of ``scaleengine_stream``: close the stream when (and only when) it is live.

    Diff: ``{"live": true}`` before and ``{"live": false}`` after, headed by the stream.
    """
    # The spec's required=True and required_one_of let an empty string through, and it names no stream.
    if "" in (params["app"], params["inst"]):
        raise StreamingError("app and inst are required to find the stream")
    if params["stream"] == "":
        raise StreamingError("give exactly one of stream and stream_id")
    check_names(params)
    label = _stream_label(params)
    with client if client is not None else ScaleEngineClient(params, context) as api:
        current = find_stream(api, params)
        context.record_before({"live": current is not None}, header=label)
        context.record_after({"live": False}, header=label)
        if current is None:
            return dict(stream=None, message=f"{label} is not live; nothing to close")
        answer = perform_change(context, api, "stream.close", _close_fields(params))
        if answer is None:
            return dict(stream=current, message=f"{label} is live and would be closed (check mode)")
        if is_not_found(answer):
            # It stopped between the check and the close (or a retry found it closed already).
            return dict(stream=current, message=api.message(answer, f"{label} is not live"))
        return dict(stream=current, message=api.message(answer))
