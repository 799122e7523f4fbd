# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller fast path: a module's work run in the controller's worker.

Every module of this collection talks HTTP to a vendor API and nearly always
runs on the controller (``connection: local`` or ``delegate_to: localhost``).
Ansible then still builds an AnsiballZ payload, starts a new Python, imports
the libraries and parses JSON back, for every task and host: a few tenths of a
second, far more than the requests themselves. An action plugin of the same
name as the module runs first, in the worker process Ansible has already
forked for the task; when the task is certain to run on this machine with this
Python, the plugin runs the module's work function right there.

What makes it the same task as the module (docs/performance.md):

* the module's own argument spec and constraints (``*_MODULE_KWARGS``), through
  ansible-core's public ``ArgumentSpecValidator``, with the same failure texts;
* environment fallbacks and the task's ``environment:`` read from the same
  ``os.environ`` the module would see, set for the duration of the task only;
* check mode and diff mode from the task, as ``_update_module_args`` hands them
  to a module;
* one shared :func:`~.runner.execute` for the result, ``changed``, ``diff``,
  warnings and the scrubbing of secrets, then ``remove_values`` over the
  ``no_log`` values as ``AnsibleModule.exit_json`` does; ``invocation`` only
  where Ansible would inject it.

Whenever that equivalence is in doubt (async, become, a connection other than
local, another Python named for the host, a library the controller lacks,
arguments that are not plain data, or the switch
``mediaops_streaming_fast_path: false`` / ``MEDIAOPS_STREAMING_FAST_PATH=0``),
the plugin runs the module the usual way. Either way ``-v`` says which path ran
and why.

Designed around what broke before: no daemon or socket (cloud.common's turbo
mode), no patching of ``AnsibleModule`` (ansible.netcommon's in-process module
execution), no interpreter kept between tasks (Mitogen). Each task runs in the
worker Ansible forked for it, and everything the plugin changes in that process
(environment, temporary directory, registered secrets) is put back when the
task ends.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Mapping

from ansible import constants as C
from ansible.errors import AnsibleUndefinedConfigEntry
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import forget_secrets
from ansible_collections.mediaops.streaming.plugins.module_utils.red5 import args as red5_args
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.stream_info import read_stream_info
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.stream_registry import clear_stream_registry
from ansible_collections.mediaops.streaming.plugins.module_utils.runner import execute, missing_libraries
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine import args as scaleengine_args
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.command import run_command
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.pushpublish import disconnect_pushpublish
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.stream import close_stream
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.viewer import viewer_info
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import args as usp_args
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.archive_purge import purge_archive
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.fleet import converge_publishing_points
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.info import read_publishing_point_info
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.publishing_point import ensure_publishing_point

display = Display()

SWITCH_VARIABLE = "mediaops_streaming_fast_path"
SWITCH_ENVIRONMENT = "MEDIAOPS_STREAMING_FAST_PATH"
# The variables tempfile reads once per process; a task that sets one must get its own temporary directory, as a module process would.
_TEMPORARY_DIRECTORY_VARIABLES = ("TMPDIR", "TEMP", "TMP")
# What ansible_python_interpreter holds when the user left the choice to Ansible.
_DISCOVERY_MODES = ("auto", "auto_silent", "auto_legacy", "auto_legacy_silent")


# Each module as its main() runs it: AnsibleModule's keyword arguments, the work function, the libraries it needs.
# tests/unit/plugins/plugin_utils/test_fast_path.py checks this table against every module's source.
MODULES = {
    "red5_stream_info": (red5_args.STREAM_INFO_MODULE_KWARGS, read_stream_info, ("requests",)),
    "red5_stream_registry": (red5_args.STREAM_REGISTRY_MODULE_KWARGS, clear_stream_registry, ("requests",)),
    "scaleengine_command": (scaleengine_args.COMMAND_MODULE_KWARGS, run_command, ("requests",)),
    "scaleengine_pushpublish": (scaleengine_args.PUSHPUBLISH_MODULE_KWARGS, disconnect_pushpublish, ("requests",)),
    "scaleengine_stream": (scaleengine_args.STREAM_MODULE_KWARGS, close_stream, ("requests",)),
    "scaleengine_viewer_info": (scaleengine_args.VIEWER_INFO_MODULE_KWARGS, viewer_info, ("requests",)),
    "usp_archive_purge": (usp_args.ARCHIVE_PURGE_MODULE_KWARGS, purge_archive, ("requests", "lxml")),
    "usp_publishing_point": (usp_args.PUBLISHING_POINT_MODULE_KWARGS, ensure_publishing_point, ("requests", "lxml")),
    "usp_publishing_point_info": (usp_args.INFO_MODULE_KWARGS, read_publishing_point_info, ("requests", "lxml")),
    "usp_publishing_points": (usp_args.FLEET_MODULE_KWARGS, converge_publishing_points, ("requests", "lxml")),
}


