# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Red5 Pro Stream Manager 2.0 emulator (tests/emulators/red5_sm2.py) over HTTP.

Expected values are written out by hand from the reference and the emulator's
default node groups, not computed with the emulator's helpers, so a mistake in
either shows up here:

ng-live: ashburn (origin 10.0.0.1 / 132.226.54.10, edges 10.0.0.101 / 132.226.54.20
and 10.0.0.102 / 132.226.54.21), frankfurt (origin 10.0.1.1 / 129.213.27.10, edge
10.0.1.101 / 129.213.27.20), mumbai (edge 10.0.2.101 / 152.67.1.20).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.emulators.red5_sm2 import Red5Sm2Emulator, Sm2Error
from tests.emulators.stack import build_stack

REPO_ROOT = Path(__file__).resolve().parents[2]
HTTP_TIMEOUT = 10
USER, PASSWORD = "admin", "emulator-sm2-pass"
SECRET = "test-jwt-secret"
START_MS = 1454369656708
ROW_KEYS = ["streamGuid", "serverAddress", "nodeRole", "subGroup", "nodeState", "subscribers"]
JWT_ERROR = {"error": "Missing or invalid JWT Authorization header"}
TWO_GROUPS = [
    {"name": "ng-eu", "subgroups": [{"name": "paris", "nodes": [{"role": "allinone", "private_ip": "10.1.0.1", "public_ip": "51.15.0.1"}]}]},
    {"name": "ng-us", "subgroups": [{"name": "dallas", "nodes": [{"role": "allinone", "private_ip": "10.2.0.1", "public_ip": "64.1.0.1"}]}]},
]


@pytest.fixture
def sm2():
    """live/demo on the ashburn origin with 7 subscribers, live/sub/stream1 on the frankfurt origin."""
    emulator = Red5Sm2Emulator(jwt_secret=SECRET).start()
    emulator.start_broadcast(scope="live", name="demo", region="ashburn", start_time=START_MS, subscribers=7)
    emulator.start_broadcast(scope="live/sub", name="stream1", origin="129.213.27.10", start_time=START_MS + 1000)
    yield emulator
    emulator.stop()


def streams_url(emulator, tail: str = "", group: str = "default") -> str:
    return f"{emulator.url()}/as/v1/streams/stream/{group}{tail}"


def login(emulator, user: str = USER, password: str = PASSWORD) -> requests.Response:
    return requests.put(f"{emulator.url()}/as/v1/auth/login", auth=(user, password), timeout=HTTP_TIMEOUT)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def b64url_json(part: str):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def sign(header: dict, payload: dict, secret: str) -> str:
    """A JWT written independently of the emulator."""

    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    signing_input = f"{encode(json.dumps(header).encode())}.{encode(json.dumps(payload).encode())}"
    return f"{signing_input}.{encode(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())}"


def put_without_content_length(emulator, path: str, headers: dict) -> http.client.HTTPResponse:
    """A PUT with no Content-Length header at all (http.client's request() would add ``Content-Length: 0``)."""
    parts = urlsplit(emulator.url())
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=HTTP_TIMEOUT)
    connection.putrequest("PUT", path)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


# -- login and tokens ---------------------------------------------------------------------------------


def test_login_answers_an_hs256_jwt_with_sub_roles_and_exp(sm2):
    before = time.time()
    answer = login(sm2)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert list(answer.json()) == ["token"]
    token = answer.json()["token"]
    header, payload, signature = token.split(".")
    assert "=" not in token
    assert b64url_json(header) == {"alg": "HS256"}
    claims = b64url_json(payload)
    assert set(claims) == {"sub", "roles", "exp"}
    assert (claims["sub"], claims["roles"]) == ("admin", "ROLE_ADMIN")
    assert before + 800 * 60 <= claims["exp"] <= time.time() + 800 * 60 + 1
    expected = hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected
    # The request carried Content-Length: 0 (requests sends it for a body-less PUT) and was accepted.
    assert sm2.log(method="PUT")[-1].headers["content-length"] == "0"


@pytest.mark.parametrize("credentials", [(USER, "wrong"), ("root", PASSWORD), None])
def test_login_with_wrong_or_missing_credentials_is_401_with_an_empty_body(sm2, credentials):
    url = f"{sm2.url()}/as/v1/auth/login"
    answer = requests.put(url, auth=credentials, timeout=HTTP_TIMEOUT)
    assert answer.status_code == 401
    assert answer.content == b""
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="Realm"'


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_login_with_another_method_is_405(sm2, method):
    answer = requests.request(method, f"{sm2.url()}/as/v1/auth/login", auth=(USER, PASSWORD), data=b"", timeout=HTTP_TIMEOUT)
    assert answer.status_code == 405
    assert answer.json()["error"] == "Method Not Allowed"
    assert answer.headers["Allow"] == "PUT"


