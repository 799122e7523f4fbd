# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for plugins/module_utils/usp/smil.py."""

from __future__ import annotations

import importlib.util
import sys
import time

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import smil
from tests.helpers.smil_samples import api_reference_example, default_manifest

# The default SMIL file from the USP publishing point API reference (Create).
REFERENCE_DEFAULT = default_manifest("channel00")

# /state, /statistics (the "..." is in the reference) and /archive as the API reference shows them.
REFERENCE_STATE = api_reference_example("state")
REFERENCE_STATISTICS = api_reference_example("statistics")
REFERENCE_ARCHIVE = api_reference_example("archive")

# /state as real servers send it: explicit closing tags,
# microseconds, and a comment whose spacing differs from the reference.
REAL_STATE = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b"<!--   Created with Unified Streaming Platform  (version=1.14.3)-->\n"
    b'<smil xmlns="http://www.w3.org/2001/SMIL20/Language"><head>'
    b'<meta name="updated" content="2025-04-16T14:47:11.238512Z"></meta>'
    b'<meta name="state" content="idle"></meta>'
    b"</head></smil>"
)

TWO_TRACKS = """<smil xmlns="http://www.w3.org/2001/SMIL20/Language">
  <head><meta name="archiving" content="true"/></head>
  <body>
    <switch>
      <video src="a.ismv" systemBitrate="400000"><param name="trackID" value="1"/></video>
      <audio src="b.isma" systemBitrate="128000"><param name="trackID" value="2"/></audio>
    </switch>
  </body>
</smil>
"""

TWO_TRACKS_REORDERED = """<?xml version="1.0"?>
<!-- another tool, another layout -->
<smil xmlns="http://www.w3.org/2001/SMIL20/Language"><head><meta name="archiving" content="true"/></head><body><switch>
<audio systemBitrate=" 128000 " src="b.isma"><param value="2" name="trackID"/></audio>
<!-- the video -->
<video src="a.ismv" systemBitrate="400000"><param name="trackID" value="1"/></video>
</switch></body></smil>"""

# TWO_TRACKS with other whitespace, comments and attribute order, same tracks in the same order.
TWO_TRACKS_REFORMATTED = """<?xml version='1.0' encoding='UTF-8'?>
<smil xmlns="http://www.w3.org/2001/SMIL20/Language"><head><!-- options -->
<meta content="true" name="archiving"></meta></head>
<body><switch><!-- video first -->
    <video systemBitrate="400000" src="a.ismv">
       <param value="1" name="trackID"></param>
    </video><audio src="b.isma" systemBitrate="128000"><param name="trackID" value="2"/></audio></switch>
</body></smil>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE smil [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<smil><head><meta name="x" content="&lol3;"/></head></smil>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE smil [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<smil><head><meta name="x" content="y"/></head><body>&xxe;</body></smil>
"""

# An undeclared entity that an external DTD (never loaded) might define.
EXTERNAL_DTD_ENTITY = """<!DOCTYPE smil SYSTEM "http://example.invalid/evil.dtd">
<smil><head/><body>&xxe;</body></smil>
"""


def test_parse_reference_default_head():
    root = smil.parse_smil(REFERENCE_DEFAULT, "default manifest")
    assert smil.read_head_options(root) == smil.default_head_options("channel00")
    assert list(smil.read_head_options(root)) == list(smil.default_head_options("channel00"))
    assert smil.read_body_tracks(root) == []


def test_parse_reference_state():
    root = smil.parse_smil(REFERENCE_STATE)
    assert smil.read_head_options(root) == {"updated": "2015-05-06T01:57:12.313929Z", "state": "started"}
    assert smil.find_body(root) is None
    assert smil.read_body_tracks(root) == []


def test_parse_real_server_state_bytes():
    root = smil.parse_smil(REAL_STATE, "GET loop.isml/state")
    assert smil.read_head_options(root) == {"updated": "2025-04-16T14:47:11.238512Z", "state": "idle"}


