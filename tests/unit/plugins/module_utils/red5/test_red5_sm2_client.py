# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for Stream Manager 2.0 (``api_version: sm2``): red5/sm2.py, red5/connect.py, the sm2 parts of red5/paths.py and the work functions.

The client gets a fake ``http`` object that answers from a table of routes and
records every request (method, url, query, headers, body): no sockets. The
expected values are written out from the answers Red5 documents (docs/red5.md,
"Stream Manager 2.0"), not computed with the collection's helpers.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils import errors
from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext, run_work
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import AnswerError
from ansible_collections.mediaops.streaming.plugins.module_utils.red5 import connect
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.client import Red5Client
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.paths import check_parameter_support, sm2_base, validate_node_group
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.sm2 import Sm2Client, split_guid, token_expiry, translate_row
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.stream_info import read_stream_info, wait_until_publishing
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.stream_registry import clear_stream_registry
from tests.unit.plugins.module_utils.red5.fakes import FakeResponse, info_params, registry_params

SM2_URL = "https://sm.example.com"
HOST = SM2_URL + "/"
# The clock of every client here: 2023-11-14T22:13:20Z.
NOW = 1700000000.0
# NOW minus the reference's durationMs of 600000 (ten minutes).
STARTED_MS = 1699999400000
STARTED_ISO = "2023-11-14T22:03:20.000Z"

# The login answer of Red5's migration guide (ABR and Transcoding): {"sub":"admin","roles":"ROLE_ADMIN","exp":1730864363}.
DOC_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiIsInJvbGVzIjoiUk9MRV9BRE1JTiIsImV4cCI6MTczMDg2NDM2M30.hP90V8o0ZvKKWjRmOpmVfFL2zNyDA_dQIMzzWkJgx7U"
# The payload of the curl cheat sheet's token, {"sub":"admin","roles":"ROLE_ADMIN","exp":1710452343}, with its base64 padding kept.
CHEAT_SHEET_PAYLOAD_PADDED = "eyJzdWIiOiJhZG1pbiIsInJvbGVzIjoiUk9MRV9BRE1JTiIsImV4cCI6MTcxMDQ1MjM0M30="
USERNAME = "admin"
PASSWORD = "xyz123"
# base64("admin:xyz123")
BASIC = "YWRtaW46eHl6MTIz"
CREDENTIALS = dict(username=USERNAME, password=PASSWORD)


def jwt(claims: str, signature: str = "c2lnbmF0dXJl") -> str:
    """An HS256-shaped token whose payload is ``claims`` (JSON text), base64url without padding, as Red5 issues them."""
    payload = base64.urlsafe_b64encode(claims.encode("utf-8")).decode("ascii").rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{payload}.{signature}"


# A token valid for an hour from NOW, and a second one (what a new login answers).
TOKEN = jwt('{"sub":"admin","roles":"ROLE_ADMIN","exp":1700003600}')
NEW_TOKEN = jwt('{"sub":"admin","roles":"ROLE_ADMIN","exp":1700007200}', signature="bmV3")


@pytest.fixture(autouse=True)
def no_secrets_left_over():
    """Every test starts and ends with no registered secret: the login registers its token for the rest of the process."""
    errors.forget_secrets()
    yield
    errors.forget_secrets()


@dataclass
class Sent:
    method: str
    url: str
    params: dict | None
    headers: dict
    data: object

    @property
    def path(self) -> str:
        return self.url[len(HOST) :] if self.url.startswith(HOST) else self.url


class FakeHttp:
    """Answers from ``routes``: (method, path after ``https://sm.example.com/``) -> one answer or a list answered in turn (the last repeats).

    An answer is ``(status, body)`` or ``(status, body, content_type)``; a request no route names fails the test.
    """

    def __init__(self, routes=None):
        self.routes = {key: list(value) if isinstance(value, list) else [value] for key, value in (routes or {}).items()}
        self.max_response_bytes = None
        self.sent: list[Sent] = []
        self.closed = False

    def request(self, method, url, params=None, data=None, headers=None, **kwargs):
        sent = Sent(method, url, None if params is None else dict(params), dict(headers or {}), data)
        self.sent.append(sent)
        answers = self.routes.get((method, sent.path))
        if not answers:
            raise AssertionError(f"unexpected request {method} {url}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return FakeResponse(*answer)

    def close(self):
        self.closed = True

    def calls(self) -> list[tuple]:
        """What was sent, in short: (method, path, query)."""
        return [(sent.method, sent.path, sent.params) for sent in self.sent]


def sm2_params(**raw) -> dict:
    return info_params(url=SM2_URL, api_version="sm2", **raw)


def sm2_client(routes=None, clock=lambda: NOW, **raw) -> Sm2Client:
    return Sm2Client(sm2_params(**raw), ExecutionContext(), http=FakeHttp(routes), clock=clock)


STATS_PATH = "as/v1/streams/stream/default/stream/live/stream1"
LIST_PATH = "as/v1/streams/stream/default"
SUBSCRIBE_PATH = "as/v1/streams/stream/default/subscribe/live/stream1"
LOGIN = ("PUT", "as/v1/auth/login")
NODE_GROUPS = ("GET", "as/v1/admin/nodegroup")

# The reference's stats=true&aggregate=false example (Streams API, "List All Streams"), with
# subscribers on the origin and on a second edge so that the sum differs from any one row.
STATS_ROWS = [
    {
        "streamGuid": "live/stream1",
        "serverAddress": "10.0.0.150",
        "nodeRole": "relay",
        "subGroup": "subGroup-g9ToU",
        "nodeState": "INSERVICE",
        "subscribers": 0,
        "durationMs": 600000,
    },
    {
        "streamGuid": "live/stream1",
        "serverAddress": "10.0.0.1",
        "nodeRole": "origin",
        "subGroup": "subGroup-g9ToU",
        "nodeState": "INSERVICE",
        "subscribers": 2,
        "durationMs": 600000,
    },
    {
        "streamGuid": "live/stream1",
        "serverAddress": "10.0.0.51",
        "nodeRole": "transcoder",
        "subGroup": "subGroup-g9ToU",
        "nodeState": "INSERVICE",
        "subscribers": 0,
        "durationMs": 600000,
    },
    {
        "streamGuid": "live/stream1",
        "serverAddress": "10.0.0.101",
        "nodeRole": "edge",
        "subGroup": "subGroup-g9ToU",
        "nodeState": "INSERVICE",
        "subscribers": 25,
        "durationMs": 600000,
    },
    {
        "streamGuid": "live/stream1",
        "serverAddress": "10.0.0.102",
        "nodeRole": "edge",
        "subGroup": "chicago",
        "nodeState": "INSERVICE",
        "subscribers": 3,
        "durationMs": 590000,
    },
]
NOT_LIVE = (404, {"error": "Stream live/stream1 not found"})


# -- token_expiry --------------------------------------------------------------------------------


def test_token_expiry_of_the_documented_login_answer():
    assert token_expiry(DOC_TOKEN) == 1730864363


def test_token_expiry_with_and_without_base64_padding():
    assert token_expiry(f"eyJhbGciOiJIUzI1NiJ9.{CHEAT_SHEET_PAYLOAD_PADDED}.c2ln") == 1710452343
    assert token_expiry(f"eyJhbGciOiJIUzI1NiJ9.{CHEAT_SHEET_PAYLOAD_PADDED.rstrip('=')}.c2ln") == 1710452343
    # base64url's - and _ (where standard base64 has + and /): this payload encodes as ...IiJ-fn4_In0.
    assert token_expiry(jwt('{"exp":1700000000,"n":"~~~?"}')) == 1700000000


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a token",
        "a.b",
        "a.b.c.d",
        "eyJhbGciOiJIUzI1NiJ9.!!!!.c2ln",
        "eyJhbGciOiJIUzI1NiJ9.é.c2ln",
        jwt("not json"),
        jwt("[1700000000]"),
        jwt('"exp"'),
        jwt('{"sub":"admin","roles":"ROLE_ADMIN"}'),
        jwt('{"exp":true}'),
        jwt('{"exp":"1700000000"}'),
        jwt('{"exp":null}'),
    ],
)
def test_token_expiry_is_none_when_the_token_does_not_say(token):
    assert token_expiry(token) is None


