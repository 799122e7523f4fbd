"""The AWX credential types in extensions/awx/credential_types against the modules' argument specs and AWX's own checks.

Each vendor's types inject exactly the environment variables its modules fall
back to (read from the argument specs in plugins/module_utils/<vendor>/args.py),
every ``no_log`` option travels in a secret field, and each file passes what
AWX checks when the type is created (tests/unit/extensions/awx.py).
"""

from __future__ import annotations

import copy

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.mediaops.streaming.plugins.module_utils.red5 import args as red5_args
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine import args as scaleengine_args
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import args as usp_args
from tests.unit.extensions import awx

#: credential type file (extensions/awx/credential_types/<stem>.yml) -> the args module of the modules it serves
VENDORS = {"usp": usp_args, "scaleengine": scaleengine_args, "red5": red5_args}


def env_options(args_module) -> dict[str, tuple[str, dict]]:
    """Every environment variable the vendor's modules fall back to -> (option name, option spec), over all of its argument specs."""
    found: dict[str, tuple[str, dict]] = {}
    for name, spec in vars(args_module).items():
        if not (name.endswith("_SPEC") and isinstance(spec, dict)):
            continue
        for option, option_spec in spec.items():
            fallback = option_spec.get("fallback") if isinstance(option_spec, dict) else None
            if not fallback:
                continue
            strategy, variables = fallback[0], fallback[1]
            assert strategy.__name__ == "env_fallback", f"{name}.{option}: a fallback other than env_fallback ({strategy.__name__})"
            for variable in variables:
                previous = found.setdefault(variable, (option, option_spec))
                assert previous == (option, option_spec), f"{variable} is the fallback of two different options: {previous[0]} and {option}"
    return found


def credential_type(stem: str) -> dict:
    return awx.load(awx.CREDENTIAL_TYPES_DIR / f"{stem}.yml")


def test_one_credential_type_per_vendor():
    assert set(awx.credential_types()) == set(VENDORS)


@pytest.mark.parametrize("stem", sorted(VENDORS))
def test_valid_for_awx(stem):
    assert awx.problems(credential_type(stem)) == []


@pytest.mark.parametrize("stem", sorted(VENDORS))
def test_injects_exactly_the_module_fallbacks(stem):
    expected = env_options(VENDORS[stem])
    assert expected, f"{stem}: the modules read no environment variable?"
    injected = credential_type(stem)["injectors"]["env"]
    assert set(injected) == set(expected)
    # Each variable carries the field named after the option it feeds: the credential reads like the module's documentation.
    for variable, (option, _option_spec) in expected.items():
        assert awx.injected_field(credential_type(stem), variable) == option


@pytest.mark.parametrize("stem", sorted(VENDORS))
def test_secrets_are_secret_fields(stem):
    expected = env_options(VENDORS[stem])
    kind = credential_type(stem)
    fields = awx.fields(kind)
    no_log = {option for option, option_spec in expected.values() if option_spec.get("no_log")}
    secret = {field_id for field_id, field in fields.items() if field.get("secret") is True}
    assert no_log, f"{stem}: no no_log option among the fallbacks?"
    assert secret == no_log
    # AWX hides a secret field's value in the job's stored environment only when the variable carries that field.
    for variable, (option, _option_spec) in expected.items():
        if option in no_log:
            assert awx.injected_field(kind, variable) in secret


@pytest.mark.parametrize("stem", sorted(VENDORS))
def test_options_the_modules_require_are_required_fields(stem):
    required = {option for option, option_spec in env_options(VENDORS[stem]).values() if option_spec.get("required")}
    assert required <= set(credential_type(stem)["inputs"].get("required", []))


@pytest.mark.parametrize("stem", sorted(VENDORS))
def test_choices_are_the_module_choices(stem):
    for option, option_spec in env_options(VENDORS[stem]).values():
        field = awx.fields(credential_type(stem))[option]
        if "choices" in option_spec:
            assert sorted(field["choices"]) == sorted(option_spec["choices"])
            # AWX offers the first choice when the field is left alone.
            assert field["choices"][0] == field["default"] == option_spec["default"]
        else:
            assert "choices" not in field


def _filled_inputs(kind: dict) -> dict[str, str]:
    """A value for every field; what a module can validate (a number for the CDN, a known API version)."""
    values = {}
    for field_id, field in awx.fields(kind).items():
        values[field_id] = field["choices"][-1] if "choices" in field else ("1234" if field_id == "cdn" else f"value-of-{field_id}")
    return values