class NotPlainData(Exception):
    """An argument value JSON would change on its way to a module (a set, a date, a non-string key)."""


def plain_data(value):
    """``value`` as the plain JSON types a module receives: tagged strings, dicts and lists become ``str``, ``dict`` and ``list``."""
    if value is None or isinstance(value, bool):
        return None if value is None else bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise NotPlainData("a mapping with keys that are not strings")
        return {str(key): plain_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(item) for item in value]
    raise NotPlainData(f"a value of type {type(value).__name__}")


def switched_off(value) -> bool:
    """Whether a switch value (variable or environment) says no; unset or unreadable leaves the fast path on."""
    if value is None or value == "":
        return False
    try:
        return not boolean(value, strict=True)
    except TypeError:
        return False


@contextlib.contextmanager
def task_environment(environment: dict):
    """``os.environ`` with the task's ``environment:`` for the duration of the task, as a module process would start with it."""
    saved = {name: os.environ.get(name) for name in environment}
    saved_tempdir = tempfile.tempdir
    try:
        os.environ.update({str(name): str(value) for name, value in environment.items()})
        if any(name in environment for name in _TEMPORARY_DIRECTORY_VARIABLES):
            tempfile.tempdir = None
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        tempfile.tempdir = saved_tempdir


def validation_failure(errors, module_name: str) -> str:
    """The message ``AnsibleModule`` fails with for these validation errors."""
    message = errors.msg
    if isinstance(errors[0], UnsupportedError):
        message = f"Unsupported parameters for ({module_name}) module: {message}"
    return message


def inject_invocation(task_vars: dict) -> bool:
    """Whether a module would return ``invocation`` (its validated arguments) for this task."""
    try:
        return bool(C.config.get_config_value("INJECT_INVOCATION", variables=task_vars))
    except AnsibleUndefinedConfigEntry:
        # ansible-core before 2.21 has no such setting: every module result carried its invocation.
        return True


def masked(result: dict, no_log_values) -> dict:
    """``result`` with every ``no_log`` value replaced, keeping booleans and None, as ``AnsibleModule`` returns it."""
    if not no_log_values:
        # Nothing to replace: remove_values would only copy the result, which for a fleet of 1,000 points costs 0.4 s.
        return result
    preserved = {key: value for key, value in result.items() if value is None or isinstance(value, bool)}
    cleaned = remove_values(result, no_log_values)
    cleaned.update(preserved)
    return cleaned