def test_token_expiry_takes_a_fractional_exp():
    assert token_expiry(jwt('{"exp":1700000000.5}')) == 1700000000.5


# -- split_guid and translate_row -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("guid", "scope", "name"),
    [("live/stream1", "live", "stream1"), ("live/room2/stream12", "live/room2", "stream12"), ("/live/sub/stream1/", "live/sub", "stream1")],
)
def test_split_guid_takes_the_last_segment_as_the_name(guid, scope, name):
    assert split_guid(guid, "the row") == (scope, name)


@pytest.mark.parametrize(
    ("guid", "says"),
    [
        ("stream1", 'the "streamGuid" of the row is "stream1", not <scope>/<name>'),
        ("live/", 'the "streamGuid" of the row is "live/", not <scope>/<name>'),
        ("", 'the "streamGuid" of the row is "", not <scope>/<name>'),
        (5, 'the "streamGuid" of the row is the number 5, not text'),
        (["live", "stream1"], 'the "streamGuid" of the row is a list, not text'),
    ],
)
def test_split_guid_refuses_what_is_not_scope_and_name(guid, says):
    with pytest.raises(AnswerError) as caught:
        split_guid(guid, "the row")
    assert str(caught.value) == says


def test_translate_row_maps_the_2_0_keys_to_1_x_keys_and_keeps_the_others():
    row = {
        "streamGuid": "live/room2/stream12",
        "serverAddress": "10.0.0.1",
        "nodeRole": "origin",
        "subGroup": "ashburn",
        "nodeState": "INSERVICE",
        "subscribers": 25,
        "durationMs": 600000,
    }
    assert translate_row(row, "the row", 1700000000000) == {
        "streamGuid": "live/room2/stream12",
        "scope": "live/room2",
        "name": "stream12",
        "serverAddress": "10.0.0.1",
        "type": "origin",
        "region": "ashburn",
        "nodeState": "INSERVICE",
        "currentSubscribers": 25,
        "durationMs": 600000,
        "startTime": STARTED_MS,
    }


def test_translate_row_takes_a_string_as_the_guid():
    assert translate_row("live/stream1", "item 0", 0) == {"streamGuid": "live/stream1", "scope": "live", "name": "stream1"}


def test_translate_row_never_lets_the_server_set_what_it_derives():
    # 1.x spellings in a 2.0 row are not the 2.0 fields: region, type, name, scope and startTime come from subGroup, nodeRole, streamGuid, durationMs only.
    row = {"streamGuid": "live/stream1", "region": "us-east-1", "type": "edge", "name": "other", "scope": "vod", "startTime": 5, "subGroup": "ashburn"}
    assert translate_row(row, "the row", 0) == {"streamGuid": "live/stream1", "scope": "live", "name": "stream1", "region": "ashburn"}


def test_translate_row_without_duration_has_no_start_time():
    assert translate_row({"streamGuid": "live/stream1", "subscribers": None}, "the row", 1700000000000) == {
        "streamGuid": "live/stream1",
        "scope": "live",
        "name": "stream1",
        "currentSubscribers": None,
    }


def test_translate_row_takes_a_duration_written_as_digits():
    assert translate_row({"durationMs": " 600000 "}, "the row", 1700000000000) == {"durationMs": 600000, "startTime": STARTED_MS}


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ([], "the row is a list, not an object"),
        (7, "the row is the number 7, not an object"),
        (None, "the row is null, not an object"),
        ({"subGroup": 5}, 'the "subGroup" of the row is the number 5, not text'),
        ({"nodeRole": ["edge"]}, 'the "nodeRole" of the row is a list, not text'),
        ({"nodeState": True}, 'the "nodeState" of the row is the boolean true, not text'),
        ({"streamGuid": 12}, 'the "streamGuid" of the row is the number 12, not text'),
        ({"durationMs": -1}, 'the "durationMs" of the row is the number -1, not a whole number of 0 or more'),
        ({"durationMs": 1.5}, 'the "durationMs" of the row is the number 1.5, not a whole number of 0 or more'),
        ({"durationMs": True}, 'the "durationMs" of the row is the boolean true, not a whole number of 0 or more'),
        ({"durationMs": "ten minutes"}, 'the "durationMs" of the row is the string "ten minutes", not a whole number of 0 or more'),
    ],
)
def test_translate_row_refuses_wrong_types_naming_the_key(row, says):
    with pytest.raises(AnswerError) as caught:
        translate_row(row, "the row", 1700000000000)
    assert str(caught.value) == says


@pytest.mark.parametrize("duration", ["²", "①", "1²"])
def test_translate_row_refuses_a_duration_of_digit_like_characters_as_an_answer_error(duration):
    # str.isdigit() is true for "²" and "①", which int() cannot read: a hostile answer must be refused
    # as unusable (AnswerError naming the key), not crash the module with a ValueError.
    with pytest.raises(AnswerError, match='the "durationMs" of the row is the string'):
        translate_row({"durationMs": duration}, "the row", 1700000000000)


# -- read_stream_stats ----------------------------------------------------------------------------


def test_stats_of_a_live_stream_pick_the_origin_sum_the_subscribers_and_list_the_nodes():
    client = sm2_client({("GET", STATS_PATH): (200, STATS_ROWS)})
    answer = client.read_stream_stats("live", "stream1")
    assert answer.found
    assert answer.data == {
        "streamGuid": "live/stream1",
        "scope": "live",
        "name": "stream1",
        "serverAddress": "10.0.0.1",
        "type": "origin",
        "region": "subGroup-g9ToU",
        "nodeState": "INSERVICE",
        "currentSubscribers": 30,
        "durationMs": 600000,
        "startTime": STARTED_MS,
        "nodes": [
            {
                "serverAddress": "10.0.0.150",
                "type": "relay",
                "region": "subGroup-g9ToU",
                "nodeState": "INSERVICE",
                "currentSubscribers": 0,
                "durationMs": 600000,
            },
            {
                "serverAddress": "10.0.0.1",
                "type": "origin",
                "region": "subGroup-g9ToU",
                "nodeState": "INSERVICE",
                "currentSubscribers": 2,
                "durationMs": 600000,
            },
            {
                "serverAddress": "10.0.0.51",
                "type": "transcoder",
                "region": "subGroup-g9ToU",
                "nodeState": "INSERVICE",
                "currentSubscribers": 0,
                "durationMs": 600000,
            },
            {
                "serverAddress": "10.0.0.101",
                "type": "edge",
                "region": "subGroup-g9ToU",
                "nodeState": "INSERVICE",
                "currentSubscribers": 25,
                "durationMs": 600000,
            },
            {"serverAddress": "10.0.0.102", "type": "edge", "region": "chicago", "nodeState": "INSERVICE", "currentSubscribers": 3, "durationMs": 590000},
        ],
    }
    [sent] = client.http.sent
    assert (sent.method, sent.url, sent.params) == ("GET", "https://sm.example.com/as/v1/streams/stream/default/stream/live/stream1", {"aggregate": "false"})
    assert "Authorization" not in sent.headers
    assert sent.headers["Accept"] == "application/json"