def test_parse_reference_statistics_tracks():
    tracks = smil.read_body_tracks(smil.parse_smil(REFERENCE_STATISTICS))
    assert tracks == [
        {
            "type": "video",
            "src": "round6-1.ismv",
            "system_bitrate": 412000,
            "params": {
                "trackID": "1",
                "trackName": "video",
                "state": "started",
                "updated": "2015-05-06T02:02:32.074115Z",
                "duration": "479402800000",
            },
            "ranges": [],
        }
    ]


def test_parse_reference_archive_ranges():
    tracks = smil.read_body_tracks(smil.parse_smil(REFERENCE_ARCHIVE))
    assert [(t["type"], t["src"], t["system_bitrate"]) for t in tracks] == [("audio", "round6-3.ismv", 128000), ("video", "round6-1.ismv", 412000)]
    assert tracks[0]["params"] == {"trackID": "2", "trackName": "audio"}
    assert tracks[0]["ranges"] == [{"start": "1970-01-01T13:16:03.456145Z", "end": "1970-01-01T13:21:57.124535Z"}]
    assert tracks[1]["ranges"] == [{"start": "1970-01-01T13:16:03.440000Z", "end": "1970-01-01T13:21:57.120000Z"}]


def test_archive_track_with_gaps_has_several_ranges():
    doc = """<smil><body><video src="v.ismv"><c start="A" end="B"/><c start="C" end="D"/></video></body></smil>"""
    (track,) = smil.read_body_tracks(smil.parse_smil(doc))
    assert track["ranges"] == [{"start": "A", "end": "B"}, {"start": "C", "end": "D"}]
    assert track["system_bitrate"] is None


def test_tracks_found_inside_containers_and_directly():
    doc = """<smil><body>
      <par><seq><video src="1.ismv" systemBitrate="1"/></seq></par>
      <switch><audio src="2.isma"/><textstream src="3.ismt"/></switch>
      <ref src="4.mp4"/>
    </body></smil>"""
    tracks = smil.read_body_tracks(smil.parse_smil(doc))
    assert [(t["type"], t["src"]) for t in tracks] == [("video", "1.ismv"), ("audio", "2.isma"), ("textstream", "3.ismt"), ("ref", "4.mp4")]


def test_head_read_without_namespace():
    root = smil.parse_smil('<smil><head><meta name="a" content="1"/><meta content="no name"/><meta name="b"/></head></smil>')
    assert smil.read_head_options(root) == {"a": "1", "b": ""}


def test_str_with_encoding_declaration_parses():
    text = '<?xml version="1.0" encoding="ISO-8859-1"?><smil><head><meta name="title" content="café"/></head></smil>'
    assert smil.read_head_options(smil.parse_smil(text)) == {"title": "café"}


def test_bytes_with_declared_encoding_parse():
    data = '<?xml version="1.0" encoding="ISO-8859-1"?><smil><head><meta name="title" content="café"/></head></smil>'.encode("iso-8859-1")
    assert smil.read_head_options(smil.parse_smil(data)) == {"title": "café"}


# A deep billion laughs: expanded, it would be 10**9 "lol"s (3 GB).
DEEP_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE smil [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10))
    + ']>\n<smil><head><meta name="x" content="&lol9;"/></head></smil>\n'
)

# Only an external DTD, as hand-written SMIL 2.0 files sometimes start.
W3C_DOCTYPE = '<!DOCTYPE smil PUBLIC "-//W3C//DTD SMIL 2.0//EN" "http://www.w3.org/2001/SMIL20/SMIL20.dtd"><smil><head/></smil>'

HOSTILE = [BILLION_LAUGHS, DEEP_LAUGHS, XXE, EXTERNAL_DTD_ENTITY, W3C_DOCTYPE]
HOSTILE_IDS = ["billion-laughs", "deep-laughs", "xxe", "external-dtd-entity", "external-dtd"]


@pytest.mark.parametrize("document", HOSTILE, ids=HOSTILE_IDS)
def test_doctype_documents_refused_with_a_clear_message(document):
    with pytest.raises(StreamingError) as info:
        smil.parse_smil(document, "uploaded manifest")
    message = str(info.value)
    assert message.startswith("uploaded manifest has a DOCTYPE declaration and was refused without being expanded or loaded")
    assert "remove the <!DOCTYPE" in message
    assert "lollol" not in message and "root:" not in message