class FastPathAction(ActionBase):
    """Base of the collection's action plugins: the module's work in this worker when equivalent, the module otherwise.

    :func:`action_for` makes one per module from :data:`MODULES`: the
    module's keyword arguments for ``AnsibleModule`` (its argument spec and
    constraints), its work function and the libraries the work needs.
    """

    MODULE_KWARGS: dict = {}
    REQUIRES: tuple[str, ...] = ("requests",)
    # The module's work function, as staticmethod(work) so that it is not bound to the plugin.
    work = None
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        task_vars = task_vars or {}
        host = self._task.delegate_to or task_vars.get("inventory_hostname")
        environment = {}
        self._compute_environment_string(environment)
        reason = self._module_path_reason(task_vars, environment)
        if reason is None:
            try:
                params = plain_data(self._task.args)
            except NotPlainData as exc:
                reason = f"an argument is {exc}"
        if reason is not None:
            display.v(f"{self._task.action}: module path, because {reason}", host=host)
            return merge_hash(result, self._run_module(task_vars))
        display.v(f"{self._task.action}: fast path, in the controller's worker", host=host)
        return merge_hash(result, self._run_here(params, environment, task_vars))

    def _module_path_reason(self, task_vars: dict, environment: dict) -> str | None:
        """Why the module must run the usual way for this task, or None when the fast path is equivalent."""
        return self._switched_off(task_vars, environment) or self._runs_elsewhere(task_vars) or self._missing_library()

    def _switched_off(self, task_vars: dict, environment: dict) -> str | None:
        switch = task_vars.get(SWITCH_VARIABLE)
        if switched_off(self._templar.template(switch) if isinstance(switch, str) else switch):
            return f"{SWITCH_VARIABLE} is false"
        if switched_off(environment.get(SWITCH_ENVIRONMENT, os.environ.get(SWITCH_ENVIRONMENT))):
            return f"{SWITCH_ENVIRONMENT} is off"
        return None

    def _runs_elsewhere(self, task_vars: dict) -> str | None:
        """Why the module would not run in this process, as this user, with this Python."""
        if self._task.async_val:
            return "the task is async"
        if self._play_context.become:
            return "the task uses become"
        if self._connection.transport != "local":
            return f"the task runs over the {self._connection.transport} connection, not on the controller"
        host_vars = task_vars.get("ansible_delegated_vars", {}).get(self._task.delegate_to, {}) if self._task.delegate_to else task_vars
        if host_vars.get("mitogen_via"):
            return "mitogen_via sends the connection through another host"
        interpreter = self._named_interpreter(host_vars)
        if interpreter is not None:
            return f"the host's Python is {interpreter}, not the controller's {os.path.abspath(sys.executable)}"
        return None

    def _missing_library(self) -> str | None:
        missing = missing_libraries(self.REQUIRES)
        return f"the controller's Python cannot import {', '.join(missing)}" if missing else None

    def _named_interpreter(self, host_vars: dict) -> str | None:
        """The Python named for the host when it is not the controller's own (None when it is, or when discovery is left to Ansible)."""
        configured = C.config.get_config_value("INTERPRETER_PYTHON", variables=host_vars)
        interpreter = self._templar.template(configured) if isinstance(configured, str) else configured
        if not interpreter or str(interpreter) in _DISCOVERY_MODES:
            return None
        if os.path.abspath(str(interpreter)) == os.path.abspath(sys.executable):
            return None
        return str(interpreter)

    def _run_module(self, task_vars: dict) -> dict:
        """The module in its own process, exactly as ansible.builtin.normal runs it."""
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = self._execute_module(task_vars=task_vars, wrap_async=wrap_async)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _run_here(self, params: dict, environment: dict, task_vars: dict) -> dict:
        """The work in this process: validate as the module does, run it, return what the module would."""
        warnings: list[str] = []
        try:
            with task_environment(environment):
                validation = ArgumentSpecValidator(**self.MODULE_KWARGS).validate(params)
                no_log_values = validation._no_log_values  # pylint: disable=protected-access
                validated = validation.validated_parameters
                for alias_warning in validation._warnings:  # pylint: disable=protected-access
                    warnings.append(f"Both option {alias_warning['option']} and its alias {alias_warning['alias']} are set.")
                if validation.error_messages:
                    result = {"failed": True, "msg": validation_failure(validation.errors, self._task.action)}
                else:
                    result = execute(self.work, validated, no_log_values, check_mode=self._task.check_mode, diff_mode=self._task.diff, warn=warnings.append)
        finally:
            forget_secrets()
        if warnings:
            result["warnings"] = warnings
        if inject_invocation(task_vars):
            result["invocation"] = {"module_args": validated}
        return masked(result, no_log_values)


def action_for(module_name: str) -> type:
    """The action plugin class of the collection's module ``module_name``."""
    module_kwargs, work, requires = MODULES[module_name]
    return type("ActionModule", (FastPathAction,), {"MODULE_KWARGS": module_kwargs, "REQUIRES": requires, "work": staticmethod(work)})
