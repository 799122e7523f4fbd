"""Fleet-sized runs through ansible-playbook with --forks 10, against one emulator each.

* USP: 200 channels (one inventory host per channel, as a fleet inventory
  lists them) converge their publishing points. Each point must cost exactly
  the API floor, counted per point in the emulator's request log: a create
  from nothing is a GET and a POST, an unchanged re-run one GET, an update a
  GET and a PUT.
* ScaleEngine: 10 forks send the same signed read commands at once. Identical
  request text signed with the same timestamp would carry the same signature,
  which the API refuses as a replay; every signature in the emulator's log must
  be distinct, and no task may fail.

Each test prints one summary line and records it with ``record_property``.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict

from tests.emulators.scaleengine import API_PATH, DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_CDN
from tests.helpers.playbook import task

FORKS = 10
CHANNELS = [f"channel{index:03d}" for index in range(1, 201)]
PLAY = """\
- name: Converge the publishing point of every channel
  hosts: channels
  connection: local
  gather_facts: false
"""
POINT_TASK = """\
- name: Publishing point of the channel
  mediaops.streaming.usp_publishing_point:
    name: "{{ inventory_hostname }}"
    options: "{{ channel_options }}"
"""


def channel_options(index: int, dvr_window_length: int | None = None) -> dict:
    return {"archiving": True, "archive_segment_length": 60, "dvr_window_length": dvr_window_length or 30 + 10 * (index % 6)}


def recap(result) -> dict[str, dict]:
    """host -> counters of the PLAY RECAP."""
    return {
        host: {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", counters)}
        for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", result.stdout, re.MULTILINE)
    }


def requests_per_point(emulator) -> dict[str, list[str]]:
    """Publishing point name -> the methods of the requests about it, in order."""
    per_point: dict[str, list[str]] = defaultdict(list)
    for entry in emulator.log():
        per_point[entry.path.strip("/").split("/")[0]].append(entry.method)
    return dict(per_point)


def test_two_hundred_channels_converge_at_the_api_floor(ansible_run, usp, record_property):
    def converge(options_of: dict[str, dict]) -> tuple[object, float]:
        inventory = json.dumps({"channels": {"hosts": {name: {"channel_options": options} for name, options in options_of.items()}}})
        usp.clear_log()
        began = time.monotonic()
        result = ansible_run.playbook(
            POINT_TASK, play_header=PLAY, inventory=inventory, env={"USP_API_URL": usp.url("api")}, args=("--forks", str(FORKS)), timeout=1800
        )
        seconds = time.monotonic() - began
        assert result.rc == 0, result.output[-5000:]
        counters = recap(result)
        assert set(counters) == set(CHANNELS)
        assert [host for host, counts in counters.items() if counts["failed"] or counts["unreachable"]] == []
        return result, seconds

    def changed(result) -> dict[str, bool]:
        return {entry["host"]: entry["result"]["changed"] for entry in result.tasks if entry["task"] == "Publishing point of the channel"}

    desired = {name: channel_options(index) for index, name in enumerate(CHANNELS)}
    created, create_seconds = converge(desired)
    # From nothing: one GET that finds no point, one POST that creates it, for every point.
    assert requests_per_point(usp) == {name: ["GET", "POST"] for name in CHANNELS}
    assert changed(created) == dict.fromkeys(CHANNELS, True)
    create_requests = len(usp.log())

    again, again_seconds = converge(desired)
    # Unchanged: one GET per point and nothing else.
    assert requests_per_point(usp) == {name: ["GET"] for name in CHANNELS}
    assert changed(again) == dict.fromkeys(CHANNELS, False)
    again_requests = len(usp.log())

    # Every third channel gets a longer DVR window; the others are unchanged in the same run.
    updated_names = set(CHANNELS[::3])
    desired = {name: channel_options(index, 600) if name in updated_names else desired[name] for index, name in enumerate(CHANNELS)}
    updated, update_seconds = converge(desired)
    assert requests_per_point(usp) == {name: ["GET", "PUT"] if name in updated_names else ["GET"] for name in CHANNELS}
    assert changed(updated) == {name: name in updated_names for name in CHANNELS}
    update_requests = len(usp.log())
    for name in CHANNELS:
        assert usp.point(name).option("dvr_window_length") == str(desired[name]["dvr_window_length"])

    line = (
        f"usp fleet: {len(CHANNELS)} points, --forks {FORKS}: create {create_seconds:.1f} s ({create_requests} requests), "
        f"unchanged re-run {again_seconds:.1f} s ({again_requests} requests), "
        f"update of {len(updated_names)} {update_seconds:.1f} s ({update_requests} requests)"
    )
    print(f"\n{line}")
    record_property("load_usp_fleet", line)


# -- ScaleEngine: the same signed request from 10 forks at once -------------------------------------

VIEWERS = {"app": "demo-origin", "url": "my_live_stream*"}
ACTIVE = {"command": "stream.active", "params": {"app": "demo-origin", "inst": "live"}, "read_only": True}
# Three tasks with the same arguments on every host; the third repeats the first, so
# the same request text is also sent again after the other command.
SCALEENGINE_TASKS = (
    task("Viewers of the live stream", "mediaops.streaming.scaleengine_viewer_info", **VIEWERS)
    + task("Active streams", "mediaops.streaming.scaleengine_command", **ACTIVE)
    + task("Viewers of the live stream again", "mediaops.streaming.scaleengine_viewer_info", **VIEWERS)
)


def test_ten_forks_never_reuse_a_scaleengine_signature(ansible_run, scaleengine, record_property):
    hosts = [f"viewer{index:02d}" for index in range(1, FORKS + 1)]
    env = {
        "SCALEENGINE_API_URL": scaleengine.url() + API_PATH,
        "SCALEENGINE_CDN": str(DEFAULT_CDN),
        "SCALEENGINE_API_KEY": DEFAULT_API_KEY,
        "SCALEENGINE_API_SECRET": DEFAULT_API_SECRET,
    }
    play = PLAY.replace("Converge the publishing point of every channel", "Read ScaleEngine from every host at once")
    began = time.monotonic()
    result = ansible_run.playbook(
        SCALEENGINE_TASKS, play_header=play, inventory=json.dumps({"channels": {"hosts": dict.fromkeys(hosts)}}), env=env, args=("--forks", str(FORKS))
    )
    seconds = time.monotonic() - began
    assert result.rc == 0, result.output[-5000:]
    counters = recap(result)
    assert set(counters) == set(hosts)
    assert [host for host, counts in counters.items() if counts["failed"]] == []
    for entry in result.tasks:
        assert entry["status"] == "ok", entry
        if entry["task"].startswith("Viewers"):
            assert [item["video_url"] for item in entry["result"]["viewers"]] == ["my_live_stream", "my_live_stream_720p"]
        else:
            assert [item["stream"] for item in entry["result"]["response"]["data"]] == ["my_live_stream"]

    received = scaleengine.received()
    signatures = [request.get("signature") for request in received]
    # One request per task and host: no retry, no refusal, every one accepted.
    assert len(received) == 3 * len(hosts)
    assert len(scaleengine.commands()) == len(received)
    assert all(isinstance(signature, str) and signature for signature in signatures)
    assert len(set(signatures)) == len(signatures), [signature for signature, count in Counter(signatures).items() if count > 1]

    # The requests really were identical apart from the timestamp: only a new timestamp made each signature new.
    texts: dict[str, list[int]] = defaultdict(list)
    for request in received:
        unsigned = {key: value for key, value in request.items() if key not in ("timestamp", "signature")}
        texts[json.dumps(unsigned, sort_keys=True)].append(request["timestamp"])
    assert sorted(len(timestamps) for timestamps in texts.values()) == [len(hosts), 2 * len(hosts)]
    assert all(len(set(timestamps)) == len(timestamps) for timestamps in texts.values())

    line = (
        f"scaleengine replay safety: {len(hosts)} hosts, --forks {FORKS}, 3 read tasks with identical arguments: {len(received)} signed requests "
        f"({len(texts)} distinct request texts), {len(set(signatures))} distinct signatures, 0 refused, {seconds:.1f} s"
    )
    print(f"\n{line}")
    record_property("load_scaleengine_signatures", line)