@pytest.mark.parametrize("document", HOSTILE, ids=HOSTILE_IDS)
def test_parsed_tree_check_refuses_doctype_without_byte_scan(document, monkeypatch):
    # The byte scan cannot cover every declared encoding; the tree check must hold on its own,
    # and libxml2 must neither expand nor load anything on the way.
    monkeypatch.setattr(smil, "_has_doctype", lambda data: False)
    started = time.monotonic()
    with pytest.raises(StreamingError) as info:
        smil.parse_smil(document)
    assert time.monotonic() - started < 2
    assert "DOCTYPE" in str(info.value) or "amplification" in str(info.value)
    assert "lollol" not in str(info.value)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_doctype_in_other_unicode_encodings_refused(encoding):
    declared = XXE.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding.upper()}"?>')
    with pytest.raises(StreamingError, match="DOCTYPE"):
        smil.parse_smil(declared.encode(encoding))


def test_doctype_in_a_latin1_document_refused():
    data = XXE.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>').encode("iso-8859-1")
    with pytest.raises(StreamingError, match="DOCTYPE"):
        smil.parse_smil(data)


def test_undeclared_entity_reference_is_not_well_formed():
    with pytest.raises(StreamingError, match="not well-formed"):
        smil.parse_smil("<smil><head/><body>&xxe;</body></smil>")


def test_messages_quoting_the_document_are_bounded():
    long_tag = "x" * 40_000  # libxml2 refuses names over 50000 characters itself
    with pytest.raises(StreamingError) as info:
        smil.parse_smil(f"<{long_tag}/>", "answer")
    assert "not a SMIL document" in str(info.value) and len(str(info.value)) < 500
    with pytest.raises(StreamingError) as info:
        smil.parse_smil(f"<smil><{long_tag}></smil>", "answer")
    assert "not well-formed" in str(info.value) and len(str(info.value)) < 500


def test_oversize_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(smil, "MAX_SMIL_BYTES", 100)
    with pytest.raises(StreamingError, match=r"big manifest is \d+ bytes, more than the limit of 100 bytes"):
        smil.parse_smil(REFERENCE_DEFAULT, "big manifest")
    # The bound is on bytes, not characters.
    with pytest.raises(StreamingError, match="limit"):
        smil.parse_smil("<smil><head/>" + "é" * 45 + "</smil>")


def test_max_size_matches_usp_limit():
    assert smil.MAX_SMIL_BYTES == 50 * 1024 * 1024


def test_check_smil_size_says_whether_anything_was_sent(monkeypatch):
    monkeypatch.setattr(smil, "MAX_SMIL_BYTES", 100)
    smil.check_smil_size(100, "the manifest")
    with pytest.raises(StreamingError, match=r"the manifest is 101 bytes, more than the limit of 100 bytes .*; it was not sent$"):
        smil.check_smil_size(101, "the manifest", sending=True)
    with pytest.raises(StreamingError) as info:
        smil.check_smil_size(101, "the answer")
    assert "not sent" not in str(info.value)


def test_read_smil_file_reads_at_most_one_byte_over_the_limit(monkeypatch, tmp_path):
    monkeypatch.setattr(smil, "MAX_SMIL_BYTES", 1000)
    fitting = tmp_path / "fits.isml"
    fitting.write_bytes(b"x" * 1000)
    assert smil.read_smil_file(str(fitting), "src file") == b"x" * 1000
    started = time.monotonic()
    # An endless file: refused after reading 1001 bytes, not after filling memory.
    with pytest.raises(StreamingError, match=r"src file /dev/zero is larger than the limit of 1000 bytes.*it was not sent"):
        smil.read_smil_file("/dev/zero", "src file /dev/zero")
    assert time.monotonic() - started < 1
    with pytest.raises(StreamingError, match="cannot read src file: No such file or directory"):
        smil.read_smil_file(str(tmp_path / "missing.isml"), "src file")


