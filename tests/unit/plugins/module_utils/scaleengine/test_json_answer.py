# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""json_answer.py: the bounded decoder of untrusted JSON answers (shared by the ScaleEngine and Red5 clients) and its wording."""

from __future__ import annotations

import contextlib
import json
import re
import time

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils import json_answer
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import AnswerError, answer_text, decode_json_answer, describe, printable


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff{}", "not UTF-8 text (byte 0"),
        (b'{"a":"caf\xc3"}', "not UTF-8 text (byte 9"),
        (b"[" * 33 + b"]" * 33, "more than 32 levels deep"),
        (b'{"a":' + b"[" * 100000 + b"]" * 100000 + b"}", "more than 32 levels deep"),
        (b'{"a":' + b"{" * 40 + b"}" * 40 + b"}", "more than 32 levels deep"),
        (b'{"a":NaN}', "NaN, which is not a JSON number"),
        (b"[Infinity]", "Infinity, which is not a JSON number"),
        (b"[-Infinity]", "-Infinity, which is not a JSON number"),
        (b"[1e999]", "too large for a floating-point number"),
        (b"[-1e999]", "too large for a floating-point number"),
        (b"[" + b"9" * 41 + b"]", "a number of 41 digits"),
        (b"[-" + b"9" * 5000 + b"]", "a number of 5000 digits"),
        (b'{"status":"failure","status":"success"}', 'the key "status" appears twice'),
        (b'{"data":[{"id":1,"id":2}]}', 'the key "id" appears twice'),
        (b'{"m":"\\ud800"}', "half of a UTF-16 surrogate pair"),
        (b'{"m":"\\udc00x"}', "half of a UTF-16 surrogate pair"),
        (b'{"\\ud83d":1}', "half of a UTF-16 surrogate pair"),
        (b'{"status":"succ', "not valid JSON"),
        (b"\xef\xbb\xbf\xef\xbb\xbf{}", "not valid JSON"),
        (b"", "not valid JSON"),
    ],
)
def test_decode_json_answer_refuses_with_the_reason(content, problem):
    with pytest.raises(AnswerError, match=re.escape(problem)):
        decode_json_answer(content)


def test_decode_json_answer_refuses_more_than_the_bound_before_decoding():
    with pytest.raises(AnswerError, match=r"it is 8 MiB long, more than the 8 MiB"):
        decode_json_answer(b" " * (8 * 1024 * 1024) + b"x")  # one byte over
    with pytest.raises(AnswerError, match="it is 11 bytes long, more than the 10 bytes"):
        decode_json_answer(b'{"a":"bcd"}', max_bytes=10)
    assert decode_json_answer(b'{"a":"bc"}', max_bytes=10) == {"a": "bc"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xef\xbb\xbf" + b'{"status":"success"}', {"status": "success"}),  # a byte order mark is tolerated
        (b"[" * 32 + b"]" * 32, json.loads("[" * 32 + "]" * 32)),  # exactly the bound
        (b'{"a":"' + b"[" * 40 + b'"}', {"a": "[" * 40}),  # brackets inside strings do not nest
        (b'{"a":"\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"","b":[1]}', {"a": '"' + "[" * 37 + '"', "b": [1]}),
        (b'{"a":"\\\\","b":' + b"[" * 31 + b"]" * 31 + b"}", {"a": "\\", "b": json.loads("[" * 31 + "]" * 31)}),
        (b'{"m":"\\ud83d\\ude00 caf\\u00e9"}', {"m": "\U0001f600 caf\u00e9"}),  # a surrogate pair is text
        (b"[" + b"9" * 40 + b", -1.5e300, 0.1]", [int("9" * 40), -1.5e300, 0.1]),
        (b'"just text"', "just text"),
    ],
)
def test_decode_json_answer_accepts_what_is_within_the_bounds(content, expected):
    assert decode_json_answer(content) == expected


def test_decode_json_answer_counts_nesting_in_linear_time():
    """Quotes and backslashes that would make a string pattern backtrack (quadratic time) are handled in one pass each."""
    hostile = [
        b'"' + b'\\"' * (512 * 1024),  # an unterminated string of escaped quotes
        b'"\\\\' * (512 * 1024),  # an unterminated string of escaped backslashes
        b'"' * (1024 * 1024),
        b"[" + b"[]," * (512 * 1024) + b"[]]",  # wide, not deep: valid
        b"[" * (1024 * 1024),
    ]
    for content in hostile:
        started = time.monotonic()
        with contextlib.suppress(AnswerError):
            decode_json_answer(content)
        assert time.monotonic() - started < 5, content[:20]


def test_decode_json_answer_turns_a_recursion_error_into_the_nesting_message(monkeypatch):
    """Should the bracket count ever miss, Python's own RecursionError still becomes the same sentence."""
    monkeypatch.setattr(json_answer, "_nesting_exceeds", lambda text, limit: False)
    with pytest.raises(AnswerError, match="more than 32 levels deep"):
        decode_json_answer(b"[" * 100000 + b"]" * 100000)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "the boolean true"),
        (3, "the number 3"),
        (2.5, "the number 2.5"),
        ("", "an empty string"),
        ("live", 'the string "live"'),
        ("a\x1bb", 'the string "a\\u001bb"'),
        ([1], "a list"),
        ({"a": 1}, "an object"),
    ],
)
def test_describe(value, expected):
    assert describe(value) == expected


def test_describe_names_any_other_type():
    assert describe({1, 2}) == "a set"


def test_printable_bounds_and_escapes_server_text():
    assert printable("a\x1b[2J\x07b\u202ec\ufeffd\x9b") == "a\\u001b[2J\\u0007b\\u202ec\\ufeffd\\u009b"
    assert printable("line one\n  line two\r\n\tthree") == "line one line two three"
    assert printable("keep\nthe\tnewline", collapse=False) == "keep\\u000athe\\u0009newline"
    assert printable("x" * 1000, 10) == "x" * 10 + "..."
    assert len(printable("\x00" * 100000)) < 2000
    assert answer_text({"error": "db down", "n": [1, None]}) == '{"error":"db down","n":[1,null]}'
    assert answer_text(False) == "false" and answer_text(7) == "7" and answer_text(None) == ""
