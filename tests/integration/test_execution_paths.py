"""The two ways a module runs give the same task results, and the fast path steps aside whenever it could differ.

Every other integration test already runs twice (the ``execution_path``
fixture, tests/helpers/fixtures.py). Here one playbook that uses every module
(reads, changes, check mode, diff mode, failures from the server and from the
argument spec, warnings, no_log values) runs once on each path, each against a
fresh copy of the same emulated stack, and the recorded results must be equal
key for key. Then: which path ``-v`` reports, the cases where the fast path
must hand over to the module process, and the same playbook under Mitogen's
``mitogen_linear`` strategy.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import ansible_mitogen
import pytest

from tests.emulators.scaleengine import DEFAULT_API_KEY, DEFAULT_API_SECRET
from tests.emulators.stack import build_stack
from tests.helpers.playbook import REPO_ROOT, AnsibleRunner, task

MITOGEN_STRATEGIES = Path(ansible_mitogen.__file__).resolve().parent / "plugins" / "strategy"
USP_PASSWORD = "S3cr3t-pa55/wörd"
FLEET = "mediaops.streaming.usp_publishing_points"
FAST_LINE = re.compile(r"^<(?P<host>[^>]+)> (?P<module>mediaops\.streaming\.\w+): fast path, in the controller's worker$", re.MULTILINE)
MODULE_LINE = re.compile(r"^<(?P<host>[^>]+)> (?P<module>mediaops\.streaming\.\w+): module path, because (?P<reason>.+)$", re.MULTILINE)
# What differs between two runs for reasons of their own: the emulators' ports, and times the servers or the clock give.
VOLATILE_KEYS = {"waited", "timestamp", "attempts", "encoder_connect_time", "publish_time", "start_time_ms"}
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


def every_module_playbook() -> str:
    """Tasks touching every module: unchanged reads, a create, an update with diff, check mode, a purge, closes, failures."""
    fleet_update = [{"name": "ch7", "options": {"dvr_window_length": 60}}, {"name": "ch8", "state": "absent"}]
    return "".join(
        [
            task("usp info", "mediaops.streaming.usp_publishing_point_info", name="ch1", gather=["settings", "state", "archive", "manifest"]),
            task("usp unchanged", "mediaops.streaming.usp_publishing_point", name="ch1"),
            task("usp create", "mediaops.streaming.usp_publishing_point", name="ch9", options={"archiving": True, "dvr_window_length": 30}),
            task("usp update check", "mediaops.streaming.usp_publishing_point", check_mode=True, name="ch9", options={"dvr_window_length": 60}),
            task("usp update", "mediaops.streaming.usp_publishing_point", name="ch9", options={"dvr_window_length": 60}),
            task("usp delete", "mediaops.streaming.usp_publishing_point", name="ch9", state="absent"),
            task("fleet create", FLEET, points=[{"name": "ch1"}, {"name": "ch7", "options": {"archiving": True, "dvr_window_length": 30}}, {"name": "ch8"}]),
            task("fleet update check", FLEET, check_mode=True, points=fleet_update),
            task("fleet update", FLEET, points=[{"name": "ch1"}, *fleet_update]),
            # A live point's delete refused by the server (403) and a name refused before any request, beside a point that converges.
            task("fleet fails", FLEET, ignore_errors=True, points=[{"name": "ch7"}, {"name": "ch2", "state": "absent"}, {"name": "bad name"}], max_workers=2),
            task("purge check", "mediaops.streaming.usp_archive_purge", check_mode=True, name="ch1", all=True),
            task("purge nothing", "mediaops.streaming.usp_archive_purge", name="ch2", keep="48:00:00"),
            task("viewers", "mediaops.streaming.scaleengine_viewer_info", app="demo-origin"),
            task("details", "mediaops.streaming.scaleengine_command", command="stream.details", params={"app": "demo-origin", "inst": "live", "stream": "ch1"}),
            task("close", "mediaops.streaming.scaleengine_stream", app="demo-origin", inst="live", stream="ch2"),
            task("close again", "mediaops.streaming.scaleengine_stream", app="demo-origin", inst="live", stream="ch2"),
            task(
                "push check", "mediaops.streaming.scaleengine_pushpublish", check_mode=True, app="demo-origin", inst="live", stream="ch1", entry_name="usp-ch1"
            ),
            task("red5 info", "mediaops.streaming.red5_stream_info", scope="live", name="ch1"),
            task("red5 missing", "mediaops.streaming.red5_stream_info", scope="live", name="nobody"),
            task("registry check", "mediaops.streaming.red5_stream_registry", check_mode=True, access_token="Red5-admin-token"),
            task("unsupported option", "mediaops.streaming.usp_publishing_point", ignore_errors=True, name="ch1", nope=1),
            task("bad choice", "mediaops.streaming.usp_publishing_point", ignore_errors=True, name="ch1", state="sideways"),
            task("server refuses", "mediaops.streaming.usp_publishing_point", ignore_errors=True, name="ch1", state="absent", password="wrong-password"),
            task("insecure warning", "mediaops.streaming.usp_publishing_point_info", name="ch1", validate_certs=False, gather=["settings"]),
        ]
    )


def test_the_playbook_uses_every_module():
    """A module added to the collection must be added to the playbook too, or the paths are not compared for it."""
    used = set(re.findall(r"^  mediaops\.streaming\.(\w+):", every_module_playbook(), re.MULTILINE))
    assert used == {path.stem for path in (REPO_ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__"}


def normalised(value, urls: dict[str, str]):
    """``value`` with each emulator URL replaced by its role and the volatile keys dropped."""
    if isinstance(value, dict):
        return {key: normalised(item, urls) for key, item in value.items() if key not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [normalised(item, urls) for item in value]
    if isinstance(value, str):
        for name, url in urls.items():
            value = value.replace(url, f"<{name}>")
        return ISO_TIME.sub("<time>", value)
    return value


def run_every_module(workdir: Path, collections: Path, *, fast_path: bool, env: dict | None = None, diff: bool = True):
    """The playbook on one path against a fresh stack: (recorded results, stdout+stderr, the stack's URLs)."""
    stack = build_stack(["ch1", "ch2"], interval=None, usp_username="operator", usp_password=USP_PASSWORD)
    stack.red5.access_token = "Red5-admin-token"
    try:
        runner = AnsibleRunner(workdir, collections, tmp=(workdir / "t").resolve(), fast_path=fast_path)
        result = runner.playbook(every_module_playbook(), env=dict(stack.env(), **(env or {})), diff=diff, verbosity=1)
        urls = {"usp_api": stack.usp.url("api"), "usp_origin": stack.usp.url("origin"), "scaleengine": stack.scaleengine.url(), "red5": stack.red5.url()}
    finally:
        stack.stop()
    return result, urls


def results_by_task(result, urls) -> dict:
    return {entry["task"]: {"status": entry["status"], "result": normalised(entry["result"], urls)} for entry in result.tasks}


def as_lines(value) -> str:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)