def test_login_put_without_content_length_is_411_unless_the_front_end_allows_it(sm2):
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    refused = put_without_content_length(sm2, "/as/v1/auth/login", {"Authorization": basic})
    assert refused.status == 411
    assert refused.getheader("Content-Type") == "text/html"
    assert "content-length" not in sm2.log(method="PUT")[-1].headers

    tolerant = Red5Sm2Emulator(require_content_length=False).start()
    try:
        accepted = put_without_content_length(tolerant, "/as/v1/auth/login", {"Authorization": basic})
        assert accepted.status == 200
    finally:
        tolerant.stop()


def test_login_accepts_a_body_and_other_credentials_after_the_auth_control(sm2):
    assert requests.post(f"{sm2.url()}/_emulator/auth", json={"username": "ops", "password": "s3cret"}, timeout=HTTP_TIMEOUT).json() == {
        "username": "ops",
        "token_ttl": 800 * 60,
        "streams_require_auth": False,
    }
    assert login(sm2).status_code == 401
    answer = requests.put(f"{sm2.url()}/as/v1/auth/login", auth=("ops", "s3cret"), data=b"{}", timeout=HTTP_TIMEOUT)
    assert answer.status_code == 200
    assert b64url_json(answer.json()["token"].split(".")[1])["sub"] == "ops"


# -- admin ------------------------------------------------------------------------------------------------


def test_healthz_needs_no_token(sm2):
    answer = requests.get(f"{sm2.url()}/as/v1/admin/healthz", timeout=HTTP_TIMEOUT)
    assert (answer.status_code, answer.headers["Content-Type"], answer.json()) == (200, "application/json", {"status": "UP"})


