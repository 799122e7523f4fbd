"""fast_path.py: the pure parts of the controller fast path (which module it runs, plain data, the switch, the environment, masking).

Whether a task takes the fast path and returns what the module returns is
proved through Ansible itself: every integration test runs on both paths
(tests/integration/test_execution_paths.py compares them).
"""

from __future__ import annotations

import ast
import os
import re
import sys
import tempfile
from pathlib import Path

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.mediaops.streaming.plugins.plugin_utils import fast_path

REPO_ROOT = Path(__file__).resolve().parents[4]
MODULES_DIR = REPO_ROOT / "plugins" / "modules"
ACTIONS_DIR = REPO_ROOT / "plugins" / "action"


class TaggedText(str):
    """Like the tagged strings ansible-core hands an action plugin: a str subclass carrying more."""


def test_every_module_has_an_action_plugin_and_a_row():
    modules = sorted(path.stem for path in MODULES_DIR.glob("*.py"))
    actions = sorted(path.stem for path in ACTIONS_DIR.glob("*.py"))
    assert modules == actions == sorted(fast_path.MODULES)


@pytest.mark.parametrize("module_name", sorted(fast_path.MODULES))
def test_the_row_runs_what_the_module_runs(module_name):
    """The table holds the same keyword arguments, work function and libraries as the module's main()."""
    source = (MODULES_DIR / f"{module_name}.py").read_text(encoding="utf-8")
    kwargs_name = re.search(r"AnsibleModule\(supports_check_mode=True, \*\*args\.(\w+)\)", source).group(1)
    call = re.search(r"run_module\(module, (\w+)(?:, requires=(\([^)]*\)))?\)", source)
    module_kwargs, work, requires = fast_path.MODULES[module_name]
    vendor_args = __import__(work.__module__.rsplit(".", 1)[0] + ".args", fromlist=["args"])
    assert module_kwargs is getattr(vendor_args, kwargs_name)
    assert work.__name__ == call.group(1)
    assert requires == (ast.literal_eval(call.group(2)) if call.group(2) else ("requests",))


def test_action_for_makes_a_plugin_class_calling_the_work_unbound():
    plugin = fast_path.action_for("usp_publishing_point")
    module_kwargs, work, requires = fast_path.MODULES["usp_publishing_point"]
    assert issubclass(plugin, fast_path.FastPathAction)
    assert plugin.__name__ == "ActionModule"
    assert plugin.MODULE_KWARGS is module_kwargs
    assert requires == plugin.REQUIRES
    assert plugin.__dict__["work"].__func__ is work


def test_plain_data_gives_the_types_json_would():
    value = {"name": TaggedText("ch1"), "options": {"archiving": True, "dvr_window_length": 30}, "tracks": (1.5, None)}
    plain = fast_path.plain_data(value)
    assert plain == {"name": "ch1", "options": {"archiving": True, "dvr_window_length": 30}, "tracks": [1.5, None]}
    assert plain["name"].__class__ is str
    assert plain["tracks"].__class__ is list


@pytest.mark.parametrize(
    ("value", "what"),
    [({1: "a"}, "keys that are not strings"), ({"when": {1, 2}}, "type set"), (object(), "type object")],
)
def test_plain_data_refuses_what_json_would_change(value, what):
    with pytest.raises(fast_path.NotPlainData, match=what):
        fast_path.plain_data(value)


@pytest.mark.parametrize(
    ("value", "off"),
    [(None, False), ("", False), ("1", False), (True, False), ("yes", False), ("0", True), ("false", True), (False, True), ("off", True), ("maybe", False)],
)
def test_the_switch_turns_off_only_on_a_clear_no(value, off):
    assert fast_path.switched_off(value) is off


def test_the_task_environment_is_set_for_the_task_and_put_back(monkeypatch):
    monkeypatch.setenv("USP_API_URL", "http://before")
    monkeypatch.delenv("RED5_SM_URL", raising=False)
    with fast_path.task_environment({"USP_API_URL": "http://task", "RED5_SM_URL": "http://sm", "RETRIES": 3}):
        assert os.environ["USP_API_URL"] == "http://task"
        assert os.environ["RED5_SM_URL"] == "http://sm"
        assert os.environ["RETRIES"] == "3"
    assert os.environ["USP_API_URL"] == "http://before"
    assert "RED5_SM_URL" not in os.environ
    assert "RETRIES" not in os.environ