def test_malformed_error_names_source_and_position():
    with pytest.raises(StreamingError) as info:
        smil.parse_smil("<smil>\n<head>\n</smil>", "GET channel00.isml")
    message = str(info.value)
    assert message.startswith("GET channel00.isml is not well-formed XML")
    assert "line 3" in message


@pytest.mark.parametrize("document", ["", "   ", None, b""])
def test_empty_document_refused(document):
    with pytest.raises(StreamingError, match="source-x is empty"):
        smil.parse_smil(document, "source-x")


@pytest.mark.parametrize(
    "document", ["<html><head/></html>", '<smil xmlns="urn:other"><head/></smil>', '<x:smil xmlns:x="urn:other"/>'], ids=["html", "other-ns", "prefixed"]
)
def test_non_smil_root_refused(document):
    with pytest.raises(StreamingError, match="not a SMIL document"):
        smil.parse_smil(document)


def test_prefixed_smil_namespace_accepted():
    root = smil.parse_smil(f'<s:smil xmlns:s="{smil.SMIL_NAMESPACE}"><s:head><s:meta name="a" content="b"/></s:head></s:smil>')
    assert smil.read_head_options(root) == {"a": "b"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "true"),
        (False, "false"),
        ("true", "true"),
        (60, "60"),
        ("60", "60"),
        (0, "0"),
        (None, "true"),
        (60.0, "60"),
        (2.5, "2.5"),
        (0.1, "0.1"),
        ("  number_timeline \n", "number_timeline"),
        ("", ""),
    ],
)
def test_normalise_option_value(value, expected):
    assert smil.normalise_option_value(value) == expected


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], (1,), float("nan"), float("inf"), b"bytes"])
def test_normalise_option_value_refuses(value):
    with pytest.raises(StreamingError):
        smil.normalise_option_value(value)


def test_normalise_option_value_names_type():
    with pytest.raises(StreamingError, match="dict"):
        smil.normalise_option_value({})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mpd.segment_template", "mpd_segment_template"),
        ("--archiving", "archiving"),
        ("--hls.client_manifest_version", "hls_client_manifest_version"),
        ("dvr_window_length", "dvr_window_length"),
        ("clientManifestRelativePath", "clientManifestRelativePath"),
        ("iss.key-id", "iss_key-id"),
    ],
)
def test_normalise_option_name(name, expected):
    assert smil.normalise_option_name(name) == expected


@pytest.mark.parametrize("name", ["", "--", "dvr window", " archiving", "archiving=1", "a/b", 'x"y', 7, None])
def test_normalise_option_name_refuses(name):
    with pytest.raises(StreamingError, match="Option name"):
        smil.normalise_option_name(name)


def test_normalise_options_accepts_equal_duplicates():
    assert smil.normalise_options({"mpd.segment_template": "time", "--mpd_segment_template": "time", "archiving": 1}) == {
        "mpd_segment_template": "time",
        "archiving": "1",
    }


def test_normalise_options_refuses_conflicting_duplicates():
    with pytest.raises(StreamingError, match=r"mpd\.segment_template.*mpd_segment_template.*different values"):
        smil.normalise_options({"mpd.segment_template": "time", "mpd_segment_template": "number"})


def test_normalise_options_names_option_with_bad_value():
    with pytest.raises(StreamingError, match=r"'archiving'.*list"):
        smil.normalise_options({"archiving": [True]})
    assert smil.normalise_options(None) == {}


def test_head_differences_compares_only_desired_and_ignores_server_managed():
    current = smil.default_head_options("channel00") | {"extra_server_option": "x"}
    desired = {"archiving": True, "dvr_window_length": 30, "creator": "me", "clientManifestRelativePath": "other.ismc", "archive_length": 3600}
    assert smil.head_differences(current, desired) == {
        "archiving": {"before": "false", "after": "true"},
        "archive_length": {"before": None, "after": "3600"},
    }


def test_head_differences_empty_when_server_has_the_values():
    current = {"archiving": "true", "dvr_window_length": "60", "mpd_segment_template": "time"}
    assert smil.head_differences(current, {"archiving": True, "dvr_window_length": 60, "mpd.segment_template": "time"}) == {}


