# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stream Manager answers: what an HTTP answer means, and streams as the modules return them.

Answers are untrusted: they are decoded within bounds (the decoder is shared
with the ScaleEngine client) and every field used is checked for its type
(docs/red5.md, "Broken or hostile answers" and "Errors").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, scrub
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import (
    MAX_ANSWER_BYTES,
    AnswerError,
    answer_text,
    decode_json_answer,
    describe,
    printable,
)
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.paths import normalise_scope

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
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,20}")
# Fields the modules return as text; a server that sends another type there
# is refused rather than passed on to playbooks that act on it (an address).
_TEXT_FIELDS = ("name", "scope", "serverAddress", "region", "type")
# Where an answer says what went wrong: Stream Manager 1.x writes errorMessage;
# 2.0 writes error (its GlobalExceptionHandler, and Spring's own error JSON),
# older 2.0 builds errorMessage, and other Spring errors message.
SM1_ERROR_KEYS = ("errorMessage",)
SM2_ERROR_KEYS = ("error", "errorMessage", "message")
# How much of a server's errorMessage a message or result shows.
_MAX_ERROR_MESSAGE = 500

_UNUSABLE_ADVICE = (
    "The answer may have been cut off, or url may point at something other than the Stream Manager (a proxy, a login page): "
    "run the task again, and if it persists check url, api_version and the Stream Manager's log"
)


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


def whole_number(value, key: str, where: str, minimum: int | None = None) -> int:
    """An integer field, also accepted as a string of digits (as some servers write long numbers); AnswerError otherwise."""
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        wanted = "a whole number" if minimum is None else f"a whole number of {minimum} or more"
        raise AnswerError(f'the "{key}" of {where} is {describe(value)}, not {wanted}')
    return value


def _start_time(value, where: str) -> dict:
    """``start_time`` (ISO 8601) and ``start_time_ms`` from a ``startTime`` value."""
    if value is None:
        return {"start_time": None, "start_time_ms": None}
    milliseconds = whole_number(value, "startTime", where)
    iso = epoch_ms_to_iso(milliseconds)
    if iso is None:
        raise AnswerError(f'the "startTime" of {where} is {describe(value)}, not epoch milliseconds between the years 1 and 9999')
    return {"start_time": iso, "start_time_ms": milliseconds}


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
    stream = {snake_case(key): value for key, value in item.items() if key not in _KNOWN_KEYS and key != "startTime"}
    for key in _TEXT_FIELDS:
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            raise AnswerError(f'the "{key}" of {where} is {describe(value)}, not text')
    for key, value in item.items():
        if key == "nodes" and isinstance(value, list):
            # Stream Manager 2.0's nodes of one stream (translated by the sm2 client), each a stream entry of its own.
            stream["nodes"] = [normalise_stream(node, f"node {index} of {where}") for index, node in enumerate(value)]
        elif key == "startTime":
            stream.update(_start_time(value, where))
        elif key == "scope":
            stream["scope"] = None if value is None else normalise_scope(value)
        elif key == "currentSubscribers":
            stream["current_subscribers"] = None if value is None else whole_number(value, key, where, minimum=0)
        elif key in _KNOWN_KEYS:
            stream[_KNOWN_KEYS[key]] = value
    return stream


def in_scope(stream: dict, scope: str) -> bool:
    """Whether a normalised stream is in ``scope`` or one of its nested scopes."""
    return stream.get("scope") == scope or str(stream.get("scope", "")).startswith(scope + "/")


@dataclass
class Answer:
    """A mapped Stream Manager answer: the data, or the errorMessage of a "not publishing" answer."""

    found: bool
    data: object = None
    message: str | None = None
    status: int | None = None
    method: str = "GET"
    url: str = ""


def unusable(answer: Answer, problem: str, advice: str = _UNUSABLE_ADVICE) -> StreamingError:
    """The error for a successful answer whose content cannot be used, naming what is wrong with it."""
    return StreamingError(f"the Stream Manager's answer cannot be used: {problem}", method=answer.method, url=answer.url, status=answer.status, advice=advice)


def _masked(text: str, secret: str | None) -> str:
    return text.replace(secret, "REDACTED") if secret else text