@pytest.fixture
def two_dirs(tmp_path):
    """A work directory for each path, each with a short TMPDIR of its own (ansible-core's worker RPC socket lives there, tests/helpers/fixtures.py)."""
    dirs, short_tmps = [], []
    for name in ("fast", "module"):
        path = tmp_path / name
        path.mkdir()
        short_tmp = Path(tempfile.mkdtemp(prefix="mediaops-test-"))
        (path / "t").symlink_to(short_tmp)
        dirs.append(path)
        short_tmps.append(short_tmp)
    yield dirs
    for short_tmp in short_tmps:
        shutil.rmtree(short_tmp, ignore_errors=True)


def test_both_paths_give_the_same_results_key_for_key(two_dirs, ansible_collections_path):
    fast, fast_urls = run_every_module(two_dirs[0], ansible_collections_path, fast_path=True)
    module, module_urls = run_every_module(two_dirs[1], ansible_collections_path, fast_path=False)
    assert fast.rc == module.rc == 0, fast.output[-3000:] + module.output[-3000:]
    fast_results, module_results = results_by_task(fast, fast_urls), results_by_task(module, module_urls)
    assert list(fast_results) == list(module_results)
    for name, expected in module_results.items():
        # As indented JSON, so that a difference shows as the lines that differ.
        assert as_lines(fast_results[name]) == as_lines(expected), f"task {name!r} differs between the paths"
    # The playbook is meant to cover each kind of result: make sure it did.
    statuses = {name: entry["status"] for name, entry in module_results.items()}
    assert statuses["unsupported option"] == statuses["bad choice"] == statuses["server refuses"] == statuses["fleet fails"] == "failed"
    assert module_results["usp create"]["result"]["changed"] is True
    assert "diff" in module_results["usp update"]["result"]
    assert module_results["usp unchanged"]["result"]["changed"] is False
    assert module_results["insecure warning"]["result"]["warnings"]
    fleet = {name: module_results[name]["result"] for name in ("fleet create", "fleet update check", "fleet update", "fleet fails")}
    assert [point["changed"] for point in fleet["fleet create"]["results"]] == [False, True, True]
    assert [point["changed"] for point in fleet["fleet update check"]["results"]] == [True, True]
    assert [point["changes"] for point in fleet["fleet update"]["results"] if "changes" in point] == ["dvr_window_length: '30' -> '60'"]
    assert [diff["before_header"] for diff in fleet["fleet update"]["diff"]] == ["<usp_api>/ch7/ch7.isml", "<usp_api>/ch8/ch8.isml"]
    assert fleet["fleet fails"]["summary"] == {"ok": 1, "changed": 0, "failed": 2, "total": 3}
    refused, invalid = fleet["fleet fails"]["results"][1:]
    assert (refused["method"], refused["status"], refused["url"]) == ("DELETE", 403, "<usp_api>/ch2/ch2.isml") and invalid["url"] is None
    # Which path ran is said at -v, for each task of each path.
    assert len(FAST_LINE.findall(fast.output)) == len(fast_results)
    assert not MODULE_LINE.search(fast.output)
    assert {match.group("reason") for match in MODULE_LINE.finditer(module.output)} == {"MEDIAOPS_STREAMING_FAST_PATH is off"}


