# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the Unified Streaming emulator itself, over real HTTP (the ``usp`` fixture is in tests/helpers/fixtures.py).

Every expectation here comes from the Publishing Point API reference (status
codes, document shapes, purge forms), written out by hand rather than computed
with the emulator's own helpers, so a bug in the emulator fails a test instead
of agreeing with itself.
"""

from __future__ import annotations

import json
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.emulators.usp import UspEmulator, UspEmulatorError
from tests.helpers.smil_samples import default_manifest

REPO_ROOT = Path(__file__).resolve().parents[2]
NS = {"s": "http://www.w3.org/2001/SMIL20/Language"}
TIMEOUT = 10


def smil(name: str = "ch1", archiving: str = "true") -> bytes:
    """The reference's default SMIL (mp4split -o <name>.isml), with archiving on."""
    return default_manifest(name, archiving).encode("utf-8")


def parse(response: requests.Response) -> etree._Element:
    return etree.fromstring(response.content)


def head_metas(root: etree._Element) -> list[tuple[str, str]]:
    return [(meta.get("name"), meta.get("content")) for meta in root.findall("s:head/s:meta", NS)]


def archive_ranges(response: requests.Response) -> dict[str, list[tuple[str, str]]]:
    """trackName -> [(start, end), ...] from an /archive answer."""
    ranges = {}
    for track in parse(response).find("s:body", NS):
        name = track.find("s:param[@name='trackName']", NS).get("value")
        ranges[name] = [(c.get("start"), c.get("end")) for c in track.findall("s:c", NS)]
    return ranges


def only_ranges(response: requests.Response) -> list[tuple[str, str]]:
    """The ranges of an /archive answer, checking every track has the same ones."""
    assert response.status_code == 200, response.text
    per_track = archive_ranges(response)
    assert set(per_track) == {"video", "audio"}
    assert per_track["video"] == per_track["audio"]
    return per_track["video"]


@pytest.fixture
def api(usp):
    return usp.url("api")


@pytest.fixture
def origin(usp):
    return usp.url("origin")


def create(api: str, path: str = "ch1", archiving: str = "true") -> None:
    name = path.rsplit("/", 1)[-1]
    response = requests.post(f"{api}/{path}/{name}.isml", data=smil(name, archiving), timeout=TIMEOUT)
    assert response.status_code == 201, response.text


def control(usp: UspEmulator, action: str, payload: dict | None = None, expect: int = 200):
    response = requests.post(f"{usp.url('api')}/_emulator/{action}", json=payload or {}, timeout=TIMEOUT)
    assert response.status_code == expect, response.text
    return response.json()


# -- API: create ----------------------------------------------------------------