def test_admin_calls_need_a_valid_unexpired_token(sm2):
    url = f"{sm2.url()}/as/v1/admin/nodegroup"
    token = login(sm2).json()["token"]
    assert requests.get(url, headers=bearer(token), timeout=HTTP_TIMEOUT).json() == ["ng-live"]
    assert requests.get(url, headers={"Authorization": f"bearer {token}"}, timeout=HTTP_TIMEOUT).status_code == 200

    future = int(time.time()) + 600
    refused = {
        "missing": {},
        "malformed": bearer("not-a-jwt"),
        "basic instead": {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()},
        "other secret": bearer(sign({"alg": "HS256"}, {"sub": USER, "roles": "ROLE_ADMIN", "exp": future}, "another-secret")),
        "no exp": bearer(sign({"alg": "HS256"}, {"sub": USER, "roles": "ROLE_ADMIN"}, SECRET)),
        "expired": bearer(sign({"alg": "HS256"}, {"sub": USER, "roles": "ROLE_ADMIN", "exp": int(time.time()) - 1}, SECRET)),
        "tampered": bearer(token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
    }
    for what, headers in refused.items():
        answer = requests.get(url, headers=headers, timeout=HTTP_TIMEOUT)
        assert (answer.status_code, answer.json()) == (401, JWT_ERROR), what
    # Written independently, with the emulator's secret: accepted.
    own = sign({"alg": "HS256"}, {"sub": "someone", "roles": "ROLE_ADMIN", "exp": future}, SECRET)
    assert requests.get(url, headers=bearer(own), timeout=HTTP_TIMEOUT).status_code == 200
    # An unknown admin path is checked for a token before anything else.
    assert requests.get(f"{sm2.url()}/as/v1/admin/nothing", timeout=HTTP_TIMEOUT).status_code == 401
    assert requests.get(f"{sm2.url()}/as/v1/admin/nothing", headers=bearer(token), timeout=HTTP_TIMEOUT).status_code == 404


def test_a_token_expires_after_token_ttl():
    emulator = Red5Sm2Emulator(token_ttl=1).start()
    try:
        token = login(emulator).json()["token"]
        expiry = b64url_json(token.split(".")[1])["exp"]
        assert 0 < expiry - time.time() <= 2
        assert requests.get(f"{emulator.url()}/as/v1/admin/nodegroup", headers=bearer(token), timeout=HTTP_TIMEOUT).status_code == 200
        time.sleep(max(0.0, expiry - time.time()) + 0.1)
        answer = requests.get(f"{emulator.url()}/as/v1/admin/nodegroup", headers=bearer(token), timeout=HTTP_TIMEOUT)
        assert (answer.status_code, answer.json()) == (401, JWT_ERROR)
        assert requests.get(f"{emulator.url()}/as/v1/admin/nodegroup", headers=bearer(emulator.issue_token()), timeout=HTTP_TIMEOUT).status_code == 200
    finally:
        emulator.stop()


def test_node_group_status(sm2):
    token = login(sm2).json()["token"]
    rows = requests.get(f"{sm2.url()}/as/v1/admin/nodegroup/status/ng-live", headers=bearer(token), timeout=HTTP_TIMEOUT).json()
    assert [(row["nodeEvent"]["privateIp"], row["nodeEvent"]["publicIp"], row["scalingEvent"]["state"]) for row in rows] == [
        ("10.0.0.1", "132.226.54.10", "INSERVICE"),
        ("10.0.0.101", "132.226.54.20", "INSERVICE"),
        ("10.0.0.102", "132.226.54.21", "INSERVICE"),
        ("10.0.1.1", "129.213.27.10", "INSERVICE"),
        ("10.0.1.101", "129.213.27.20", "INSERVICE"),
        ("10.0.2.101", "152.67.1.20", "INSERVICE"),
    ]
    origin = rows[0]
    assert origin["nodeEvent"]["nodeRoleName"] == origin["scalingEvent"]["nodeRoleName"] == "origin"
    assert origin["nodeEvent"]["subGroupName"] == origin["scalingEvent"]["subGroupName"] == "ashburn"
    assert origin["nodeEvent"]["nodeId"] == origin["scalingEvent"]["nodeId"]
    assert (origin["nodeEvent"]["publisherCount"], origin["nodeEvent"]["subscriberCount"]) == (1, 7)
    assert origin["nodeEvent"]["nodeGroupName"] == "ng-live"
    mumbai = requests.get(f"{sm2.url()}/as/v1/admin/nodegroup/status/default", params={"subGroup": "mumbai"}, headers=bearer(token), timeout=10).json()
    assert [(row["nodeEvent"]["nodeRoleName"], row["nodeEvent"]["publicIp"]) for row in mumbai] == [("edge", "152.67.1.20")]
    missing = requests.get(f"{sm2.url()}/as/v1/admin/nodegroup/status/ng-nope", headers=bearer(token), timeout=HTTP_TIMEOUT)
    assert (missing.status_code, missing.json()) == (404, {"error": "No master NodeGroupConfig found"})
    assert requests.get(f"{sm2.url()}/as/v1/admin/nodegroup/status/ng-live", timeout=HTTP_TIMEOUT).status_code == 401


# -- node groups -----------------------------------------------------------------------------------------


def test_default_is_an_alias_only_while_there_is_one_node_group(sm2):
    by_alias = requests.get(streams_url(sm2), timeout=HTTP_TIMEOUT)
    by_name = requests.get(streams_url(sm2, group="ng-live"), timeout=HTTP_TIMEOUT)
    assert by_alias.status_code == by_name.status_code == 200
    assert by_alias.json() == by_name.json()
    unknown = requests.get(streams_url(sm2, group="ng-nope"), timeout=HTTP_TIMEOUT)
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"] == "application/json"
    assert unknown.json() == {"error": "Node group ng-nope not found"}

    sm2.set_node_groups(TWO_GROUPS)
    assert sm2.streams() == []  # their origins are gone with the old group
    assert requests.get(streams_url(sm2), timeout=HTTP_TIMEOUT).json() == {"error": "Node group default not found"}
    assert requests.get(streams_url(sm2, "/publish/live/cam", group="ng-us"), timeout=HTTP_TIMEOUT).json()[0]["serverAddress"] == "64.1.0.1"
    token = login(sm2).json()["token"]
    assert requests.get(f"{sm2.url()}/as/v1/admin/nodegroup", headers=bearer(token), timeout=HTTP_TIMEOUT).json() == ["ng-eu", "ng-us"]


def test_node_group_configuration_is_validated(sm2):
    refused = {
        "non-empty list": [],
        "1-16 letters": [{"name": "x" * 17, "subgroups": []}],
        "'private_ip' and 'public_ip'": [{"name": "ng", "subgroups": [{"name": "a", "nodes": [{"role": "edge"}]}]}],
        "used twice": [{"name": "ng", "subgroups": [{"name": "a", "nodes": [dict(role="edge", id="n1", private_ip="1", public_ip="2")] * 2}]}],
    }
    for message, bad in refused.items():
        with pytest.raises(Sm2Error, match=message):
            sm2.set_node_groups(bad)
    assert sm2.streams()[0]["stream_guid"] == "live/demo"  # a refused configuration changes nothing


# -- publish and subscribe lookups --------------------------------------------------------------------------


def test_publish_lookup_answers_a_publish_node_public_address(sm2):
    answer = requests.get(streams_url(sm2, "/publish/live/new"), timeout=HTTP_TIMEOUT)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == [
        {"streamGuid": "live/new", "serverAddress": "132.226.54.10", "nodeRole": "origin", "subGroup": "ashburn", "nodeState": "INSERVICE", "subscribers": 0}
    ]

    def origins(**params):
        answer = requests.get(streams_url(sm2, "/publish/live/new"), params=params, timeout=HTTP_TIMEOUT)
        return answer.status_code, [row["serverAddress"] for row in answer.json()] if answer.status_code == 200 else answer.json()

    assert origins(subgroup="frankfurt") == (200, ["129.213.27.10"])
    assert origins(subGroup="frankfurt") == (200, ["129.213.27.10"])
    assert origins(region="frankfurt", subgroup="ashburn") == (200, ["129.213.27.10"])  # region wins
    assert origins(region="mumbai,frankfurt") == (200, ["129.213.27.10"])  # no origin in mumbai: the next preference
    assert origins(region="mumbai") == (200, ["132.226.54.10"])  # fallback to another sub-group
    status, body = origins(region="mumbai", strict="true")
    assert status == 404 and "mumbai" in body["error"]
    assert origins(endpoints="2") == (200, ["132.226.54.10", "129.213.27.10"])
    assert origins(endpoints="0")[0] == 400
    assert origins(transcode="true")[0] == 404
    assert origins(transcode="true", endpoints="2")[0] == 400
    # A lookup only answers where to publish: nothing became live.
    assert [stream["stream_guid"] for stream in sm2.streams()] == ["live/demo", "live/sub/stream1"]


def test_publish_lookup_of_a_live_stream_is_409(sm2):
    for guid in ("live/demo", "live/sub/stream1"):
        answer = requests.get(streams_url(sm2, f"/publish/{guid}"), timeout=HTTP_TIMEOUT)
        assert answer.status_code == 409
        assert guid in answer.json()["error"]


def test_subscribe_picks_the_least_loaded_edge_and_the_edge_then_carries_the_stream(sm2):
    def subscribe(**params):
        answer = requests.get(streams_url(sm2, "/subscribe/live/demo"), params=params, timeout=HTTP_TIMEOUT)
        assert answer.status_code == 200, answer.text
        assert all(list(row) == ROW_KEYS for row in answer.json())
        return [(row["serverAddress"], row["nodeRole"], row["subGroup"], row["subscribers"]) for row in answer.json()]

    assert subscribe() == [("132.226.54.20", "edge", "ashburn", 1)]
    assert subscribe() == [("132.226.54.21", "edge", "ashburn", 1)]
    assert subscribe() == [("129.213.27.20", "edge", "frankfurt", 1)]
    assert subscribe() == [("152.67.1.20", "edge", "mumbai", 1)]
    assert subscribe() == [("132.226.54.20", "edge", "ashburn", 2)]
    assert subscribe(region="frankfurt") == [("129.213.27.20", "edge", "frankfurt", 2)]
    assert subscribe(subGroup="mumbai") == [("152.67.1.20", "edge", "mumbai", 2)]
    assert subscribe(subgroup="atlantis,frankfurt") == [("129.213.27.20", "edge", "frankfurt", 3)]
    # Every edge that served a subscriber now carries the stream; the origin keeps its own 7.
    rows = requests.get(streams_url(sm2, "/stream/live/demo"), params={"aggregate": "false"}, timeout=HTTP_TIMEOUT).json()
    assert [(row["serverAddress"], row["nodeRole"], row["subscribers"]) for row in rows] == [
        ("10.0.0.1", "origin", 7),
        ("10.0.0.101", "edge", 2),
        ("10.0.0.102", "edge", 1),
        ("10.0.1.101", "edge", 3),
        ("10.0.2.101", "edge", 2),
    ]


def test_subscribe_fallback_strict_and_endpoints(sm2):
    def subscribe(**params):
        answer = requests.get(streams_url(sm2, "/subscribe/live/demo"), params=params, timeout=HTTP_TIMEOUT)
        return answer.status_code, [row["subGroup"] for row in answer.json()] if answer.status_code == 200 else answer.json()["error"]

    assert subscribe(region="atlantis") == (200, ["ashburn"])  # fallback: another sub-group answers
    status, error = subscribe(region="atlantis", strict="true")
    assert status == 404 and "atlantis" in error
    assert subscribe(region="frankfurt", strict="true") == (200, ["frankfurt"])
    status, error = subscribe(region="frankfurt", strict="true", endpoints="2")
    assert status == 404 and "strict" in error
    assert subscribe(region="frankfurt", endpoints="2") == (200, ["frankfurt", "ashburn"])
    assert subscribe(region="ashburn,mumbai", strict="true", endpoints="3") == (200, ["ashburn", "ashburn", "mumbai"])
    # All there is, without strict, least loaded first: mumbai has 1 subscriber, the others 2 each (configured order).
    assert subscribe(endpoints="9") == (200, ["mumbai", "ashburn", "ashburn", "frankfurt"])
    assert subscribe(endpoints="9", strict="true")[0] == 404
    for bad in ("0", "-1", "two"):
        status, error = subscribe(endpoints=bad)
        assert status == 400 and "endpoints" in error


def test_subscribe_to_a_stream_that_is_not_live_is_404(sm2):
    answer = requests.get(streams_url(sm2, "/subscribe/live/nothing"), timeout=HTTP_TIMEOUT)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"
    assert list(answer.json()) == ["error"] and "live/nothing" in answer.json()["error"]
    assert requests.get(streams_url(sm2, "/subscribe/live/nothing"), params={"endpoints": "0"}, timeout=HTTP_TIMEOUT).status_code == 400


def test_guid_path_segments(sm2):
    nested = requests.get(streams_url(sm2, "/stream/live/sub/stream1"), timeout=HTTP_TIMEOUT).json()
    assert [row["streamGuid"] for row in nested] == ["live/sub/stream1"]
    sm2.start_broadcast(scope="live", name="my cam")
    assert requests.get(streams_url(sm2, "/stream/live/my%20cam"), timeout=HTTP_TIMEOUT).json()[0]["streamGuid"] == "live/my cam"
    no_slash = requests.get(streams_url(sm2, "/stream/demo"), timeout=HTTP_TIMEOUT)
    assert no_slash.status_code == 400 and "/" in no_slash.json()["error"]
    encoded = requests.get(streams_url(sm2, "/stream/live%2Fdemo"), timeout=HTTP_TIMEOUT)
    assert (encoded.status_code, encoded.json()["error"]) == (400, "Bad Request")
    doubled = requests.get(streams_url(sm2, "/stream/live//demo"), timeout=HTTP_TIMEOUT)
    assert doubled.status_code == 400


# -- lists and stats ------------------------------------------------------------------------------------------


def row(guid, address, role, sub_group, subscribers=None, duration=False):
    item = {"streamGuid": guid, "serverAddress": address, "nodeRole": role, "subGroup": sub_group, "nodeState": "INSERVICE"}
    if subscribers is not None:
        item["subscribers"] = subscribers
    if duration:
        item["durationMs"] = "~"
    return item


def without_duration(rows: list[dict], start_times: dict[str, int], before_ms: int, after_ms: int) -> list[dict]:
    """Rows with ``durationMs`` checked against the streams' start times and replaced by ``~``."""
    checked = []
    for answered in rows:
        item = dict(answered)
        if "durationMs" in item:
            start = start_times[item["streamGuid"]]
            assert before_ms - start <= item["durationMs"] <= after_ms - start
            item["durationMs"] = "~"
        checked.append(item)
    return checked


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [row("live/demo", "10.0.0.1", "origin", "ashburn"), row("live/sub/stream1", "10.0.1.1", "origin", "frankfurt")]),
        (
            {"stats": "false", "aggregate": "false"},
            [
                row("live/demo", "10.0.0.1", "origin", "ashburn"),
                row("live/demo", "10.0.0.101", "edge", "ashburn"),
                row("live/sub/stream1", "10.0.1.1", "origin", "frankfurt"),
            ],
        ),
        (
            {"stats": "true"},
            [row("live/demo", "10.0.0.1", "origin", "ashburn", 10, True), row("live/sub/stream1", "10.0.1.1", "origin", "frankfurt", 0, True)],
        ),
        (
            {"stats": "true", "aggregate": "false"},
            [
                row("live/demo", "10.0.0.1", "origin", "ashburn", 7, True),
                row("live/demo", "10.0.0.101", "edge", "ashburn", 3, True),
                row("live/sub/stream1", "10.0.1.1", "origin", "frankfurt", 0, True),
            ],
        ),
    ],
    ids=["plain", "per-node", "stats", "stats-per-node"],
)
def test_list_stats_and_aggregate(sm2, params, expected):
    sm2.set_subscribers(scope="live", name="demo", count=3, node="10.0.0.101")
    before = int(time.time() * 1000)
    answer = requests.get(streams_url(sm2), params=params, timeout=HTTP_TIMEOUT)
    after = int(time.time() * 1000)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert without_duration(answer.json(), {"live/demo": START_MS, "live/sub/stream1": START_MS + 1000}, before, after) == expected


