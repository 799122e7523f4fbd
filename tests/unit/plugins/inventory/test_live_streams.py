# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure logic of the live_streams inventory (plugins/plugin_utils/live_streams.py): host facts, host names, filters.

The sources themselves (requests, credentials, failures) are tested through
``ansible-inventory`` in tests/integration/test_live_streams_inventory.py.
"""

from __future__ import annotations

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import AnswerError
from ansible_collections.mediaops.streaming.plugins.plugin_utils.live_streams import (
    HOST_VARIABLES,
    FilterError,
    HostNames,
    epoch_seconds_to_iso,
    host_facts,
    is_live_stream_item,
    passes_filters,
    red5_stream_facts,
    scaleengine_apps,
    scaleengine_stream_facts,
)

RECORD = {
    "app": "demo-origin",
    "inst": "live",
    "stream": "ch1",
    "stream_id": "1000",
    "origin_url": "jb-origin.secdn.net",
    "publish_time": 1772445000,
    "encoder_connect_time": 1772444990,
    "pushpublish": [
        {"entry_name": "usp-ch1", "push_service_id": 1234, "target": "rtmp://push.example.net/live/key-123", "connected": True},
        {"entry_name": "akamai", "push_service_id": 1235, "status": "stopped"},
    ],
}


def test_scaleengine_record_becomes_every_host_variable():
    assert scaleengine_stream_facts(RECORD, "demo-origin", "live") == {
        "live_stream_vendor": "scaleengine",
        "live_stream_app": "demo-origin",
        "live_stream_instance": "live",
        "live_stream_name": "ch1",
        "live_stream_id": 1000,
        "live_stream_scope": None,
        "live_stream_origin": "jb-origin.secdn.net",
        "live_stream_region": None,
        "live_stream_subscribers": None,
        "live_stream_start_time": "2026-03-02T09:50:00Z",
        # The target (which holds a stream key) is left out; the state is what the answer says.
        "live_stream_pushpublish": [
            {"entry_name": "usp-ch1", "push_service_id": 1234, "connected": True},
            {"entry_name": "akamai", "push_service_id": 1235, "connected": False, "status": "stopped"},
        ],
        "live_stream_api_version": None,
    }


def test_scaleengine_record_with_viewers_region_and_only_a_connect_time():
    record = {"name": "ch2", "id": 7, "viewers": "12", "region": "eu", "encoder_connect_time": "1772444990", "sessions": ["entry-a"]}
    facts = scaleengine_stream_facts(record, "app", "inst")
    assert (facts["live_stream_name"], facts["live_stream_id"], facts["live_stream_subscribers"], facts["live_stream_region"]) == ("ch2", 7, 12, "eu")
    assert facts["live_stream_start_time"] == "2026-03-02T09:49:50Z"
    assert facts["live_stream_pushpublish"] == [{"entry_name": "entry-a", "push_service_id": None, "connected": True}]


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"stream_id": 1}, 'the stream has no stream name ("stream" is null)'),
        ({"stream": ""}, "the stream has no stream name"),
        ("ch1", "the stream is"),
        ({"stream": "ch1", "pushpublish": "usp"}, "not a list of sessions"),
        ({"stream": "ch1", "pushpublish": [{"entry_name": "a", "connected": "maybe"}]}, '"connected" of session 0'),
    ],
)
def test_scaleengine_record_that_cannot_be_read_is_refused(record, problem):
    with pytest.raises(AnswerError) as raised:
        scaleengine_stream_facts(record, "app", "inst")
    assert problem in str(raised.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "1970-01-01T00:00:00Z"), ("1772445000", "2026-03-02T09:50:00Z"), (-1, None), (True, None), ("soon", None), (1.5, None), (10**18, None)],
)
def test_epoch_seconds_to_iso(value, expected):
    assert epoch_seconds_to_iso(value) == expected


RED5_ORIGIN = {"name": "cam1", "scope": "live", "server_address": "10.0.1.10", "region": "us-east-1", "type": "origin", "current_subscribers": 5}


@pytest.mark.parametrize(
    ("stream", "api_version", "live"),
    [
        (RED5_ORIGIN, "4.0", True),
        (dict(RED5_ORIGIN, type="edge"), "4.0", False),
        (dict(RED5_ORIGIN, type="edge"), "3.1", False),
        ({"name": "cam1", "scope": "live"}, "2.0", True),
        # On Stream Manager 2.0 the type is the role of the node the list names: every row is a stream.
        (dict(RED5_ORIGIN, type="allinone"), "sm2", True),
        (dict(RED5_ORIGIN, type="edge"), "sm2", True),
    ],
)
def test_which_red5_list_items_are_live_streams(stream, api_version, live):
    assert is_live_stream_item(stream, api_version) is live


def test_red5_stream_becomes_host_facts():
    stream = dict(RED5_ORIGIN, start_time="2016-02-01T23:34:16.708Z", start_time_ms=1454369656708)
    assert red5_stream_facts(stream, "4.0") == host_facts(
        "red5",
        "cam1",
        scope="live",
        origin="10.0.1.10",
        region="us-east-1",
        subscribers=5,
        start_time="2016-02-01T23:34:16.708Z",
        api_version="4.0",
    )
    sm2 = red5_stream_facts(dict(RED5_ORIGIN, stream_guid="live/cam1", region="ashburn"), "sm2")
    assert (sm2["live_stream_id"], sm2["live_stream_region"], sm2["live_stream_api_version"]) == ("live/cam1", "ashburn", "sm2")


def test_host_facts_have_every_variable_and_refuse_unknown_ones():
    assert sorted(host_facts("red5", "x")) == sorted(HOST_VARIABLES)
    with pytest.raises(TypeError):
        host_facts("red5", "x", viewers=3)


def _scaleengine(name, app="demo-origin", inst="live"):
    return host_facts("scaleengine", name, app=app, instance=inst)


def _red5(name, scope="live"):
    return host_facts("red5", name, scope=scope)


def test_host_names_later_stream_gets_the_vendor_then_its_place():
    names = HostNames()
    assert names.assign("ch1", _scaleengine("ch1")) == ("ch1", None)
    name, warning = names.assign("ch1", _red5("ch1"))
    assert name == "ch1@red5"
    assert warning == (
        "live_streams: scaleengine stream demo-origin/live/ch1 and red5 stream live/ch1 both have the host name 'ch1'; "
        "the red5 stream live/ch1 is named 'ch1@red5' (set hostname to a template that tells them apart, or filter one out)"
    )
    assert names.assign("ch1", _red5("ch1", scope="live/sub"))[0] == "ch1@red5:live/sub"
    assert names.assign("ch1", _scaleengine("ch1", app="other"))[0] == "ch1@scaleengine"
    assert names.assign("ch1", _scaleengine("ch1", app="third"))[0] == "ch1@scaleengine:third/live"
    # A template that gives every stream the same name still gives each a host.
    assert names.assign("ch1", _scaleengine("ch1", app="third"))[0] == "ch1@scaleengine:third/live~2"
    assert names.assign("ch2", _red5("ch2")) == ("ch2", None)


def test_filters_all_must_be_true():
    truth = {"a": True, "b": False}
    assert passes_filters(["a"], truth.__getitem__, True, None, "x") is True
    assert passes_filters(["a", "b"], truth.__getitem__, True, None, "x") is False
    assert passes_filters([], truth.__getitem__, True, None, "x") is True


def test_failing_filter_raises_when_strict_and_is_ignored_with_a_warning_otherwise():
    def evaluate(condition):
        raise ValueError("'live_stream_region' is None")

    with pytest.raises(FilterError) as raised:
        passes_filters(["live_stream_region.startswith('eu')"], evaluate, True, None, "scaleengine stream a/b/c")
    assert str(raised.value) == (
        "live_streams: could not evaluate the filter \"live_stream_region.startswith('eu')\" for scaleengine stream a/b/c: 'live_stream_region' is None"
    )
    warnings = []
    assert passes_filters(["broken", "fine"], lambda condition: evaluate(condition) if condition == "broken" else True, False, warnings.append, "s") is True
    assert warnings == [
        "live_streams: could not evaluate the filter 'broken' for s: 'live_stream_region' is None (the filter is ignored for it: strict is false)"
    ]


def test_scaleengine_apps_are_pairs_in_order_without_duplicates():
    apps = [{"app": "a", "inst": "live"}, {"app": "b", "inst": "live"}, {"app": "a", "inst": "live"}]
    assert scaleengine_apps(apps) == [("a", "live"), ("b", "live")]


@pytest.mark.parametrize(
    ("apps", "problem"),
    [
        ([], "scaleengine_apps must list at least one application instance"),
        ([{"app": "a"}], "item 1 of scaleengine_apps is {'app': 'a'}, not a mapping with the text keys app and inst"),
        ([{"app": "a", "inst": "live"}, "a/live"], "item 2 of scaleengine_apps"),
        ([{"app": "a", "inst": "live", "stream": "x"}], "item 1 of scaleengine_apps"),
        ([{"app": "a\n", "inst": "live"}], 'app "a\\u000a" contains the control character U+000A at position 2'),
    ],
)
def test_scaleengine_apps_refused_before_any_request(apps, problem):
    with pytest.raises(StreamingError) as raised:
        scaleengine_apps(apps)
    assert problem in str(raised.value)