def test_a_task_tmpdir_is_the_temporary_directory_for_the_task_only(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", "/somewhere/cached")
    with fast_path.task_environment({"TMPDIR": str(tmp_path)}):
        assert tempfile.gettempdir() == str(tmp_path)
    assert tempfile.tempdir == "/somewhere/cached"


def test_the_environment_is_put_back_when_the_work_raises(monkeypatch):
    monkeypatch.delenv("SCALEENGINE_API_KEY", raising=False)
    with pytest.raises(RuntimeError), fast_path.task_environment({"SCALEENGINE_API_KEY": "k"}):
        raise RuntimeError("stop")
    assert "SCALEENGINE_API_KEY" not in os.environ


def test_validation_failures_read_as_the_modules():
    module_kwargs = fast_path.MODULES["usp_publishing_point"][0]
    unsupported = ArgumentSpecValidator(**module_kwargs).validate({"name": "ch1", "api_url": "http://x", "nope": 1})
    message = fast_path.validation_failure(unsupported.errors, "mediaops.streaming.usp_publishing_point")
    assert message.startswith("Unsupported parameters for (mediaops.streaming.usp_publishing_point) module: nope. Supported parameters include: api_url,")
    wrong_choice = ArgumentSpecValidator(**module_kwargs).validate({"name": "ch1", "api_url": "http://x", "state": "sideways"})
    assert fast_path.validation_failure(wrong_choice.errors, "x").startswith("value of state must be one of:")


def test_masked_replaces_no_log_values_and_keeps_booleans():
    result = {"changed": True, "failed": None, "msg": "token s3cret refused", "nested": {"s3cret": ["s3cret"]}}
    assert fast_path.masked(result, {"s3cret"}) == {
        "changed": True,
        "failed": None,
        "msg": "token ******** refused",
        "nested": {"s3cret": ["VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"]},
    }


class FakeTask:
    async_val = 0
    delegate_to = None


class FakePlayContext:
    become = False


class FakeConnection:
    transport = "local"


class FakeTemplar:
    @staticmethod
    def template(value):
        return value


def plugin(requires=("requests",), **changes):
    """A FastPathAction with the parts of a task it reads, ``changes`` applied to them (``become=True``, ``transport="ssh"``)."""
    plugin_class = fast_path.action_for("usp_publishing_point")
    # Without ActionBase.__init__, which wants a loader and shared plugin loaders this test has no use for.
    action = plugin_class.__new__(plugin_class)
    action._task, action._play_context, action._connection, action._templar = FakeTask(), FakePlayContext(), FakeConnection(), FakeTemplar()
    action.REQUIRES = requires
    for name, value in changes.items():
        for part in (action._task, action._play_context, action._connection):
            if hasattr(part, name):
                setattr(part, name, value)
    return action


@pytest.mark.parametrize(
    ("changes", "task_vars", "reason"),
    [
        ({}, {}, None),
        ({"become": True}, {}, "the task uses become"),
        ({"async_val": 30}, {}, "the task is async"),
        ({"transport": "ssh"}, {}, "the task runs over the ssh connection, not on the controller"),
        ({}, {"mitogen_via": "bastion"}, "mitogen_via sends the connection through another host"),
        ({}, {"mediaops_streaming_fast_path": False}, "mediaops_streaming_fast_path is false"),
        ({"delegate_to": "localhost"}, {"ansible_delegated_vars": {"localhost": {"ansible_python_interpreter": "/opt/other/python3"}}}, "the host's Python is"),
        ({}, {"ansible_python_interpreter": "auto_silent"}, None),
        ({}, {"ansible_python_interpreter": sys.executable}, None),
    ],
)
def test_when_the_module_runs_instead(monkeypatch, changes, task_vars, reason):
    monkeypatch.delenv(fast_path.SWITCH_ENVIRONMENT, raising=False)
    found = plugin(**changes)._module_path_reason(task_vars, {})
    assert (found is None) if reason is None else found.startswith(reason)


def test_a_library_the_controller_lacks_sends_the_task_to_the_module(monkeypatch):
    monkeypatch.delenv(fast_path.SWITCH_ENVIRONMENT, raising=False)
    assert plugin(requires=("requests", "mediaops_no_such_library"))._module_path_reason({}, {}) == (
        "the controller's Python cannot import mediaops_no_such_library"
    )


def test_the_environment_switch_counts_from_the_task_environment_first(monkeypatch):
    monkeypatch.setenv(fast_path.SWITCH_ENVIRONMENT, "1")
    assert plugin()._module_path_reason({}, {fast_path.SWITCH_ENVIRONMENT: "0"}) == "MEDIAOPS_STREAMING_FAST_PATH is off"
    assert plugin()._module_path_reason({}, {}) is None


def test_the_validation_result_still_carries_what_the_fast_path_reads(monkeypatch):
    """ValidationResult has no public accessor for no_log values and alias warnings; AnsibleModule reads these two attributes, and so does the fast path."""
    monkeypatch.setenv("USP_PASSWORD", "from-the-environment")
    module_kwargs = fast_path.MODULES["usp_publishing_point"][0]
    validation = ArgumentSpecValidator(**module_kwargs).validate({"name": "ch1", "api_url": "http://x", "username": "u"})
    assert "from-the-environment" in validation._no_log_values
    assert validation._warnings == []
