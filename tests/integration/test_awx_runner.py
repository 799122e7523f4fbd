"""The restart playbook through AWX's engine: ansible-runner on a private data directory laid out as AWX lays it out.

An AWX job is an ``ansible-runner`` run on a private data directory:

* ``project/``: the job template's project; here one playbook that imports the
  collection playbook ``mediaops.streaming.restart_session``, the collection
  being found through the collections path (AWX installs the project's
  ``collections/requirements.yml`` and puts that directory first in it);
* ``inventory/hosts``: the job's inventory, one host per channel;
* ``env/extravars``: the job template's variables (and AWX's ``awx_*`` meta variables);
* ``env/envvars``: what AWX sets for every job, and what the job's credentials
  inject: the three credential types of extensions/awx/credential_types,
  rendered as AWX renders them (tests/unit/extensions/awx.py) with the values
  of the emulator stack;
* ``env/settings``: the runner's settings AWX passes (job timeout, output handling).

There is no ``env/passwords``: AWX writes prompts and answers there for SSH,
become and vault passwords, and these jobs run on the local connection with
neither. The tests read what AWX reads: the job events
(``artifacts/<ident>/job_events/*.json``) and the job's stdout.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from tests.benchmarks.restart import not_restarted
from tests.emulators.stack import build_stack
from tests.helpers.playbook import BIN_DIR, AnsibleRunner
from tests.unit.extensions import awx

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO_ROOT / "tests" / "demo"
CHANNELS = ["ch1", "ch2", "ch3", "ch4"]
USP_USERNAME, USP_PASSWORD = "awx-operator", "awx-S3cr3t-pa55"
SUMMARY_TASK = ("restart_session", "Summarise the restart")  # (role, task) of the per-channel summary

# The project's playbook: a job template names a file of its project; the collection's playbook comes from the collections path.
PROJECT_PLAYBOOK = """---
- name: Restart live channel sessions completely
  ansible.builtin.import_playbook: mediaops.streaming.restart_session
"""

# The modules with every optional credential field left empty: USP without authentication, Red5 without a token or API version.
CHECK_PLAYBOOK = """---
- name: Read a channel with the credentials' optional fields left empty
  hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: Read the publishing point
      mediaops.streaming.usp_publishing_point_info:
        name: "{{ inventory_hostname }}"
        gather: [state]
    - name: Read the Red5 stream
      mediaops.streaming.red5_stream_info:
        name: "{{ inventory_hostname }}"
        scope: live
