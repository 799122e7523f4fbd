# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Untrusted JSON answers: decoded within bounds, described in words.

ScaleEngine and Red5 Stream Manager answer JSON. A broken or hostile server
must get a sentence naming what was wrong, never a traceback or an exhausted
controller (docs/security.md), so answers are decoded with
bounds on size, nesting and numbers, and any text of theirs that reaches a
message goes through :func:`printable` first.
"""

from __future__ import annotations

import codecs
import json
import math
import re

# PHP's json_encode recurses, and so does the encoder of the requests; answers
# use the same bound.
MAX_JSON_DEPTH = 32

# The largest JSON answer decoded. Real answers are kilobytes; 8 MiB still
# holds tens of thousands of viewer records or streams, decodes in well under
# a second, and keeps a broken or hostile server far from the controller's
# memory (the HTTP client's own bound, 64 MiB, is sized for USP manifests).
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# Integers longer than this are no ids, counts or times; Python would also
# refuse to print ones beyond 4300 digits when the result is returned.
MAX_INTEGER_DIGITS = 40
# How much of a server's text goes into a message.
MAX_SHOWN_TEXT = 300

_JSON_ESCAPE = re.compile(r"\\.", re.DOTALL)
_JSON_STRING_WITHOUT_ESCAPES = re.compile(r'"[^"]*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
# Characters that would let a server's text rewrite the operator's terminal
# (escape sequences), reorder what is shown (bidirectional overrides) or hide
# in it (zero-width characters, a byte order mark).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class AnswerError(ValueError):
    """A server's answer that cannot be used; the text says what is wrong with it, in words."""


def describe(value) -> str:
    """What a decoded JSON value is, for messages: "a string", "a list", ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f'the string "{printable(value, 60)}"' if value else "an empty string"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "an object"
    return f"a {type(value).__name__}"


def size_text(count: int) -> str:
    return f"{count / (1024 * 1024):.4g} MiB" if count >= 1024 * 1024 else f"{count} bytes"


def printable(text: str, limit: int = MAX_SHOWN_TEXT, collapse: bool = True) -> str:
    """``text`` shortened to ``limit`` characters, on one line, with control characters shown as escapes.

    ``collapse`` first turns runs of white space (newlines too) into one
    space, which suits a server's prose; without it every character stays
    visible, which suits a value being refused for one of them.
    """
    text = " ".join(text[: limit * 4].split()) if collapse else text
    shortened = len(text) > limit
    text = _UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text[:limit])
    return text + "..." if shortened else text


def answer_text(value, limit: int = MAX_SHOWN_TEXT) -> str:
    """A message field of any JSON type as bounded, printable text (a list or object as compact JSON)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return printable(value, limit)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    return printable(json.dumps(value, ensure_ascii=False, separators=(",", ":")), limit)


def _nesting_exceeds(text: str, limit: int) -> bool:
    """Whether arrays and objects in JSON ``text`` nest deeper than ``limit``, without decoding it.

    Python's decoder recurses once per level and fails with RecursionError
    (not ValueError) somewhere in the thousands; counting brackets outside
    strings first keeps that, and the module's own recursion over the result,
    out of reach. Linear: escapes go first, so no pattern backtracks.
    """
    depth = 0
    for bracket in _NOT_A_BRACKET.sub("", _JSON_STRING_WITHOUT_ESCAPES.sub("", _JSON_ESCAPE.sub("", text))):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _object_without_duplicates(pairs):
    decoded = dict(pairs)
    if len(decoded) != len(pairs):
        seen = set()
        for key, _value in pairs:
            if key in seen:
                raise AnswerError(f'the key "{printable(key, 60)}" appears twice in one object, so its value is ambiguous')
            seen.add(key)
    return decoded


def _refuse_constant(name):
    raise AnswerError(f"it contains {name}, which is not a JSON number")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise AnswerError(f"it contains the number {printable(text, 40)}, too large for a floating-point number")
    return value


def _bounded_int(text):
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise AnswerError(f"it contains a number of {len(text.lstrip('-'))} digits, more than the {MAX_INTEGER_DIGITS} any id, count or time needs")
    return int(text)


def decode_json_answer(content: bytes, max_bytes: int = MAX_ANSWER_BYTES, max_depth: int = MAX_JSON_DEPTH):
    """A server's JSON answer (bytes) decoded within bounds; :class:`AnswerError` says in words why it cannot be.

    Tolerated: a UTF-8 byte order mark (RFC 8259 lets parsers ignore it).
    Refused: more than ``max_bytes``, text that is not UTF-8, nesting deeper
    than ``max_depth``, ``NaN``/``Infinity`` and numbers out of range,
    duplicate keys (which one counts depends on the parser, so the answer is
    ambiguous) and ``\\u`` escapes of lone surrogates (not text; Ansible
    refuses results that carry them).
    """
    if len(content) > max_bytes:
        raise AnswerError(f"it is {size_text(len(content))} long, more than the {size_text(max_bytes)} a JSON answer may have")
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AnswerError(f"it is not UTF-8 text (byte {exc.start} cannot be decoded)") from None
    if _nesting_exceeds(text, max_depth):
        raise AnswerError(f"it nests lists and objects more than {max_depth} levels deep")
    try:
        value = json.loads(
            text, object_pairs_hook=_object_without_duplicates, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int
        )
    except AnswerError:
        raise
    except RecursionError:
        raise AnswerError(f"it nests lists and objects more than {max_depth} levels deep") from None
    except ValueError as exc:
        raise AnswerError(f"it is not valid JSON ({printable(str(exc), 120)})") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise AnswerError("it escapes half of a UTF-16 surrogate pair (\\ud800-\\udfff alone), which is not text") from None
    return value
