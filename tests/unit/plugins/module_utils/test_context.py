"""context.py: check mode, diff mode, warnings and the result a work function's values become."""

from __future__ import annotations

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext, run_work


class Server:
    """Records the actions performed on it; an action may answer False ("already so")."""

    def __init__(self):
        self.calls: list[tuple] = []

    def create(self, name, **options):
        self.calls.append(("create", name, options))
        return {"name": name}

    def create_existing(self, name):
        self.calls.append(("create_existing", name))
        return False

    def delete(self, name):
        self.calls.append(("delete", name))


def test_defaults():
    context = ExecutionContext()
    assert (context.check_mode, context.diff_mode, context.changed, context.warnings) == (False, False, False, [])
    assert context.finish({}) == {"changed": False}


def test_modes_are_booleans():
    context = ExecutionContext(check_mode=1, diff_mode="yes")
    assert context.check_mode is True and context.diff_mode is True


def test_perform_calls_the_action_with_its_arguments_and_returns_its_answer():
    server, context = Server(), ExecutionContext()
    assert context.perform(server.create, "ch1", archiving=True) == {"name": "ch1"}
    assert server.calls == [("create", "ch1", {"archiving": True})]
    assert context.changed is True


def test_perform_in_check_mode_does_not_call_the_action_but_marks_changed():
    server, context = Server(), ExecutionContext(check_mode=True)
    assert context.perform(server.create, "ch1", archiving=True) is None
    assert server.calls == []
    assert context.changed is True


def test_an_action_answering_false_changed_nothing():
    server, context = Server(), ExecutionContext()
    assert context.perform(server.create_existing, "ch1") is False
    assert server.calls == [("create_existing", "ch1")]
    assert context.changed is False


def test_an_action_answering_none_changed_the_server():
    server, context = Server(), ExecutionContext()
    assert context.perform(server.delete, "ch1") is None
    assert context.changed is True


def test_a_false_answer_does_not_undo_an_earlier_change():
    server, context = Server(), ExecutionContext()
    context.perform(server.delete, "old")
    context.perform(server.create_existing, "ch1")
    assert context.changed is True


def test_a_failing_action_leaves_the_task_unchanged_and_propagates():
    context = ExecutionContext()

    def refuse():
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError, match="refused"):
        context.perform(refuse)
    assert context.changed is False


def test_mark_changed():
    context = ExecutionContext()
    context.mark_changed()
    assert context.finish({"url": "x"}) == {"url": "x", "changed": True}


def test_warn_keeps_the_text_and_passes_it_on():
    shown = []
    context = ExecutionContext(warn=shown.append)
    context.warn("retrying")
    context.warn(ValueError("not a string"))
    assert context.warnings == ["retrying", "not a string"]
    assert shown == ["retrying", "not a string"]


def test_warn_without_a_sink_only_keeps_the_text():
    context = ExecutionContext()
    context.warn("kept")
    assert context.warnings == ["kept"]


def test_finish_adds_changed_without_touching_the_values():
    context = ExecutionContext()
    values = {"settings": {"a": 1}, "changed": "ignored"}
    result = context.finish(values)
    assert result == {"settings": {"a": 1}, "changed": False}
    assert values == {"settings": {"a": 1}, "changed": "ignored"}, "the work's dict is not modified"


def changed_with_diff(before="", after=None, header=None, **modes) -> dict:
    context = ExecutionContext(**modes)
    context.record_before(before, header=header)
    context.perform(lambda: None)
    context.record_after({"name": "ch1"} if after is None else after)
    return context.finish({})


def test_diff_in_diff_mode_when_changed_and_both_recorded():
    assert changed_with_diff(diff_mode=True) == {"changed": True, "diff": {"before": "", "after": {"name": "ch1"}}}


def test_diff_also_in_check_mode():
    assert changed_with_diff(diff_mode=True, check_mode=True)["diff"] == {"before": "", "after": {"name": "ch1"}}


def test_diff_header_is_given_to_both_sides():
    result = changed_with_diff(before="<smil/>", after="<smil>x</smil>", header="ch1.isml", diff_mode=True)
    assert result["diff"] == {"before": "<smil/>", "after": "<smil>x</smil>", "before_header": "ch1.isml", "after_header": "ch1.isml"}


def test_the_last_header_given_wins():
    context = ExecutionContext(diff_mode=True)
    context.record_before({}, header="first")
    context.record_after({"a": 1}, header="second")
    context.mark_changed()
    assert context.diff() == {"before": {}, "after": {"a": 1}, "before_header": "second", "after_header": "second"}


def test_no_diff_outside_diff_mode():
    assert changed_with_diff() == {"changed": True}


def test_no_diff_when_nothing_changed():
    context = ExecutionContext(diff_mode=True)
    context.record_before({"a": 1})
    context.record_after({"a": 1})
    assert context.diff() is None
    assert context.finish({}) == {"changed": False}


@pytest.mark.parametrize("recorded", ["before", "after"])
def test_no_diff_when_only_one_side_was_recorded(recorded):
    context = ExecutionContext(diff_mode=True)
    getattr(context, "record_" + recorded)({"a": 1})
    context.mark_changed()
    assert context.finish({}) == {"changed": True}


@pytest.mark.parametrize("falsy", ["", None, {}, []])
def test_a_falsy_value_is_a_recorded_side(falsy):
    context = ExecutionContext(diff_mode=True)
    context.record_before(falsy)
    context.record_after({"a": 1})
    context.mark_changed()
    assert context.diff() == {"before": falsy, "after": {"a": 1}}


def test_run_work_passes_params_context_and_keywords_and_finishes():
    seen = {}

    def work(params, context, client=None):
        seen.update(params=params, context=context, client=client)
        context.record_before("")
        context.perform(lambda: None)
        context.record_after({"name": params["name"]})
        return {"name": params["name"]}

    context = ExecutionContext(diff_mode=True)
    result = run_work(work, {"name": "ch1"}, context, client="fake")
    assert seen == {"params": {"name": "ch1"}, "context": context, "client": "fake"}
    assert result == {"name": "ch1", "changed": True, "diff": {"before": "", "after": {"name": "ch1"}}}


def test_run_work_lets_errors_through():
    def work(params, context):
        raise LookupError("no such point")

    with pytest.raises(LookupError, match="no such point"):
        run_work(work, {}, ExecutionContext())