@pytest.mark.parametrize(
    ("roles", "origin_address"),
    [
        (["relay", "origin", "edge"], "10.0.0.2"),
        (["edge", "allinone"], "10.0.0.2"),
        (["allinone", "edge", "origin"], "10.0.0.3"),
        (["edge", "relay", "transcoder"], "10.0.0.1"),
        (["edge", None], "10.0.0.1"),
    ],
)
def test_the_origin_is_origin_else_allinone_else_the_first_row(roles, origin_address):
    rows = [{"streamGuid": "live/stream1", "serverAddress": f"10.0.0.{index}", "nodeRole": role} for index, role in enumerate(roles, start=1)]
    client = sm2_client({("GET", STATS_PATH): (200, rows)})
    assert client.read_stream_stats("live", "stream1").data["serverAddress"] == origin_address


def test_stats_of_a_nested_scope_use_raw_path_segments():
    rows = [{"streamGuid": "live/room2/stream12", "serverAddress": "10.0.0.1", "nodeRole": "allinone", "subscribers": 1}]
    client = sm2_client({("GET", "as/v1/streams/stream/default/stream/live/room2/stream12"): (200, rows)})
    data = client.read_stream_stats("/live/room2/", "stream12").data
    assert (data["scope"], data["name"], data["currentSubscribers"]) == ("live/room2", "stream12", 1)


def test_stats_of_another_node_group_go_to_its_path():
    client = sm2_client({("GET", "as/v1/streams/stream/live-eu_2.a/stream/live/stream1"): (200, STATS_ROWS[:1])}, node_group="live-eu_2.a")
    assert client.read_stream_stats("live", "stream1").found


def test_a_stream_that_is_not_live_is_a_404_with_an_error_confirmed_by_the_list():
    client = sm2_client({("GET", STATS_PATH): NOT_LIVE, ("GET", LIST_PATH): (200, [])})
    answer = client.read_stream_stats("live", "stream1")
    assert (answer.found, answer.message, answer.status) == (False, "Stream live/stream1 not found", 404)
    assert client.http.calls() == [("GET", STATS_PATH, {"aggregate": "false"}), ("GET", LIST_PATH, None)]
    assert all("Authorization" not in sent.headers for sent in client.http.sent)


@pytest.mark.parametrize("rows", [[], [None]])
def test_a_stream_that_is_not_live_is_an_empty_list(rows):
    client = sm2_client({("GET", STATS_PATH): (200, rows)})
    answer = client.read_stream_stats("live", "stream1")
    assert (answer.found, answer.message, answer.status) == (False, "no node reports stream live/stream1 as live", 200)
    # An empty list is not a 404: nothing to confirm.
    assert client.http.calls() == [("GET", STATS_PATH, {"aggregate": "false"})]


@pytest.mark.parametrize("error_key", ["error", "errorMessage", "message"])
def test_the_error_text_of_a_404_is_read_from_any_sm2_error_key(error_key):
    client = sm2_client({("GET", STATS_PATH): (404, {error_key: "gone"}), ("GET", LIST_PATH): (200, [])})
    assert client.read_stream_stats("live", "stream1").message == "gone"


def test_the_node_group_is_confirmed_once_per_client():
    client = sm2_client({("GET", STATS_PATH): NOT_LIVE, ("GET", LIST_PATH): (200, []), ("GET", SUBSCRIBE_PATH): NOT_LIVE})
    assert not client.read_stream_stats("live", "stream1").found
    assert not client.read_stream_stats("live", "stream1").found
    assert not client.read_stream("live", "stream1", "subscribe").found
    assert client.http.calls() == [
        ("GET", STATS_PATH, {"aggregate": "false"}),
        ("GET", LIST_PATH, None),
        ("GET", STATS_PATH, {"aggregate": "false"}),
        ("GET", SUBSCRIBE_PATH, None),
    ]


def test_waiting_for_publishing_polls_the_stats_and_confirms_the_node_group_once():
    client = sm2_client({("GET", STATS_PATH): [NOT_LIVE, NOT_LIVE, (200, STATS_ROWS)], ("GET", LIST_PATH): (200, [])})
    ticks = iter([0.0, 1.0, 2.0, 3.0])
    answer = wait_until_publishing(client, "live", "stream1", timeout=10, interval=1, clock=lambda: next(ticks), sleep=lambda seconds: None)
    assert answer.found
    assert answer.data["serverAddress"] == "10.0.0.1"
    assert [path for _method, path, _query in client.http.calls()] == [STATS_PATH, LIST_PATH, STATS_PATH, STATS_PATH]


def test_a_missing_node_group_fails_without_credentials_saying_to_set_them():
    client = sm2_client(
        {("GET", "as/v1/streams/stream/east/stream/live/stream1"): NOT_LIVE, ("GET", "as/v1/streams/stream/east"): (404, {"error": "Node group not found"})},
        node_group="east",
    )
    with pytest.raises(StreamingError) as caught:
        client.read_stream_stats("live", "stream1")
    text = str(caught.value)
    assert 'node group "east" was not found' in text
    assert "Node group not found" in text
    assert "Set node_group" in text
    assert "with username and password set" in text
    assert caught.value.status == 404
    assert caught.value.url == "https://sm.example.com/as/v1/streams/stream/east"
    assert [sent.method for sent in client.http.sent] == ["GET", "GET"]


def test_a_missing_node_group_with_credentials_names_the_node_groups_the_admin_api_lists():
    routes = {
        ("GET", "as/v1/streams/stream/east/stream/live/stream1"): NOT_LIVE,
        ("GET", "as/v1/streams/stream/east"): (404, {"error": "Node group not found"}),
        LOGIN: (200, {"token": TOKEN}),
        NODE_GROUPS: (200, ["live-eu", "live-us"]),
    }
    client = sm2_client(routes, node_group="east", **CREDENTIALS)
    with pytest.raises(StreamingError) as caught:
        client.read_stream_stats("live", "stream1")
    text = str(caught.value)
    assert 'node group "east" was not found' in text
    assert "this Stream Manager has live-eu, live-us" in text
    login, listing = client.http.sent[2:]
    assert (login.method, login.url, login.headers["Authorization"]) == ("PUT", "https://sm.example.com/as/v1/auth/login", f"Basic {BASIC}")
    assert (listing.method, listing.url, listing.headers["Authorization"]) == ("GET", "https://sm.example.com/as/v1/admin/nodegroup", f"Bearer {TOKEN}")
    # The stream calls went without a token.
    assert all("Authorization" not in sent.headers for sent in client.http.sent[:2])


def test_a_missing_node_group_says_so_when_the_admin_list_fails_too():
    routes = {("GET", STATS_PATH): NOT_LIVE, ("GET", LIST_PATH): (404, {"error": "Node group not found"}), LOGIN: (401, "")}
    client = sm2_client(routes, **CREDENTIALS)
    with pytest.raises(StreamingError) as caught:
        client.read_stream_stats("live", "stream1")
    text = str(caught.value)
    assert 'node group "default" was not found' in text
    assert "listing the node groups failed: the Stream Manager refused the login" in text
    assert PASSWORD not in text and BASIC not in text


def test_an_html_404_is_no_stream_manager_2_0_not_a_stream_that_is_not_live():
    client = sm2_client({("GET", STATS_PATH): (404, "<html>404 page not found</html>", "text/html")})
    with pytest.raises(StreamingError, match="no Stream Manager API answered at this address") as caught:
        client.read_stream_stats("live", "stream1")
    assert "Stream Manager 2.0" in str(caught.value)
    assert len(client.http.sent) == 1