def test_no_log_values_never_appear_on_the_fast_path(ansible_run, execution_path):
    stack = build_stack(["ch1"], interval=None, usp_username="operator", usp_password=USP_PASSWORD)
    try:
        tasks = task("read", "mediaops.streaming.usp_publishing_point_info", name="ch1", gather=["settings"], password=USP_PASSWORD) + task(
            "wrong password", "mediaops.streaming.usp_publishing_point_info", ignore_errors=True, name="ch1", password=USP_PASSWORD + "x"
        )
        result = ansible_run.playbook(tasks, env=stack.env(), verbosity=4, args=("-e", "ansible_inject_invocation=true"))
    finally:
        stack.stop()
    assert result.rc == 0, result.output[-3000:]
    for secret in (USP_PASSWORD, DEFAULT_API_SECRET, DEFAULT_API_KEY):
        assert secret not in result.output
        assert secret not in json.dumps(result.tasks, ensure_ascii=False)
    assert result.task("read")["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


@pytest.mark.parametrize(
    ("keywords", "reason"),
    [
        ("  vars:\n    mediaops_streaming_fast_path: false\n", "mediaops_streaming_fast_path is false"),
        ("  environment:\n    MEDIAOPS_STREAMING_FAST_PATH: '0'\n", "MEDIAOPS_STREAMING_FAST_PATH is off"),
        ("  async: 30\n  poll: 1\n", "the task is async"),
        ("  vars:\n    ansible_python_interpreter: /usr/bin/env python3\n", "the host's Python is /usr/bin/env python3"),
    ],
    ids=["variable", "task_environment", "async", "interpreter"],
)
def test_the_fast_path_hands_over_when_it_could_differ(ansible_run, usp, keywords, reason):
    tasks = task("read", "mediaops.streaming.usp_publishing_point_info", name="ch1", api_url=usp.url("api"), gather=["settings"]).rstrip("\n")
    result = ansible_run.playbook(tasks + "\n" + keywords, verbosity=1, env={"MEDIAOPS_STREAMING_FAST_PATH": "1"})
    lines = MODULE_LINE.findall(result.output)
    assert lines, result.output[-3000:]
    assert lines[0][2].startswith(reason)
    assert not FAST_LINE.search(result.output)


def test_a_task_delegated_to_another_host_runs_the_module_there(ansible_run, usp):
    """Over ssh the module would run on that host: the fast path must not pretend it ran here (the host is unreachable on purpose)."""
    inventory = (
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "    elsewhere:\n      ansible_connection: ssh\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n"
    )
    tasks = task("read", "mediaops.streaming.usp_publishing_point_info", ignore_errors=True, name="ch1", api_url=usp.url("api")).rstrip("\n")
    result = ansible_run.playbook(
        tasks + "\n  delegate_to: elsewhere\n  ignore_unreachable: true\n",
        play_header="- hosts: localhost\n  gather_facts: false\n",
        inventory=inventory,
        verbosity=1,
        env={"MEDIAOPS_STREAMING_FAST_PATH": "1"},
    )
    reasons = [match.group("reason") for match in MODULE_LINE.finditer(result.output)]
    assert reasons and reasons[0].startswith("the task runs over the ssh connection"), result.output[-3000:]
    assert not usp.log()


def test_the_task_environment_reaches_the_fallbacks_and_is_gone_afterwards(ansible_run, usp):
    """USP_API_URL from the task's environment: keyword; the next task without it fails as the module would."""
    with_environment = task("with", "mediaops.streaming.usp_publishing_point_info", name="ch1", gather=["settings"]).rstrip("\n")
    with_environment += f"\n  environment:\n    USP_API_URL: {usp.url('api')}\n"
    without = task("without", "mediaops.streaming.usp_publishing_point_info", ignore_errors=True, name="ch1", gather=["settings"])
    result = ansible_run.playbook(with_environment + without)
    assert result.task("with")["publishing_point"]["exists"] is False
    assert [entry["status"] for entry in result.tasks] == ["ok", "failed"]
    assert result.task("without")["msg"] == "one of the following is required: api_url, origin_url"


def test_every_module_under_mitogen_on_both_paths(two_dirs, ansible_collections_path):
    mitogen = {"ANSIBLE_STRATEGY_PLUGINS": str(MITOGEN_STRATEGIES), "ANSIBLE_STRATEGY": "mitogen_linear"}
    fast, fast_urls = run_every_module(two_dirs[0], ansible_collections_path, fast_path=True, env=mitogen)
    module, module_urls = run_every_module(two_dirs[1], ansible_collections_path, fast_path=False, env=mitogen)
    assert fast.rc == module.rc == 0, fast.output[-3000:] + module.output[-3000:]
    assert as_lines(results_by_task(fast, fast_urls)) == as_lines(without_mitogen_warnings(results_by_task(module, module_urls)))
    assert len(FAST_LINE.findall(fast.output)) == len(fast.tasks)


def without_mitogen_warnings(results: dict) -> dict:
    """The results without the warning Mitogen's module runner adds to every module result (about ansible-core's own internal collection)."""
    for entry in results.values():
        warnings = [text for text in entry["result"].pop("warnings", []) if "ansible/_protomatter" not in text]
        if warnings:
            entry["result"]["warnings"] = warnings
    return results