def test_create_answers_201_with_empty_body_and_read_returns_the_settings(api):
    response = requests.post(f"{api}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT)
    assert response.status_code == 201
    assert response.content == b""

    read = requests.get(f"{api}/ch1/ch1.isml", timeout=TIMEOUT)
    assert read.status_code == 200
    assert read.text.splitlines()[1] == "<!-- Created with Unified Streaming Platform (version=1.12.9) -->"
    root = parse(read)
    assert root.tag == "{http://www.w3.org/2001/SMIL20/Language}smil"
    assert head_metas(root) == [
        ("clientManifestRelativePath", "ch1.ismc"),
        ("creator", "Unified Streaming Platform (USP)"),
        ("lookahead_fragments", "2"),
        ("dvr_window_length", "30"),
        ("archive_cmaf", "false"),
        ("archive_segment_length", "0"),
        ("archiving", "true"),
    ]
    assert root.find("s:body/s:switch", NS) is not None


def test_create_twice_is_a_conflict(api):
    create(api)
    response = requests.post(f"{api}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT)
    assert response.status_code == 409
    assert "exists" in response.text


@pytest.mark.parametrize("method", ["POST", "GET", "PUT", "DELETE"])
def test_query_string_is_405(api, method):
    create(api)
    response = requests.request(method, f"{api}/ch1/ch1.isml?archiving=1", data=smil(), timeout=TIMEOUT)
    assert response.status_code == 405
    assert "query string" in response.text


@pytest.mark.parametrize("path", ["/ch1/ch1.ism", "/ch1/ch1", "/ch1/ch1.isml/state", "/ch1/ch1.xml"])
def test_url_not_ending_in_isml_is_415(api, path):
    response = requests.post(f"{api}{path}", data=smil(), timeout=TIMEOUT)
    assert response.status_code == 415


@pytest.mark.parametrize("method", ["POST", "GET", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/ch2/ch1.isml", "/ch1.isml", "/events/ch1/other.isml"])
def test_directory_differing_from_the_isml_name_is_400(api, method, path):
    response = requests.request(method, f"{api}{path}", data=smil(), timeout=TIMEOUT)
    assert response.status_code == 400
    assert "not identical" in response.text


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("body", [b"", b"  \n"])
def test_empty_body_is_404_no_smil_content(api, method, body):
    create(api)
    response = requests.request(method, f"{api}/ch1/ch1.isml", data=body, timeout=TIMEOUT)
    assert response.status_code == 404
    assert "no smil content" in response.text.lower()


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_body_over_the_limit_is_413(usp, api, method):
    create(api, "big")  # for the PUT
    usp.max_smil_bytes = 1000
    body = smil("ch1").replace(b"</smil>", b"<!--" + b"x" * 1000 + b"--></smil>")
    response = requests.request(method, f"{api}/{'ch1/ch1' if method == 'POST' else 'big/big'}.isml", data=body, timeout=TIMEOUT)
    assert response.status_code == 413
    # exactly at the limit is accepted: the reference says "larger than"
    usp.max_smil_bytes = len(smil("ch1"))
    assert requests.post(f"{api}/ch1/ch1.isml", data=smil("ch1"), timeout=TIMEOUT).status_code == 201


def test_default_limit_is_50_megabytes():
    assert UspEmulator().max_smil_bytes == 50 * 1024 * 1024


@pytest.mark.parametrize(
    "body",
    [
        b"not xml at all",
        b"<smil xmlns='http://www.w3.org/2001/SMIL20/Language'><head>",  # truncated
        b"<html><head/><body/></html>",  # wrong root
        b"<smil xmlns='urn:other'><head/></smil>",  # wrong namespace
        b"<smil><head><title>x</title></head></smil>",  # head holds something else than meta
        b"<smil><head><meta content='x'/></head></smil>",  # meta without a name
        b"<!DOCTYPE smil [<!ENTITY x 'y'>]><smil><head><meta name='a' content='&x;'/></head></smil>",
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_malformed_smil_is_400(api, body, method):
    create(api)
    response = requests.request(method, f"{api}/{'new/new' if method == 'POST' else 'ch1/ch1'}.isml", data=body, timeout=TIMEOUT)
    assert response.status_code == 400
    assert "malformed" in response.text


def test_smil_without_namespace_is_accepted_and_read_back_in_the_smil_namespace(api):
    body = b"<smil><head><meta name='archiving' content='true'/></head><body><switch/></body></smil>"
    assert requests.post(f"{api}/ch1/ch1.isml", data=body, timeout=TIMEOUT).status_code == 201
    root = parse(requests.get(f"{api}/ch1/ch1.isml", timeout=TIMEOUT))
    assert head_metas(root) == [("archiving", "true")]
    assert root.find("s:body/s:switch", NS) is not None


def test_missing_base_path_is_404_until_the_directory_exists(usp, api):
    response = requests.post(f"{api}/events/ch1/ch1.isml", data=smil(), timeout=TIMEOUT)
    assert response.status_code == 404
    assert "base path" in response.text

    assert control(usp, "directories", {"path": "events"}) == {"directories": ["events"]}
    create(api, "events/ch1")
    assert usp.point("events/ch1").state == "idle"
    # a base path is a directory, not a prefix of a point name
    assert requests.post(f"{api}/live/ch1/ch1.isml", data=smil(), timeout=TIMEOUT).status_code == 404


def test_base_dirs_from_the_constructor_exist_with_their_parents():
    emulator = UspEmulator(base_dirs=["a/b"]).start()
    try:
        api = emulator.url("api")
        assert requests.post(f"{api}/a/b/ch1/ch1.isml", data=smil(), timeout=TIMEOUT).status_code == 201
        assert requests.post(f"{api}/a/ch2/ch2.isml", data=smil("ch2"), timeout=TIMEOUT).status_code == 201
        assert requests.post(f"{api}/c/ch3/ch3.isml", data=smil("ch3"), timeout=TIMEOUT).status_code == 404
    finally:
        emulator.stop()


def test_point_inside_a_point_is_400(usp, api):
    create(api, "ch1")
    response = requests.post(f"{api}/ch1/sub/sub.isml", data=smil("sub"), timeout=TIMEOUT)
    assert response.status_code == 400
    assert "inside" in response.text
    # deeper down too, even when the directory in between exists
    usp.create_directory("ch1/deep")
    assert requests.post(f"{api}/ch1/deep/x/x.isml", data=smil("x"), timeout=TIMEOUT).status_code == 400


def test_point_on_an_existing_directory_fails_creation(usp, api):
    # Reference requirement: "The directory does not exist prior to the operation."
    usp.create_directory("events")
    response = requests.post(f"{api}/events/events.isml", data=smil("events"), timeout=TIMEOUT)
    assert response.status_code == 500


# -- API: read, update, delete -----------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_missing_point_is_404(api, method):
    response = requests.request(method, f"{api}/ch1/ch1.isml", data=smil() if method == "PUT" else None, timeout=TIMEOUT)
    assert response.status_code == 404
    assert "does not exist" in response.text


def test_put_replaces_the_head_and_ignores_the_body(api):
    create(api)
    update = (
        b"<smil xmlns='http://www.w3.org/2001/SMIL20/Language'><head>"
        b"<meta name='dvr_window_length' content='60'/><meta name='archiving' content='false'/>"
        b"</head><body><switch><video src='injected.ismv'/></switch></body></smil>"
    )
    response = requests.put(f"{api}/ch1/ch1.isml", data=update, timeout=TIMEOUT)
    assert response.status_code == 200
    root = parse(requests.get(f"{api}/ch1/ch1.isml", timeout=TIMEOUT))
    assert head_metas(root) == [("dvr_window_length", "60"), ("archiving", "false")]
    assert root.find(".//s:video", NS) is None
    assert root.find("s:body/s:switch", NS) is not None


@pytest.mark.parametrize(
    ("state", "delete_status", "then_get_status"),
    # allowed when idle, starting or stopped; 403 (and the point stays) when started or stopping
    [("idle", 200, 404), ("starting", 200, 404), ("stopped", 200, 404), ("started", 403, 200), ("stopping", 403, 200)],
)
def test_delete_depends_on_the_state(usp, api, state, delete_status, then_get_status):
    create(api)
    usp.set_state("ch1", state)
    response = requests.delete(f"{api}/ch1/ch1.isml", timeout=TIMEOUT)
    assert response.status_code == delete_status
    assert requests.get(f"{api}/ch1/ch1.isml", timeout=TIMEOUT).status_code == then_get_status


def test_delete_removes_archive_and_subdirectories_and_recreate_is_idle(usp, api, origin):
    create(api)
    usp.create_directory("ch1/extra")
    usp.encoder_start("ch1", start_time=0)
    usp.encoder_push("ch1", 2)
    usp.encoder_eos("ch1")
    assert requests.delete(f"{api}/ch1/ch1.isml", timeout=TIMEOUT).status_code == 200
    assert "ch1/extra" not in usp.directories

    create(api)
    assert usp.point("ch1").state == "idle"
    assert usp.point("ch1").tracks == []
    assert requests.get(f"{origin}/ch1/ch1.isml/archive", timeout=TIMEOUT).status_code == 204


def test_api_rejects_other_methods(api):
    create(api)
    response = requests.patch(f"{api}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT)
    assert response.status_code == 405
    assert "PUT" in response.headers["Allow"]


# -- origin: state, statistics ---------------------------------------------------------

STATE_FORMAT = re.compile(
    r"""<\?xml version="1\.0" encoding="utf-8"\?>
<!-- Created with Unified Streaming Platform \(version=1\.12\.9\) -->
<smil
  xmlns="http://www\.w3\.org/2001/SMIL20/Language">
  <head>
    <meta
      name="updated"
      content="2023-11-14T22:13:20\.250000Z">
    </meta>
    <meta
      name="state"
      content="idle">
    </meta>
  </head>
</smil>
?"""
)


def test_state_has_the_real_server_layout(usp, api, origin):
    usp.clock = lambda: 1_700_000_000.25
    create(api)
    response = requests.get(f"{origin}/ch1/ch1.isml/state", timeout=TIMEOUT)
    assert response.status_code == 200
    assert STATE_FORMAT.fullmatch(response.text), response.text


def state(origin: str, path: str = "ch1") -> str:
    name = path.rsplit("/", 1)[-1]
    response = requests.get(f"{origin}/{path}/{name}.isml/state", timeout=TIMEOUT)
    assert response.status_code == 200
    return dict(head_metas(parse(response)))["state"]


def test_state_machine_through_the_encoder(usp, api, origin):
    create(api)
    assert state(origin) == "idle"
    usp.encoder_start("ch1")
    assert state(origin) == "starting"
    usp.encoder_push("ch1")
    assert state(origin) == "started"
    usp.encoder_eos("ch1", stopping_seconds=0.3)
    assert state(origin) == "stopping"
    # EOS so far on one stream: the reference's "waiting to receive EOS on all streams"
    assert [track["state"] for track in statistics(origin).values()] == ["stopped", "started"]
    deadline = time.monotonic() + 5
    while state(origin) == "stopping" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state(origin) == "stopped"


def test_drop_keeps_started_and_stops_fragments(usp, api, origin):
    create(api)
    usp.encoder_start("ch1", start_time=0)
    usp.encoder_push("ch1", 2)
    usp.encoder_drop("ch1")
    assert state(origin) == "started"
    # a started point cannot be deleted: the reference's 403
    assert requests.delete(f"{api}/ch1/ch1.isml", timeout=TIMEOUT).status_code == 403
    with pytest.raises(UspEmulatorError, match="no encoder"):
        usp.encoder_push("ch1")


def statistics(origin: str) -> dict[str, dict[str, str]]:
    response = requests.get(f"{origin}/ch1/ch1.isml/statistics", timeout=TIMEOUT)
    assert response.status_code == 200
    tracks = {}
    for track in parse(response).find("s:body", NS):
        params = {param.get("name"): param.get("value") for param in track.findall("s:param", NS)}
        assert {param.get("valueType") for param in track.findall("s:param", NS)} == {"data"}
        tracks[etree.QName(track).localname] = {**params, "src": track.get("src"), "systemBitrate": track.get("systemBitrate")}
    return tracks


def test_statistics_per_track_with_duration_in_ticks(usp, api, origin):
    usp.clock = lambda: 1_700_000_000.0
    create(api)
    assert statistics(origin) == {}
    usp.encoder_start("ch1", start_time=100)
    usp.clock = lambda: 1_700_000_010.123456
    usp.encoder_push("ch1", 3)
    tracks = statistics(origin)
    assert list(tracks) == ["video", "audio"]
    assert tracks["video"] == {
        "trackID": "1",
        "trackName": "video",
        "state": "started",
        "updated": "2023-11-14T22:13:30.123456Z",
        # end of the media timeline, 100 s + 3 x 2 s, in 10 MHz ticks
        "duration": "1060000000",
        "src": "ch1-1.ismv",
        "systemBitrate": "1000000",
    }
    assert tracks["audio"]["trackID"] == "2"
    assert tracks["audio"]["systemBitrate"] == "128000"
    usp.encoder_push("ch1")
    assert statistics(origin)["audio"]["duration"] == "1080000000"
    usp.encoder_eos("ch1")
    assert {track["state"] for track in statistics(origin).values()} == {"stopped"}


def test_custom_tracks(usp, api, origin):
    create(api)
    usp.encoder_start(
        "ch1",
        tracks=[{"type": "video", "track_id": 3, "system_bitrate": 412000, "src": "round6-1.ismv"}, {"type": "textstream", "track_name": "subs"}],
        fragment_seconds=1.5,
        start_time=0,
    )
    usp.encoder_push("ch1")
    body = parse(requests.get(f"{origin}/ch1/ch1.isml/statistics", timeout=TIMEOUT)).find("s:body", NS)
    assert [etree.QName(track).localname for track in body] == ["video", "textstream"]
    assert body[0].get("src") == "round6-1.ismv"
    assert body[0].get("systemBitrate") == "412000"
    assert body[0].find("s:param[@name='trackID']", NS).get("value") == "3"
    assert body[1].find("s:param[@name='trackName']", NS).get("value") == "subs"
    assert body[1].find("s:param[@name='duration']", NS).get("value") == "15000000"


@pytest.mark.parametrize("virtual", ["state", "statistics", "archive"])
def test_origin_answers_404_for_a_missing_point(usp, api, origin, virtual):
    assert requests.get(f"{origin}/ch1/ch1.isml/{virtual}", timeout=TIMEOUT).status_code == 404
    # the directory must match the name on the origin too
    usp.create_directory("other")
    create(api)
    assert requests.get(f"{origin}/other/ch1.isml/{virtual}", timeout=TIMEOUT).status_code == 404


def test_origin_isml_is_not_the_api_settings(api, origin):
    create(api)
    response = requests.get(f"{origin}/ch1/ch1.isml", timeout=TIMEOUT)
    assert response.status_code == 200
    assert etree.QName(parse(response)).localname != "smil"
    # and the origin does not do the API's writes
    assert requests.put(f"{origin}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT).status_code == 405
    assert requests.delete(f"{origin}/ch1/ch1.isml", timeout=TIMEOUT).status_code == 405
    assert requests.post(f"{origin}/ch1/ch1.isml/state", timeout=TIMEOUT).status_code == 405


# -- origin: archive and purge -----------------------------------------------------------


def test_archive_is_204_until_something_is_archived(usp, api, origin):
    create(api, archiving="false")
    usp.encoder_start("ch1", start_time=0)
    usp.encoder_push("ch1", 3)
    response = requests.get(f"{origin}/ch1/ch1.isml/archive", timeout=TIMEOUT)
    assert response.status_code == 204
    assert response.content == b""


def test_archive_grows_and_a_reconnect_makes_a_gap(usp, api, origin):
    create(api)
    usp.encoder_start("ch1", start_time="1970-01-01T13:16:03.44Z")
    usp.encoder_push("ch1", 3)
    assert only_ranges(requests.get(f"{origin}/ch1/ch1.isml/archive", timeout=TIMEOUT)) == [("1970-01-01T13:16:03.440000Z", "1970-01-01T13:16:09.440000Z")]
    usp.encoder_push("ch1")
    usp.encoder_drop("ch1")
    usp.encoder_start("ch1", start_time="1970-01-01T13:20:00Z", fragment_seconds=0.5)
    usp.encoder_push("ch1", 3)
    assert only_ranges(requests.get(f"{origin}/ch1/ch1.isml/archive", timeout=TIMEOUT)) == [
        ("1970-01-01T13:16:03.440000Z", "1970-01-01T13:16:11.440000Z"),
        ("1970-01-01T13:20:00.000000Z", "1970-01-01T13:20:01.500000Z"),
    ]


def test_reconnect_without_start_time_never_overlaps(usp, api, origin):
    create(api)
    usp.encoder_start("ch1")  # media time = now
    usp.encoder_push("ch1", 50)  # 100 s ahead of the wall clock
    usp.encoder_drop("ch1")
    usp.encoder_start("ch1")
    usp.encoder_push("ch1")
    ranges = only_ranges(requests.get(f"{origin}/ch1/ch1.isml/archive", timeout=TIMEOUT))
    assert len(ranges) == 2
    assert ranges[0][1] < ranges[1][0]


def archived_point(usp, api):
    """ch1 with two ranges: 13:16:00-13:26:00 and 13:30:00-13:40:00 (1970-01-01)."""
    create(api)
    usp.encoder_start("ch1", start_time="1970-01-01T13:16:00Z", fragment_seconds=60)
    usp.encoder_push("ch1", 10)
    usp.encoder_drop("ch1")
    usp.encoder_start("ch1", start_time="1970-01-01T13:30:00Z", fragment_seconds=60)
    usp.encoder_push("ch1", 10)


def purge(origin: str, t: str | None, path: str = "ch1") -> requests.Response:
    name = path.rsplit("/", 1)[-1]
    return requests.post(f"{origin}/{path}/{name}.isml/purge", params=None if t is None else {"t": t}, timeout=TIMEOUT)


def archive(origin: str) -> requests.Response:
    return requests.get(f"{origin}/ch1/ch1.isml/archive", timeout=TIMEOUT)


def test_purge_all_with_t_0(usp, api, origin):
    archived_point(usp, api)
    response = purge(origin, "0")
    assert response.status_code == 200
    assert response.content == b""
    assert archive(origin).status_code == 204


@pytest.mark.parametrize(
    ("t", "ranges_left", "then_t", "then_count"),
    [
        pytest.param(
            "00:15:00",
            [("1970-01-01T13:25:00.000000Z", "1970-01-01T13:26:00.000000Z"), ("1970-01-01T13:30:00.000000Z", "1970-01-01T13:40:00.000000Z")],
            "48:00:00",  # hours above 24: keeps everything
            2,
            id="keeps-the-latest-duration",
        ),
        pytest.param(
            "13:20:00-13:22:30",  # offset 13:20:00 is 1970-01-01T13:20:00Z: cut the middle of the first range
            [
                ("1970-01-01T13:16:00.000000Z", "1970-01-01T13:20:00.000000Z"),
                ("1970-01-01T13:22:30.000000Z", "1970-01-01T13:26:00.000000Z"),
                ("1970-01-01T13:30:00.000000Z", "1970-01-01T13:40:00.000000Z"),
            ],
            "00:00:00-00:02:30",  # the reference's "first 2.5 minutes" example removes nothing here: the timeline starts at 13:16
            3,
            id="range-of-offsets-on-the-timeline",
        ),
    ],
)
def test_purge_then_purge_again(usp, api, origin, t, ranges_left, then_t, then_count):
    archived_point(usp, api)
    assert purge(origin, t).status_code == 200
    assert only_ranges(archive(origin)) == ranges_left
    assert purge(origin, then_t).status_code == 200
    assert len(only_ranges(archive(origin))) == then_count


def test_purge_of_an_empty_range_changes_nothing(usp, api, origin):
    archived_point(usp, api)
    assert purge(origin, "13:20:00-13:20:00").status_code == 200
    assert len(only_ranges(archive(origin))) == 2


def test_purge_a_range_of_absolute_times_as_in_the_reference(usp, api, origin):
    create(api)
    usp.encoder_start("ch1", start_time="1970-01-01T13:16:03.44Z", fragment_seconds=0.5)
    usp.encoder_push("ch1", 4)
    # the reference's own example: no Z, fractions of different lengths
    assert purge(origin, "1970-01-01T13:16:03.44-1970-01-01T13:16:04.124535").status_code == 200
    assert only_ranges(archive(origin)) == [("1970-01-01T13:16:04.124535Z", "1970-01-01T13:16:05.440000Z")]
    assert purge(origin, "1970-01-01T13:16:00Z-1970-01-01T13:17:00Z").status_code == 200
    assert archive(origin).status_code == 204


@pytest.mark.parametrize(
    "t",
    [None, "", "yesterday", "1", "00:61:00", "00:00:00-", "13:00:00-12:00:00", "1970-01-01T13:00:00-13:10:00", "1970-13-01T00:00:00-1970-13-02T00:00:00"],
)
def test_purge_with_a_bad_t_is_400(usp, api, origin, t):
    archived_point(usp, api)
    assert purge(origin, t).status_code == 400
    assert len(only_ranges(archive(origin))) == 2


def test_purge_of_a_missing_point_is_404_and_needs_post(usp, api, origin):
    assert purge(origin, "0").status_code == 404
    create(api)
    assert requests.get(f"{origin}/ch1/ch1.isml/purge", params={"t": "0"}, timeout=TIMEOUT).status_code == 405


def test_automatic_purge_with_archive_length(usp, api, origin):
    body = (
        b"<smil><head><meta name='archiving' content='1'/>"
        b"<meta name='archive_length' content='60'/><meta name='archive_segment_length' content='10'/></head></smil>"
    )
    assert requests.post(f"{api}/ch1/ch1.isml", data=body, timeout=TIMEOUT).status_code == 201
    usp.encoder_start("ch1", start_time=0, fragment_seconds=10)
    usp.encoder_push("ch1", 12)
    assert only_ranges(archive(origin)) == [("1970-01-01T00:01:00.000000Z", "1970-01-01T00:02:00.000000Z")]


def test_put_can_switch_archiving_on(usp, api, origin):
    create(api, archiving="false")
    usp.encoder_start("ch1", start_time=0)
    usp.encoder_push("ch1")
    assert archive(origin).status_code == 204
    requests.put(f"{api}/ch1/ch1.isml", data=smil(archiving="true"), timeout=TIMEOUT).raise_for_status()
    usp.encoder_push("ch1")
    assert only_ranges(archive(origin)) == [("1970-01-01T00:00:02.000000Z", "1970-01-01T00:00:04.000000Z")]


# -- background encoder -----------------------------------------------------------------


def test_background_pusher_runs_until_eos(usp, api, origin):
    create(api)
    usp.encoder_start("ch1", interval=0.02, start_time=0)
    deadline = time.monotonic() + 5
    while len(usp.point("ch1").archive) == 0 or usp.point("ch1").archive[0][1] < 10_000_000:
        assert time.monotonic() < deadline, "the background encoder pushed nothing"
        time.sleep(0.02)
    assert state(origin) == "started"
    usp.encoder_eos("ch1")
    end = usp.point("ch1").archive[-1][1]
    time.sleep(0.1)
    assert usp.point("ch1").archive[-1][1] == end
    assert state(origin) == "stopped"


def test_deleting_a_point_stops_its_pusher(usp, api):
    create(api)
    usp.encoder_start("ch1", interval=0.02, start_time=0)
    old = usp.point("ch1")
    assert requests.delete(f"{api}/ch1/ch1.isml", timeout=TIMEOUT).status_code == 200  # still "starting"
    time.sleep(0.1)
    assert old.archive == []


# -- auth ---------------------------------------------------------------------------


def test_basic_auth_on_the_api_only_by_default():
    emulator = UspEmulator(username="admin", password="s3cret").start()
    try:
        api, origin = emulator.url("api"), emulator.url("origin")
        response = requests.post(f"{api}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert requests.post(f"{api}/ch1/ch1.isml", data=smil(), auth=("admin", "wrong"), timeout=TIMEOUT).status_code == 401
        assert "ch1" not in emulator.points
        assert requests.post(f"{api}/ch1/ch1.isml", data=smil(), auth=("admin", "s3cret"), timeout=TIMEOUT).status_code == 201
        assert requests.get(f"{origin}/ch1/ch1.isml/state", timeout=TIMEOUT).status_code == 200
    finally:
        emulator.stop()


def test_basic_auth_on_the_origin_when_asked():
    emulator = UspEmulator(username="admin", password="s3cret", auth_origin=True).start()
    try:
        api, origin = emulator.url("api"), emulator.url("origin")
        assert requests.post(f"{api}/ch1/ch1.isml", data=smil(), auth=("admin", "s3cret"), timeout=TIMEOUT).status_code == 201
        assert requests.get(f"{origin}/ch1/ch1.isml/state", timeout=TIMEOUT).status_code == 401
        assert requests.post(f"{origin}/ch1/ch1.isml/purge?t=0", timeout=TIMEOUT).status_code == 401
        assert requests.get(f"{origin}/ch1/ch1.isml/state", auth=("admin", "s3cret"), timeout=TIMEOUT).status_code == 200
    finally:
        emulator.stop()


# -- control API ------------------------------------------------------------------------


def test_control_api_drives_the_encoder_over_http(usp, api, origin):
    control(usp, "directories", {"path": "events"})
    create(api, "events/ch1")
    started = control(usp, "encoder/start", {"point": "events/ch1", "start_time": "1970-01-01T00:00:10Z", "fragment_seconds": 4})
    assert started["state"] == "starting"
    assert [track["track_name"] for track in started["tracks"]] == ["video", "audio"]
    assert control(usp, "encoder/push", {"point": "events/ch1", "count": 2})["state"] == "started"
    assert state(origin, "events/ch1") == "started"
    control(usp, "encoder/eos", {"point": "events/ch1"})
    assert state(origin, "events/ch1") == "stopped"
    control(usp, "state", {"point": "events/ch1", "state": "started"})
    assert state(origin, "events/ch1") == "started"

    points = control(usp, "points")
    assert list(points) == ["events/ch1"]
    assert points["events/ch1"]["url"] == "/events/ch1/ch1.isml"
    assert points["events/ch1"]["head"]["archiving"] == "true"
    assert points["events/ch1"]["archive"] == [{"start": "1970-01-01T00:00:10.000000Z", "end": "1970-01-01T00:00:18.000000Z"}]
    # GET works too, for a quick look with curl
    assert requests.get(f"{origin}/_emulator/points", timeout=TIMEOUT).json() == points


def test_control_api_errors(usp, api):
    control(usp, "encoder/start", {"point": "nope"}, expect=404)
    create(api)
    control(usp, "encoder/push", {"point": "ch1"}, expect=409)  # no encoder yet
    control(usp, "encoder/eos", {"point": "ch1"}, expect=409)
    control(usp, "encoder/drop", {"point": "ch1"}, expect=409)
    control(usp, "encoder/start", {"point": "ch1", "bogus": 1}, expect=400)
    control(usp, "encoder/start", {"point": "ch1", "fragment_seconds": 0}, expect=400)
    control(usp, "encoder/start", {"point": "ch1", "tracks": [{"type": "video", "colour": "red"}]}, expect=400)
    control(usp, "encoder/start", {"point": "ch1", "start_time": "yesterday"}, expect=400)
    control(usp, "state", {"point": "ch1", "state": "running"}, expect=400)
    control(usp, "directories", {"path": "../etc"}, expect=400)
    control(usp, "no-such-action", expect=404)
    assert usp.point("ch1").state == "idle"


def test_control_reset_wipes_everything_but_constructor_dirs():
    emulator = UspEmulator(base_dirs=["events"]).start()
    try:
        api = emulator.url("api")
        create(api, "events/ch1")
        control(emulator, "directories", {"path": "more"})
        emulator.add_fault(kind="status", status=500, count=None, path="never")
        control(emulator, "encoder/start", {"point": "events/ch1", "interval": 0.05})
        assert control(emulator, "reset") == {"reset": True}
        assert control(emulator, "points") == {}
        assert emulator.directories == {"events"}
        assert emulator.requests == []
        assert emulator.faults == []
    finally:
        emulator.stop()


def test_request_log_records_both_listeners(usp, api, origin):
    create(api)
    requests.get(f"{origin}/ch1/ch1.isml/state", timeout=TIMEOUT)
    assert [(entry.listener, entry.method, entry.path) for entry in usp.log()] == [
        ("api", "POST", "/ch1/ch1.isml"),
        ("origin", "GET", "/ch1/ch1.isml/state"),
    ]
    logged = requests.get(f"{api}/_emulator/requests", timeout=TIMEOUT).json()
    assert logged[0]["body"].startswith("<?xml")


# -- fault injection --------------------------------------------------------------------


def test_status_fault_burst_is_consumed_after_count(usp, api):
    create(api)
    control(usp, "faults", {"kind": "status", "status": 503, "count": 2, "method": "GET", "path": r"\.isml$", "listener": "api"}, expect=201)
    assert [requests.get(f"{api}/ch1/ch1.isml", timeout=TIMEOUT).status_code for _attempt in range(3)] == [503, 503, 200]


def test_delay_fault(usp, api, origin):
    create(api)
    usp.add_fault(kind="delay", seconds=0.3, listener="origin", path="/state$")
    started = time.monotonic()
    assert requests.get(f"{origin}/ch1/ch1.isml/state", timeout=TIMEOUT).status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(requests.Timeout):
        usp.add_fault(kind="delay", seconds=1.0, path="/state$")
        requests.get(f"{origin}/ch1/ch1.isml/state", timeout=0.2)


def test_reset_fault_raises_connection_error(usp, api):
    usp.add_fault(kind="reset", method="POST")
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{api}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT)
    # the fault was used up and the request was not handled
    assert "ch1" not in usp.points
    create(api)


def test_malformed_fault_truncates_the_body(usp, api, origin):
    create(api)
    usp.add_fault(kind="malformed", path="/statistics$")
    usp.encoder_start("ch1")
    response = requests.get(f"{origin}/ch1/ch1.isml/statistics", timeout=TIMEOUT)
    assert response.status_code == 200
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)
    assert statistics(origin)["video"]["state"] == "starting"


# -- races: statuses, gates, interference ---------------------------------------------------


def test_answered_pairs_requests_with_statuses_and_status_faults_are_not_routed(usp, api):
    usp.add_fault(kind="status", method="PUT", status=503)
    create(api)
    assert requests.post(f"{api}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT).status_code == 409
    assert requests.put(f"{api}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT).status_code == 503
    assert requests.put(f"{api}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT).status_code == 200
    assert requests.delete(f"{api}/ch1/ch1.isml", timeout=TIMEOUT).status_code == 200
    assert requests.delete(f"{api}/ch1/ch1.isml", timeout=TIMEOUT).status_code == 404
    assert [(request.method, status) for request, status in usp.answered()] == [("POST", 201), ("POST", 409), ("PUT", 200), ("DELETE", 200), ("DELETE", 404)]
    assert [request.method for request in usp.accepted_writes()] == ["POST", "PUT", "DELETE"]
    assert usp.answered(method="DELETE", status=404)[0][0].path == "/ch1/ch1.isml"
    usp.clear_log()
    assert usp.answered() == []


def test_a_reset_after_handling_still_counts_as_accepted(usp, api):
    usp.add_fault(kind="reset_mid", method="POST")
    with pytest.raises(requests.RequestException):
        requests.post(f"{api}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT)
    assert "ch1" in usp.points
    assert [request.method for request in usp.accepted_writes()] == ["POST"]


def test_gate_holds_answers_until_all_parties_are_handled(usp, api):
    gate = usp.gate(3, method="GET", path=r"/ch1/")
    answers = []

    def read():
        answers.append(requests.get(f"{api}/ch1/ch1.isml", timeout=TIMEOUT).status_code)

    threads = [threading.Thread(target=read) for _index in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + TIMEOUT
    while len(usp.answered(method="GET")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    # Two reads are handled (the point is missing), but neither client has its answer yet.
    assert [status for _request, status in usp.answered(method="GET")] == [404, 404]
    assert answers == []
    create(api)  # not a GET: passes the gate
    threads.append(threading.Thread(target=read))
    threads[-1].start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert sorted(answers) == [200, 404, 404]
    assert gate.released_together
    # The gate is spent: the next read is answered at once.
    assert requests.get(f"{api}/ch1/ch1.isml", timeout=TIMEOUT).status_code == 200


def test_gate_times_out_and_lets_the_waiting_requests_go(usp, api):
    gate = usp.gate(2, method="GET", timeout=0.3)
    started = time.monotonic()
    assert requests.get(f"{api}/ch1/ch1.isml", timeout=TIMEOUT).status_code == 404
    assert time.monotonic() - started >= 0.3
    assert not gate.released_together


def test_interfere_acts_just_before_the_matching_request(usp, api):
    create(api)
    usp.interfere("PUT", r"/ch1/", lambda emulator: emulator.api_call("DELETE", "/ch1/ch1.isml"))
    assert requests.put(f"{api}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT).status_code == 404
    # Used up, and another client's requests are not in the log.
    create(api)
    assert requests.put(f"{api}/ch1/ch1.isml", data=smil(), timeout=TIMEOUT).status_code == 200
    assert [entry.method for entry in usp.log()] == ["POST", "PUT", "POST", "PUT"]


def test_api_call_is_handled_like_a_request_but_not_logged(usp):
    assert usp.api_call("POST", "/ch1/ch1.isml", smil()).status == 201
    assert usp.api_call("POST", "/ch1/ch1.isml", smil()).status == 409
    assert b"archiving" in usp.api_call("GET", "/ch1/ch1.isml").body
    assert usp.log() == [] and usp.answered() == []


# -- command line -------------------------------------------------------------------------


def test_cli_prints_its_urls_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.usp", "--api-port", "0", "--origin-port", "0", "--username", "u", "--password", "p", "--base-dir", "live"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _writable, _errors = select.select([process.stdout], [], [], TIMEOUT)
        assert ready, "the emulator printed nothing"
        urls = json.loads(process.stdout.readline())
        assert set(urls) == {"api", "origin"}
        assert urls["api"] != urls["origin"]
        api = urls["api"]
        assert requests.post(f"{api}/live/ch1/ch1.isml", data=smil(), timeout=TIMEOUT).status_code == 401
        assert requests.post(f"{api}/live/ch1/ch1.isml", data=smil(), auth=("u", "p"), timeout=TIMEOUT).status_code == 201
        assert requests.get(f"{urls['origin']}/live/ch1/ch1.isml/state", timeout=TIMEOUT).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