def test_a_400_is_a_refused_parameter_not_a_stream_that_is_not_live():
    # Stream Manager 2.0 answers 400 for a parameter it refuses (endpoints), never for a stream that is
    # not live (404): the task fails with the server's text (docs/red5.md, "Errors on Stream Manager 2.0").
    client = sm2_client({("GET", SUBSCRIBE_PATH): (400, {"error": "endpoints must be at least 1"}), ("GET", LIST_PATH): (200, [])})
    with pytest.raises(StreamingError, match="refused the request: endpoints must be at least 1") as caught:
        client.read_stream("live", "stream1", "subscribe", endpoints=3)
    assert caught.value.status == 400
    assert "Check the request parameters" in str(caught.value)
    assert len(client.http.sent) == 1
    assert caught.value.url == "https://sm.example.com/as/v1/streams/stream/default/subscribe/live/stream1?endpoints=3"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"streamGuid": "live/stream1"}, "the stream's stats is an object, not a JSON array"),
        ([{"streamGuid": "live/stream1", "subGroup": 3}], 'the "subGroup" of item 0 of the stream\'s stats is the number 3, not text'),
        ([None, "stream1"], 'the "streamGuid" of item 1 of the stream\'s stats is "stream1", not <scope>/<name>'),
    ],
)
def test_stats_answers_of_the_wrong_shape_are_unusable(body, says):
    client = sm2_client({("GET", STATS_PATH): (200, body)})
    with pytest.raises(StreamingError) as caught:
        client.read_stream_stats("live", "stream1")
    assert "the Stream Manager's answer cannot be used: " + says in str(caught.value)


# -- subscribe and broadcast ------------------------------------------------------------------------

EDGE_ROW = {
    "streamGuid": "live/stream1",
    "serverAddress": "132.226.54.176",
    "nodeRole": "edge",
    "subGroup": "ashburn",
    "nodeState": "INSERVICE",
    "subscribers": 4,
}
SECOND_EDGE_ROW = {
    "streamGuid": "live/stream1",
    "serverAddress": "132.226.54.177",
    "nodeRole": "edge",
    "subGroup": "chicago",
    "nodeState": "INSERVICE",
    "subscribers": 9,
}


def test_subscribe_sends_subgroup_strict_and_endpoints_without_authorization():
    client = sm2_client({("GET", SUBSCRIBE_PATH): (200, [EDGE_ROW])})
    answer = client.read_stream("live", "stream1", "subscribe", region="ashburn,chicago", strict=True, endpoints=1)
    [sent] = client.http.sent
    assert (sent.method, sent.url, sent.params) == (
        "GET",
        "https://sm.example.com/as/v1/streams/stream/default/subscribe/live/stream1",
        {"subgroup": "ashburn,chicago", "strict": "true", "endpoints": "1"},
    )
    assert "Authorization" not in sent.headers
    # One node: an object, whose subscribers are that node's, not the stream's.
    assert answer.data == {
        "streamGuid": "live/stream1",
        "scope": "live",
        "name": "stream1",
        "serverAddress": "132.226.54.176",
        "type": "edge",
        "region": "ashburn",
        "nodeState": "INSERVICE",
        "nodeSubscribers": 4,
    }


def test_subscribe_without_options_sends_no_query():
    client = sm2_client({("GET", SUBSCRIBE_PATH): (200, [EDGE_ROW])})
    client.read_stream("live", "stream1", "subscribe", strict=False)
    assert client.http.calls() == [("GET", SUBSCRIBE_PATH, {"strict": "false"})]


def test_subscribe_with_more_than_one_endpoint_answers_every_node():
    client = sm2_client({("GET", SUBSCRIBE_PATH): (200, [EDGE_ROW, SECOND_EDGE_ROW])})
    answer = client.read_stream("live", "stream1", "subscribe", endpoints=2)
    assert [(node["serverAddress"], node["region"], node["nodeSubscribers"]) for node in answer.data] == [
        ("132.226.54.176", "ashburn", 4),
        ("132.226.54.177", "chicago", 9),
    ]
    assert all("currentSubscribers" not in node for node in answer.data)


def test_subscribe_to_a_stream_that_is_not_live():
    client = sm2_client({("GET", SUBSCRIBE_PATH): (404, {"error": "No servers available"}), ("GET", LIST_PATH): (200, ["live/other"])})
    answer = client.read_stream("live", "stream1", "subscribe", region="ashburn", strict=True)
    assert (answer.found, answer.message) == (False, "No servers available")
    assert client.http.calls()[1] == ("GET", LIST_PATH, None)


def test_subscribe_answering_an_empty_list_is_not_live():
    client = sm2_client({("GET", SUBSCRIBE_PATH): (200, [])})
    answer = client.read_stream("live", "stream1", "subscribe")
    assert (answer.found, answer.message) == (False, "the Stream Manager found no edge for stream live/stream1")


def test_subscribe_refuses_a_region_that_cannot_travel_in_the_query():
    client = sm2_client()
    with pytest.raises(StreamingError, match='invalid region "ash burn"'):
        client.read_stream("live", "stream1", "subscribe", region="ash burn")
    assert client.http.sent == []


def test_broadcast_reads_the_stats_never_the_publish_lookup():
    client = sm2_client({("GET", STATS_PATH): (200, STATS_ROWS)})
    answer = client.read_stream("live", "stream1", "broadcast")
    assert answer.data["serverAddress"] == "10.0.0.1"
    assert client.http.calls() == [("GET", STATS_PATH, {"aggregate": "false"})]
    assert not any("/publish/" in sent.url for sent in client.http.sent)


# -- list_streams ---------------------------------------------------------------------------------


def test_list_with_stats_normalises_every_item():
    listed = [
        {
            "streamGuid": "live/stream1",
            "serverAddress": "10.0.0.1",
            "nodeRole": "origin",
            "subGroup": "ashburn",
            "nodeState": "INSERVICE",
            "subscribers": 25,
            "durationMs": 600000,
        },
        None,
        "live/room2/stream12",
    ]
    client = sm2_client({("GET", LIST_PATH): (200, listed)})
    assert client.list_streams(stats=True) == [
        {
            "name": "stream1",
            "scope": "live",
            "server_address": "10.0.0.1",
            "region": "ashburn",
            "type": "origin",
            "current_subscribers": 25,
            "start_time": STARTED_ISO,
            "start_time_ms": STARTED_MS,
            "node_state": "INSERVICE",
            "duration_ms": 600000,
            "stream_guid": "live/stream1",
        },
        {"name": "stream12", "scope": "live/room2", "stream_guid": "live/room2/stream12"},
    ]
    [sent] = client.http.sent
    assert (sent.url, sent.params) == ("https://sm.example.com/as/v1/streams/stream/default", {"stats": "true"})
    assert "Authorization" not in sent.headers


def test_list_without_stats_sends_no_query():
    client = sm2_client({("GET", LIST_PATH): (200, [])})
    assert client.list_streams() == []
    assert client.http.calls() == [("GET", LIST_PATH, None)]