def test_stream_stats_aggregate_and_per_node(sm2):
    sm2.set_subscribers(scope="live", name="demo", count=4, node="frankfurt-edge-1")
    before = int(time.time() * 1000)
    aggregated = requests.get(streams_url(sm2, "/stream/live/demo"), timeout=HTTP_TIMEOUT).json()
    per_node = requests.get(streams_url(sm2, "/stream/live/demo"), params={"aggregate": "false"}, timeout=HTTP_TIMEOUT).json()
    after = int(time.time() * 1000)
    starts = {"live/demo": START_MS}
    assert without_duration(aggregated, starts, before, after) == [row("live/demo", "10.0.0.1", "origin", "ashburn", 11, True)]
    assert without_duration(per_node, starts, before, after) == [
        row("live/demo", "10.0.0.1", "origin", "ashburn", 7, True),
        row("live/demo", "10.0.1.101", "edge", "frankfurt", 4, True),
    ]


def test_stream_stats_of_a_stream_that_is_not_live(sm2):
    missing = requests.get(streams_url(sm2, "/stream/live/nothing"), timeout=HTTP_TIMEOUT)
    assert missing.status_code == 404
    assert list(missing.json()) == ["error"] and "live/nothing" in missing.json()["error"]
    assert requests.post(f"{sm2.url()}/_emulator/not_live_stats", json={"mode": "empty"}, timeout=HTTP_TIMEOUT).json() == {"mode": "empty"}
    empty = requests.get(streams_url(sm2, "/stream/live/nothing"), timeout=HTTP_TIMEOUT)
    assert (empty.status_code, empty.json()) == (200, [])
    assert requests.post(f"{sm2.url()}/_emulator/not_live_stats", json={"mode": "maybe"}, timeout=HTTP_TIMEOUT).status_code == 400


