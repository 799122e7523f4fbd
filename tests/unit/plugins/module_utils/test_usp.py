"""Pure logic of usp.py: identity validation, purge windows, archive trimming."""

from __future__ import annotations

import math

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import (
    PublishingPoint,
    archive_in_window,
    parse_duration,
    parse_purge_point,
    parse_time,
    publishing_point_from_params,
    purge_window_from_params,
    trim_archive,
)

ARCHIVE = [
    {
        "src": "ch-video.ismv",
        "type": "video",
        "track_id": 1,
        "track_name": "video",
        "ranges": [
            {"start": "2026-11-23T10:00:00.000000Z", "end": "2026-11-23T10:10:00.000000Z"},
            {"start": "2026-11-23T10:20:00.000000Z", "end": "2026-11-23T10:30:00.000000Z"},
        ],
    },
    {
        "src": "ch-audio.isma",
        "type": "audio",
        "track_id": 2,
        "track_name": "audio",
        "ranges": [{"start": "2026-11-23T10:00:00.000000Z", "end": "2026-11-23T10:30:00.500000Z"}],
    },
]


@pytest.mark.parametrize(
    ("name", "base_path", "resource"),
    [
        ("channel00", "", "channel00/channel00.isml"),
        ("ch.1-a_b", "/events/2026/", "events/2026/ch.1-a_b/ch.1-a_b.isml"),
        ("x", "a", "a/x/x.isml"),
    ],
)
def test_valid_identities(name, base_path, resource):
    point = publishing_point_from_params({"name": name, "base_path": base_path})
    assert point.resource == resource


@pytest.mark.parametrize(
    ("name", "base_path"),
    [
        ("a/b", ""),
        ("..", ""),
        (".", ""),
        ("ch?x=1", ""),
        ("ch#1", ""),
        ("ch 1", ""),
        ("ch%2F", ""),
        ("", ""),
        ("ch", "a//b"),
        ("ch", "a/../b"),
        ("ch", "a/b?c"),
        ("ch", "//"),
    ],
)
def test_invalid_identities_are_refused(name, base_path):
    with pytest.raises(StreamingError, match="invalid"):
        publishing_point_from_params({"name": name, "base_path": base_path})


def test_directory_of_point():
    assert PublishingPoint("ch1", "events").directory == "events/ch1"
    assert PublishingPoint("ch1").directory == "ch1"


@pytest.mark.parametrize(("text", "seconds"), [("00:00:00", 0), ("02:00:00", 7200), ("48:00:00", 172800), ("00:02:30", 150), ("00:00:01.5", 1.5)])
def test_durations(text, seconds):
    assert parse_duration(text, "keep") == seconds


@pytest.mark.parametrize("text", ["2h", "1:2:3", "00:60:00", "00:00:60", "-01:00:00", ""])
def test_bad_durations(text):
    with pytest.raises(StreamingError, match="keep must be a duration"):
        parse_duration(text, "keep")


def test_times_with_and_without_zone():
    assert parse_time("1970-01-01T13:16:03.44") == pytest.approx(47763.44)
    assert parse_time("1970-01-01T13:16:03.440000Z") == pytest.approx(47763.44)
    assert parse_time("2026-11-23T11:00:00+01:00") == parse_time("2026-11-23T10:00:00Z")


def test_purge_points_offsets_and_iso():
    assert parse_purge_point("00:02:30", "start") == ("00:02:30", 150)
    text, seconds = parse_purge_point("2026-11-23T11:00:00+01:00", "start")
    assert text == "2026-11-23T10:00:00.000000"
    assert seconds == parse_time("2026-11-23T10:00:00Z")
    with pytest.raises(StreamingError, match="start must be HH:MM:SS"):
        parse_purge_point("yesterday", "start")


def test_purge_windows():
    assert purge_window_from_params({"all": True}).t == "0"
    ranged = purge_window_from_params({"start": "00:00:00", "end": "00:02:30"})
    assert (ranged.t, ranged.lower, ranged.upper) == ("00:00:00-00:02:30", 0, 150)
    keep = purge_window_from_params({"keep": "00:10:00"})
    assert keep.t == "00:10:00"
    # Kept duration measured back from the newest archived media (10:30:00.5).
    assert keep.bounds(ARCHIVE) == (-math.inf, parse_time("2026-11-23T10:20:00.5Z"))
    assert keep.bounds([]) == (-math.inf, -math.inf)
    with pytest.raises(StreamingError, match="must be after start"):
        purge_window_from_params({"start": "00:10:00", "end": "00:05:00"})
    with pytest.raises(StreamingError, match="set exactly one"):
        purge_window_from_params({"all": False})


def test_archive_in_window():
    assert archive_in_window(ARCHIVE, -math.inf, math.inf)
    assert archive_in_window(ARCHIVE, parse_time("2026-11-23T10:12:00Z"), parse_time("2026-11-23T10:15:00Z"))  # audio only
    assert not archive_in_window(ARCHIVE[:1], parse_time("2026-11-23T10:12:00Z"), parse_time("2026-11-23T10:15:00Z"))  # the gap
    assert not archive_in_window(ARCHIVE, 0, 150)
    assert not archive_in_window([], -math.inf, math.inf)


def test_trim_archive_splits_and_drops():
    lower, upper = parse_time("2026-11-23T10:05:00Z"), parse_time("2026-11-23T10:25:00Z")
    trimmed = trim_archive(ARCHIVE, lower, upper)
    assert trimmed[0]["ranges"] == [
        {"start": "2026-11-23T10:00:00.000000Z", "end": "2026-11-23T10:05:00.000000Z"},
        {"start": "2026-11-23T10:25:00.000000Z", "end": "2026-11-23T10:30:00.000000Z"},
    ]
    assert trimmed[1]["ranges"] == [
        {"start": "2026-11-23T10:00:00.000000Z", "end": "2026-11-23T10:05:00.000000Z"},
        {"start": "2026-11-23T10:25:00.000000Z", "end": "2026-11-23T10:30:00.500000Z"},
    ]
    assert trim_archive(ARCHIVE, -math.inf, math.inf) == []
    assert ARCHIVE[0]["ranges"][0]["end"] == "2026-11-23T10:10:00.000000Z"  # input untouched
