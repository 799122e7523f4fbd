"""runner.py: how a work function's result, warnings and errors become the module's exit, with a stand-in for AnsibleModule."""

from __future__ import annotations

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, forget_secrets
from ansible_collections.mediaops.streaming.plugins.module_utils.runner import ISSUES_URL, run_module


class Exited(Exception):
    """What AnsibleModule's exit_json/fail_json do instead of returning: the process ends."""

    def __init__(self, how, values):
        super().__init__(how)
        self.how = how
        self.values = values


class FakeModule:
    """The parts of AnsibleModule the runner uses."""

    def __init__(self, params=None, check_mode=False, diff=False, no_log_values=()):
        self.params = dict(params or {})
        self.check_mode = check_mode
        self._diff = diff
        self.no_log_values = set(no_log_values)
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)

    def exit_json(self, **values):
        raise Exited("exit", values)

    def fail_json(self, **values):
        raise Exited("fail", values)


@pytest.fixture(autouse=True)
def _no_secrets_between_tests():
    forget_secrets()
    yield
    forget_secrets()


def run(module, work, requires=()):
    with pytest.raises(Exited) as exited:
        run_module(module, work, requires=requires)
    return exited.value


def test_the_work_gets_the_params_and_a_context_of_the_task_modes():
    seen = {}

    def work(params, context):
        seen.update(params=params, check_mode=context.check_mode, diff_mode=context.diff_mode)
        return {"name": params["name"]}

    exited = run(FakeModule({"name": "ch1"}, check_mode=True, diff=True), work)
    assert seen == {"params": {"name": "ch1"}, "check_mode": True, "diff_mode": True}
    assert (exited.how, exited.values) == ("exit", {"name": "ch1", "changed": False})


def test_changed_and_diff_come_from_the_context():
    def work(params, context):
        context.record_before("")
        context.perform(lambda: None)
        context.record_after({"name": "ch1"})
        return {}

    exited = run(FakeModule(diff=True), work)
    assert exited.values == {"changed": True, "diff": {"before": "", "after": {"name": "ch1"}}}


def test_warnings_reach_the_module_scrubbed():
    def work(params, context):
        context.warn(f"retrying with {params['password']}")
        return {}

    module = FakeModule({"password": "pa55"}, no_log_values={"pa55"})
    run(module, work)
    assert module.warnings == ["retrying with ********"]


def test_basic_credentials_made_from_username_and_password_are_masked():
    def work(params, context):
        raise StreamingError("server echoed Authorization: Basic b3A6cGE1NQ==")

    exited = run(FakeModule({"username": "op", "password": "pa55"}, no_log_values={"pa55"}), work)
    assert exited.values["msg"] == "server echoed Authorization: Basic ********"


def test_a_streaming_error_fails_with_its_message_and_request_details_scrubbed():
    def work(params, context):
        raise StreamingError("refused", method="GET", url="http://h/x?q=pa55", status=401, body="echo pa55", details={"sent": "pa55"})

    exited = run(FakeModule({"password": "pa55"}, no_log_values={"pa55"}), work)
    assert exited.how == "fail"
    assert exited.values["msg"].startswith("refused (GET http://h/x?q=******** returned HTTP 401); server said: echo ********. Check the credentials")
    assert exited.values["exception"] == ""
    assert {key: exited.values[key] for key in ("sent", "method", "url", "status", "response_excerpt")} == {
        "sent": "********",
        "method": "GET",
        "url": "http://h/x?q=********",
        "status": 401,
        "response_excerpt": "echo ********",
    }


def test_a_bug_fails_with_one_sentence_and_no_traceback():
    def work(params, context):
        raise KeyError("no such key: pa55")

    exited = run(FakeModule({"password": "pa55"}, no_log_values={"pa55"}), work)
    assert exited.how == "fail"
    assert exited.values == {
        "msg": "The module stopped on an unexpected KeyError (no such key: ********). This is a bug in the mediaops.streaming collection: "
        f"please report it at {ISSUES_URL} with the task and the output of ansible-playbook -vvv (remove anything private first)",
        "exception": "",
    }


def test_the_result_is_scrubbed():
    def work(params, context):
        return {"echo": {params["password"]: [params["password"]]}}

    exited = run(FakeModule({"password": "pa55"}, no_log_values={"pa55"}), work)
    assert exited.values == {"echo": {"********": ["********"]}, "changed": False}


def test_a_missing_library_fails_before_the_work_runs():
    ran = []
    exited = run(FakeModule(), lambda params, context: ran.append(True) or {}, requires=("mediaops_no_such_library",))
    assert exited.how == "fail" and ran == []
    assert "mediaops_no_such_library" in exited.values["msg"]
    assert "ModuleNotFoundError" in exited.values["exception"]
