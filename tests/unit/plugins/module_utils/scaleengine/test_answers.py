# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""scaleengine/answers.py and the sessions of pushpublish.py: what an answer means, and what is refused as unreadable."""

from __future__ import annotations

import re

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import AnswerError
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.answers import (
    answer_message,
    check_envelope,
    is_failure,
    is_not_found,
    normalise_code,
    records,
    same_id,
)
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.pushpublish import sessions_of


@pytest.mark.parametrize(("code", "expected"), [(3, "0003"), ("3", "0003"), ("0003", "0003"), (1000, "1000"), ("", None), (None, None), ("E12", "E12")])
def test_normalise_code(code, expected):
    assert normalise_code(code) == expected


def test_failure_and_not_found_detection():
    assert is_failure({"status": "failure", "message": "x"})
    assert is_failure({"message": "no status at all"})
    assert not is_failure({"status": "success"})
    assert not is_failure({"status": "failure", "code": 100, "message": "operation queued"})
    assert is_not_found({"status": "failure", "message": "Stream not found: a/b/c is not live"})
    assert is_not_found({"status": "failure", "message": "No matching PushPublish session is connected"})
    # A general code is never "not found", whatever the text says.
    assert not is_not_found({"status": "failure", "code": "0006", "message": "Required fields missing: stream not found"})
    assert not is_not_found({"status": "failure", "code": 1, "message": "CDN authorization failed"})
    assert not is_not_found({"status": "failure", "message": "Something else broke"})
    assert not is_not_found({"status": "success", "message": "not live"})


def test_records_tolerates_shapes():
    assert records(None) == [] and records([]) == [] and records({}) == []
    assert records([{"a": 1}, None]) == [{"a": 1}]
    assert records({"s1": {"a": 1}, "s2": {"a": 2}}) == [{"a": 1}, {"a": 2}]
    assert records({"stream": "s1", "app": "a"}) == [{"stream": "s1", "app": "a"}]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ([{"status": "success"}], "it is a list, not a JSON object"),
        ("success", 'it is the string "success", not a JSON object'),
        ({"status": ["success"]}, '"status" is a list'),
        ({"status": 1}, '"status" is the number 1'),
        ({"status": True}, '"status" is the boolean true'),
        ({"status": "failure", "code": 3.0}, '"code" is the number 3.0'),
        ({"status": "failure", "code": False}, '"code" is the boolean false'),
        ({"status": "failure", "code": ["0003"]}, '"code" is a list'),
        ({"data": []}, 'neither "status" nor "code"'),
        ({}, 'neither "status" nor "code"'),
    ],
)
def test_check_envelope_refuses_what_decides_the_outcome(answer, problem):
    with pytest.raises(AnswerError, match=re.escape(problem)):
        check_envelope(answer)


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "success"},
        {"status": "failure", "code": 3},
        {"status": "failure", "code": "0003", "message": {"any": ["type"]}},
        {"code": 100},  # queued, without a status
        {"status": "success", "message": 12, "data": "checked where it is read"},
    ],
)
def test_check_envelope_accepts(answer):
    check_envelope(answer)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("live", '"data" is the string "live", not a list or an object'),
        (42, '"data" is the number 42'),
        (False, '"data" is the boolean false'),
        ("", '"data" is an empty string'),
        ([{"a": 1}, 7], 'item 1 of "data" is the number 7, not an object'),
        ([["nested"]], 'item 0 of "data" is a list'),
    ],
)
def test_records_refuses_what_is_not_records(data, problem):
    with pytest.raises(AnswerError, match=re.escape(problem)):
        records(data, '"data"')


def test_records_null_items_are_skipped_and_empty_means_none():
    assert records([None, {"a": 1}, None]) == [{"a": 1}]
    assert records(None) == [] and records({}) == [] and records([]) == []


def test_not_found_reads_a_message_of_any_type():
    assert is_not_found({"status": "failure", "message": ["Stream not found"]})
    assert not is_not_found({"status": "failure", "message": {"code": 7}})
    assert answer_message({"message": {"m": 1}}) == '{"m":1}'


# -- PushPublish sessions as the details list them ----------------------------------------------


def _details(sessions, **extra):
    return dict({"app": "demo-origin", "inst": "live", "stream": "s1", "pushpublish": sessions}, **extra)


@pytest.mark.parametrize(
    ("session", "connected"),
    [
        ({"entry_name": "a"}, True),
        ({"entry_name": "a", "connected": True}, True),
        ({"entry_name": "a", "connected": False}, False),
        ({"entry_name": "a", "connected": 0}, False),
        ({"entry_name": "a", "connected": 1}, True),
        ({"entry_name": "a", "connected": "false"}, False),
        ({"entry_name": "a", "connected": " No "}, False),
        ({"entry_name": "a", "connected": "TRUE"}, True),
        ({"entry_name": "a", "status": "Stopped"}, False),
        ({"entry_name": "a", "state": "disconnected"}, False),
        ({"entry_name": "a", "status": None, "state": "closed"}, False),
        ({"entry_name": "a", "status": "streaming"}, True),
        ("entry-name-only", True),
    ],
)
def test_sessions_connected_flag(session, connected):
    (found,) = sessions_of([_details([session])])
    assert found["_connected"] is connected
    assert found["stream"] == "s1"


@pytest.mark.parametrize(
    ("sessions", "problem"),
    [
        ("session_1", 'the "pushpublish" of stream "s1" is the string "session_1", not a list of sessions'),
        (5, "is the number 5, not a list of sessions"),
        ([{"entry_name": "a"}, 7], 'item 1 of the "pushpublish" of stream "s1" is the number 7, not a session'),
        ([{"entry_name": ["a"]}], 'the "entry_name" of session 0 in the "pushpublish" of stream "s1" is a list'),
        ([{"entry_name": "a", "push_service_id": 1.5}], '"push_service_id" of session 0'),
        ([{"entry_name": "a", "connected": "maybe"}], '"connected" of session 0 in the "pushpublish" of stream "s1" is the string "maybe"'),
        ([{"entry_name": "a", "connected": 2}], "is the number 2, not true or false"),
        ([{"entry_name": "a", "status": ["stopped"]}], 'the "status" of session 0'),
    ],
)
def test_sessions_of_an_odd_shape_are_refused(sessions, problem):
    with pytest.raises(AnswerError, match=re.escape(problem)):
        sessions_of([_details(sessions)])


def test_sessions_listing_rules():
    assert sessions_of([]) == []  # no live stream
    assert sessions_of([{"stream": "s1"}]) is None  # not listed: the disconnect is sent unverified
    assert sessions_of([_details(None)]) is None  # null says nothing either
    assert sessions_of([_details([])]) == []  # listed and empty
    by_name = sessions_of([_details({"one": {"entry_name": "one"}, "two": {"entry_name": "two", "stream": "s2"}})])
    assert [(item["entry_name"], item["stream"]) for item in by_name] == [("one", "s1"), ("two", "s2")]
    with pytest.raises(AnswerError, match='the "stream" of stream 0 is an object'):
        sessions_of([{"stream": {"x": 1}, "pushpublish": []}])


def test_same_id_compares_text_and_whole_numbers_only():
    assert same_id("1000", 1000) and same_id(" 7", "7")
    assert not same_id(True, 1) and not same_id([1000], 1000) and not same_id(None, None) and not same_id(1000.0, 1000)
