# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a ScaleEngine answer means: its envelope (``status``, ``code``), failures, "not found" and records.

Failures arrive as HTTP 200 with ``"status": "failure"``, a ``message`` and
often a ``code`` (docs/scaleengine.md, "Signing, retries and failures").
Answers are untrusted: every field that decides something is checked for its
type, and :class:`AnswerError` says in words what is wrong
(docs/scaleengine.md, "Broken or hostile answers").
"""

from __future__ import annotations

import re

from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import AnswerError, answer_text, describe

# The general result codes (docs/scaleengine.md, "Signing, retries and failures"), with what to do about them.
HEAVY_LOAD = "1000"
QUEUED = "0100"
AUTH_CODES = frozenset(("0000", "0001", "0002", "0003", "0004", "0005", "0006"))
CODE_ADVICE = {
    "0000": "The API does not know this command; check its spelling (for example stream.close, viewer.live)",
    "0001": "Check api_key and cdn (SCALEENGINE_API_KEY, SCALEENGINE_CDN): the key must belong to the account with this CDN id",
    "0002": (
        "Check that the clock of the host running the module is correct (NTP); the timestamp is sent as UTC Unix seconds and must be "
        "within the API's short validity window"
    ),
    "0003": "Check api_secret (SCALEENGINE_API_SECRET): the request signature did not verify",
    "0004": "The API reported an unexpected error; try again later and contact ScaleEngine support if it persists",
    "0005": (
        "The API key is not allowed to do this; check the key's permissions in the control panel. The same signed request sent twice (a replay) is refused too"
    ),
    "0006": "A field the command requires is missing; check the module's options (or params for scaleengine_command)",
    HEAVY_LOAD: "The API is under heavy load; try again in a few minutes (the module already retried with backoff)",
}
# A failure without one of the documented codes carries only its message.
UNKNOWN_FAILURE_ADVICE = "Check the options (or params) the message points at; if it is unclear, ask ScaleEngine support what it means"

# "That stream / session is not there": a failure without one of the general
# codes whose message says so (docs/scaleengine.md, "What was inferred").
_NOT_FOUND_MESSAGE = re.compile(
    r"not\s+(?:be\s+)?(?:found|live|active|running|connected|exist|publishing)"
    r"|no\s+(?:such|matching|active|live)|does\s*n[o']t\s+exist|offline|unknown\s+stream",
    re.IGNORECASE,
)


def normalise_code(code) -> str | None:
    """A result code as the documented four-digit string ("0003"), whether the API sent a string or an int."""
    if code is None or isinstance(code, bool):
        return None
    if isinstance(code, int):
        return f"{code:04d}"
    text = str(code).strip()
    if not text:
        return None
    return text.zfill(4) if text.isdigit() else text


def check_envelope(answer) -> None:
    """Refuse (:class:`AnswerError`) an answer whose ``status`` or ``code`` cannot be read.

    They decide between success, failure, "not found" and a retry, so a value
    of another type is not guessed at. ``message`` is only shown, so any type
    is shown as text; ``data`` is checked where it is read.
    """
    if not isinstance(answer, dict):
        raise AnswerError(f"it is {describe(answer)}, not a JSON object")
    status, code = answer.get("status"), answer.get("code")
    if status is not None and not isinstance(status, str):
        raise AnswerError(f'its "status" is {describe(status)}, not "success" or "failure"')
    if code is not None and (isinstance(code, bool) or not isinstance(code, (str, int))):
        raise AnswerError(f'its "code" is {describe(code)}, not a result code such as "0003"')
    if status is None and code is None:
        raise AnswerError('it has neither "status" nor "code"')


def is_failure(answer: dict) -> bool:
    """Whether the answer is a failure; code 0100 (queued) counts as accepted (docs/scaleengine.md, "What was inferred")."""
    return str(answer.get("status") or "").lower() != "success" and normalise_code(answer.get("code")) != QUEUED


def is_heavy_load(answer: dict) -> bool:
    """Whether the API refused to start the command because it is under heavy load (code 1000)."""
    return normalise_code(answer.get("code")) == HEAVY_LOAD and is_failure(answer)


def answer_message(answer: dict, default: str = "") -> str:
    """The answer's ``message`` as bounded, printable text, whatever its JSON type."""
    return answer_text(answer.get("message")) or default


def is_not_found(answer: dict) -> bool:
    """Whether a failure says the stream or session is not there (rather than that the request was wrong)."""
    if not is_failure(answer):
        return False
    if normalise_code(answer.get("code")) in AUTH_CODES or normalise_code(answer.get("code")) == HEAVY_LOAD:
        return False
    return bool(_NOT_FOUND_MESSAGE.search(answer_message(answer)))


def records(data, what: str = "data") -> list:
    """The API's ``data`` as a list of records (objects).

    Tolerated shapes: nothing (``null``, an empty list or object: no
    records), a list, an object keyed by name whose values are all records,
    or a single record; ``null`` items of a list are skipped. Anything else
    (text, a number, an item that is not an object) raises
    :class:`AnswerError` naming it: reading such an answer as "no records"
    would, for example, take a live stream for one that is not.
    """
    if data is None:
        return []
    if isinstance(data, list):
        found = []
        for index, item in enumerate(data):
            if item is None:
                continue
            if not isinstance(item, dict):
                raise AnswerError(f"item {index} of {what} is {describe(item)}, not an object")
            found.append(item)
        return found
    if isinstance(data, dict):
        values = list(data.values())
        # A dict of records (keyed by stream name) versus a single record.
        if values and all(isinstance(item, dict) for item in values):
            return values
        return [data] if data else []
    raise AnswerError(f"{what} is {describe(data)}, not a list or an object")


def same_id(left, right) -> bool:
    """Whether two ids (text or whole numbers, as the API and the user may write them) are the same."""
    for value in (left, right):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return False
    return str(left).strip() == str(right).strip()