@pytest.mark.parametrize(
    ("listed", "says"),
    [
        ([{"serverAddress": "10.0.0.1", "nodeRole": "origin"}], "item 0 of the stream list has no streamGuid"),
        ([{"streamGuid": None}], "item 0 of the stream list has no streamGuid"),
        (["live/a", {"streamGuid": "live/b", "subscribers": -2}], 'the "subscribers" of item 1 of the stream list is the number -2'),
        ([{"streamGuid": "live/a", "nodeRole": 1}], 'the "nodeRole" of item 0 of the stream list is the number 1, not text'),
        ([7], "item 0 of the stream list is the number 7, not an object"),
        ({"streams": []}, "the stream list is an object, not a JSON array"),
    ],
)
def test_list_refuses_items_it_cannot_read(listed, says):
    client = sm2_client({("GET", LIST_PATH): (200, listed)})
    with pytest.raises(StreamingError) as caught:
        client.list_streams(stats=True)
    assert "the Stream Manager's answer cannot be used: " + says in str(caught.value)
    assert "https://sm.example.com/as/v1/streams/stream/default?stats=true" in str(caught.value)


def test_list_of_a_missing_node_group_fails():
    client = sm2_client({("GET", "as/v1/streams/stream/east"): (404, {"error": "Node group not found"})}, node_group="east")
    with pytest.raises(StreamingError, match='node group "east" was not found on the Stream Manager: Node group not found'):
        client.list_streams(stats=True)
    assert len(client.http.sent) == 1


# -- login and tokens -------------------------------------------------------------------------------


def test_login_is_a_put_with_basic_authentication_and_an_explicit_empty_body():
    client = sm2_client({LOGIN: (200, {"token": TOKEN}), NODE_GROUPS: (200, ["default-ng"])}, **CREDENTIALS)
    assert client.list_node_groups() == ["default-ng"]
    login, listing = client.http.sent
    assert (login.method, login.url, login.data, login.params) == ("PUT", "https://sm.example.com/as/v1/auth/login", b"", None)
    assert login.headers["Authorization"] == "Basic YWRtaW46eHl6MTIz"
    assert login.headers["Content-Length"] == "0"
    assert listing.headers["Authorization"] == f"Bearer {TOKEN}"


def test_the_token_is_kept_across_calls():
    client = sm2_client({LOGIN: (200, {"token": TOKEN}), NODE_GROUPS: (200, ["a"])}, **CREDENTIALS)
    client.list_node_groups()
    client.list_node_groups()
    assert [sent.method for sent in client.http.sent] == ["PUT", "GET", "GET"]
    assert client.http.sent[2].headers["Authorization"] == f"Bearer {TOKEN}"


def test_the_token_is_renewed_when_it_expires_within_a_minute():
    now = [NOW]
    client = sm2_client({LOGIN: [(200, {"token": TOKEN}), (200, {"token": NEW_TOKEN})], NODE_GROUPS: (200, ["a"])}, clock=lambda: now[0], **CREDENTIALS)
    client.list_node_groups()
    # TOKEN expires at 1700003600: 61 s before it, it is still used; 59 s before, a new login.
    now[0] = 1700003539.0
    client.list_node_groups()
    now[0] = 1700003541.0
    client.list_node_groups()
    assert [sent.method for sent in client.http.sent] == ["PUT", "GET", "GET", "PUT", "GET"]
    assert [sent.headers["Authorization"] for sent in client.http.sent if sent.method == "GET"] == [f"Bearer {TOKEN}", f"Bearer {TOKEN}", f"Bearer {NEW_TOKEN}"]


def test_a_short_lived_token_is_renewed_a_tenth_of_its_lifetime_before_it_expires():
    # docs/red5.md, "Connecting": "renewed shortly before it expires (60 seconds before, or a tenth of
    # its lifetime for a token that lives less than 10 minutes)". A token of 5 minutes is renewed 30 s before.
    now = [NOW]
    short_lived = jwt('{"sub":"admin","roles":"ROLE_ADMIN","exp":1700000300}')
    client = sm2_client({LOGIN: [(200, {"token": short_lived}), (200, {"token": NEW_TOKEN})], NODE_GROUPS: (200, ["a"])}, clock=lambda: now[0], **CREDENTIALS)
    client.list_node_groups()
    now[0] = NOW + 250  # 50 s left, more than a tenth of 300 s
    client.list_node_groups()
    now[0] = NOW + 275  # 25 s left
    client.list_node_groups()
    assert [sent.method for sent in client.http.sent] == ["PUT", "GET", "GET", "PUT", "GET"]


def test_a_token_without_exp_is_kept_until_a_401():
    client = sm2_client({LOGIN: (200, {"token": "opaque-token"}), NODE_GROUPS: (200, ["a"])}, clock=lambda: 4e9, **CREDENTIALS)
    client.list_node_groups()
    client.list_node_groups()
    assert [sent.method for sent in client.http.sent] == ["PUT", "GET", "GET"]


def test_a_401_logs_in_once_more_and_repeats_the_call():
    client = sm2_client({LOGIN: [(200, {"token": TOKEN}), (200, {"token": NEW_TOKEN})], NODE_GROUPS: [(401, ""), (200, ["a", "b"])]}, **CREDENTIALS)
    assert client.list_node_groups() == ["a", "b"]
    assert [(sent.method, sent.headers["Authorization"]) for sent in client.http.sent] == [
        ("PUT", f"Basic {BASIC}"),
        ("GET", f"Bearer {TOKEN}"),
        ("PUT", f"Basic {BASIC}"),
        ("GET", f"Bearer {NEW_TOKEN}"),
    ]


def test_a_second_401_fails():
    client = sm2_client({LOGIN: [(200, {"token": TOKEN}), (200, {"token": NEW_TOKEN})], NODE_GROUPS: (401, {"error": "Unauthorized"})}, **CREDENTIALS)
    with pytest.raises(StreamingError) as caught:
        client.list_node_groups()
    assert caught.value.status == 401
    assert "Unauthorized" in str(caught.value)
    assert "Set username and password" in str(caught.value)
    assert [sent.method for sent in client.http.sent] == ["PUT", "GET", "PUT", "GET"]


@pytest.mark.parametrize("status", [401, 403])
def test_a_wrong_password_fails_without_showing_it(status):
    client = sm2_client({LOGIN: (status, {"error": "Bad credentials"})}, **CREDENTIALS)
    with pytest.raises(StreamingError) as caught:
        client.list_node_groups()
    rendered = str(caught.value) + json.dumps(caught.value.result())
    assert "the Stream Manager refused the login: wrong username or password" in rendered
    assert "R5AS_AUTH_USER" in rendered
    assert caught.value.status == status
    assert PASSWORD not in rendered
    assert BASIC not in rendered
    assert len(client.http.sent) == 1


def test_an_admin_call_without_credentials_fails_before_any_request():
    client = sm2_client(username=USERNAME)
    with pytest.raises(StreamingError, match="needs a login, and username or password is not set") as caught:
        client.list_node_groups()
    assert "Set username and password" in str(caught.value)
    assert client.http.sent == []


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ((200, {"accessToken": TOKEN, "tokenType": "Bearer"}), "login answer cannot be used: it is an object without a token"),
        ((200, {"token": ""}), "login answer cannot be used: it is an object without a token"),
        ((200, {"token": 5}), "login answer cannot be used: it is an object without a token"),
        ((200, [TOKEN]), "login answer cannot be used: it is a list without a token"),
    ],
)
def test_a_login_answer_without_a_token_is_refused(answer, says):
    client = sm2_client({LOGIN: answer}, **CREDENTIALS)
    with pytest.raises(StreamingError, match=says) as caught:
        client.list_node_groups()
    assert "url points at a Stream Manager 2.0" in str(caught.value)
    assert [sent.method for sent in client.http.sent] == ["PUT"]