def _media_type(response) -> str:
    return (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _is_json_type(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _decoded(content: bytes) -> tuple[object, str | None]:
    """The decoded body and None, or None and what makes it unusable."""
    if not content.strip():
        return None, "the body is empty"
    try:
        return decode_json_answer(content), None
    except AnswerError as exc:
        return None, str(exc)


def _error_message(data, secret: str | None, error_keys: tuple[str, ...] = SM1_ERROR_KEYS) -> str | None:
    """The answer's error text (the first of ``error_keys`` it has) as bounded text with the secret masked, or None when it has none."""
    if not isinstance(data, dict):
        return None
    for key in error_keys:
        error_message = data.get(key)
        if error_message is not None:
            # Masked before it is shortened, so that no part of the secret is shown.
            return printable(scrub(_masked(answer_text(error_message, MAX_ANSWER_BYTES), secret)), _MAX_ERROR_MESSAGE) or f"(an empty {key})"
    return None


def _failure_advice(status: int, error_message: str | None) -> str:
    if status == 404 and error_message is None:
        return (
            "Check url (scheme, host and port, usually 5080) and api_version: the server may not speak this API version "
            "(a Stream Manager 2.0 speaks api_version sm2; api_version auto detects which one answers)"
        )
    if status in (401, 403):
        return "Check access_token (or RED5_SM_ACCESS_TOKEN): it must be the Stream Manager's administrator token"
    if status >= 500:
        return "The Stream Manager failed to answer; check its log and that its database and nodes are up"
    if 200 <= status < 300:
        return "The Stream Manager reported the error in a successful answer; check the request parameters"
    return "Check the request parameters against the api_version in use"


def _failure(status: int, error_message: str | None, text: str, method: str, url: str, advice=_failure_advice) -> StreamingError:
    """The error for an answer that is neither data nor "not publishing"."""
    if error_message is not None:
        message, body = f"the Stream Manager refused the request: {error_message}", None
    elif status == 404:
        message, body = "no Stream Manager API answered at this address", text
    else:
        message, body = "the Stream Manager request failed", text
    return StreamingError(message, method=method, url=url, status=status, body=body, advice=advice(status, error_message))


def parse_answer(
    response,
    method: str,
    url: str,
    not_found_ok: bool = False,
    secret: str | None = None,
    error_keys: tuple[str, ...] = SM1_ERROR_KEYS,
    advice=_failure_advice,
    not_found_statuses: tuple[int, ...] = (400, 404),
) -> Answer:
    """Map one HTTP answer of the Stream Manager (docs/red5.md, "Errors").

    * 2xx with a JSON body: the data (the content type must be JSON, so an
      HTML login page or proxy error is not mistaken for an answer), decoded
      within the bounds of ``decode_json_answer``;
    * an ``errorMessage`` in a 2xx body is an error answer like a 400;
    * 400 or 404 with ``errorMessage``: "not publishing" when the caller
      expects that (``not_found_ok``), a failure otherwise;
    * anything else: a failure naming the request, the status and the server's message.

    ``secret`` (the access token) is masked in anything quoted from the body,
    before it is shortened, so no part of it is shown. ``error_keys`` are the
    fields that carry the server's error text (Stream Manager 2.0 writes
    ``error``), ``advice`` what a failure tells the user to check, and
    ``not_found_statuses`` the statuses that mean "not publishing" (1.x answers
    400 or 404; 2.0 answers 404, its 400 being a refused parameter).
    """
    status = response.status_code
    content = response.content or b""
    # Every registered secret (the Basic credentials of a login, a token) is masked
    # before the text is cut short, so that no part of one is shown either.
    text = printable(scrub(_masked(content.decode("utf-8", errors="replace"), secret)))
    data, problem = _decoded(content)
    error_message = _error_message(data, secret, error_keys)
    successful = 200 <= status < 300
    if successful and error_message is None:
        media_type = _media_type(response)
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
    if error_message is not None and not_found_ok and (successful or status in not_found_statuses):
        return Answer(False, message=error_message, status=status, method=method, url=url)
    raise _failure(status, error_message, text, method, url, advice)
