"""Every module run ad hoc, as ``ansible localhost -m mediaops.streaming.<module> -a 'key=value ...'`` would run it.

The modules run through pytest-ansible's ``ansible_module`` and
``ansible_adhoc`` fixtures: Ansible's ad-hoc machinery in the pytest process
(its workers are forks of it), on an inventory of ``localhost
ansible_connection=local`` given with the ``ansible`` marker, and with the
connection settings in the environment, as an AWX credential injects them.
The ``-a`` string is split by ansible-core's own ``parse_kv``, as the
``ansible`` command line splits it, so lists are comma-separated values and
dicts JSON; a list of dicts (``usp_publishing_points``' ``points``) has no
``key=value`` form, so its ``-a`` is one JSON object, as the command line
takes it too. The last tests run the real ``ansible`` command line and read
its one-line (``-o``) output.

The collection is the one the test run staged: pytest runs with the staged
collection's root on ``PYTHONPATH`` (tests/run_tests.py), and
pytest-ansible's ``--ansible-unit-inject-only`` installs Ansible's collection
finder, which scans ``sys.path``, before any test runs; each run checks that
the module Ansible resolved is this checkout's file.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing.util
import os
import re
import shutil
import signal
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from ansible.parsing.splitter import parse_kv
from ansible.plugins.loader import module_loader
from pytest_ansible.module_dispatcher import v213 as dispatcher

from tests.emulators.stack import build_stack
from tests.helpers.playbook import BIN_DIR, REPO_ROOT

# pytest-ansible's own deprecation of its host manager, and its dispatcher asking for the collection finder its plugin already installed.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Host management is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:AnsibleCollectionFinder has already been configured:UserWarning"),
]

USP_PASSWORD = "S3cr3t-pa55/wörd"
RED5_TOKEN = "Red5-admin-token"
COLLECTION = "mediaops.streaming"
STDIO = (0, 1, 2)
ONE_LINE = re.compile(r"^localhost \| (?P<status>SUCCESS|CHANGED|FAILED!) => (?P<result>\{.*\})$")


@pytest.fixture
def stack():
    """Two live, archiving channels (ch1, ch2) on USP with a password, ScaleEngine and Red5 (registered at once); no encoder pushes in the background."""
    stack = build_stack(["ch1", "ch2"], interval=None, usp_username="operator", usp_password=USP_PASSWORD, red5_delay=0)
    stack.red5.access_token = RED5_TOKEN
    stack.scaleengine.set_viewers("demo-origin", "ch1", 20, 10, 30, 100)
    stack.scaleengine.set_viewers("demo-origin", "ch2", 4, 1, 6, 12)
    stack.scaleengine.set_viewers("other-app", "elsewhere", 7)
    yield stack
    stack.stop()


def secrets(stack) -> list[str]:
    env = stack.env()
    return [USP_PASSWORD, env["SCALEENGINE_API_KEY"], env["SCALEENGINE_API_SECRET"], RED5_TOKEN]


@pytest.fixture
def adhoc_host(request, stack, tmp_path, monkeypatch, execution_path):
    """The environment, inventory and ``ansible`` marker for one test; must come before ``ansible_module`` in the test's arguments.

    The worker forked for the task reads the connection settings, the path
    switch and ``TMPDIR`` from the environment, as the ``ansible`` command
    would. ``tempfile`` keeps the directory it found first for the life of a
    process, so it is made to look again: the ScaleEngine signing ledger then
    lands in this test's short ``TMPDIR`` (ansible-core's worker socket path
    holds at most 107 bytes, tests/helpers/fixtures.py).
    """
    for name in list(os.environ):
        if name.startswith(("USP_", "SCALEENGINE_", "RED5_", "MEDIAOPS_")):
            monkeypatch.delenv(name)
    for name, value in dict(stack.env(), RED5_SM_ACCESS_TOKEN=RED5_TOKEN).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MEDIAOPS_STREAMING_FAST_PATH", "1" if execution_path == "fast_path" else "0")
    # multiprocessing keeps one directory (its listener socket) per process for good: it must not be this test's, removed afterwards.
    multiprocessing.util.get_temp_dir()
    short_tmp = Path(tempfile.mkdtemp(prefix="mediaops-test-"))
    monkeypatch.setenv("TMPDIR", str(short_tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    inventory = tmp_path / "hosts"
    inventory.write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable} ansible_remote_tmp={short_tmp / 'remote'}\n", encoding="utf-8"
    )
    request.node.add_marker(pytest.mark.ansible(inventory=str(inventory), host_pattern="localhost", connection="local"))
    with process_state_kept():
        yield short_tmp
    shutil.rmtree(short_tmp, ignore_errors=True)


@contextlib.contextmanager
def process_state_kept():
    """Undo what ansible-core's TaskQueueManager does to the process that runs it, made for the ``ansible`` command alone.

    It makes stdin, stdout and stderr non-inheritable (a program this pytest
    process starts later, such as the ``ansible`` of another test, would
    start without stdin and fail) and takes over SIGINT and SIGTERM (to pass
    them to its workers, which are long gone after the test).
    """
    inheritable = {fd: os.get_inheritable(fd) for fd in STDIO}
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for fd, value in inheritable.items():
            os.set_inheritable(fd, value)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def adhoc(dispatcher_for_host, module: str, module_args: str) -> dict:
    """One module run as ``-m mediaops.streaming.<module> -a '<module_args>'``: its result on localhost."""
    # An installed mediaops.streaming elsewhere on the collections path would be tested instead of this checkout.
    resolved = module_loader.find_plugin_with_context(f"{COLLECTION}.{module}").plugin_resolved_path
    assert Path(resolved).resolve() == (REPO_ROOT / "plugins" / "modules" / f"{module}.py").resolve()
    run = getattr(dispatcher_for_host, f"{COLLECTION}.{module}")
    result = run(**module_arguments(module_args))
    return dict(result["localhost"])


def module_arguments(module_args: str) -> dict:
    """``-a`` as the ``ansible`` command reads it: one JSON object when it is written as one, otherwise ``key=value`` pairs."""
    if module_args.startswith("{") and module_args.endswith("}"):
        return json.loads(module_args)
    return parse_kv(module_args)


# (module, key=value arguments, what the result says): a read of each kind and a change of each writer, then the same again.
CASES = {
    "usp_publishing_point_info": "name=ch1 gather=settings,state",
    "usp_publishing_point": 'name=ch9 options={"archiving":true,"dvr_window_length":30}',
    "usp_publishing_points": '{"points": [{"name": "ch1"}, {"name": "ch8", "options": {"archiving": true, "dvr_window_length": 30}}]}',
    "usp_archive_purge": "name=ch2 keep=00:00:10",
    "scaleengine_stream": "app=demo-origin inst=live stream=ch2",
    "scaleengine_pushpublish": "app=demo-origin inst=live stream=ch1 entry_name=usp-ch1",
    "scaleengine_viewer_info": "app=demo-origin",
    "scaleengine_command": 'command=stream.details params={"app":"demo-origin","inst":"live","stream":"ch1"}',
    "red5_stream_info": "scope=live name=ch1",
    "red5_stream_registry": "state=cleared",
}


def check_first(module: str, result: dict, stack) -> None:
    """What the first run of ``module`` with its CASES arguments must have returned and done."""
    checks = {
        "usp_publishing_point_info": lambda: (
            result["changed"] is False
            and result["publishing_point"]["exists"] is True
            and result["publishing_point"]["state"] == "started"
            and result["publishing_point"]["settings"]["archiving"] == "true"
            and result["publishing_point"]["archive"] is None
        ),
        "usp_publishing_point": lambda: (
            result["changed"] is True
            and result["settings"]["archiving"] == "true"
            and result["settings"]["dvr_window_length"] == "30"
            and result["url"] == stack.usp.url("api") + "/ch9/ch9.isml"
        ),
        "usp_publishing_points": lambda: (
            result["changed"] is True
            and [(point["name"], point["changed"], point["failed"]) for point in result["results"]] == [("ch1", False, False), ("ch8", True, False)]
            and result["results"][1]["settings"]["dvr_window_length"] == "30"
            and result["results"][1]["url"] == stack.usp.url("api") + "/ch8/ch8.isml"
            and result["summary"] == {"ok": 1, "changed": 1, "failed": 0, "total": 2}
            and stack.usp.point("ch8").option("archiving") == "true"
        ),
        "usp_archive_purge": lambda: (
            result["changed"] is True
            and result["t"] == "00:00:10"
            and all(len(track["ranges"]) == 1 for track in result["archive_after"])
            and span(result["archive_after"]) == 10
            and span(result["archive_before"]) == 60
        ),
        "scaleengine_stream": lambda: result["changed"] is True and result["stream"]["stream"] == "ch2" and not stack.is_live("ch2"),
        "scaleengine_pushpublish": lambda: (
            result["changed"] is True
            and result["verified"] is True
            and [(item["entry_name"], item["stream"]) for item in result["sessions_disconnected"]] == [("usp-ch1", "ch1")]
        ),
        "scaleengine_viewer_info": lambda: (
            result["changed"] is False and sorted((item["video_url"], item["viewer_count_sum"]) for item in result["viewers"]) == [("ch1", 100), ("ch2", 12)]
        ),
        "scaleengine_command": lambda: (
            result["changed"] is False
            and result["sent"] is True
            and result["response"]["data"]["stream"] == "ch1"
            and [item["entry_name"] for item in result["response"]["data"]["pushpublish"]] == ["usp-ch1"]
        ),
        "red5_stream_info": lambda: result["changed"] is False and result["exists"] is True and result["stream"]["name"] == "ch1",
        "red5_stream_registry": lambda: result["changed"] is True and result["count"] == 2 and stack.red5.dump_registry() == [],
    }
    assert checks[module](), json.dumps(result, indent=1)


def span(tracks: list[dict]) -> float:
    """Seconds the archive covers, the same for every track here."""
    seconds = set()
    for track in tracks:
        for window in track["ranges"]:
            start, end = (datetime.fromisoformat(window[key].replace("Z", "+00:00")) for key in ("start", "end"))
            seconds.add(round((end - start).total_seconds()))
    assert len(seconds) == 1, tracks
    return seconds.pop()


def test_the_cases_cover_every_module():
    """A module added to the collection must get its ad-hoc case, or nothing runs it ad hoc."""
    assert set(CASES) == {path.stem for path in (REPO_ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__"}


@pytest.mark.parametrize("module", list(CASES))
def test_every_module_ad_hoc_with_key_value_arguments(adhoc_host, ansible_module, stack, module, capfd):
    first = adhoc(ansible_module, module, CASES[module])
    check_first(module, first, stack)
    # The same command again: a writer finds nothing left to do, a reader reads the same.
    again = adhoc(ansible_module, module, CASES[module])
    assert again["changed"] is False, json.dumps(again, indent=1)
    printed = capfd.readouterr()
    for secret in secrets(stack):
        assert secret not in json.dumps([first, again], ensure_ascii=False)
        assert secret not in printed.out + printed.err


def test_check_mode_predicts_and_sends_no_write(adhoc_host, ansible_adhoc, stack, monkeypatch):
    """What ``ansible ... --check`` does, through pytest-ansible: its play runs in check mode.

    pytest-ansible 26.10 offers no way to ask for check mode: its ``--check``
    option is never passed on, and the command line it parses for each run
    cannot add one, because ansible-core keeps the first command line a process
    parsed (``GlobalCLIArgs`` is a singleton). So the play it builds gets
    ``check_mode: true``, the play keyword ``--check`` stands for.
    """
    build_play = dispatcher.ModuleDispatcherV213._build_play_ds
    monkeypatch.setattr(dispatcher.ModuleDispatcherV213, "_build_play_ds", lambda self, args: dict(build_play(self, args), check_mode=True))
    host = ansible_adhoc()["localhost"]
    predicted = adhoc(host, "usp_publishing_point", 'name=ch9 options={"archiving":true}')
    assert predicted["changed"] is True
    assert "ch9" not in stack.usp.points
    assert [entry.method for entry in stack.usp.log()] == ["GET"]
    closing = adhoc(host, "scaleengine_stream", "app=demo-origin inst=live stream=ch1")
    assert closing["changed"] is True and closing["stream"]["stream"] == "ch1"
    assert stack.is_live("ch1")
    assert [item["command"] for item in stack.scaleengine.commands()] == ["stream.details"]


def test_results_and_warnings_never_carry_a_secret(adhoc_host, ansible_module, stack, capfd):
    """A wrong password, an insecure-TLS warning and a signed command: results, warnings and output name the server, never a secret."""
    refused = adhoc(ansible_module, "usp_publishing_point_info", f"name=ch1 gather=settings password={USP_PASSWORD}x")
    assert refused["failed"] is True and refused["status"] == 401
    warned = adhoc(ansible_module, "usp_publishing_point_info", "name=ch1 gather=settings validate_certs=false")
    assert warned["warnings"] and warned["publishing_point"]["exists"] is True
    signed = adhoc(ansible_module, "scaleengine_command", 'command=viewer.live params={"app":"demo-origin"}')
    assert signed["sent"] is True and sorted(item["video_url"] for item in signed["response"]["data"]) == ["ch1", "ch2"]
    printed = capfd.readouterr()
    for secret in [*secrets(stack), USP_PASSWORD + "x"]:
        assert secret not in json.dumps([refused, warned, signed], ensure_ascii=False)
        assert secret not in printed.out + printed.err
    # What the ad-hoc run wrote stays in the test's own TMPDIR: the ScaleEngine signing ledger.
    assert (adhoc_host / f"mediaops-scaleengine-{os.getuid()}.json").is_file()


def run_twice_one_line(ansible_run, stack, module: str, module_args: str) -> tuple[dict, dict]:
    """The real ``ansible localhost -o -m <module> -a <module_args>``, twice: one line each, ``CHANGED`` then ``SUCCESS``; the two results."""
    # ansible-core 2.19 and later warn on stderr that -o is deprecated (AnsibleRunner turns deprecation warnings off); stdout is the line.
    argv = [str(BIN_DIR / "ansible"), "localhost", "-c", "local", "-o", "-m", f"{COLLECTION}.{module}", "-a", module_args]
    lines = []
    for _run in range(2):
        result = ansible_run.run(argv, env=stack.env())
        assert result.rc == 0, result.output
        assert len(result.stdout.splitlines()) == 1, result.stdout
        line = ONE_LINE.match(result.stdout.strip())
        assert line, result.stdout
        assert USP_PASSWORD not in result.output
        lines.append(line)
    assert [line["status"] for line in lines] == ["CHANGED", "SUCCESS"]
    first, again = (json.loads(line["result"]) for line in lines)
    return first, again


def test_the_ansible_command_line_prints_one_line_per_host(ansible_run, stack):
    """The real ``ansible localhost -m ... -a 'key=value ...' -o``: one line, ``localhost | CHANGED => {json}``, then unchanged."""
    created, unchanged = run_twice_one_line(ansible_run, stack, "usp_publishing_point", 'name=ch9 options={"archiving":true,"dvr_window_length":30}')
    assert created["changed"] is True and created["settings"]["dvr_window_length"] == "30"
    assert unchanged["changed"] is False and unchanged["settings"] == created["settings"]


def test_the_ansible_command_line_takes_arguments_as_one_json_object(ansible_run, stack):
    """``-a '{"points": [...]}'``, the form a list of dicts needs, read by the ``ansible`` command itself."""
    created, unchanged = run_twice_one_line(ansible_run, stack, "usp_publishing_points", CASES["usp_publishing_points"])
    assert [(point["name"], point["changed"]) for point in created["results"]] == [("ch1", False), ("ch8", True)]
    assert created["results"][1]["settings"]["dvr_window_length"] == "30"
    assert unchanged["summary"] == {"ok": 2, "changed": 0, "failed": 0, "total": 2}