def test_bad_boolean_parameters_are_400(sm2):
    answer = requests.get(streams_url(sm2), params={"stats": "yes"}, timeout=HTTP_TIMEOUT)
    assert answer.status_code == 400 and "stats" in answer.json()["error"]


# -- stream lifetime -------------------------------------------------------------------------------------------


def test_a_lost_stream_stays_listed_until_stream_timeout_then_disappears():
    emulator = Red5Sm2Emulator(stream_timeout=0.6).start()
    try:
        emulator.start_broadcast(scope="live", name="cam", region="frankfurt")
        lost = emulator.lose_broadcast(scope="live", name="cam")
        assert (lost["live"], lost["lost"]) == (True, True)
        assert [item["streamGuid"] for item in requests.get(streams_url(emulator), timeout=HTTP_TIMEOUT).json()] == ["live/cam"]
        assert requests.get(streams_url(emulator, "/stream/live/cam"), timeout=HTTP_TIMEOUT).json()[0]["serverAddress"] == "10.0.1.1"
        assert requests.get(streams_url(emulator, "/subscribe/live/cam"), timeout=HTTP_TIMEOUT).status_code == 200
        assert requests.get(streams_url(emulator, "/publish/live/cam"), timeout=HTTP_TIMEOUT).status_code == 409
        time.sleep(0.8)
        assert requests.get(streams_url(emulator), timeout=HTTP_TIMEOUT).json() == []
        assert requests.get(streams_url(emulator, "/stream/live/cam"), timeout=HTTP_TIMEOUT).status_code == 404
        assert requests.get(streams_url(emulator, "/publish/live/cam"), timeout=HTTP_TIMEOUT).status_code == 200
        assert emulator.streams() == []
    finally:
        emulator.stop()


