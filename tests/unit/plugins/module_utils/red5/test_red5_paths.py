# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for plugins/module_utils/red5/paths.py: scopes, names and versions, checked before any request."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.red5 import paths

# -- paths and scopes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "expected"),
    [("live", "live"), ("/live", "live"), ("/live/", "live"), ("live/sub", "live/sub"), ("/live/sub/", "live/sub"), ("", ""), (None, "")],
)
def test_normalise_scope_drops_slashes(scope, expected):
    assert paths.normalise_scope(scope) == expected


def test_event_path_has_no_leading_slash_and_nested_scopes_as_segments():
    assert paths.event_path("live", "demo") == "event/live/demo"
    assert paths.event_path("/live", "demo") == "event/live/demo"
    assert paths.event_path("live/sub", "stream1") == "event/live/sub/stream1"
    assert paths.event_path("/live/sub/", "stream1", stats=True) == "event/live/sub/stream1/stats"


@pytest.mark.parametrize("scope", ["live//sub", "live/../admin", "live?x=1", "live#a", "li ve", "/"])
def test_bad_scopes_are_refused(scope):
    with pytest.raises(StreamingError, match="scope"):
        paths.event_path(scope, "demo")


@pytest.mark.parametrize("name", ["a/b", "..", "demo?action=x", "", "de mo", "."])
def test_bad_names_are_refused(name):
    with pytest.raises(StreamingError, match="stream name"):
        paths.event_path("live", name)


def test_api_base_per_version():
    assert paths.api_base("http://sm.example.com:5080", "2.0") == "http://sm.example.com:5080/streammanager/api/2.0/"
    assert paths.api_base("https://sm.example.com/", "4.0") == "https://sm.example.com/streammanager/api/4.0/"
    with pytest.raises(StreamingError, match=re.escape("unsupported api_version '5.0'")):
        paths.api_base("http://sm.example.com", "5.0")
    with pytest.raises(StreamingError, match="invalid Stream Manager url"):
        paths.api_base("sm.example.com:5080", "2.0")


# -- version-specific parameters ---------------------------------------------------


@pytest.mark.parametrize("parameter", ["strict", "geozone", "endpoints", "transcode", "include_active"])
@pytest.mark.parametrize("version", ["1.0", "2.0", "3.0"])
def test_new_parameters_refused_on_old_versions(parameter, version):
    with pytest.raises(StreamingError) as caught:
        paths.check_parameter_support(version, {parameter: True})
    text = str(caught.value)
    assert parameter in text
    assert f"API {version}" in text
    assert "3.1 and 4.0" in text


@pytest.mark.parametrize("version", ["3.1", "4.0"])
def test_new_parameters_accepted_on_new_versions(version):
    paths.check_parameter_support(version, dict(strict=True, geozone="europe", endpoints=2, transcode=False, include_active=True))


def test_unset_parameters_are_not_refused():
    paths.check_parameter_support("2.0", dict(strict=None, geozone=None, endpoints=None, transcode=None, include_active=None))


def test_explicit_false_is_refused_too():
    # include_active=false on 2.0 would promise to keep live entries, which 2.0 clears anyway.
    with pytest.raises(StreamingError, match="include_active"):
        paths.check_parameter_support("2.0", {"include_active": False})


def test_admin_delete_semantics_per_version():
    assert [version for version in paths.API_VERSIONS if paths.clears_only_inactive(version)] == ["3.1", "4.0"]


# -- hostile input from the playbook: refused before any request -------------------------------


# Stream names refused in the scope "live", and what the refusal says.
HOSTILE_NAMES = [
    ("demo\n", "U+000A at position 5"),  # "$" in a pattern would have let this one through
    ("..", '".." cannot be a part of a path'),
    ("demo?action=broadcast", 'the character "?" at position 5'),
    ("demo#frag", 'the character "#" at position 5'),
    ("%2e%2e", 'the character "%" at position 1'),
    ("de\x00mo", "U+0000 at position 3"),
    ("\u202eomed", "U+202E at position 1"),
    ("d\u00e9mo", 'the character "\u00e9" at position 2'),
    ("de mo", "U+0020 at position 3"),
    ("n" * 256, "a part of 256 characters is longer than 255"),
]

# Scopes refused for the stream "demo", and what the refusal says.
HOSTILE_SCOPES = [
    ("live\n", "U+000A at position 5"),
    (" live", "U+0020 at position 1"),
    ("live%00", 'the character "%" at position 5'),
    ("live/../admin", '".." cannot be a part of a path'),
    ("live/./x", '"." cannot be a part of a path'),
    ("live//sub", '"" cannot be a part of a path'),
    ("s" * 256, "a part of 256 characters"),
    ("a/" * 600, "more than 1024"),
    ("live?x", 'the character "?"'),
]


@pytest.mark.parametrize(
    ("scope", "name", "says"),
    [("live", name, says) for name, says in HOSTILE_NAMES] + [(scope, "demo", says) for scope, says in HOSTILE_SCOPES],
)
def test_hostile_scopes_and_names_never_become_a_path(scope, name, says):
    with pytest.raises(StreamingError, match=re.escape(says)) as caught:
        paths.event_path(scope, name)
    text = str(caught.value)
    assert not re.search(r"[\x00-\x1f\x7f\u202e]", text), text


@pytest.mark.parametrize(("scope", "name"), [("live", "n" * 255), ("/live/sub/", "a.b~c@d+e=f,g:h-i_j"), ("s" * 255, "demo")])
def test_names_at_the_bounds_are_accepted(scope, name):
    assert paths.event_path(scope, name) == "event/" + "/".join(quote(part, safe="") for part in [*scope.strip("/").split("/"), name])