"""

# The runner settings of an AWX job: its timeout, and output only through the event callback (suppress_ansible_output);
# AWX also suppresses the stdout file, which these tests keep to search it for secrets. Idle and pexpect settings are
# ansible-runner's own (its env/settings documentation).
SETTINGS = {
    "job_timeout": 300,
    "idle_timeout": 120,
    "pexpect_timeout": 5,
    "pexpect_use_poll": True,
    "suppress_ansible_output": True,
    "suppress_output_file": False,
}


def awx_env(collections: Path, job_id: int) -> dict[str, str]:
    """What AWX itself puts in every job's environment (RunJob.build_env), besides the credentials.

    AWX puts ``/runner/requirements_collections`` (where it installed the
    project's collections) first in ANSIBLE_COLLECTIONS_PATH; the staged checkout
    stands in for it. AWX 22 to 24 also set the plural ANSIBLE_COLLECTIONS_PATHS,
    which ansible-core 2.19 and later no longer read.
    """
    paths = f"{collections}:~/.ansible/collections:/usr/share/ansible/collections"
    return {
        "ANSIBLE_COLLECTIONS_PATH": paths,
        "ANSIBLE_COLLECTIONS_PATHS": paths,
        "ANSIBLE_ROLES_PATH": "~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "JOB_ID": str(job_id),
        "INVENTORY_ID": "1",
        "AWX_HOST": "https://awx.example.com",
    }


def credentials_env(values: dict[str, str]) -> dict[str, str]:
    """What the job's three credentials inject: each credential type's fields filled from ``values`` (an environment), rendered as AWX does."""
    injected: dict[str, str] = {}
    for kind in awx.credential_types().values():
        injected.update(awx.inject(kind, awx.inputs_from_env(kind, values)))
    return injected


def write_private_data_dir(root: Path, *, playbook: str, names: list[str], extravars: dict, envvars: dict) -> Path:
    (root / "project").mkdir(parents=True)
    (root / "project" / "playbook.yml").write_text(playbook)
    (root / "inventory").mkdir()
    (root / "inventory" / "hosts").write_text(yaml.safe_dump({"all": {"children": {"channels": {"hosts": {name: {} for name in names}}}}}))
    (root / "env").mkdir()
    (root / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    (root / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (root / "env" / "settings").write_text(yaml.safe_dump(SETTINGS))
    return root


def start_job(root: Path, ident: str, playbook: str = "playbook.yml", limit: str | None = None) -> subprocess.Popen:
    """``ansible-runner run`` on the private data directory ``root``, as AWX's worker starts it (-v: the log says which execution path ran).

    The command line rather than ``ansible_runner.run()``: the emulators' threads
    live in this process, and ansible-runner forks its pty from the process that calls it.
    """
    argv = [str(BIN_DIR / "ansible-runner"), "run", str(root), "-p", playbook, "--ident", ident, "-v", "--quiet"]
    if limit is not None:
        argv += ["--limit", limit]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish_job(process: subprocess.Popen, root: Path, ident: str) -> tuple[str, int]:
    """The job's status and return code, as ansible-runner records them in its artifacts (what AWX reads)."""
    try:
        _stdout, stderr = process.communicate(timeout=SETTINGS["job_timeout"] + 30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    artifacts = root / "artifacts" / ident
    assert (artifacts / "status").exists(), f"ansible-runner exited {process.returncode} without a status: {stderr[-3000:]}"
    return (artifacts / "status").read_text().strip(), int((artifacts / "rc").read_text().strip())


def job_events(root: Path, ident: str) -> list[dict]:
    paths = sorted((root / "artifacts" / ident / "job_events").glob("*.json"), key=lambda path: int(path.name.split("-", 1)[0]))
    return [json.loads(path.read_text(encoding="utf-8")) for path in paths]


def job_stdout(root: Path, ident: str) -> str:
    return (root / "artifacts" / ident / "stdout").read_text(encoding="utf-8")


@pytest.fixture
def engine(tmp_path, ansible_collections_path, monkeypatch):
    """The worker's environment: only what the job's private data directory gives, on this machine's Python and ansible-core.

    The execution environment's own settings (its home, its temporary
    directory, its Python with requests and lxml) are the process's; nothing
    of the connection settings comes from anywhere but env/envvars.
    """
    for name in [name for name in list(os.environ) if name.startswith(("ANSIBLE_", "USP_", "SCALEENGINE_", "RED5_", "MEDIAOPS_"))]:
        monkeypatch.delenv(name)
    home = tmp_path / "runner-home"
    home.mkdir()
    # ansible-core's worker binds a Unix socket in TMPDIR, whose path may hold at most 107 bytes.
    short_tmp = Path(tempfile.mkdtemp(prefix="mediaops-awx-"))
    monkeypatch.setenv("ANSIBLE_HOME", str(home))
    monkeypatch.setenv("ANSIBLE_LOCAL_TEMP", str(home / "tmp"))
    monkeypatch.setenv("TMPDIR", str(short_tmp))
    monkeypatch.setenv("ANSIBLE_PYTHON_INTERPRETER", sys.executable)
    monkeypatch.setenv("ANSIBLE_LOCALHOST_WARNING", "false")
    monkeypatch.setenv("ANSIBLE_DEPRECATION_WARNINGS", "false")
    monkeypatch.setenv("PATH", f"{BIN_DIR}:{os.environ.get('PATH', '')}")
    yield ansible_collections_path
    shutil.rmtree(short_tmp, ignore_errors=True)


@pytest.fixture
def stack():
    emulators = build_stack(CHANNELS, interval=0.5, eos_delay=0.3, red5_delay=0.3, usp_username=USP_USERNAME, usp_password=USP_PASSWORD)
    yield emulators
    emulators.stop()


def restart_extravars(execution_path: str) -> dict:
    """The job template's variables: the demo's, with the demo's start task file, on the execution path under test."""
    extravars = yaml.safe_load((DEMO_DIR / "restart_vars.yml").read_text())
    extravars.update(
        restart_session_start_tasks=str(DEMO_DIR / "restart_start_encoder.yml"),
        restart_session_stop_timeout=20,
        restart_session_poll_interval=0.2,
        restart_session_started_timeout=20,
        restart_session_red5_timeout=20,
        mediaops_streaming_fast_path=execution_path == "fast_path",
        # AWX's meta variables (Job.awx_meta_vars()); the role must not mind them.
        awx_job_id=1,
        awx_job_template_name="Restart channels",
        tower_job_id=1,
    )
    return extravars


def secrets_of(env: dict[str, str]) -> list[str]:
    """Every secret value the credentials inject, and the Basic credentials made of the USP pair."""
    secrets = [env[name] for name in ("USP_PASSWORD", "SCALEENGINE_API_KEY", "SCALEENGINE_API_SECRET", "RED5_SM_ACCESS_TOKEN")]
    assert all(secrets), "a secret the test must look for is empty"
    secrets.append(base64.b64encode(f"{env['USP_USERNAME']}:{env['USP_PASSWORD']}".encode()).decode("ascii"))
    return secrets


def source_env(stack) -> dict[str, str]:
    """The values the credentials hold: the stack's environment and the Stream Manager's administrator token."""
    return {**stack.env(), "RED5_SM_ACCESS_TOKEN": stack.red5.access_token}


def prepare_restart(
    root: Path, collections: Path, stack, names: list[str], execution_path: str, job_id: int, node_env: dict | None = None
) -> tuple[Path, dict]:
    credentials = credentials_env(source_env(stack))
    envvars = {**awx_env(collections, job_id), **credentials, **(node_env or {})}
    write_private_data_dir(root, playbook=PROJECT_PLAYBOOK, names=names, extravars=restart_extravars(execution_path), envvars=envvars)
    return root, credentials


def check_job(root: Path, ident: str, outcome: tuple[str, int], hosts: list[str], secrets: list[str], execution_path: str) -> None:
    """What AWX shows of a job: it succeeded, every host ok with its summary, no secret anywhere, the execution path asked for."""
    stdout = job_stdout(root, ident)
    assert outcome == ("successful", 0), stdout[-4000:]
    events = job_events(root, ident)
    assert events, "no job events"
    bad = [(event["event"], event["event_data"].get("host")) for event in events if event["event"] in ("runner_on_failed", "runner_on_unreachable")]
    assert bad == []
    [stats] = [event["event_data"] for event in events if event["event"] == "playbook_on_stats"]
    assert (stats["failures"], stats["dark"]) == ({}, {})
    assert sorted(stats["ok"]) == sorted(hosts)
    summaries = {
        event["event_data"]["host"]: event["event_data"]["res"]["msg"]
        for event in events
        if event["event"] == "runner_on_ok" and (event["event_data"].get("role"), event["event_data"].get("task")) == SUMMARY_TASK
    }
    assert sorted(summaries) == sorted(hosts)
    assert all(summaries.values()), summaries
    for secret in secrets:
        assert secret not in stdout
        leaked = [event["uuid"] for event in events if secret in json.dumps(event, ensure_ascii=False)]
        assert leaked == [], "a secret is in these job events"
    expected = "fast path, in the controller's worker" if execution_path == "fast_path" else "module path, because mediaops_streaming_fast_path is false"
    assert expected in stdout


def test_restart_job(tmp_path, engine, stack, execution_path):
    root, credentials = prepare_restart(tmp_path / "job", engine, stack, CHANNELS, execution_path, job_id=1)
    # The job's environment holds exactly what the credential types inject: every variable of the three, none left out.
    assert set(credentials) == {name for kind in awx.credential_types().values() for name in kind["injectors"]["env"]}
    since = time.time()
    outcome = finish_job(start_job(root, "job1"), root, "job1")
    check_job(root, "job1", outcome, CHANNELS, secrets_of(credentials), execution_path)
    assert not_restarted(stack, CHANNELS, since) == []


def test_restart_job_sliced_in_two(tmp_path, engine, stack, execution_path):
    """Job slicing: two jobs at once, each on every second host of the inventory sorted by name, as AWX slices it."""
    names = sorted(CHANNELS)
    slices = [names[number::2] for number in range(2)]
    # Each slice may run on its own execution node, in its own container: its own /tmp (where the ScaleEngine signing ledger is).
    node_tmps = [Path(tempfile.mkdtemp(prefix=f"mediaops-slice{number}-")) for number in (1, 2)]
    since = time.time()
    started = []
    for number, hosts in enumerate(slices, start=1):
        node_env = {"TMPDIR": str(node_tmps[number - 1])}
        root, credentials = prepare_restart(tmp_path / f"slice{number}", engine, stack, CHANNELS, execution_path, job_id=number + 1, node_env=node_env)
        started.append((root, f"slice{number}", start_job(root, f"slice{number}", limit=",".join(hosts)), hosts, credentials))
    try:
        outcomes = [finish_job(process, root, ident) for root, ident, process, _hosts, _credentials in started]
    finally:
        for node_tmp in node_tmps:
            shutil.rmtree(node_tmp, ignore_errors=True)
    for (root, ident, _process, hosts, credentials), outcome in zip(started, outcomes, strict=True):
        check_job(root, ident, outcome, hosts, secrets_of(credentials), execution_path)
    # Both halves together: every channel deleted exactly once, archiving anew, live everywhere again.
    assert not_restarted(stack, CHANNELS, since) == []


def test_optional_fields_left_empty(tmp_path, engine):
    """A USP without authentication and a Red5 credential without token or API version: the empty fields inject '' (or the default), and the modules run."""
    open_stack = build_stack(["ch1"], interval=0.5)
    try:
        values = open_stack.env()
        assert "USP_USERNAME" not in values
        credentials = credentials_env(values)
        assert (credentials["USP_USERNAME"], credentials["USP_PASSWORD"], credentials["RED5_SM_ACCESS_TOKEN"]) == ("", "", "")
        root = write_private_data_dir(tmp_path / "job", playbook=CHECK_PLAYBOOK, names=["ch1"], extravars={}, envvars={**awx_env(engine, 9), **credentials})
        assert finish_job(start_job(root, "check"), root, "check") == ("successful", 0), job_stdout(root, "check")[-3000:]
        requests = [entry for entry in open_stack.red5.log() if "/streammanager/api/2.0/" in entry.path]
        assert requests, "the Red5 module did not use the default API version"
    finally:
        open_stack.stop()


def test_survey_selects_channels(tmp_path, engine, stack):
    """The survey's answer (extensions/awx/surveys/restart_session.yml) restarts the channels it names and leaves the others alone.

    The answer picks hosts, not an execution path: this runs on the fast path only.
    """
    survey = awx.load(awx.SURVEYS_DIR / "restart_session.yml")
    root, credentials = prepare_restart(tmp_path / "job", engine, stack, CHANNELS, "fast_path", job_id=5)
    extravars = {**restart_extravars("fast_path"), **awx.survey_extra_vars(survey, {"restart_session_hosts": "ch1:ch3"})}
    (root / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    since = time.time()
    outcome = finish_job(start_job(root, "survey"), root, "survey")
    check_job(root, "survey", outcome, ["ch1", "ch3"], secrets_of(credentials), "fast_path")
    assert not_restarted(stack, ["ch1", "ch3"], since) == []
    assert [entry.path for entry in stack.usp.log(method="DELETE") if entry.path.startswith(("/ch2/", "/ch4/"))] == []
    assert stack.is_live("ch2")
    assert stack.is_live("ch4")


def test_credential_types_playbook_passes_the_files_unchanged(tmp_path, ansible_collections_path):
    """extensions/awx/credential_types.yml hands each file to awx.awx.credential_type as it is, its AWX templates untouched by Ansible.

    awx.awx is not installed here: the playbook runs with its one task's module
    replaced by ansible.builtin.set_fact over the same arguments, which Ansible
    templates exactly as it would for awx.awx.credential_type.
    """
    [play] = yaml.safe_load((awx.REPO_ROOT / "extensions" / "awx" / "credential_types.yml").read_text())
    [task] = play["tasks"]
    arguments = task.pop("awx.awx.credential_type")
    task["ansible.builtin.set_fact"] = {"passed": "{{ (passed | default([])) + [arguments] }}"}
    task["vars"]["arguments"] = arguments
    play["tasks"].append(
        {"name": "Record what was passed", "ansible.builtin.copy": {"content": "{{ passed | to_json }}", "dest": str(tmp_path / "passed.json")}}
    )
    # The copy has the definitions next to it, where its playbook_dir finds them.
    shutil.copytree(awx.CREDENTIAL_TYPES_DIR, tmp_path / "credential_types")
    copy = tmp_path / "credential_types.yml"
    copy.write_text(yaml.safe_dump([play], sort_keys=False))
    # ansible-core's worker RPC binds a Unix socket in the run's temporary directory: a path of at most 107 bytes.
    short_tmp = Path(tempfile.mkdtemp(prefix="mediaops-awx-"))
    try:
        result = AnsibleRunner(tmp_path, ansible_collections_path, tmp=short_tmp).run([str(BIN_DIR / "ansible-playbook"), str(copy)])
    finally:
        shutil.rmtree(short_tmp, ignore_errors=True)
    assert result.rc == 0, result.output[-3000:]
    passed = json.loads((tmp_path / "passed.json").read_text())
    expected = [dict(awx.load(awx.CREDENTIAL_TYPES_DIR / f"{stem}.yml"), state="present") for stem in task["loop"]]
    assert passed == expected
    assert sorted(task["loop"]) == sorted(awx.credential_types())
