# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Red5 Pro Stream Manager: the emulator over HTTP, and both modules through Ansible against it.

Expected values are written out by hand from the reference and the emulator's
configured nodes (addresses, regions, ISO times), not computed with the
collection's helpers, so a bug on either side fails a test instead of agreeing
with itself.
"""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.emulators.red5 import Red5Emulator
from tests.helpers.playbook import task

REPO_ROOT = Path(__file__).resolve().parents[2]
INFO = "mediaops.streaming.red5_stream_info"
REGISTRY = "mediaops.streaming.red5_stream_registry"
TOKEN = "Tok-9f8e7d6c5b4a-red5-admin"
# 2016-02-01T23:34:16.708Z, the reference's stats example.
START_MS = 1454369656708
START_ISO = "2016-02-01T23:34:16.708Z"
HTTP_TIMEOUT = 10


@pytest.fixture
def red5():
    """The emulator's default nodes: us-east-1 (origin 10.0.1.10, edges .20/.21), eu-west-1 (origin 10.0.2.10,
    edge 10.0.2.20), ap-southeast-1 (no origin, edge 10.0.3.20)."""
    emulator = Red5Emulator(access_token=TOKEN).start()
    emulator.start_broadcast(scope="live", name="demo", region="us-east-1", start_time=START_MS, subscribers=7)
    emulator.start_broadcast(scope="live/sub", name="stream1", region="eu-west-1", start_time=START_MS + 1000)
    emulator.start_broadcast(scope="vod", name="clip", region="us-east-1", start_time=START_MS + 2000)
    yield emulator
    emulator.stop()


def api(emulator, version: str) -> str:
    return f"{emulator.url()}/streammanager/api/{version}"


def queries(emulator) -> list[str]:
    return [entry.raw_query for entry in emulator.log()]


# -- the emulator itself, over HTTP -----------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "2.0", "3.0", "3.1", "4.0"])
def test_emulator_read_and_stats_carry_the_scope_with_a_slash(red5, version):
    answer = requests.get(f"{api(red5, version)}/event/live/demo/stats", timeout=HTTP_TIMEOUT)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {
        "name": "demo",
        "scope": "/live",
        "serverAddress": "10.0.1.10",
        "region": "us-east-1",
        "currentSubscribers": 7,
        "startTime": START_MS,
    }
    answer = requests.get(f"{api(red5, version)}/event/live/demo", params={"action": "broadcast"}, timeout=HTTP_TIMEOUT)
    assert answer.json() == {"name": "demo", "scope": "/live", "serverAddress": "10.0.1.10", "region": "us-east-1"}


def test_emulator_list_shapes_per_version(red5):
    old = requests.get(f"{api(red5, '2.0')}/event/list", timeout=HTTP_TIMEOUT).json()
    assert {"name": "stream1", "scope": "/live/sub", "serverAddress": "10.0.2.10", "region": "eu-west-1"} in old
    assert all("type" not in item and "currentSubscribers" not in item for item in old)
    new = requests.get(f"{api(red5, '3.1')}/event/list/stats", timeout=HTTP_TIMEOUT).json()
    assert {
        "name": "demo",
        "scope": "live",
        "serverAddress": "10.0.1.10",
        "region": "us-east-1",
        "currentSubscribers": 7,
        "startTime": START_MS,
        "type": "origin",
    } in new


def test_emulator_not_publishing_errors(red5):
    subscribe = requests.get(f"{api(red5, '2.0')}/event/live/nothing", params={"action": "subscribe"}, timeout=HTTP_TIMEOUT)
    assert subscribe.status_code == 400
    assert set(subscribe.json()) == {"errorMessage", "timestamp"}
    stats = requests.get(f"{api(red5, '2.0')}/event/live/nothing/stats", timeout=HTTP_TIMEOUT)
    assert stats.status_code == 404
    assert "not broadcasting" in stats.json()["errorMessage"]
    # A broadcaster asking where to publish a stream that is not live yet gets an origin.
    broadcast = requests.get(f"{api(red5, '2.0')}/event/live/nothing", params={"action": "broadcast"}, timeout=HTTP_TIMEOUT)
    assert broadcast.json()["serverAddress"] == "10.0.1.10"


def test_emulator_region_fallback_and_strict(red5):
    url = f"{api(red5, '4.0')}/event/live/newstream"
    fallback = requests.get(url, params={"action": "broadcast", "region": "ap-southeast-1"}, timeout=HTTP_TIMEOUT)
    assert fallback.json()["region"] == "us-east-1"  # no origin there: the next best region
    strict = requests.get(url, params={"action": "broadcast", "region": "ap-southeast-1", "strict": "true"}, timeout=HTTP_TIMEOUT)
    assert strict.status_code == 400
    assert "ap-southeast-1" in strict.json()["errorMessage"]
    # 2.0 has no strict: the parameter is ignored, as a real server ignores unknown parameters.
    old = requests.get(f"{api(red5, '2.0')}/event/live/newstream", params={"action": "broadcast", "region": "ap-southeast-1", "strict": "true"}, timeout=10)
    assert old.status_code == 200
    edges = requests.get(f"{api(red5, '4.0')}/event/live/demo", params={"action": "subscribe", "endpoints": "2"}, timeout=HTTP_TIMEOUT).json()
    assert [edge["serverAddress"] for edge in edges] == ["10.0.1.20", "10.0.1.21"]


def test_emulator_admin_delete_semantics(red5):
    red5.stop_broadcast(scope="vod", name="clip")
    wrong = requests.delete(f"{api(red5, '4.0')}/admin/event", params={"accessToken": "nope"}, timeout=HTTP_TIMEOUT)
    assert wrong.status_code == 401
    assert "errorMessage" in wrong.json()
    inactive_only = requests.delete(f"{api(red5, '4.0')}/admin/event", params={"accessToken": TOKEN}, timeout=HTTP_TIMEOUT)
    assert inactive_only.json()["count"] == 1
    everything = requests.delete(f"{api(red5, '2.0')}/admin/event", params={"accessToken": TOKEN, "includeActive": "false"}, timeout=10)
    assert everything.json()["count"] == 2
    assert red5.dump_registry() == []


def test_emulator_control_api_and_unknown_version():
    emulator = Red5Emulator(versions=("2.0",)).start()
    try:
        control = f"{emulator.url()}/_emulator"
        started = requests.post(f"{control}/broadcast/start", json={"scope": "live", "name": "cam", "region": "eu-west-1"}, timeout=HTTP_TIMEOUT)
        assert started.json()["origin"] == "10.0.2.10"
        requests.post(f"{control}/subscribers", json={"scope": "live", "name": "cam", "count": 4}, timeout=HTTP_TIMEOUT)
        assert requests.get(f"{api(emulator, '2.0')}/event/live/cam/stats", timeout=HTTP_TIMEOUT).json()["currentSubscribers"] == 4
        requests.post(f"{control}/broadcast/stop", json={"scope": "live", "name": "cam"}, timeout=HTTP_TIMEOUT)
        assert requests.get(f"{api(emulator, '2.0')}/event/list", timeout=HTTP_TIMEOUT).json() == []
        assert requests.post(f"{control}/registry", json={}, timeout=HTTP_TIMEOUT).json()[0]["active"] is False
        missing = requests.get(f"{api(emulator, '4.0')}/event/list", timeout=HTTP_TIMEOUT)
        assert missing.status_code == 404
        assert not missing.headers["Content-Type"].startswith("application/json")
    finally:
        emulator.stop()


# -- red5_stream_info -------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.0", "4.0"])
def test_info_one_stream_with_stats_and_lookups(ansible_run, red5, version):
    conn = dict(url=red5.url(), api_version=version)
    tasks = (
        task("stats", INFO, **conn, name="demo")
        + task("edge in europe", INFO, **conn, scope="/live", name="demo", action="subscribe", region="eu-west-1")
        + task("origin without stats", INFO, **conn, name="demo", action="broadcast", stats=False)
        + task("nested", INFO, **conn, scope="live/sub", name="stream1")
        + task("fallback", INFO, **conn, name="demo", action="subscribe", region="sa-east-1")
    )
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output

    stats = result.task("stats")
    assert stats["changed"] is False
    assert stats["exists"] is True
    assert stats["stream"] == {
        "name": "demo",
        "scope": "live",
        "server_address": "10.0.1.10",
        "region": "us-east-1",
        "current_subscribers": 7,
        "start_time": START_ISO,
        "start_time_ms": START_MS,
    }

    edge = result.task("edge in europe")["stream"]
    assert (edge["server_address"], edge["region"], edge["scope"], edge["current_subscribers"]) == ("10.0.2.20", "eu-west-1", "live", 7)

    origin = result.task("origin without stats")["stream"]
    assert origin == {"name": "demo", "scope": "live", "server_address": "10.0.1.10", "region": "us-east-1"}

    nested = result.task("nested")["stream"]
    assert (nested["scope"], nested["name"], nested["start_time"]) == ("live/sub", "stream1", "2016-02-01T23:34:17.708Z")

    # No edge in sa-east-1: the next best region answers (the stream's own region first).
    assert result.task("fallback")["stream"]["region"] == "us-east-1"

    paths = [(entry.path, entry.raw_query) for entry in red5.log()]
    assert (f"/streammanager/api/{version}/event/live/demo/stats", "") in paths
    assert (f"/streammanager/api/{version}/event/live/demo", "action=subscribe&region=eu-west-1") in paths
    assert (f"/streammanager/api/{version}/event/live/sub/stream1/stats", "") in paths
    assert all("accessToken" not in query for query in queries(red5))


@pytest.mark.parametrize("version", ["2.0", "4.0"])
def test_info_not_publishing_is_not_a_failure(ansible_run, red5, version):
    conn = dict(url=red5.url(), api_version=version)
    tasks = task("stats", INFO, **conn, name="gone") + task("edge", INFO, **conn, name="gone", action="subscribe", stats=False)
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    for name in ("stats", "edge"):
        answer = result.task(name)
        assert answer["exists"] is False
        assert answer["stream"] == {}
        assert "not broadcasting" in answer["message"]
        assert not answer.get("failed")


@pytest.mark.parametrize("version", ["2.0", "4.0"])
def test_info_lists_streams(ansible_run, red5, version):
    # One subscribe lookup, so that 4.0 lists an edge entry too.
    requests.get(f"{api(red5, version)}/event/live/demo", params={"action": "subscribe"}, timeout=HTTP_TIMEOUT)
    conn = dict(url=red5.url(), api_version=version)
    tasks = task("with stats", INFO, **conn) + task("plain", INFO, **conn, stats=False) + task("live only", INFO, **conn, scope="live")
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output

    with_stats = result.task("with stats")["streams"]
    demo = next(item for item in with_stats if item["name"] == "demo" and item.get("type", "origin") == "origin")
    assert demo["scope"] == "live"
    assert demo["current_subscribers"] == 7
    assert demo["start_time"] == START_ISO
    if version == "4.0":
        assert {item["type"] for item in with_stats} == {"origin", "edge"}
        assert {"10.0.1.20"} == {item["server_address"] for item in with_stats if item["type"] == "edge"}
    else:
        assert all("type" not in item for item in with_stats)
    assert {item["scope"] for item in with_stats} == {"live", "live/sub", "vod"}

    plain = result.task("plain")["streams"]
    assert all("current_subscribers" not in item and "start_time" not in item for item in plain)
    assert {(item["scope"], item["name"]) for item in result.task("live only")["streams"]} == {("live", "demo"), ("live/sub", "stream1")}


def test_info_version_4_lookup_parameters(ansible_run, red5):
    conn = dict(url=red5.url(), api_version="4.0")
    tasks = (
        task("two edges", INFO, **conn, name="demo", action="subscribe", endpoints=2)
        + task("strict", INFO, **conn, name="upcoming", action="broadcast", region="ap-southeast-1", strict=True, stats=False)
        + task("geozone", INFO, **conn, name="stream1", scope="live/sub", action="subscribe", geozone="asia", stats=False)
    )
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    two = result.task("two edges")["stream"]
    assert [node["server_address"] for node in two["endpoints"]] == ["10.0.1.20", "10.0.1.21"]
    assert two["server_address"] == "10.0.1.20"
    strict = result.task("strict")
    assert strict["exists"] is False
    assert "ap-southeast-1" in strict["message"]
    assert result.task("geozone")["stream"]["server_address"] == "10.0.3.20"
    assert "action=broadcast&region=ap-southeast-1&strict=true" in queries(red5)


@pytest.mark.parametrize(
    ("version", "args", "message"),
    [
        ("2.0", dict(name="demo", action="subscribe", strict=True), "strict is not available with Stream Manager API 2.0"),
        ("3.0", dict(name="demo", action="subscribe", geozone="europe"), "geozone is not available with Stream Manager API 3.0"),
        ("1.0", dict(name="demo", action="subscribe", endpoints=2), "endpoints is not available with Stream Manager API 1.0"),
        ("2.0", dict(include_active=True), "include_active is not available with Stream Manager API 2.0"),
    ],
)
def test_version_specific_parameters_refused_before_any_request(ansible_run, red5, version, args, message):
    module = REGISTRY if "include_active" in args else INFO
    extra = dict(access_token=TOKEN) if module == REGISTRY else {}
    result = ansible_run.playbook(task("refused", module, url=red5.url(), api_version=version, **extra, **args))
    assert result.rc != 0
    failed = result.task("refused")
    assert message in failed["msg"]
    assert "3.1 and 4.0" in failed["msg"]
    assert red5.log() == []


def test_info_wrong_api_version_on_the_server(ansible_run):
    emulator = Red5Emulator(versions=("2.0",)).start()
    try:
        result = ansible_run.playbook(task("wrong version", INFO, url=emulator.url(), api_version="4.0", name="demo"))
    finally:
        emulator.stop()
    assert result.rc != 0
    msg = result.task("wrong version")["msg"]
    assert "no Stream Manager API answered" in msg
    assert "/streammanager/api/4.0/event/live/demo/stats" in msg
    assert "api_version" in msg


@pytest.mark.parametrize("version", ["2.0", "4.0"])
def test_wait_for_publishing_succeeds_when_the_broadcast_starts_later(ansible_run, red5, version):
    # The broadcast starts two seconds after the module's first poll (not after
    # the playbook starts: ansible-playbook's own start-up time varies with load).
    def start_two_seconds_after_first_poll():
        deadline = time.monotonic() + 60
        while not red5.log(path=r"/event/live/later/stats$") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2)
        control = f"{red5.url()}/_emulator/broadcast/start"
        requests.post(control, json={"scope": "live", "name": "later", "region": "eu-west-1", "subscribers": 2}, timeout=10)

    starter = threading.Thread(target=start_two_seconds_after_first_poll, daemon=True)
    starter.start()
    result = ansible_run.playbook(
        task("wait", INFO, url=red5.url(), api_version=version, name="later", wait_for_publishing=True, wait_timeout=30, wait_interval=0.5)
    )
    starter.join(timeout=5)
    assert result.rc == 0, result.output
    answer = result.task("wait")
    assert answer["exists"] is True
    assert (answer["stream"]["server_address"], answer["stream"]["current_subscribers"]) == ("10.0.2.10", 2)
    polls = red5.log(path=r"/event/live/later/stats$")
    assert len(polls) >= 2  # it was not live at first, then it was
    assert polls[-1].time - polls[0].time >= 2  # and it kept polling for the two seconds it was not


@pytest.mark.parametrize("version", ["2.0", "4.0"])
def test_wait_for_publishing_fails_clearly_on_timeout(ansible_run, red5, version):
    result = ansible_run.playbook(
        task("wait", INFO, url=red5.url(), api_version=version, name="never", wait_for_publishing=True, wait_timeout=2, wait_interval=0.5)
    )
    assert result.rc != 0
    msg = result.task("wait")["msg"]
    assert "stream live/never was not publishing after waiting 2s" in msg
    assert "last answer HTTP 404: Stream live/never is not broadcasting" in msg
    assert "wait_timeout" in msg


# -- faults --------------------------------------------------------------------------------


def test_info_retries_a_503_and_warns(ansible_run, red5):
    red5.add_fault(kind="status", method="GET", path=r"/stats$", status=503, count=1)
    result = ansible_run.playbook(task("retried", INFO, url=red5.url(), name="demo", retries=2))
    assert result.rc == 0, result.output
    answer = result.task("retried")
    assert answer["exists"] is True
    assert any("HTTP 503" in warning and "retrying" in warning for warning in answer.get("warnings", []))
    assert len(red5.log(path=r"/event/live/demo/stats$")) == 2


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (dict(kind="status", status=500, body="Internal Server Error"), "HTTP 500"),
        (dict(kind="malformed"), "not valid JSON"),
        (dict(kind="status", status=200, body="<html>Sign in</html>", headers={"Content-Type": "text/html"}), "instead of application/json"),
        (
            dict(kind="status", status=200, body='{"errorMessage": "Database unavailable", "timestamp": 1}', headers={"Content-Type": "application/json"}),
            "refused the request: Database unavailable",
        ),
    ],
)
def test_info_list_failures_are_clear(ansible_run, red5, fault, expected):
    red5.add_fault(method="GET", path=r"/event/list", count=None, **fault)
    result = ansible_run.playbook(task("list", INFO, url=red5.url(), retries=1))
    assert result.rc != 0
    msg = result.task("list")["msg"]
    assert expected in msg
    assert "/streammanager/api/2.0/event/list/stats" in msg
    assert "Traceback" not in result.output


# -- red5_stream_registry --------------------------------------------------------------------


def test_registry_2_0_clears_everything_with_check_mode_first(ansible_run, red5):
    red5.stop_broadcast(scope="vod", name="clip")  # a stale entry, not in the list
    conn = dict(url=red5.url(), api_version="2.0", access_token=TOKEN)
    check = ansible_run.playbook(task("clear", REGISTRY, **conn, state="cleared"), check=True)
    assert check.rc == 0, check.output
    assert (check.task("clear")["changed"], check.task("clear")["count"]) == (True, 2)  # the two listed; the stale one is not visible
    assert [entry.method for entry in red5.log()] == ["GET"]
    assert all("accessToken" not in query for query in queries(red5))
    assert len(red5.dump_registry()) == 3

    result = ansible_run.playbook(task("clear", REGISTRY, **conn) + task("again", REGISTRY, **conn))
    assert result.rc == 0, result.output
    assert (result.task("clear")["changed"], result.task("clear")["count"]) == (True, 3)
    assert (result.task("again")["changed"], result.task("again")["count"]) == (False, 0)
    assert red5.dump_registry() == []
    assert [entry.path for entry in red5.log(method="DELETE")] == ["/streammanager/api/2.0/admin/event"] * 2
    assert "includeActive" not in red5.log(method="DELETE")[0].raw_query


def test_registry_4_0_clears_inactive_unless_include_active(ansible_run, red5):
    red5.stop_broadcast(scope="vod", name="clip")
    conn = dict(url=red5.url(), api_version="4.0", access_token=TOKEN)
    check = ansible_run.playbook(task("inactive", REGISTRY, **conn) + task("active too", REGISTRY, **conn, include_active=True), check=True)
    assert check.rc == 0, check.output
    inactive = check.task("inactive")
    assert (inactive["changed"], inactive["count"]) == (False, 0)
    assert any("cannot predict" in warning for warning in inactive["warnings"])
    assert (check.task("active too")["changed"], check.task("active too")["count"]) == (True, 2)
    assert red5.log(method="DELETE") == []

    result = ansible_run.playbook(
        task("inactive", REGISTRY, **conn) + task("inactive again", REGISTRY, **conn) + task("active too", REGISTRY, **conn, include_active=True)
    )
    assert result.rc == 0, result.output
    assert (result.task("inactive")["changed"], result.task("inactive")["count"]) == (True, 1)
    assert (result.task("inactive again")["changed"], result.task("inactive again")["count"]) == (False, 0)
    assert (result.task("active too")["changed"], result.task("active too")["count"]) == (True, 2)
    assert red5.log(method="DELETE")[-1].raw_query == f"accessToken={TOKEN}&includeActive=true"


@pytest.mark.parametrize("version", ["2.0", "4.0"])
def test_registry_wrong_token_is_clear_and_never_shown(ansible_run, red5, version):
    wrong = "Wr0ng-T0ken-abcdef123456"
    result = ansible_run.playbook(task("clear", REGISTRY, url=red5.url(), api_version=version, access_token=wrong), verbosity=4)
    assert result.rc != 0
    failed = result.task("clear")
    assert "Invalid or missing accessToken" in failed["msg"]
    assert "HTTP 401" in failed["msg"]
    assert "access_token" in failed["msg"]
    assert "accessToken=REDACTED" in failed["msg"]
    assert wrong not in result.output
    assert wrong not in json.dumps(result.tasks)
    assert len(red5.dump_registry()) == 3


def test_registry_token_never_shown_at_vvvv_and_missing_token(ansible_run, red5):
    result = ansible_run.playbook(
        task("clear", REGISTRY, url=red5.url(), api_version="4.0", access_token=TOKEN, include_active=True)
        + task("no token", REGISTRY, ignore_errors=True, url=red5.url())
        + task("info", INFO, url=red5.url(), api_version="4.0", access_token=TOKEN, name="demo"),
        verbosity=4,
    )
    assert result.rc == 0, result.output
    assert result.task("clear")["count"] == 3
    assert "access_token is required" in result.task("no token")["msg"]
    assert "RED5_SM_ACCESS_TOKEN" in result.task("no token")["msg"]
    assert TOKEN not in result.output
    assert TOKEN not in json.dumps(result.tasks)
    # The info module never sends the token, even when it is set.
    assert [entry.raw_query for entry in red5.log() if "accessToken" in entry.raw_query] == [f"accessToken={TOKEN}&includeActive=true"]


def test_registry_delete_is_retried_after_a_503(ansible_run, red5):
    red5.add_fault(kind="status", method="DELETE", path=r"/admin/event$", status=503, count=1, body="busy")
    result = ansible_run.playbook(task("clear", REGISTRY, url=red5.url(), access_token=TOKEN, retries=2), verbosity=4)
    assert result.rc == 0, result.output
    assert result.task("clear")["count"] == 3
    assert len(red5.log(method="DELETE")) == 2
    assert TOKEN not in result.output


def test_registry_reset_connection_never_shows_the_token(ansible_run, red5):
    # A requests exception names the URL with its query string; none of it may reach the user.
    red5.add_fault(kind="reset", method="DELETE", path=r"/admin/event$", count=None)
    result = ansible_run.playbook(task("clear", REGISTRY, url=red5.url(), access_token=TOKEN, retries=1), verbosity=4)
    assert result.rc != 0
    msg = result.task("clear")["msg"]
    assert "reset" in msg
    assert "DELETE" in msg and "/streammanager/api/2.0/admin/event" in msg
    assert len(red5.log(method="DELETE")) == 2
    assert TOKEN not in result.output
    assert TOKEN not in json.dumps(result.tasks)
    assert "Traceback" not in result.output


# -- connection options: environment, module_defaults, ad hoc -------------------------------------


def test_environment_fallbacks(ansible_run, red5):
    env = {"RED5_SM_URL": red5.url(), "RED5_SM_API_VERSION": "4.0", "RED5_SM_ACCESS_TOKEN": TOKEN}
    result = ansible_run.playbook(task("info", INFO, name="demo") + task("clear", REGISTRY, include_active=True), env=env, verbosity=3)
    assert result.rc == 0, result.output
    assert result.task("info")["stream"]["server_address"] == "10.0.1.10"
    assert result.task("clear")["count"] == 3
    assert {entry.path.split("/")[3] for entry in red5.log()} == {"4.0"}
    assert TOKEN not in result.output


def test_module_defaults_group(ansible_run, red5):
    header = (
        "- hosts: localhost\n  gather_facts: false\n  connection: local\n  module_defaults:\n    group/mediaops.streaming.red5:\n"
        f"      url: {red5.url()}\n      api_version: '4.0'\n      access_token: {TOKEN}\n"
    )
    result = ansible_run.playbook(task("info", INFO, name="demo") + task("clear", REGISTRY), play_header=header)
    assert result.rc == 0, result.output
    assert result.task("info")["exists"] is True
    assert (result.task("clear")["changed"], result.task("clear")["count"]) == (False, 0)
    assert {entry.path.split("/")[3] for entry in red5.log()} == {"4.0"}
    assert TOKEN not in result.output


def test_adhoc_listing_against_the_emulator_cli(ansible_run):
    """The issue's "done" check: ``ansible localhost -m mediaops.streaming.red5_stream_info -a 'url=...'`` lists the streams."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.red5", "--broadcast", "live/demo", "--broadcast", "live/sub/stream1"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _writable, _errors = select.select([process.stdout], [], [], 30)
        assert ready, "the emulator did not print its URLs"
        url = json.loads(process.stdout.readline())["api"]
        result = ansible_run.adhoc(INFO, f"url={url}")
        assert result.rc == 0, result.output
        assert "SUCCESS" in result.stdout
        streams = result.tasks[-1]["result"]["streams"]
        assert sorted((item["scope"], item["name"]) for item in streams) == [("live", "demo"), ("live/sub", "stream1")]
        assert all(item["server_address"] == "10.0.1.10" and item["current_subscribers"] == 0 for item in streams)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