def test_a_login_answered_by_an_html_page_is_refused():
    client = sm2_client({LOGIN: (200, "<html>debug</html>", "text/html")}, **CREDENTIALS)
    with pytest.raises(StreamingError, match="login answer cannot be used: it is not valid JSON") as caught:
        client.list_node_groups()
    # The answer is not quoted: a login answer may hold the token.
    assert "debug" not in str(caught.value)


def test_the_token_is_registered_as_a_secret():
    client = sm2_client({LOGIN: (200, {"token": TOKEN}), NODE_GROUPS: (200, ["a"])}, **CREDENTIALS)
    assert errors.scrub(f"sent Bearer {TOKEN}") == f"sent Bearer {TOKEN}"
    client.list_node_groups()
    assert errors.scrub(f"sent Bearer {TOKEN}") == "sent Bearer ********"


def test_the_token_sent_is_the_token_registered_as_a_secret():
    # The client strips white space around the login answer's token before sending it: the stripped
    # value, the one in the Authorization header, is the one that must be masked.
    client = sm2_client({LOGIN: (200, {"token": f" {TOKEN}\n"}), NODE_GROUPS: (200, ["a"])}, **CREDENTIALS)
    client.list_node_groups()
    header = client.http.sent[1].headers["Authorization"]
    assert header == f"Bearer {TOKEN}"
    assert errors.scrub(header) == "Bearer ********"


def test_a_token_the_server_echoes_in_an_error_is_masked():
    routes = {LOGIN: (200, {"token": TOKEN}), NODE_GROUPS: [(401, ""), (500, {"error": f"token {TOKEN} rejected by the admin service"})]}
    client = sm2_client(routes, **CREDENTIALS)
    with pytest.raises(StreamingError) as caught:
        client.list_node_groups()
    rendered = str(caught.value) + json.dumps(caught.value.result())
    assert "token ******** rejected" in rendered
    assert TOKEN not in rendered


# -- stream calls on a deployment that protects them ----------------------------------------------


def test_a_stream_call_answering_401_logs_in_and_later_stream_calls_carry_the_token():
    routes = {("GET", STATS_PATH): [(401, ""), (200, STATS_ROWS)], LOGIN: (200, {"token": TOKEN}), ("GET", SUBSCRIBE_PATH): (200, [EDGE_ROW])}
    client = sm2_client(routes, **CREDENTIALS)
    assert client.read_stream_stats("live", "stream1").data["currentSubscribers"] == 30
    assert client.read_stream("live", "stream1", "subscribe").data["serverAddress"] == "132.226.54.176"
    assert [(sent.method, sent.path, sent.headers.get("Authorization")) for sent in client.http.sent] == [
        ("GET", STATS_PATH, None),
        ("PUT", "as/v1/auth/login", f"Basic {BASIC}"),
        ("GET", STATS_PATH, f"Bearer {TOKEN}"),
        ("GET", SUBSCRIBE_PATH, f"Bearer {TOKEN}"),
    ]


def test_a_stream_call_answering_401_without_credentials_fails_saying_to_set_them():
    client = sm2_client({("GET", STATS_PATH): (401, "")})
    with pytest.raises(StreamingError) as caught:
        client.read_stream_stats("live", "stream1")
    text = str(caught.value)
    assert "this Stream Manager asks for a login on its stream calls, and username or password is not set" in text
    assert "Set username and password (or RED5_SM_USERNAME and RED5_SM_PASSWORD)" in text
    assert caught.value.status == 401
    assert len(client.http.sent) == 1


# -- the client's parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("node_group", ["x" * 17, "live eu", "live/eu", "", "grüppe", "ng\n"])
def test_the_client_refuses_a_bad_node_group_before_opening_a_session(node_group):
    with pytest.raises(StreamingError, match="invalid node_group"):
        Sm2Client(sm2_params(node_group=node_group), ExecutionContext())


def test_the_client_takes_a_url_that_ends_in_as_v1():
    client = Sm2Client(info_params(url="https://sm.example.com/as/v1/", api_version="sm2"), ExecutionContext(), http=FakeHttp())
    assert client.base == "https://sm.example.com/as/v1/"
    assert client.api_version == "sm2"
    assert client.http.max_response_bytes == 8 * 1024 * 1024


# -- detection and open_client ----------------------------------------------------------------------

HEALTHZ = ("GET", "as/v1/admin/healthz")
HTML_404 = (404, "<html>Not Found</html>", "text/html")
HTML_200 = (200, "<!doctype html><html>debug ui</html>", "text/html; charset=utf-8")


def event_list(version):
    return ("GET", f"streammanager/api/{version}/event/list")


@pytest.mark.parametrize("answer", [(200, {"status": "UP"}), (200, "", None), (204, "", None), (200, "OK", "text/plain")])
def test_a_health_check_that_answers_and_is_not_html_is_stream_manager_2_0(answer):
    http = FakeHttp({HEALTHZ: answer})
    assert connect.detect_api_version(http, SM2_URL) == "sm2"
    [sent] = http.sent
    assert (sent.method, sent.url) == ("GET", "https://sm.example.com/as/v1/admin/healthz")
    assert "Authorization" not in sent.headers


def test_an_html_health_check_is_the_catch_all_page_not_stream_manager_2_0():
    http = FakeHttp({HEALTHZ: HTML_200, event_list("4.0"): (200, [{"name": "demo", "scope": "/live"}])})
    assert connect.detect_api_version(http, SM2_URL) == "4.0"
    assert [path for _method, path, _query in http.calls()] == ["as/v1/admin/healthz", "streammanager/api/4.0/event/list"]


def test_the_newest_1_x_version_answering_a_json_array_decides():
    http = FakeHttp({HEALTHZ: HTML_404, event_list("4.0"): HTML_404, event_list("3.1"): (200, [], "application/json;charset=UTF-8")})
    assert connect.detect_api_version(http, SM2_URL + "/") == "3.1"
    assert [sent.url for sent in http.sent] == [
        "https://sm.example.com/as/v1/admin/healthz",
        "https://sm.example.com/streammanager/api/4.0/event/list",
        "https://sm.example.com/streammanager/api/3.1/event/list",
    ]


def test_nothing_that_answers_html_or_no_array_decides_and_the_failure_names_every_probe():
    routes = {
        HEALTHZ: HTML_200,
        event_list("4.0"): HTML_200,
        event_list("3.1"): (200, {"errorMessage": "Invalid version"}),
        event_list("3.0"): (200, "[]", "text/html"),
        event_list("2.0"): HTML_404,
        event_list("1.0"): (500, "boom", "text/plain"),
    }
    http = FakeHttp(routes)
    with pytest.raises(StreamingError) as caught:
        connect.detect_api_version(http, SM2_URL)
    text = str(caught.value)
    assert "could not tell which Stream Manager API answers at https://sm.example.com" in text
    assert "GET https://sm.example.com/as/v1/admin/healthz answered HTTP 200 (text/html)" in text
    assert "GET https://sm.example.com/streammanager/api/4.0/event/list answered HTTP 200 (text/html)" in text
    assert "GET https://sm.example.com/streammanager/api/3.1/event/list answered HTTP 200 (application/json)" in text
    assert "GET https://sm.example.com/streammanager/api/3.0/event/list answered HTTP 200 (text/html)" in text
    assert "GET https://sm.example.com/streammanager/api/2.0/event/list answered HTTP 404 (text/html)" in text
    assert "GET https://sm.example.com/streammanager/api/1.0/event/list answered HTTP 500 (text/plain)" in text
    assert "set api_version" in text
    assert len(http.sent) == 6


