"""Hostile input to the usp_* modules: refused before any request, or refused without being expanded, with a clear message.

Names and base paths travel as extra vars JSON, so control characters reach
the module exactly as given. Hostile SMIL comes from the server (status
faults answering 200 with the document and a SMIL content type) or from the
user (``manifest``, ``src``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import args
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import smil as smil_module
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.publishing_point import ensure_publishing_point
from tests.helpers.playbook import task

PP = "mediaops.streaming.usp_publishing_point"
INFO = "mediaops.streaming.usp_publishing_point_info"
PURGE = "mediaops.streaming.usp_archive_purge"
NS = "http://www.w3.org/2001/SMIL20/Language"
SMIL_TYPE = {"Content-Type": "application/smil+xml; charset=utf-8"}
LIMIT = 50 * 1024 * 1024
# What an expanded external entity would bring into a result.
PASSWD_LINE = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0]


def failures(result, titles) -> dict[str, str]:
    """``{title: msg}`` for tasks that must all have failed."""
    status = {entry["task"]: entry["status"] for entry in result.tasks}
    found = {}
    for title in titles:
        outcome = result.task(title)
        assert status[title] == "failed", (title, outcome)
        found[title] = outcome["msg"]
    return found


# -- names and base paths -----------------------------------------------------------

HOSTILE_NAMES = {
    "dotdot": "..",
    "slash": "a/b",
    "query": "ch1?x=1",
    "fragment": "ch1#x",
    "percent-2f": "ch1%2fetc",
    "percent-00": "ch1%00",
    "newline": "ch1\n",
    "tab": "ch\t1",
    "nul": "ch1\x00",
    "cyrillic-es": "\u0441h1",  # looks like "ch1"
    "fullwidth-solidus": "ch1\uff0fx",  # looks like "ch1/x"
    "one-dot-leaders": "\u2025",  # looks like ".."
    "over-long": "a" * 251,
}
HOSTILE_BASE_PATHS = {
    "dotdot": "events/../etc",
    "empty-part": "events//2026",
    "query": "events?x=1",
    "fragment": "events#x",
    "percent-2f": "events%2f..%2fetc",
    "percent-00": "events%00",
    "leading-newline": "\nevents",
    "trailing-newline": "events\n",
    "tab": "ev\tents",
    "nul": "events\x00",
    "fullwidth-solidus": "events\uff0f2026",
    "over-long-part": "e" * 256,
    "over-long-total": "/".join(["p" * 200] * 6),
}


def test_hostile_names_and_base_paths_are_refused_before_any_request(ansible_run, usp):
    connection = {"api_url": usp.url("api"), "origin_url": usp.url("origin")}
    tasks = ""
    for key in HOSTILE_NAMES:
        tasks += task(f"name {key}", PP, **connection, name=f"{{{{ names['{key}'] }}}}", ignore_errors=True)
    for key in HOSTILE_BASE_PATHS:
        tasks += task(f"base_path {key}", PP, **connection, name="ch1", base_path=f"{{{{ base_paths['{key}'] }}}}", ignore_errors=True)
    # Every module validates the identity the same way before it sends anything.
    tasks += task("info nul", INFO, **connection, name="{{ names['nul'] }}", ignore_errors=True)
    tasks += task("purge newline", PURGE, origin_url=usp.url("origin"), name="{{ names['newline'] }}", all=True, ignore_errors=True)
    # With syslog logging on (the default), AnsibleModule itself fails on a NUL
    # in a parameter before the module runs; off, the module's own check must hold.
    result = ansible_run.playbook(tasks, extra_vars={"names": HOSTILE_NAMES, "base_paths": HOSTILE_BASE_PATHS}, env={"ANSIBLE_NO_TARGET_SYSLOG": "true"})

    assert usp.log() == []
    names = failures(result, [f"name {key}" for key in HOSTILE_NAMES] + ["info nul", "purge newline"])
    for title, message in names.items():
        assert "invalid publishing point name" in message, (title, message)
    assert "is 251 bytes long, the limit is 250" in names["name over-long"]
    # Control characters are shown escaped, never raw, and long values are cut short.
    assert "'ch1\\n'" in names["name newline"] and "'ch1\\x00'" in names["name nul"]
    assert len(names["name over-long"]) < 600
    paths = failures(result, [f"base_path {key}" for key in HOSTILE_BASE_PATHS])
    for title, message in paths.items():
        expected = "the path of publishing point" if title.endswith("over-long-total") else "invalid base_path"
        assert expected in message, (title, message)
    assert "is 256 bytes long; directory names are limited to 255 bytes, so use a shorter one" in paths["base_path over-long-part"]
    assert "bytes long ({base_path}/{name}/{name}.isml); the limit is 1024" in paths["base_path over-long-total"]
    assert "Traceback" not in result.output


def test_longest_accepted_name_reaches_the_server(ansible_run, usp):
    name = "a" * 250
    result = ansible_run.playbook(task("longest", PP, api_url=usp.url("api"), name=name))
    assert result.rc == 0, result.output
    assert usp.point(name).name == name


# -- SMIL from the server -------------------------------------------------------------

XXE = (
    '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE smil [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    f'<smil xmlns="{NS}"><head><meta name="updated" content="2026-01-01T00:00:00Z"/><meta name="state" content="&xxe;"/>'
    '<meta name="archiving" content="&xxe;"/></head><body><video src="&xxe;" systemBitrate="1"><c start="&xxe;" end="&xxe;"/></video></body></smil>\n'
)
LAUGHS = (
    '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE smil [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10))
    + f']>\n<smil xmlns="{NS}"><head><meta name="updated" content="2026-01-01T00:00:00Z"/><meta name="state" content="&lol9;"/>'
    '<meta name="archiving" content="&lol9;"/></head><body><video src="&lol9;" systemBitrate="1"/></body></smil>\n'
)
EXTERNAL_DTD = (
    '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE smil SYSTEM "file:///etc/passwd">\n'
    f'<smil xmlns="{NS}"><head><meta name="updated" content="2026-01-01T00:00:00Z"/><meta name="state" content="idle"/></head></smil>\n'
)


def oversized() -> str:
    """A well-formed SMIL document just over the limit (a long comment)."""
    head = f'<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="{NS}"><head><meta name="state" content="idle"/></head><!-- '
    tail = " --></smil>\n"
    return head + "x" * (LIMIT + 1024 - len(head) - len(tail)) + tail


DOCUMENTS = {"xxe": XXE, "billion-laughs": LAUGHS, "external-dtd": EXTERNAL_DTD, "oversized": None}


def assert_nothing_expanded(result) -> None:
    recorded = json.dumps(result.tasks)
    for text in (result.output, recorded):
        assert PASSWD_LINE not in text
        assert "lol" * 30 not in text
        assert "Traceback" not in text


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_hostile_smil_from_the_server_is_refused(ansible_run, usp, kind):
    body = DOCUMENTS[kind] or oversized()
    for listener, path in [("api", r"/ch1/ch1\.isml$"), ("origin", r"/ch1\.isml/(state|statistics|archive)$")]:
        usp.add_fault(kind="status", listener=listener, method="GET", path=path, status=200, body=body, headers=SMIL_TYPE, count=None)
    api, origin = usp.url("api"), usp.url("origin")
    tasks = (
        task("manifest", PP, api_url=api, name="ch1", options={"archiving": True}, ignore_errors=True)
        + task("settings", INFO, api_url=api, name="ch1", gather=["settings"], ignore_errors=True)
        + task("state", INFO, origin_url=origin, name="ch1", gather=["state"], ignore_errors=True)
        + task("wait", INFO, origin_url=origin, name="ch1", wait_for=["idle"], wait_timeout=5, wait_interval=0.5, ignore_errors=True)
        + task("statistics", INFO, origin_url=origin, name="ch1", gather=["statistics"], ignore_errors=True)
        + task("archive", INFO, origin_url=origin, name="ch1", gather=["archive"], ignore_errors=True)
        + task("purge", PURGE, origin_url=origin, name="ch1", all=True, ignore_errors=True)
    )
    started = time.monotonic()
    result = ansible_run.playbook(tasks)
    elapsed = time.monotonic() - started

    expected = f"is {len(body.encode())} bytes, more than the limit of {LIMIT} bytes" if kind == "oversized" else "has a DOCTYPE declaration and was refused"
    messages = failures(result, ["manifest", "settings", "state", "wait", "statistics", "archive", "purge"])
    for title, message in messages.items():
        assert expected in message, (title, message)
        assert "from the server" in message or "answer of ch1" in message, (title, message)
    assert_nothing_expanded(result)
    assert [entry.method for entry in usp.log() if entry.method != "GET"] == []
    # Seven module runs; expanding one billion laughs alone would take far longer (and gigabytes).
    assert elapsed < 120, elapsed


# -- SMIL from the user ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["xxe", "billion-laughs", "external-dtd"])
def test_hostile_smil_from_the_user_is_refused_before_any_request(ansible_run, usp, tmp_path, kind):
    document = DOCUMENTS[kind]
    source = tmp_path / "hostile.isml"
    source.write_text(document, encoding="utf-8")
    tasks = task("manifest", PP, api_url=usp.url("api"), name="ch1", manifest="{{ hostile }}", ignore_errors=True) + task(
        "src", PP, api_url=usp.url("api"), name="ch1", src=str(source), ignore_errors=True
    )
    result = ansible_run.playbook(tasks, extra_vars={"hostile": document})
    messages = failures(result, ["manifest", "src"])
    assert messages["manifest"].startswith("the manifest option has a DOCTYPE declaration and was refused without being expanded or loaded")
    assert messages["src"].startswith(f"src file {source} has a DOCTYPE declaration and was refused without being expanded or loaded")
    assert_nothing_expanded(result)
    assert usp.log() == []


def test_manifests_over_the_limit_are_refused_before_upload(ansible_run, usp, tmp_path):
    big = tmp_path / "big.isml"
    big.write_text(oversized(), encoding="utf-8")
    tasks = (
        task("src", PP, api_url=usp.url("api"), name="ch1", src=str(big), ignore_errors=True)
        + task("manifest", PP, api_url=usp.url("api"), name="ch1", manifest="{{ lookup('ansible.builtin.file', big_file) }}", ignore_errors=True)
        + task("endless src", PP, api_url=usp.url("api"), name="ch1", src="/dev/zero", ignore_errors=True)
    )
    result = ansible_run.playbook(tasks, extra_vars={"big_file": str(big)})
    messages = failures(result, ["src", "manifest", "endless src"])
    assert (
        messages["src"] == f"src file {big} is larger than the limit of {LIMIT} bytes (USP refuses server manifests over 50 MB with HTTP 413); it was not sent"
    )
    # The file lookup strips the trailing newline.
    assert messages["manifest"].startswith(f"the manifest option is {LIMIT + 1023} bytes, more than the limit of {LIMIT} bytes")
    assert messages["manifest"].endswith("; it was not sent")
    assert "src file /dev/zero is larger than the limit" in messages["endless src"]
    assert usp.log() == []


# -- uploads over the limit, in-process with a small limit ------------------------------


def params(usp, **extra) -> dict:
    """The module's parameters as its own argument spec validates them (defaults filled in), for calling the work directly."""
    validation = ArgumentSpecValidator(**args.PUBLISHING_POINT_MODULE_KWARGS).validate(dict(api_url=usp.url("api"), name="ch1", retries=0, **extra))
    assert not validation.error_messages, validation.error_messages
    return validation.validated_parameters


