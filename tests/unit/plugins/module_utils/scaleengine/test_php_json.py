# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""scaleengine/php_json.py: the PHP json_encode rules (PHP 8.2 defaults), the values refused, and the bounds on requests."""

from __future__ import annotations

import json

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.php_json import check_request_fields, php_json_encode
from tests.emulators import scaleengine as emulator_module
from tests.unit.plugins.module_utils.scaleengine.fakes import nested


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a/b", '"a\\/b"'),
        ('q"b\\s', '"q\\"b\\\\s"'),
        ("\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'),
        ("\x00\x01\x1f", '"\\u0000\\u0001\\u001f"'),
        ("\x0b\x1b", '"\\u000b\\u001b"'),
        ("\x7f", '"\x7f"'),  # DEL raw (json.dumps would write \u007f)
        ("<>&'", '"<>&\'"'),
        ("\u00e9\u20ac\uffff", '"\\u00e9\\u20ac\\uffff"'),
        ("\U0001f600\U0010ffff", '"\\ud83d\\ude00\\udbff\\udfff"'),
        ("\u00c9", '"\\u00c9"'),  # lowercase hex digits, uppercase letter in the text
        ("", '""'),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (0, "0"),
        (-42, "-42"),
        (2**63 - 1, "9223372036854775807"),
        (-(2**63), "-9223372036854775808"),
        ([], "[]"),
        ([1, "a", None, [True]], '[1,"a",null,[true]]'),
        ({"b": 1, "a": {"x/y": ["z"]}}, '{"b":1,"a":{"x\\/y":["z"]}}'),
        ({"1": "a", "0": "b"}, '{"1":"a","0":"b"}'),  # not 0..n-1 in order: stays an object in PHP
        ({"5": "a"}, '{"5":"a"}'),
        ("caf\u00e9".encode(), '"caf\\u00e9"'),
        (("a", 1), '["a",1]'),
    ],
)
def test_encoder_rules(value, expected):
    assert php_json_encode(value) == expected


def test_json_dumps_is_not_php():
    """Why the module has its own encoder: json.dumps escapes DEL and leaves '/' raw."""
    assert json.dumps("\x7f/") == '"\\u007f/"'
    assert php_json_encode("\x7f/") == '"\x7f\\/"'


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (1.5, "floating-point"),
        (1.0, "floating-point"),
        (float("nan"), "floating-point"),
        ({}, "empty object"),
        ({"a": {"b": {}}}, "empty object"),
        ({"0": "a", "1": "b"}, "becomes a list"),
        ({"0": "a"}, "becomes a list"),
        (b"\xff\xfe", "not valid UTF-8"),
        ("bad\udcff", "not valid UTF-8"),
        ("\ud83d", "not valid UTF-8"),
        (2**63, "64 bits"),
        (-(2**63) - 1, "64 bits"),
        ({1: "a"}, "not a string"),
        ({"a", "b"}, "type set"),
    ],
)
def test_refuses_values_that_cannot_survive_the_round_trip(value, problem):
    with pytest.raises(StreamingError, match=problem) as caught:
        php_json_encode({"field": [value]})
    assert "request.field[0]" in str(caught.value)
    assert "PHP" in str(caught.value)  # the advice says why


def test_emulator_decodes_what_the_refused_values_would_become():
    """The refusals are real: the PHP round trip changes these texts (so the signature could never verify)."""
    for text in ('{"a":{}}', '{"a":{"0":"x","1":"y"}}', '{"a":1.0}', '{"a":18446744073709551616}'):
        assert emulator_module.php_encode(emulator_module.php_decode(text)) != text


@pytest.mark.parametrize(
    "value",
    [
        {"s": "sestore3/username/path/filename.mp4", "u": "caf\u00e9_\U0001f600 \u4e2d\u6587", "c": '\x00\x01\x1f\x7f\b\f\n\r\t"\\/'},
        {"list": [1, -2, True, False, None, "x", ["y", {"k": "v"}]], "n": 9007199254740993},
        {"quotes": "\\u007f", "odd": "\\\\u007f\x7f", "html": "<a href='x'>&amp;</a>"},
        {"3": "x", "key/with/slash": {"\u00e9": "\U0001f3b5"}},
    ],
)
def test_agrees_with_the_emulators_independent_php_model(value):
    text = php_json_encode(value)
    assert emulator_module.php_encode(emulator_module.php_decode(text)) == text


def test_request_fields_are_bounded_in_depth_and_size():
    check_request_fields({"deep": nested(31)}, "params.")  # the params object is level 1: 32 in all
    with pytest.raises(StreamingError, match=r"params\.deep(\.n){31} nests lists and objects more than 32 levels deep"):
        check_request_fields({"deep": nested(32)}, "params.")
    with pytest.raises(StreamingError, match=r"more than 32 levels deep"):
        check_request_fields({"deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})
    with pytest.raises(StreamingError, match="too large to send: params hold more than 1 MiB"):
        check_request_fields({"note": "x" * (1024 * 1024)}, "params.")
    with pytest.raises(StreamingError, match="too large to send"):
        check_request_fields({"many": list(range(200000))})
    with pytest.raises(StreamingError, match="too large to send"):
        check_request_fields({f"k{index}": "v" for index in range(200000)})


def test_the_encoder_refuses_depth_itself():
    with pytest.raises(StreamingError, match=r"request\.a(\.n){31} nests"):
        php_json_encode({"a": nested(32)})
    assert php_json_encode({"a": nested(2)}) == '{"a":{"n":{"n":"leaf"}}}'
