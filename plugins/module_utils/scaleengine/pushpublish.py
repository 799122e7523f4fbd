# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work of ``scaleengine_pushpublish``: disconnect the PushPublish sessions that are connected.

Sessions are read from the stream details as docs/scaleengine.md ("What was
inferred", PushPublish sessions) describes; a shape that cannot be read
raises :class:`AnswerError` naming it.
"""

from __future__ import annotations

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import AnswerError, describe, printable
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.answers import is_not_found, records, same_id
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.change import perform_change, request_fields
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.client import ScaleEngineClient
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.names import check_names
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.stream import active_streams, find_stream

# Keys under which a stream's details may list its PushPublish sessions.
SESSION_KEYS = ("pushpublish", "push_publish", "pushpublish_sessions", "push_sessions", "sessions")
_TRUE_FLAGS = ("true", "1", "yes")
_FALSE_FLAGS = ("false", "0", "no")
_NOT_CONNECTED_STATES = ("disconnected", "stopped", "closed", "inactive")


def _session_items(value, where: str) -> list[dict]:
    """The sessions listed under one key of a stream's details: a list of sessions or entry names, or an object of them."""
    if isinstance(value, dict):
        return records(value, where)
    if not isinstance(value, list):
        raise AnswerError(f"{where} is {describe(value)}, not a list of sessions")
    sessions = []
    for index, item in enumerate(value):
        if item is None:
            continue
        session = {"entry_name": item} if isinstance(item, str) else item
        if not isinstance(session, dict):
            raise AnswerError(f"item {index} of {where} is {describe(item)}, not a session")
        sessions.append(session)
    return sessions


def _identity_field(record: dict, field: str, where: str):
    value = record.get(field)
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
        raise AnswerError(f'the "{field}" of {where} is {describe(value)}, not text or a whole number')
    return value


def is_connected(session: dict, where: str) -> bool:
    """Whether a listed session is connected: ``connected`` as a boolean (also 0/1 or "true"/"false"), else its ``status``/``state``."""
    flag = session.get("connected")
    if isinstance(flag, str) and flag.strip().lower() in _TRUE_FLAGS + _FALSE_FLAGS:
        flag = flag.strip().lower() in _TRUE_FLAGS
    if flag is not None and not (isinstance(flag, bool) or (isinstance(flag, int) and flag in (0, 1))):
        raise AnswerError(f'"connected" of {where} is {describe(flag)}, not true or false')
    if flag is not None and not flag:
        return False
    state = session.get("status") if session.get("status") is not None else session.get("state")
    if state is None:
        return True
    if not isinstance(state, str):
        raise AnswerError(f'the "status" of {where} is {describe(state)}, not text such as "connected"')
    return state.strip().lower() not in _NOT_CONNECTED_STATES


def _listed_sessions(details: dict, position: int) -> list | None:
    """The sessions one stream's details list (each with its stream name and ``_connected``), or None when they list none."""
    name = _identity_field(details, "stream", f"stream {position}") or _identity_field(details, "name", f"stream {position}")
    for key in SESSION_KEYS:
        if details.get(key) is None:
            continue
        where = f'the "{key}" of stream ' + (f'"{printable(str(name), 60)}"' if name is not None else str(position))
        sessions = []
        for index, session in enumerate(_session_items(details[key], where)):
            for field in ("entry_name", "push_service_id", "stream"):
                _identity_field(session, field, f"session {index} in {where}")
            sessions.append(dict(session, stream=session.get("stream") or name, _connected=is_connected(session, f"session {index} in {where}")))
        return sessions
    return None


def sessions_of(streams: list) -> list | None:
    """PushPublish sessions listed in the streams' details (each with its stream name), or None when the details do not list them.

    A key that is present but ``null`` counts as not listing them, so the
    disconnect is sent rather than skipped on an answer that says nothing.
    Raises :class:`AnswerError` for sessions whose shape cannot be read.
    """
    sessions = []
    listed = False
    for position, details in enumerate(streams):
        found = _listed_sessions(details, position)
        if found is not None:
            listed = True
            sessions.extend(found)
    if not streams:
        return []  # no live stream: no session to disconnect, listed or not
    return sessions if listed else None


def session_entry(session: dict) -> dict:
    """A session as the module returns it."""
    return {"entry_name": session.get("entry_name"), "push_service_id": session.get("push_service_id"), "stream": session.get("stream")}


def _read_sessions(client, params) -> list | None:
    """The sessions the stream details (with ``stream``) or the active streams list, or None when they do not list them."""
    if params["stream"]:
        source = "stream.details"
        details = find_stream(client, params)
        streams = [details] if details else []
    else:
        source = "stream.active"
        streams = active_streams(client, params)
    try:
        return sessions_of(streams)
    except AnswerError as exc:
        raise client.malformed(source, str(exc)) from None


def _matches(session: dict, service_id, entry_name) -> bool:
    if service_id is not None and not same_id(session.get("push_service_id"), service_id):
        return False
    return entry_name in (None, "*") or str(session.get("entry_name")) == entry_name


def _disconnect_fields(params) -> dict:
    app, inst, stream, entry_name = params["app"], params["inst"], params["stream"], params["entry_name"]
    if params["push_service_id"] is not None:
        # A stored session is found by its service id; app, inst and stream are
        # optional unless it was connected by hand (docs/scaleengine.md), so they are sent when given.
        fields = request_fields(("push_service_id", params["push_service_id"]), ("app", app), ("inst", inst), ("stream", stream), ("entry_name", entry_name))
    else:
        fields = request_fields(("app", app), ("inst", inst), ("stream", stream), ("entry_name", entry_name))
    fields.update(request_fields(("origin_url", params["origin_url"])))
    return fields


def _diff_header(params) -> str:
    if params["app"] and params["inst"]:
        return "PushPublish sessions of " + "/".join(part for part in (params["app"], params["inst"], params["stream"]) if part)
    return f"PushPublish sessions of push_service_id {params['push_service_id']}"


def disconnect_pushpublish(params, context, client=None) -> dict:
    """Work of ``scaleengine_pushpublish``: disconnect the sessions that are connected.

    Diff: ``sessions_connected`` before and after. When the sessions are
    listed (``verified``) that is every connected session listed, before and
    without the disconnected ones; otherwise the session asked for, then none.
    """
    service_id, entry_name = params["push_service_id"], params["entry_name"]
    # The spec makes app, inst and entry_name present without push_service_id; an empty one names no session.
    if service_id is None and "" in (params["app"], params["inst"], entry_name):
        raise StreamingError("give push_service_id, or app, inst and entry_name (entry_name '*' disconnects all pushes)")
    check_names(params)
    header = _diff_header(params)
    with client if client is not None else ScaleEngineClient(params, context) as api:
        sessions = _read_sessions(api, params) if params["app"] and params["inst"] else None
        verified = sessions is not None
        if verified:
            connected = [session for session in sessions if session["_connected"]]
            matched = [session_entry(session) for session in connected if _matches(session, service_id, entry_name)]
            before = [session_entry(session) for session in connected]
            context.record_before({"sessions_connected": before}, header=header)
            context.record_after({"sessions_connected": [session_entry(session) for session in connected if not _matches(session, service_id, entry_name)]})
            if not matched:
                return dict(verified=True, sessions_disconnected=[], message="no matching PushPublish session is connected")
        else:
            matched = [{"entry_name": entry_name, "push_service_id": service_id, "stream": params["stream"]}]
            context.record_before({"sessions_connected": matched}, header=header)
            context.record_after({"sessions_connected": []})
        answer = perform_change(context, api, "pushpublish.disconnect", _disconnect_fields(params))
        if answer is None:
            return dict(verified=verified, sessions_disconnected=matched, message="would disconnect (check mode)")
        if is_not_found(answer):
            return dict(verified=verified, sessions_disconnected=[], message=api.message(answer))
        return dict(verified=verified, sessions_disconnected=matched, message=api.message(answer))