def test_head_differences_custom_ignore():
    assert smil.head_differences({}, {"creator": "me"}, ignore=()) == {"creator": {"before": None, "after": "me"}}


def test_merge_head_keeps_current_order_and_appends():
    current = {"clientManifestRelativePath": "c.ismc", "archiving": "false", "dvr_window_length": "30"}
    merged = smil.merge_head(current, {"dvr_window_length": 60, "mpd.segment_template": "time", "archiving": True})
    assert list(merged.items()) == [
        ("clientManifestRelativePath", "c.ismc"),
        ("archiving", "true"),
        ("dvr_window_length", "60"),
        ("mpd_segment_template", "time"),
    ]
    assert current["archiving"] == "false"


def test_build_manifest_round_trip():
    options = {"archiving": True, "archive_length": 3600, "--restart_on_encoder_reconnect": None, "mpd.segment_template": "number_timeline"}
    text = smil.build_manifest("channel07", options)
    root = smil.parse_smil(text)
    head = smil.read_head_options(root)
    assert list(head) == [
        "clientManifestRelativePath",
        "creator",
        "lookahead_fragments",
        "dvr_window_length",
        "archive_cmaf",
        "archive_segment_length",
        "archiving",
        "archive_length",
        "restart_on_encoder_reconnect",
        "mpd_segment_template",
    ]
    assert head["clientManifestRelativePath"] == "channel07.ismc"
    assert head["archiving"] == "true"
    assert head["archive_length"] == "3600"
    assert head["restart_on_encoder_reconnect"] == "true"
    assert smil.head_differences(head, options) == {}
    assert smil.read_body_tracks(root) == []
    assert smil.find_body(root)[0].tag == f"{{{smil.SMIL_NAMESPACE}}}switch"


def test_build_manifest_text_shape_is_stable():
    text = smil.build_manifest("channel00", {})
    assert text.startswith(
        '<?xml version="1.0" encoding="utf-8"?>\n<!-- Created with mediaops.streaming -->\n<smil xmlns="http://www.w3.org/2001/SMIL20/Language">\n'
    )
    assert text.endswith("</smil>\n")
    assert '    <meta name="archiving" content="false"/>\n' in text
    assert text == smil.build_manifest("channel00", {})
    assert text == smil.canonical_manifest(REFERENCE_DEFAULT)


def test_render_smil_escapes_values():
    text = smil.render_smil({"title": 'a "quoted" <b> & c'})
    assert "&quot;quoted&quot; &lt;b&gt; &amp; c" in text
    assert smil.read_head_options(smil.parse_smil(text)) == {"title": 'a "quoted" <b> & c'}


def test_render_smil_refuses_control_characters():
    with pytest.raises(StreamingError, match="'title'"):
        smil.render_smil({"title": "a\x00b"})


def test_render_smil_copies_body_into_namespace():
    source = smil.parse_smil('<smil><body><switch><video src="a.ismv"/></switch></body></smil>')
    text = smil.render_smil({"a": "1"}, smil.find_body(source))
    assert 'xmlns=""' not in text
    assert smil.read_body_tracks(smil.parse_smil(text)) == smil.read_body_tracks(source)
    # A deep copy: the source document keeps its body.
    assert smil.find_body(source) is not None


def test_canonical_manifest_ignores_formatting_comments_and_attribute_order():
    assert smil.canonical_manifest(TWO_TRACKS) == smil.canonical_manifest(TWO_TRACKS_REFORMATTED)


def test_canonical_manifest_differs_when_a_value_differs():
    assert smil.canonical_manifest(REFERENCE_DEFAULT) != smil.canonical_manifest(
        REFERENCE_DEFAULT.replace('"archiving" content="false"', '"archiving" content="true"')
    )
    assert smil.canonical_manifest(TWO_TRACKS) != smil.canonical_manifest(TWO_TRACKS.replace("400000", "800000"))


def test_canonical_manifest_accepts_parsed_root():
    root = smil.parse_smil(TWO_TRACKS)
    assert smil.canonical_manifest(root) == smil.canonical_manifest(TWO_TRACKS.encode())