@pytest.mark.parametrize("stem", sorted(VENDORS))
def test_optional_fields_left_empty(stem, monkeypatch):
    """An empty optional field must not break or change a module: its variable carries the module's default, or '' where it has none.

    AWX sets every ``env`` injector, an empty field included. The modules read
    the variables through their argument spec (fallbacks first, then types and
    choices), so the spec's validation with the injected environment shows
    what a module receives: the default where the option has one, '' where it
    has none (see extensions/awx/README.md for what '' means to each).
    """
    kind = credential_type(stem)
    required = set(kind["inputs"].get("required", []))
    options = env_options(VENDORS[stem])
    spec = dict(options.values())
    for field_id in sorted(set(awx.fields(kind)) - required):
        inputs = _filled_inputs(kind)
        inputs[field_id] = ""
        injected = awx.inject(kind, inputs)
        for variable in options:
            monkeypatch.delenv(variable, raising=False)
        for variable, value in injected.items():
            monkeypatch.setenv(variable, value)
        result = ArgumentSpecValidator(spec).validate({})
        assert not result.error_messages, f"{stem}: with {field_id} empty: {result.error_messages}"
        default = spec[field_id].get("default")
        expected = "" if default is None else default
        assert result.validated_parameters[field_id] == expected, f"{stem}: {field_id} left empty"


@pytest.mark.parametrize("stem", sorted(VENDORS))
def test_inject_round_trip(stem):
    kind = credential_type(stem)
    inputs = _filled_inputs(kind)
    injected = awx.inject(kind, inputs)
    assert awx.inputs_from_env(kind, injected) == inputs


BROKEN = [
    ("an injector over a field that does not exist", lambda kind: kind["injectors"]["env"].update(EXTRA="{{ no_such_field }}")),
    ("an ANSIBLE_ variable", lambda kind: kind["injectors"]["env"].update(ANSIBLE_CONFIG="{{ api_url }}")),
    ("a blocked variable", lambda kind: kind["injectors"]["env"].update(PATH="{{ api_url }}")),
    ("a field type AWX does not have", lambda kind: kind["inputs"]["fields"][0].update(type="integer")),
    ("a secret boolean", lambda kind: kind["inputs"]["fields"].append({"id": "flag", "label": "Flag", "type": "boolean", "secret": True})),
    ("a duplicate field id", lambda kind: kind["inputs"]["fields"].append(dict(kind["inputs"]["fields"][0]))),
    ("a required id that is no field", lambda kind: kind["inputs"].setdefault("required", []).append("nothing")),
    ("an unknown key", lambda kind: kind.update(organization="Default")),
    ("a kind AWX refuses for custom types", lambda kind: kind.update(kind="ssh")),
    ("non-ASCII in an injector", lambda kind: kind["injectors"]["env"].update(EXTRA="é{{ api_url }}")),
    ("a default that is not a string", lambda kind: kind["inputs"]["fields"][0].update(default=2.0)),
]


@pytest.mark.parametrize(("what", "breakage"), BROKEN, ids=[what for what, _breakage in BROKEN])
def test_the_checks_catch(what, breakage):
    kind = copy.deepcopy(credential_type("usp"))
    breakage(kind)
    assert awx.problems(kind), f"{what} was not caught"


def role_argument_specs() -> dict:
    return awx.load(awx.REPO_ROOT / "roles" / "restart_session" / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]


def test_survey_is_valid_for_awx():
    for path in sorted(awx.SURVEYS_DIR.glob("*.yml")):
        assert awx.survey_problems(awx.load(path)) == [], path.name


def test_survey_asks_for_variables_the_playbook_reads():
    """Every answer is a variable of the restart playbook (restart_session_hosts) or of the role, of the type the role's argument spec checks."""
    survey = awx.load(awx.SURVEYS_DIR / "restart_session.yml")
    playbook = (awx.REPO_ROOT / "playbooks" / "restart_session.yml").read_text()
    options = role_argument_specs()
    for question in survey["spec"]:
        name = question["variable"]
        if name in options:
            assert {"integer": "int", "float": "float"}.get(question["type"], "str") == options[name]["type"], name
        else:
            assert f"{{{{ {name} " in playbook, f"{name} is neither a role option nor read by the playbook"


def test_survey_answers():
    survey = awx.load(awx.SURVEYS_DIR / "restart_session.yml")
    assert awx.survey_extra_vars(survey, {"restart_session_hosts": "ch1:ch3"}) == {"restart_session_hosts": "ch1:ch3", "restart_session_stop_timeout": 120}
    with pytest.raises(ValueError, match="restart_session_hosts: value missing"):
        awx.survey_extra_vars(survey, {})
    with pytest.raises(ValueError, match="above the maximum"):
        awx.survey_extra_vars(survey, {"restart_session_hosts": "ch1", "restart_session_stop_timeout": 7200})
    with pytest.raises(ValueError, match="not an answer of type integer"):
        awx.survey_extra_vars(survey, {"restart_session_hosts": "ch1", "restart_session_stop_timeout": "120"})