def fake_session(monkeypatch, http):
    """open_client's HttpClient.from_params hands out ``http``; AssertionError when no session may be opened (http None)."""

    def from_params(params, warn=None, **credentials):
        if http is None:
            raise AssertionError("a session was opened")
        assert not credentials, "open_client must not put the login credentials on every request"
        return http

    monkeypatch.setattr(connect, "HttpClient", SimpleNamespace(from_params=from_params))


def test_open_client_with_auto_returns_the_2_0_client_on_the_same_session(monkeypatch):
    http = FakeHttp({HEALTHZ: (200, {"status": "UP"})})
    fake_session(monkeypatch, http)
    client = connect.open_client(info_params(url=SM2_URL, api_version="auto", node_group="live-eu"), ExecutionContext())
    assert isinstance(client, Sm2Client)
    assert client.api_version == "sm2"
    assert client.http is http
    assert client.node_group == "live-eu"
    assert not http.closed


def test_open_client_with_auto_returns_the_1_x_client_of_the_version_found(monkeypatch):
    http = FakeHttp({HEALTHZ: HTML_404, event_list("4.0"): HTML_404, event_list("3.1"): (200, [])})
    fake_session(monkeypatch, http)
    client = connect.open_client(info_params(url=SM2_URL, api_version="auto"), ExecutionContext())
    assert isinstance(client, Red5Client)
    assert client.api_version == "3.1"
    assert client.http is http
    assert client.base == "https://sm.example.com/streammanager/api/3.1/"


def test_open_client_closes_the_session_when_detection_fails(monkeypatch):
    http = FakeHttp({HEALTHZ: HTML_404, **{event_list(version): HTML_404 for version in ("4.0", "3.1", "3.0", "2.0", "1.0")}})
    fake_session(monkeypatch, http)
    with pytest.raises(StreamingError, match="could not tell which Stream Manager API answers"):
        connect.open_client(info_params(url=SM2_URL, api_version="auto"), ExecutionContext())
    assert http.closed


@pytest.mark.parametrize(("overrides", "says"), [({"node_group": "a" * 17}, "invalid node_group"), ({"url": "sm.example.com"}, "invalid Stream Manager url")])
def test_open_client_with_auto_refuses_bad_parameters_before_opening_a_session(monkeypatch, overrides, says):
    fake_session(monkeypatch, None)
    with pytest.raises(StreamingError, match=says):
        connect.open_client(info_params(**{"url": SM2_URL, "api_version": "auto", **overrides}), ExecutionContext())


def test_auto_checks_the_parameters_against_the_version_found_before_the_tasks_own_requests(monkeypatch):
    http = FakeHttp({HEALTHZ: (200, {"status": "UP"})})
    fake_session(monkeypatch, http)
    params = info_params(url=SM2_URL, api_version="auto", name="stream1", action="subscribe", geozone="europe")
    with pytest.raises(StreamingError, match=r"geozone is not available with Stream Manager 2\.0 \(api_version sm2\)"):
        read_stream_info(params, ExecutionContext())
    assert http.calls() == [("GET", "as/v1/admin/healthz", None)]
    assert http.closed


# -- paths ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "value", "advice"),
    [
        (
            "geozone",
            "europe",
            "On Stream Manager 2.0, give the sub-group (or a parent sub-group, or a comma-separated preference list) as region; remove geozone",
        ),
        ("transcode", True, "Stream Manager 2.0 transcodes only provisioned streams"),
        ("transcode", False, "look them up by name; remove transcode"),
        ("include_active", False, "Stream Manager 2.0 has nothing to clear: its stream entries expire by themselves; remove include_active"),
    ],
)
def test_parameters_stream_manager_2_0_lacks_are_refused_with_its_own_advice(parameter, value, advice):
    with pytest.raises(StreamingError) as caught:
        check_parameter_support("sm2", {parameter: value})
    assert caught.value.message == f"{parameter} is not available with Stream Manager 2.0 (api_version sm2)"
    assert advice in caught.value.advice


def test_strict_and_endpoints_are_accepted_on_stream_manager_2_0():
    check_parameter_support("sm2", {"strict": True, "endpoints": 3, "geozone": None, "transcode": None, "include_active": None})


def test_auto_is_never_refused():
    check_parameter_support("auto", {"strict": True, "endpoints": 3, "geozone": "europe", "transcode": True, "include_active": True})


def test_a_1_x_version_names_stream_manager_2_0_among_those_that_have_the_parameter():
    with pytest.raises(StreamingError) as caught:
        check_parameter_support("2.0", {"strict": True})
    assert caught.value.message == "strict is not available with Stream Manager API 2.0"
    assert (
        caught.value.advice
        == "It exists in API 3.1 and 4.0 and on Stream Manager 2.0 (sm2) only: set api_version accordingly (if the server supports it) or remove strict"
    )


@pytest.mark.parametrize("name", ["default", "a", "x" * 16, "live-eu_2.a", "ABC123"])
def test_valid_node_groups(name):
    assert validate_node_group(name) == name


@pytest.mark.parametrize("name", ["x" * 17, "", "live eu", "live/eu", "live?eu", "grüppe", "eu\n", None, 5])
def test_invalid_node_groups(name):
    with pytest.raises(StreamingError, match="invalid node_group") as caught:
        validate_node_group(name)
    assert "1 to 16 letters, digits, -, _ or ." in str(caught.value)


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://sm.example.com", "https://sm.example.com/as/v1/"),
        ("https://sm.example.com/", "https://sm.example.com/as/v1/"),
        ("https://sm.example.com/as/v1", "https://sm.example.com/as/v1/"),
        ("https://sm.example.com/as/v1/", "https://sm.example.com/as/v1/"),
        ("http://10.0.0.5:80", "http://10.0.0.5:80/as/v1/"),
        ("https://example.com/red5", "https://example.com/red5/as/v1/"),
    ],
)
def test_sm2_base(url, base):
    assert sm2_base(url) == base


@pytest.mark.parametrize("url", ["sm.example.com", "ftp://sm.example.com", "https://sm example.com", "https://sm.example.com/\n"])
def test_sm2_base_refuses_what_cannot_be_a_url(url):
    with pytest.raises(StreamingError, match="invalid Stream Manager url"):
        sm2_base(url)


# -- the work over the real 2.0 client ---------------------------------------------------------------


def run_info(routes, clock=lambda: NOW, **raw):
    client = sm2_client(routes, clock=clock, **raw)
    return run_work(read_stream_info, sm2_params(**raw), ExecutionContext(), client=client), client.http


ORIGIN_NODE = {
    "server_address": "10.0.0.1",
    "region": "subGroup-g9ToU",
    "type": "origin",
    "node_state": "INSERVICE",
    "current_subscribers": 2,
    "duration_ms": 600000,
}
STATS_STREAM = {
    "name": "stream1",
    "scope": "live",
    "server_address": "10.0.0.1",
    "region": "subGroup-g9ToU",
    "type": "origin",
    "current_subscribers": 30,
    "start_time": STARTED_ISO,
    "start_time_ms": STARTED_MS,
    "node_state": "INSERVICE",
    "duration_ms": 600000,
    "stream_guid": "live/stream1",
    "nodes": [
        {
            "server_address": "10.0.0.150",
            "region": "subGroup-g9ToU",
            "type": "relay",
            "node_state": "INSERVICE",
            "current_subscribers": 0,
            "duration_ms": 600000,
        },
        ORIGIN_NODE,
        {
            "server_address": "10.0.0.51",
            "region": "subGroup-g9ToU",
            "type": "transcoder",
            "node_state": "INSERVICE",
            "current_subscribers": 0,
            "duration_ms": 600000,
        },
        {
            "server_address": "10.0.0.101",
            "region": "subGroup-g9ToU",
            "type": "edge",
            "node_state": "INSERVICE",
            "current_subscribers": 25,
            "duration_ms": 600000,
        },
        {"server_address": "10.0.0.102", "region": "chicago", "type": "edge", "node_state": "INSERVICE", "current_subscribers": 3, "duration_ms": 590000},
    ],
}