def test_body_equal_when_reordered():
    assert smil.body_signature(smil.parse_smil(TWO_TRACKS)) == smil.body_signature(smil.parse_smil(TWO_TRACKS_REORDERED))
    assert smil.body_differences(smil.parse_smil(TWO_TRACKS), smil.parse_smil(TWO_TRACKS_REORDERED)) == []
    hash(smil.body_signature(smil.parse_smil(TWO_TRACKS)))


def test_empty_switch_equals_no_tracks():
    default = smil.parse_smil(REFERENCE_DEFAULT)
    assert smil.body_signature(default) == smil.body_signature(smil.parse_smil(REFERENCE_STATE)) == ()
    assert smil.body_differences(default, smil.parse_smil("<smil><head/><body/></smil>")) == []


def test_body_differences_added_and_removed_tracks():
    server = smil.parse_smil(TWO_TRACKS)
    desired = smil.parse_smil(TWO_TRACKS.replace('<audio src="b.isma" systemBitrate="128000"><param name="trackID" value="2"/></audio>', ""))
    assert smil.body_differences(server, desired) == [
        "track audio src='b.isma' systemBitrate=128000 [trackID='2'] is on the server but not in the desired manifest",
    ]
    assert smil.body_differences(desired, server) == [
        "track audio src='b.isma' systemBitrate=128000 [trackID='2'] is in the desired manifest but not on the server",
    ]


def test_body_differences_changed_track_shows_both_sides():
    server = smil.parse_smil(smil.build_manifest("c", {}))
    desired = smil.parse_smil('<smil><body><switch><video src="a.ismv" systemBitrate="400000"/></switch></body></smil>')
    assert smil.body_differences(server, desired) == ["track video src='a.ismv' systemBitrate=400000 is in the desired manifest but not on the server"]
    changed = smil.parse_smil('<smil><body><switch><video src="a.ismv" systemBitrate="800000"/></switch></body></smil>')
    assert smil.body_differences(changed, desired) == [
        "track video src='a.ismv' systemBitrate=400000 is in the desired manifest but not on the server",
        "track video src='a.ismv' systemBitrate=800000 is on the server but not in the desired manifest",
    ]


def test_body_differences_counts_duplicate_tracks():
    one = smil.parse_smil('<smil><body><video src="a.ismv"/></body></smil>')
    two = smil.parse_smil('<smil><body><video src="a.ismv"/><video src="a.ismv"/></body></smil>')
    assert smil.body_differences(one, two) == ["track video src='a.ismv' is in the desired manifest but not on the server"]


def test_describe_head_changes():
    changes = {
        "dvr_window_length": {"before": "30", "after": "60"},
        "archiving": {"before": "false", "after": "true"},
        "archive_length": {"before": None, "after": "3600"},
    }
    assert smil.describe_head_changes(changes) == "archive_length: (unset) -> '3600', archiving: 'false' -> 'true', dvr_window_length: '30' -> '60'"
    assert smil.describe_head_changes({}) == ""


def test_describe_head_changes_from_head_differences():
    changes = smil.head_differences(smil.default_head_options("c"), {"archiving": True, "dvr_window_length": 60})
    assert smil.describe_head_changes(changes) == "archiving: 'false' -> 'true', dvr_window_length: '30' -> '60'"


def test_server_managed_options():
    assert frozenset({"creator", "clientManifestRelativePath"}) == smil.SERVER_MANAGED_OPTIONS
    assert smil.SMIL_NAMESPACE == "http://www.w3.org/2001/SMIL20/Language"


def test_imports_without_lxml(monkeypatch):
    # ansible-test imports module_utils without optional libraries; the module must load and fail clearly when used.
    monkeypatch.setitem(sys.modules, "lxml", None)
    spec = importlib.util.spec_from_file_location("smil_without_lxml", smil.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.HAS_LXML is False
    assert "ImportError" in module.LXML_IMPORT_ERROR or "ModuleNotFoundError" in module.LXML_IMPORT_ERROR
    assert module.normalise_options({"archiving": True}) == {"archiving": "true"}
    with pytest.raises(StreamingError, match="lxml is required"):
        module.parse_smil("<smil/>")