def test_options_that_build_a_manifest_over_the_limit_send_nothing(usp, monkeypatch):
    monkeypatch.setattr(smil_module, "MAX_SMIL_BYTES", 4000)
    with pytest.raises(StreamingError, match=r"the manifest built from the options is \d+ bytes, more than the limit of 4000 bytes .*; it was not sent"):
        ensure_publishing_point(params(usp, options={"title": "t" * 4000}), ExecutionContext())
    assert usp.log() == []


def test_an_update_that_would_exceed_the_limit_is_not_sent(usp, monkeypatch):
    # The server's body and the desired head each fit; merged, they do not.
    tracks = "".join(f'<video src="ch1-{index}.ismv" systemBitrate="{index}"/>' for index in range(40))
    manifest = f'<smil xmlns="{NS}"><head><meta name="archiving" content="false"/></head><body><switch>{tracks}</switch></body></smil>'
    assert usp.api_call("POST", "/ch1/ch1.isml", manifest).status == 201
    served = len(usp.api_call("GET", "/ch1/ch1.isml").body)
    monkeypatch.setattr(smil_module, "MAX_SMIL_BYTES", served + 500)
    with pytest.raises(StreamingError, match=r"the manifest for ch1 is \d+ bytes, more than the limit of \d+ bytes .*; it was not sent"):
        ensure_publishing_point(params(usp, options={"archiving": True, "title": "t" * 1000}), ExecutionContext())
    assert [entry.method for entry in usp.log()] == ["GET"]
    assert usp.point("ch1").option("archiving") == "false"
