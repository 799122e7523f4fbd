# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Red5 Pro Stream Manager 2.0 (``/as/v1``, JWT): both modules through Ansible against the 2.0 emulator.

Expected values are written out by hand from the emulator's configured node
group (tests/emulators/red5_sm2.py: ``ng-live`` with the sub-groups ashburn,
frankfurt and mumbai), not computed with the collection's helpers.
"""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest
import requests

from tests.emulators.red5 import Red5Emulator
from tests.emulators.red5_sm2 import Red5Sm2Emulator
from tests.helpers.playbook import task

INFO = "mediaops.streaming.red5_stream_info"
REGISTRY = "mediaops.streaming.red5_stream_registry"
USER = "sm-admin"
PASSWORD = "Pa55/wörd-for-SM2:secret"
START_MS = 1454369656708
HTTP_TIMEOUT = 10


@pytest.fixture
def sm2():
    """One node group (so ``default`` names it): ashburn (origin 10.0.0.1, edges), frankfurt (origin 10.0.1.1, edge), mumbai (an edge)."""
    emulator = Red5Sm2Emulator(username=USER, password=PASSWORD).start()
    emulator.start_broadcast(scope="live", name="demo", region="ashburn", start_time=START_MS, subscribers=2)
    emulator.start_broadcast(scope="live/sub", name="stream1", region="frankfurt", start_time=START_MS + 1000)
    emulator.start_broadcast(scope="vod", name="clip", region="ashburn", start_time=START_MS + 2000)
    yield emulator
    emulator.stop()


def conn(emulator, **extra) -> dict:
    return dict(url=emulator.url(), api_version="sm2", **extra)


def tokens_sent(emulator) -> set[str]:
    """Every Bearer token the client sent, to check that none of them reached the output."""
    return {entry.headers["authorization"].split(" ", 1)[1] for entry in emulator.log() if entry.headers.get("authorization", "").startswith("Bearer ")}


def logins(emulator) -> list:
    return emulator.log(method="PUT", path=r"^/as/v1/auth/login$")


def assert_no_secret(result, emulator) -> None:
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode("ascii")
    shown = result.output + json.dumps(result.tasks)
    for secret in (PASSWORD, basic, *tokens_sent(emulator)):
        assert secret not in shown


# -- red5_stream_info: one stream ----------------------------------------------------------------


def test_stats_of_a_live_stream_with_its_nodes(ansible_run, sm2):
    # A viewer in frankfurt: the frankfurt edge now carries the stream (1 subscriber); the origin has 2.
    edge = requests.get(f"{sm2.url()}/as/v1/streams/stream/ng-live/subscribe/live/demo", params={"subgroup": "frankfurt"}, timeout=HTTP_TIMEOUT)
    assert edge.json()[0]["serverAddress"] == "129.213.27.20"
    sm2.clear_log()
    result = ansible_run.playbook(task("stats", INFO, **conn(sm2), name="demo") + task("nested", INFO, **conn(sm2), scope="live/sub", name="stream1"))
    assert result.rc == 0, result.output
    answer = result.task("stats")
    assert (answer["changed"], answer["exists"], answer["api_version"]) == (False, True, "sm2")
    stream = answer["stream"]
    assert {key: stream[key] for key in ("name", "scope", "server_address", "region", "type", "node_state", "stream_guid", "current_subscribers")} == {
        "name": "demo",
        "scope": "live",
        "server_address": "10.0.0.1",
        "region": "ashburn",
        "type": "origin",
        "node_state": "INSERVICE",
        "stream_guid": "live/demo",
        "current_subscribers": 3,
    }
    # The start is the module's clock minus durationMs: within a few seconds of the broadcast's real start.
    assert abs(stream["start_time_ms"] - START_MS) < 5000
    assert stream["start_time"].startswith("2016-02-01T23:34:")
    assert sorted((node["server_address"], node["region"], node["type"], node["current_subscribers"]) for node in stream["nodes"]) == [
        ("10.0.0.1", "ashburn", "origin", 2),
        ("10.0.1.101", "frankfurt", "edge", 1),
    ]
    nested = result.task("nested")["stream"]
    assert (nested["scope"], nested["name"], nested["region"]) == ("live/sub", "stream1", "frankfurt")

    requests_sent = [(entry.method, entry.path, entry.raw_query) for entry in sm2.log()]
    assert ("GET", "/as/v1/streams/stream/default/stream/live/demo", "aggregate=false") in requests_sent
    assert ("GET", "/as/v1/streams/stream/default/stream/live/sub/stream1", "aggregate=false") in requests_sent
    assert len(requests_sent) == 2  # one call per stream: no detection, no login
    assert all("authorization" not in entry.headers for entry in sm2.log())


def test_subscribe_lookup_regions_and_fallback(ansible_run, sm2):
    c = conn(sm2)
    tasks = (
        task("frankfurt", INFO, **c, name="demo", action="subscribe", region="frankfurt")
        + task("preference", INFO, **c, name="demo", action="subscribe", region="tokyo,mumbai", stats=False)
        + task("fallback", INFO, **c, name="demo", action="subscribe", region="tokyo", stats=False)
        + task("strict", INFO, **c, name="demo", action="subscribe", region="tokyo", strict=True, stats=False)
        + task("two", INFO, **c, name="demo", action="subscribe", region="ashburn", endpoints=2, stats=False)
    )
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output

    frankfurt = result.task("frankfurt")
    assert (frankfurt["stream"]["server_address"], frankfurt["stream"]["region"], frankfurt["stream"]["type"]) == ("129.213.27.20", "frankfurt", "edge")
    assert frankfurt["region_fallback"] is False
    # The stats (read before the lookup) keep the stream's total; the edge's own count, with the new viewer, is apart.
    assert frankfurt["stream"]["current_subscribers"] == 2
    assert frankfurt["stream"]["node_subscribers"] == 1

    preference = result.task("preference")
    assert (preference["stream"]["server_address"], preference["region_fallback"]) == ("152.67.1.20", False)

    fallback = result.task("fallback")
    assert fallback["exists"] is True
    assert fallback["region_fallback"] is True
    assert fallback["stream"]["region"] != "tokyo"

    strict = result.task("strict")
    assert (strict["exists"], strict["stream"]) == (False, {})
    assert strict["message"]

    two = result.task("two")["stream"]
    assert sorted(node["server_address"] for node in two["endpoints"]) == ["132.226.54.20", "132.226.54.21"]

    queries = [entry.raw_query for entry in sm2.log(path=r"/subscribe/live/demo$")]
    assert "subgroup=frankfurt" in queries
    assert "subgroup=tokyo%2Cmumbai" in queries
    assert "subgroup=tokyo&strict=true" in queries
    assert "subgroup=ashburn&endpoints=2" in queries
    # The strict lookup's 404 was checked against the node group's list, once.
    assert len(sm2.log(path=r"^/as/v1/streams/stream/default$")) == 1


def test_broadcast_is_the_origin_of_the_live_stream_never_the_publish_lookup(ansible_run, sm2):
    c = conn(sm2)
    tasks = task("origin", INFO, **c, name="demo", action="broadcast", stats=False) + task("not live", INFO, **c, name="upcoming", action="broadcast")
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    origin = result.task("origin")
    assert (origin["exists"], origin["stream"]["server_address"], origin["stream"]["type"]) == (True, "10.0.0.1", "origin")
    assert result.task("not live")["exists"] is False
    assert sm2.log(path=r"/publish/") == []


@pytest.mark.parametrize("not_live_stats", ["404", "empty"])
def test_not_live_is_not_a_failure(ansible_run, sm2, not_live_stats):
    sm2.set_not_live_stats(not_live_stats)
    result = ansible_run.playbook(task("stats", INFO, **conn(sm2), name="gone") + task("edge", INFO, **conn(sm2), name="gone", action="subscribe"))
    assert result.rc == 0, result.output
    for name in ("stats", "edge"):
        answer = result.task(name)
        assert (answer["exists"], answer["stream"]) == (False, {})
        assert "gone" in answer["message"]
        assert not answer.get("failed")


def test_lost_stream_expires_by_itself(ansible_run):
    emulator = Red5Sm2Emulator(stream_timeout=300).start()
    try:
        emulator.start_broadcast(scope="live", name="crashed")
        emulator.lose_broadcast(scope="live", name="crashed")
        first = ansible_run.playbook(task("still listed", INFO, **conn(emulator), name="crashed"))
        # The server's stream timeout (R5AS_STREAM_TIMEOUT) passes: the entry is gone without any call removing it.
        emulator.stream_timeout = 0.1
        time.sleep(0.2)
        later = ansible_run.playbook(task("expired", INFO, **conn(emulator), name="crashed"))
    finally:
        emulator.stop()
    assert first.rc == 0 and later.rc == 0, first.output + later.output
    assert first.task("still listed")["exists"] is True
    assert later.task("expired")["exists"] is False
    assert emulator.log(method="DELETE") == []


# -- red5_stream_info: the list ------------------------------------------------------------------------


def test_list_with_stats_and_scope(ansible_run, sm2):
    sm2.set_subscribers(scope="live", name="demo", count=5, node="frankfurt-edge-1")
    c = conn(sm2)
    result = ansible_run.playbook(task("all", INFO, **c) + task("plain", INFO, **c, stats=False) + task("live", INFO, **c, scope="live"))
    assert result.rc == 0, result.output
    streams = {(item["scope"], item["name"]): item for item in result.task("all")["streams"]}
    assert set(streams) == {("live", "demo"), ("live/sub", "stream1"), ("vod", "clip")}
    demo = streams[("live", "demo")]
    assert (demo["server_address"], demo["region"], demo["type"], demo["current_subscribers"]) == ("10.0.0.1", "ashburn", "origin", 7)
    assert abs(demo["start_time_ms"] - START_MS) < 5000
    plain = result.task("plain")["streams"]
    assert all("current_subscribers" not in item and "start_time" not in item for item in plain)
    assert {(item["scope"], item["name"]) for item in result.task("live")["streams"]} == {("live", "demo"), ("live/sub", "stream1")}
    assert [entry.raw_query for entry in sm2.log()] == ["stats=true", "", "stats=true"]


# -- node groups ----------------------------------------------------------------------------------------


def test_unknown_node_group_fails_and_names_the_groups(ansible_run, sm2):
    result = ansible_run.playbook(
        task("anonymous", INFO, **conn(sm2), node_group="ng-typo", name="demo", ignore_errors=True)
        + task("logged in", INFO, **conn(sm2), node_group="ng-typo", name="demo", username=USER, password=PASSWORD, ignore_errors=True)
        + task("list", INFO, **conn(sm2), node_group="ng-typo", ignore_errors=True),
        verbosity=4,
    )
    anonymous = result.task("anonymous")
    assert 'node group "ng-typo" was not found' in anonymous["msg"]
    assert "username and password" in anonymous["msg"]
    logged_in = result.task("logged in")["msg"]
    assert 'node group "ng-typo" was not found' in logged_in
    assert "this Stream Manager has ng-live" in logged_in
    assert 'node group "ng-typo" was not found' in result.task("list")["msg"]
    # The admin list went with a token from a PUT login with an explicit empty body.
    (login,) = logins(sm2)
    assert login.headers.get("content-length") == "0"
    assert login.body == b""
    admin = sm2.log(path=r"^/as/v1/admin/nodegroup$")
    assert len(admin) == 1 and admin[0].headers["authorization"].startswith("Bearer ")
    assert "Traceback" not in result.output
    assert_no_secret(result, sm2)


def test_node_group_named_when_there_are_several(ansible_run, sm2):
    result = ansible_run.playbook(task("named", INFO, **conn(sm2), node_group="ng-live", name="demo"))
    assert result.rc == 0, result.output
    assert result.task("named")["stream"]["server_address"] == "10.0.0.1"
    assert sm2.log()[0].path == "/as/v1/streams/stream/ng-live/stream/live/demo"


# -- login: a deployment that protects the stream calls ------------------------------------------------------


def test_token_expiry_mid_run_logs_in_again(ansible_run):
    """Stream calls need the token here, and it lives 2 s: a wait of several seconds outlives it and the module logs in again."""
    emulator = Red5Sm2Emulator(username=USER, password=PASSWORD, token_ttl=2, streams_require_auth=True).start()

    def start_after_the_first_token_expired():
        deadline = time.monotonic() + 60
        while not logins(emulator) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(3.5)
        emulator.start_broadcast(scope="live", name="later", region="frankfurt")

    starter = threading.Thread(target=start_after_the_first_token_expired, daemon=True)
    starter.start()
    try:
        result = ansible_run.playbook(
            task("wait", INFO, **conn(emulator), username=USER, password=PASSWORD, name="later", wait_for_publishing=True, wait_timeout=30, wait_interval=0.5),
            verbosity=4,
        )
        starter.join(timeout=5)
    finally:
        emulator.stop()
    assert result.rc == 0, result.output
    answer = result.task("wait")
    assert (answer["exists"], answer["stream"]["region"]) == (True, "frankfurt")
    assert len(logins(emulator)) >= 2
    polls = emulator.log(method="GET", path=r"/stream/live/later$")
    # Only the very first poll went without a token (and got the 401 that says this deployment wants one).
    assert [entry.headers.get("authorization", "").split(" ")[0] for entry in polls[:2]] == ["", "Bearer"]
    assert all(entry.headers["authorization"].startswith("Bearer ") for entry in polls[1:])
    assert_no_secret(result, emulator)


def test_protected_stream_calls_without_credentials_fail_clearly(ansible_run):
    emulator = Red5Sm2Emulator(username=USER, password=PASSWORD, streams_require_auth=True).start()
    try:
        result = ansible_run.playbook(task("no login", INFO, **conn(emulator), name="demo"))
    finally:
        emulator.stop()
    assert result.rc != 0
    msg = result.task("no login")["msg"]
    assert "asks for a login on its stream calls" in msg
    assert "RED5_SM_USERNAME" in msg


@pytest.mark.parametrize("where", ["stream calls", "node group list"])
def test_wrong_password_is_clear_and_never_shown(ansible_run, where):
    emulator = Red5Sm2Emulator(username=USER, password="the-right-one", streams_require_auth=where == "stream calls").start()
    try:
        args = dict(name="demo") if where == "stream calls" else dict(name="demo", node_group="ng-typo")
        result = ansible_run.playbook(task("wrong", INFO, **conn(emulator), username=USER, password=PASSWORD, **args), verbosity=4)
    finally:
        emulator.stop()
    assert result.rc != 0
    msg = result.task("wrong")["msg"]
    assert "refused the login: wrong username or password" in msg
    assert "HTTP 401" in msg
    assert len(logins(emulator)) == 1  # a refused login is not repeated
    assert_no_secret(result, emulator)
    assert "Traceback" not in result.output


# -- detection --------------------------------------------------------------------------------------------


def test_auto_detects_both_families(ansible_run, sm2):
    sm1 = Red5Emulator(versions=("2.0", "3.1")).start()
    try:
        sm1.start_broadcast(scope="live", name="demo", region="us-east-1")
        result = ansible_run.playbook(
            task("on 2.0", INFO, url=sm2.url(), api_version="auto", name="demo")
            + task("on 1.x", INFO, url=sm1.url(), api_version="auto", name="demo")
            + task("registry on 1.x", REGISTRY, url=sm1.url(), api_version="auto", access_token="emulator-admin-token")
        )
        sm1_log = [(entry.method, entry.path) for entry in sm1.log()]
    finally:
        sm1.stop()
    assert result.rc == 0, result.output
    on_sm2 = result.task("on 2.0")
    assert (on_sm2["api_version"], on_sm2["stream"]["region"]) == ("sm2", "ashburn")
    assert [entry.path for entry in sm2.log()] == ["/as/v1/admin/healthz", "/as/v1/streams/stream/default/stream/live/demo"]
    on_sm1 = result.task("on 1.x")
    assert (on_sm1["api_version"], on_sm1["stream"]["region"]) == ("3.1", "us-east-1")
    assert result.task("registry on 1.x")["api_version"] == "3.1"
    # healthz and 4.0 are not there; 3.1 answers the list with a JSON array.
    assert sm1_log[:4] == [
        ("GET", "/as/v1/admin/healthz"),
        ("GET", "/streammanager/api/4.0/event/list"),
        ("GET", "/streammanager/api/3.1/event/list"),
        ("GET", "/streammanager/api/3.1/event/live/demo/stats"),
    ]


def test_auto_fails_naming_both_probes_and_never_trusts_html(ansible_run, sm2):
    # The health check answered by an HTML page (a proxy's), and every 1.x path by 2.0's debug UI catch-all: nothing is proven.
    sm2.add_fault(kind="status", method="GET", path=r"^/as/v1/admin/healthz$", status=200, body="<html>OK</html>", headers={"Content-Type": "text/html"})
    result = ansible_run.playbook(task("auto", INFO, url=sm2.url(), api_version="auto", name="demo"))
    assert result.rc != 0
    msg = result.task("auto")["msg"]
    assert "could not tell which Stream Manager API answers" in msg
    assert "/as/v1/admin/healthz answered HTTP 200 (text/html)" in msg
    assert "/streammanager/api/4.0/event/list answered HTTP 200 (text/html)" in msg
    assert "/streammanager/api/1.0/event/list" in msg
    assert "api_version" in msg
    assert sm2.log(path=r"/streams/") == []


# -- red5_stream_registry -----------------------------------------------------------------------------------


@pytest.mark.parametrize("check", [False, True])
def test_registry_says_there_is_nothing_to_clear(ansible_run, sm2, check):
    result = ansible_run.playbook(
        task("pinned", REGISTRY, **conn(sm2)) + task("detected", REGISTRY, url=sm2.url(), api_version="auto", state="cleared"), check=check, diff=True
    )
    assert result.rc == 0, result.output
    for name in ("pinned", "detected"):
        answer = result.task(name)
        assert (answer["changed"], answer["count"], answer["api_version"]) == (False, 0, "sm2")
        assert "has no call to clear stream entries" in answer["message"]
        assert "R5AS_STREAM_TIMEOUT" in answer["message"]
        assert any("has no call to clear stream entries" in warning for warning in answer["warnings"])
        assert "diff" not in answer
    # Nothing but the detection's health check was sent, and the streams are all still there.
    assert [entry.path for entry in sm2.log()] == ["/as/v1/admin/healthz"]
    assert len(sm2.streams()) == 3


def test_registry_refuses_include_active_on_sm2(ansible_run, sm2):
    result = ansible_run.playbook(task("refused", REGISTRY, **conn(sm2), include_active=True))
    assert result.rc != 0
    assert "include_active is not available with Stream Manager 2.0" in result.task("refused")["msg"]
    assert sm2.log() == []


# -- options from the environment (what an AWX credential injects), and refusals before any request ------------------


def test_environment_variables(ansible_run, sm2):
    env = {"RED5_SM_URL": sm2.url(), "RED5_SM_API_VERSION": "sm2", "RED5_SM_NODE_GROUP": "ng-typo", "RED5_SM_USERNAME": USER, "RED5_SM_PASSWORD": PASSWORD}
    result = ansible_run.playbook(task("from env", INFO, name="demo", ignore_errors=True), env=env, verbosity=3)
    assert "this Stream Manager has ng-live" in result.task("from env")["msg"]
    assert len(logins(sm2)) == 1
    assert_no_secret(result, sm2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (dict(name="demo", action="subscribe", geozone="europe"), "geozone is not available with Stream Manager 2.0"),
        (dict(name="demo", action="subscribe", transcode=True), "transcode is not available with Stream Manager 2.0"),
        (dict(name="demo", action="broadcast", region="ashburn"), "region cannot be used with action broadcast on Stream Manager 2.0"),
        (dict(name="demo", node_group="a-node-group-name-too-long"), 'invalid node_group "a-node-group-name-too-long"'),
    ],
)
def test_refused_before_any_request(ansible_run, sm2, args, message):
    result = ansible_run.playbook(task("refused", INFO, **conn(sm2), **args))
    assert result.rc != 0
    assert message in result.task("refused")["msg"]
    assert sm2.log() == []
