"""Pure logic of the usp package: identity validation (identity.py), purge windows and archive trimming (archive_purge.py)."""

from __future__ import annotations

import math

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.archive_purge import (
    archive_in_window,
    parse_duration,
    parse_purge_point,
    parse_time,
    purge_window_from_params,
    trim_archive,
)
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.identity import PublishingPoint, publishing_point_from_params

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


@pytest.mark.parametrize(
    "name",
    [
        "ch1\n",  # "$" in a pattern would let a trailing newline through
        "ch1\r",
        "\nch1",
        "ch\t1",
        "ch1\x00",
        "ch1\x7f",
        "ch1%2f",
        "ch1%00",
        "ch1%2e%2e",
        "\u0441h1",  # Cyrillic es, looks like "ch1"
        "ch1\uff0fx",  # fullwidth solidus, looks like "/"
        "\u2025",  # two dot leader, looks like ".."
        "ch\u200b1",  # zero-width space
        "ch\u00e91",
    ],
)
def test_hostile_names_are_refused(name):
    with pytest.raises(StreamingError, match="invalid publishing point name") as info:
        publishing_point_from_params({"name": name, "base_path": ""})
    # Shown escaped: a control character never reaches a log or terminal raw.
    assert repr(name) in str(info.value)


@pytest.mark.parametrize("base_path", ["events\n", "\nevents", " events", "events ", "ev\tents", "events/\x00", "events%2f..", "events/\u2025", "\\events"])
def test_hostile_base_paths_are_refused_not_trimmed(base_path):
    with pytest.raises(StreamingError, match="invalid base_path"):
        publishing_point_from_params({"name": "ch1", "base_path": base_path})


def test_length_limits():
    assert publishing_point_from_params({"name": "a" * 250}).resource == f"{'a' * 250}/{'a' * 250}.isml"
    with pytest.raises(StreamingError, match=r"is 251 bytes long, the limit is 250 \(the server stores the point as the file \{name\}\.isml"):
        publishing_point_from_params({"name": "a" * 251})
    assert publishing_point_from_params({"name": "ch1", "base_path": "b" * 255}).base_path == "b" * 255
    with pytest.raises(StreamingError, match=r"part 'bbbb.* is 256 bytes long; directory names are limited to 255 bytes"):
        publishing_point_from_params({"name": "ch1", "base_path": "b" * 256})
    # "/ch1/ch1.isml" is 13 bytes: a base path of 1011 bytes fits exactly.
    fits = "/".join(["p" * 200] * 5) + "/" + "q" * 6
    assert len(publishing_point_from_params({"name": "ch1", "base_path": fits}).resource) == 1024
    with pytest.raises(StreamingError, match=r"is 1025 bytes long \(\{base_path\}/\{name\}/\{name\}\.isml\); the limit is 1024"):
        publishing_point_from_params({"name": "ch1", "base_path": fits + "q"})


def test_messages_cut_long_values_short():
    with pytest.raises(StreamingError) as info:
        publishing_point_from_params({"name": "x/" * 50_000})
    assert "... (100000 characters)" in str(info.value)
    assert len(str(info.value)) < 400


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