def test_a_clean_unpublish_removes_the_stream_at_once_and_there_is_no_delete_call(sm2):
    assert sm2.stop_broadcast(scope="live", name="demo")["live"] is False
    assert [item["streamGuid"] for item in requests.get(streams_url(sm2), timeout=HTTP_TIMEOUT).json()] == ["live/sub/stream1"]
    assert requests.get(streams_url(sm2, "/stream/live/demo"), timeout=HTTP_TIMEOUT).status_code == 404
    token = login(sm2).json()["token"]
    delete = requests.delete(streams_url(sm2, "/stream/live/sub/stream1"), headers=bearer(token), timeout=HTTP_TIMEOUT)
    assert delete.status_code == 405
    assert sm2.is_live(scope="live/sub", name="stream1")


# -- routing ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/streammanager/api/4.0/event/list", "/", "/swagger-ui.html"])
def test_paths_outside_the_api_reach_the_debug_ui_catch_all(sm2, path):
    answer = requests.get(f"{sm2.url()}{path}", timeout=HTTP_TIMEOUT)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.text.lstrip().lower().startswith("<!doctype html>")


def test_without_the_catch_all_other_paths_are_an_html_404():
    emulator = Red5Sm2Emulator(catch_all_html=False).start()
    try:
        answer = requests.get(f"{emulator.url()}/streammanager/api/4.0/event/list", timeout=HTTP_TIMEOUT)
        assert answer.status_code == 404
        assert answer.headers["Content-Type"] == "text/html"
    finally:
        emulator.stop()