def test_stream_info_stats_return_the_1_x_keys_and_the_2_0_extras():
    result, http = run_info({("GET", STATS_PATH): (200, STATS_ROWS)}, name="stream1")
    assert result == {"changed": False, "exists": True, "stream": STATS_STREAM, "api_version": "sm2"}
    assert http.calls() == [("GET", STATS_PATH, {"aggregate": "false"})]
    assert http.closed


def test_stream_info_of_a_stream_that_is_not_live():
    result, http = run_info({("GET", STATS_PATH): NOT_LIVE, ("GET", LIST_PATH): (200, [])}, name="stream1", action="subscribe")
    assert result == {"changed": False, "exists": False, "stream": {}, "message": "Stream live/stream1 not found", "api_version": "sm2"}
    # Not live: no subscribe lookup after the stats.
    assert [path for _method, path, _query in http.calls()] == [STATS_PATH, LIST_PATH]


@pytest.mark.parametrize("stats", [True, False])
def test_stream_info_broadcast_is_the_origin_from_the_stats(stats):
    result, http = run_info({("GET", STATS_PATH): (200, STATS_ROWS)}, name="stream1", action="broadcast", stats=stats)
    assert result == {"changed": False, "exists": True, "stream": STATS_STREAM, "api_version": "sm2"}
    assert http.calls() == [("GET", STATS_PATH, {"aggregate": "false"})]


@pytest.mark.parametrize(
    ("region", "subgroup", "fallback"),
    [("ashburn", "ashburn", False), ("newark,ashburn", "ashburn", False), ("newark,chicago", "ashburn", True)],
)
def test_stream_info_subscribe_says_whether_the_edge_is_outside_the_regions_asked_for(region, subgroup, fallback):
    edge = dict(EDGE_ROW, subGroup=subgroup)
    result, http = run_info({("GET", SUBSCRIBE_PATH): (200, [edge])}, name="stream1", action="subscribe", region=region, strict=False, stats=False)
    assert result == {
        "changed": False,
        "exists": True,
        "stream": {
            "name": "stream1",
            "scope": "live",
            "server_address": "132.226.54.176",
            "region": subgroup,
            "type": "edge",
            "node_state": "INSERVICE",
            "node_subscribers": 4,
            "stream_guid": "live/stream1",
        },
        "region_fallback": fallback,
        "api_version": "sm2",
    }
    assert http.calls() == [("GET", SUBSCRIBE_PATH, {"subgroup": region, "strict": "false"})]


def test_stream_info_subscribe_after_stats_keeps_the_total_and_takes_the_edge():
    result, http = run_info(
        {("GET", STATS_PATH): (200, STATS_ROWS), ("GET", SUBSCRIBE_PATH): (200, [EDGE_ROW, SECOND_EDGE_ROW])}, name="stream1", action="subscribe", endpoints=2
    )
    stream = result["stream"]
    assert (stream["server_address"], stream["region"], stream["type"], stream["current_subscribers"], stream["node_subscribers"]) == (
        "132.226.54.176",
        "ashburn",
        "edge",
        30,
        4,
    )
    assert [(node["server_address"], node["node_subscribers"]) for node in stream["endpoints"]] == [("132.226.54.176", 4), ("132.226.54.177", 9)]
    assert stream["nodes"] == STATS_STREAM["nodes"]
    assert "region_fallback" not in result
    assert [path for _method, path, _query in http.calls()] == [STATS_PATH, SUBSCRIBE_PATH]
    assert http.sent[1].params == {"endpoints": "2"}


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        (dict(region="ashburn"), "region cannot be used with action broadcast on Stream Manager 2.0"),
        (dict(strict=True), "strict cannot be used with action broadcast on Stream Manager 2.0"),
        (dict(endpoints=2), "endpoints cannot be used with action broadcast on Stream Manager 2.0"),
        (dict(region="ashburn", strict=False, endpoints=1), "region, strict, endpoints cannot be used with action broadcast"),
    ],
)
def test_stream_info_broadcast_on_2_0_refuses_the_lookup_options_before_any_request(overrides, says):
    client = sm2_client()
    with pytest.raises(StreamingError, match=says) as caught:
        read_stream_info(sm2_params(name="stream1", action="broadcast", **overrides), ExecutionContext(), client=client)
    assert "choose an edge with action subscribe" in str(caught.value)
    assert client.http.sent == []


@pytest.mark.parametrize(("overrides", "parameter"), [(dict(geozone="europe"), "geozone"), (dict(transcode=True), "transcode")])
def test_stream_info_refuses_geozone_and_transcode_on_2_0_before_any_request(overrides, parameter):
    client = sm2_client()
    with pytest.raises(StreamingError, match=rf"{parameter} is not available with Stream Manager 2\.0"):
        read_stream_info(sm2_params(name="stream1", action="subscribe", **overrides), ExecutionContext(), client=client)
    assert client.http.sent == []


def test_stream_info_lists_the_streams_of_a_scope():
    listed = ["live/a", "live/room2/b", "vod/c", "livestream/d"]
    result, http = run_info({("GET", LIST_PATH): (200, listed)}, scope="live", stats=False)
    assert result == {
        "changed": False,
        "streams": [{"name": "a", "scope": "live", "stream_guid": "live/a"}, {"name": "b", "scope": "live/room2", "stream_guid": "live/room2/b"}],
        "api_version": "sm2",
    }
    assert http.calls() == [("GET", LIST_PATH, None)]


def test_stream_registry_on_2_0_sends_nothing_and_says_why():
    client = sm2_client()
    context = ExecutionContext()
    result = run_work(clear_stream_registry, registry_params(url=SM2_URL, api_version="sm2"), context, client=client)
    message = (
        "Stream Manager 2.0 has no call to clear stream entries, so nothing was cleared: an entry expires by itself once its node "
        "stops reporting the stream (R5AS_STREAM_TIMEOUT, 30 seconds by default)"
    )
    assert result == {"changed": False, "count": 0, "message": message, "api_version": "sm2"}
    assert context.warnings == [message]
    assert client.http.sent == []
    assert client.http.closed


def test_stream_registry_with_auto_sends_only_the_detection_probe_on_2_0(monkeypatch):
    http = FakeHttp({HEALTHZ: (200, {"status": "UP"})})
    fake_session(monkeypatch, http)
    context = ExecutionContext(check_mode=True)
    result = run_work(clear_stream_registry, registry_params(url=SM2_URL, api_version="auto"), context)
    assert (result["changed"], result["count"], result["api_version"]) == (False, 0, "sm2")
    assert len(context.warnings) == 1
    assert http.calls() == [("GET", "as/v1/admin/healthz", None)]


@pytest.mark.parametrize("include_active", [True, False])
def test_stream_registry_refuses_include_active_on_2_0(include_active):
    client = sm2_client()
    with pytest.raises(StreamingError, match=r"include_active is not available with Stream Manager 2\.0") as caught:
        run_work(clear_stream_registry, registry_params(url=SM2_URL, api_version="sm2", include_active=include_active), ExecutionContext(), client=client)
    assert "nothing to clear" in str(caught.value)
    assert client.http.sent == []