@pytest.mark.parametrize("path", ["/as/v1/nothing", "/as/v1/streams/provision/ng-live", "/as/v1/streams/stream/default/other/live/demo", "/as/v1/auth/logout"])
def test_unknown_api_routes_are_a_spring_json_404(sm2, path):
    answer = requests.get(f"{sm2.url()}{path}", timeout=HTTP_TIMEOUT)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert set(body) == {"timestamp", "status", "error", "path"}
    assert (body["status"], body["error"], body["path"]) == (404, "Not Found", path)


def test_streams_can_require_a_token(sm2):
    requests.post(f"{sm2.url()}/_emulator/auth", json={"streams_require_auth": True}, timeout=HTTP_TIMEOUT)
    for tail in ("", "/stream/live/demo", "/subscribe/live/demo", "/publish/live/new"):
        answer = requests.get(streams_url(sm2, tail), timeout=HTTP_TIMEOUT)
        assert (answer.status_code, answer.json()) == (401, JWT_ERROR), tail
    token = login(sm2).json()["token"]
    assert requests.get(streams_url(sm2), headers=bearer(token), timeout=HTTP_TIMEOUT).status_code == 200
    sm2.set_auth(streams_require_auth=False)
    # Public again, and a stale token on a public call is not looked at.
    assert requests.get(streams_url(sm2), headers=bearer("stale"), timeout=HTTP_TIMEOUT).status_code == 200


def test_faults_apply_to_the_api_routes(sm2):
    sm2.add_fault(kind="status", method="PUT", path="^/as/v1/auth/login$", status=503, body="busy")
    assert login(sm2).status_code == 503
    assert login(sm2).status_code == 200
    requests.post(f"{sm2.url()}/_emulator/faults", json={"kind": "reset", "path": "/as/v1/streams/stream/default$"}, timeout=HTTP_TIMEOUT)
    with pytest.raises(requests.ConnectionError):
        requests.get(streams_url(sm2), timeout=HTTP_TIMEOUT)
    assert requests.get(streams_url(sm2), timeout=HTTP_TIMEOUT).status_code == 200
    assert [entry.path for entry in sm2.log(method="GET")] == ["/as/v1/streams/stream/default"] * 2


# -- control API and command line ----------------------------------------------------------------------------


def test_control_api(sm2):
    control = f"{sm2.url()}/_emulator"

    def post(action, **payload):
        return requests.post(f"{control}/{action}", json=payload, timeout=HTTP_TIMEOUT)

    started = post("broadcast/start", scope="live", name="cam", region="frankfurt", start_time=START_MS, subscribers=2).json()
    assert (started["stream_guid"], started["origin"]["private_ip"], started["origin"]["sub_group"], started["subscribers"]) == (
        "live/cam",
        "10.0.1.1",
        "frankfurt",
        2,
    )
    assert post("broadcast/start", scope="live", name="late", delay=0.2).json()["scheduled"] is True
    assert post("subscribers", scope="live", name="cam", count=5, node="129.213.27.20").json()["carriers"] == {"frankfurt-edge-1": 5}
    stats = requests.get(streams_url(sm2, "/stream/live/cam"), timeout=HTTP_TIMEOUT).json()
    assert stats[0]["subscribers"] == 7
    assert post("broadcast/lose", scope="live", name="cam").json()["lost"] is True
    dump = {item["stream_guid"]: item for item in post("streams").json()}
    assert set(dump) == {"live/demo", "live/sub/stream1", "live/cam"}
    assert (dump["live/cam"]["live"], dump["live/cam"]["lost"], dump["live/cam"]["node_group"]) == (True, True, "ng-live")
    assert 0 < dump["live/cam"]["expires_in"] <= 30
    assert (dump["live/demo"]["lost"], dump["live/demo"]["expires_in"]) == (False, None)
    assert post("broadcast/stop", scope="live", name="cam").json()["live"] is False
    time.sleep(0.4)
    assert sm2.is_live(scope="live", name="late")

    assert post("broadcast/stop", scope="live", name="cam").status_code == 404
    assert post("broadcast/start", scope="live", name="x", origin="152.67.1.20").status_code == 400  # an edge cannot publish
    assert post("broadcast/start", scope="live", name="x", colour="red").status_code == 400
    assert post("not_live_stats").status_code == 400
    assert post("node_groups", node_groups="nope").status_code == 400

    groups = post("node_groups", node_groups=TWO_GROUPS).json()["node_groups"]
    assert [group["name"] for group in groups] == ["ng-eu", "ng-us"]
    assert groups[0]["subgroups"][0]["nodes"][0]["capabilities"] == ["PUBLISH", "SUBSCRIBE"]
    assert post("broadcast/start", scope="live", name="eu", node_group="ng-eu").json()["origin"]["public_ip"] == "51.15.0.1"

    requests.get(streams_url(sm2, group="ng-eu"), timeout=HTTP_TIMEOUT)
    assert post("reset").json() == {"reset": True}
    assert sm2.streams() == [] and sm2.log() == []
    assert requests.get(streams_url(sm2, group="ng-eu"), timeout=HTTP_TIMEOUT).json() == []  # the node groups stay


def test_command_line_prints_its_url_and_serves_the_broadcasts():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.red5_sm2", "--broadcast", "live/demo", "--username", "ops", "--password", "pw", "--token-ttl", "120"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _writable, _errors = select.select([process.stdout], [], [], 30)
        assert ready, "the emulator did not print its URL"
        url = json.loads(process.stdout.readline())["api"]
        assert requests.put(f"{url}/as/v1/auth/login", auth=(USER, PASSWORD), timeout=HTTP_TIMEOUT).status_code == 401
        answer = requests.put(f"{url}/as/v1/auth/login", auth=("ops", "pw"), timeout=HTTP_TIMEOUT)
        assert answer.status_code == 200
        assert b64url_json(answer.json()["token"].split(".")[1])["exp"] <= time.time() + 121
        rows = requests.get(f"{url}/as/v1/streams/stream/default", timeout=HTTP_TIMEOUT).json()
        assert rows == [{"streamGuid": "live/demo", "serverAddress": "10.0.0.1", "nodeRole": "origin", "subGroup": "ashburn", "nodeState": "INSERVICE"}]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_the_stack_starts_and_stops_broadcasts_on_both_stream_managers():
    stack = build_stack(["ch1"], interval=None, red5_delay=0)
    try:
        urls = stack.urls()
        assert (urls["red5_sm2"], urls["red5_sm2_username"], urls["red5_sm2_password"]) == (stack.red5_sm2.url(), USER, PASSWORD)
        assert stack.red5_sm2.log() == []  # setting the channel up is not part of what a test observes
        assert [row["streamGuid"] for row in requests.get(streams_url(stack.red5_sm2), timeout=HTTP_TIMEOUT).json()] == ["live/ch1"]
        stack.usp.encoder_eos("ch1")
        assert requests.get(streams_url(stack.red5_sm2), timeout=HTTP_TIMEOUT).json() == []
        assert [entry["active"] for entry in stack.red5.dump_registry()] == [False]
        stack.usp.encoder_start("ch1", interval=None)
        assert stack.red5_sm2.is_live(scope="live", name="ch1")
    finally:
        stack.stop()
