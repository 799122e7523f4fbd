"""What AWX does with a credential type, for the tests: its schema checks and its injection, run locally.

AWX validates a credential type's ``inputs`` and ``injectors`` with JSON
schemas and a few rules of its own (awx/main/fields.py:
``CredentialTypeInputField`` and ``CredentialTypeInjectorField``), and at job
launch renders each ``env`` injector with the credential's inputs
(``CredentialType.inject_credential``, awx/main/models/credential.py, and
awx_plugins.credentials.injectors). The schemas and rules are restated here
from those sources; AWX itself is a Django service that cannot run in a test.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

REPO_ROOT = Path(__file__).resolve().parents[3]
CREDENTIAL_TYPES_DIR = REPO_ROOT / "extensions" / "awx" / "credential_types"
SURVEYS_DIR = REPO_ROOT / "extensions" / "awx" / "surveys"

#: the options awx.awx.credential_type takes for the type itself (the rest: state, new_name, connection)
CREDENTIAL_TYPE_KEYS = {"name", "description", "kind", "inputs", "injectors"}
#: the kinds AWX accepts for a credential type that is not managed by AWX itself
CUSTOM_KINDS = {"cloud", "net"}

#: environment variables a credential may not set (AWX's ENV_BLOCKLIST), besides every ANSIBLE_* one
ENV_BLOCKLIST = frozenset(
    {
        "VIRTUAL_ENV",
        "PATH",
        "PYTHONPATH",
        "JOB_ID",
        "INVENTORY_ID",
        "INVENTORY_SOURCE_ID",
        "INVENTORY_UPDATE_ID",
        "AD_HOC_COMMAND_ID",
        "REST_API_URL",
        "REST_API_TOKEN",
        "MAX_EVENT_RES",
        "CALLBACK_QUEUE",
        "CALLBACK_CONNECTION",
        "CACHE",
        "JOB_CALLBACK_DEBUG",
        "INVENTORY_HOSTVARS",
        "AWX_HOST",
        "PROJECT_REVISION",
        "SUPERVISOR_CONFIG_PATH",
    }
)

_NAME = "^[a-zA-Z_]+[a-zA-Z0-9_]*$"
#: field keys AWX allows on string fields only
STRING_ONLY = ("choices", "multiline", "format", "secret")

INPUTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "required": {"type": "array", "items": {"type": "string"}},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"enum": ["string", "boolean"]},
                    "format": {"enum": ["ssh_private_key", "url"]},
                    "choices": {"type": "array", "minItems": 1, "items": {"type": "string"}, "uniqueItems": True},
                    "id": {"type": "string", "pattern": _NAME},
                    "label": {"type": "string"},
                    "help_text": {"type": "string"},
                    "multiline": {"type": "boolean"},
                    "secret": {"type": "boolean"},
                    "ask_at_runtime": {"type": "boolean"},
                    "default": {},
                },
                "additionalProperties": False,
                "required": ["id", "label"],
            },
        },
    },
}

INJECTORS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "file": {"type": "object", "patternProperties": {r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$": {"type": "string"}}, "additionalProperties": False},
        # pexpect chokes on anything but ASCII in an environment variable's value
        "env": {"type": "object", "patternProperties": {_NAME: {"type": "string", "pattern": "^[\x00-\x7f]*$"}}, "additionalProperties": False},
        "extra_vars": {"type": "object", "patternProperties": {_NAME: {"type": "string"}}, "additionalProperties": False},
    },
}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def credential_types() -> dict[str, dict]:
    """Every credential type shipped in extensions/awx/credential_types, by file stem."""
    return {path.stem: load(path) for path in sorted(CREDENTIAL_TYPES_DIR.glob("*.yml"))}


def fields(credential_type: dict) -> dict[str, dict]:
    return {field["id"]: field for field in credential_type["inputs"].get("fields", [])}


def _input_problems(inputs: dict) -> list[str]:
    problems = [f"inputs: {error.message}" for error in jsonschema.Draft4Validator(INPUTS_SCHEMA).iter_errors(inputs)]
    seen = set()
    for field in inputs.get("fields", []):
        field_id, field_type = field.get("id"), field.get("type", "string")
        if field_id == "tower":
            problems.append('inputs: "tower" is a reserved field name')
        if field_id in seen:
            problems.append(f"inputs: field IDs must be unique ({field_id})")
        seen.add(field_id)
        if "default" in field and not isinstance(field["default"], {"string": str, "boolean": bool}.get(field_type, type(None))):
            problems.append(f"inputs: the default of {field_id} is not a {field_type}")
        if field_type != "string":
            problems += [f"inputs: {key} not allowed for {field_type} type ({field_id})" for key in STRING_ONLY if key in field]
        if "default" in field and "choices" in field and field["default"] not in field["choices"]:
            problems.append(f"inputs: the default of {field_id} is not one of its choices")
    # AWX does not check this one; a required id that is no field could never be given.
    problems += [f"inputs: required {name!r} is not a field" for name in inputs.get("required", []) if name not in seen]
    return problems


def _injector_problems(injectors: dict, field_ids: list[str]) -> list[str]:
    problems = [f"injectors: {error.message}" for error in jsonschema.Draft4Validator(INJECTORS_SCHEMA).iter_errors(injectors)]
    for name in injectors.get("env", {}):
        if name.startswith("ANSIBLE_"):
            problems.append(f"injectors: environment variable {name} may affect Ansible configuration")
        if name in ENV_BLOCKLIST:
            problems.append(f"injectors: environment variable {name} is not allowed in credentials")
    # AWX renders every injector with each defined field set, undefined names raising: a template may only use fields.
    namespace = dict.fromkeys(field_ids, "EXAMPLE")
    for kind, templates in injectors.items():
        for key, template in templates.items():
            try:
                ImmutableSandboxedEnvironment(undefined=StrictUndefined).from_string(template).render(namespace)
            except (UndefinedError, SecurityError, TemplateSyntaxError) as exc:
                problems.append(f"injectors: {kind} {key}: {exc}")
    return problems


def problems(credential_type: dict) -> list[str]:
    """What AWX would refuse in ``credential_type`` (and a few things the awx.awx.credential_type module would), as messages."""
    found = [f"unknown key {key!r}" for key in credential_type if key not in CREDENTIAL_TYPE_KEYS]
    found += [f"missing key {key!r}" for key in ("name", "kind", "inputs", "injectors") if key not in credential_type]
    if credential_type.get("kind") not in CUSTOM_KINDS:
        found.append(f"kind {credential_type.get('kind')!r} is not one AWX accepts for a custom credential type ({sorted(CUSTOM_KINDS)})")
    inputs, injectors = credential_type.get("inputs", {}), credential_type.get("injectors", {})
    found += _input_problems(inputs)
    if not found:
        found += _injector_problems(injectors, [field["id"] for field in inputs.get("fields", [])])
    return found


def inject(credential_type: dict, inputs: dict) -> dict[str, str]:
    """The environment AWX gives a job for a credential of ``credential_type`` holding ``inputs``.

    As AWX does: an empty input is left out of the template namespace, a
    missing boolean is False, and every ``env`` injector is set, rendered with
    jinja2's default (lenient) undefined, so a template over an empty optional
    field renders ``''`` unless it says otherwise.
    """
    namespace: dict = {}
    for name, value in inputs.items():
        if isinstance(value, bool) or value:
            namespace[name] = value
    for field in credential_type["inputs"].get("fields", []):
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    return {
        name: sandbox.from_string(template).render(**namespace)
        for name, template in credential_type["injectors"].get("env", {}).items()
        if not name.startswith("ANSIBLE_") and name not in ENV_BLOCKLIST
    }


def inputs_from_env(credential_type: dict, env: dict[str, str]) -> dict[str, str]:
    """The credential inputs that make ``credential_type`` inject the values ``env`` holds (a field whose variable ``env`` lacks stays empty).

    Each ``env`` injector must be a template of one field (``{{ field }}`` or
    ``{{ field | default(...) }}``); which one is found by rendering it with
    a marker in that field.
    """
    inputs = {}
    for name in credential_type["injectors"].get("env", {}):
        if name not in env:
            continue
        field_id = injected_field(credential_type, name)
        inputs[field_id] = env[name]
    return inputs


def injected_field(credential_type: dict, variable: str) -> str:
    """The one input field whose value ``variable`` carries."""
    template = ImmutableSandboxedEnvironment().from_string(credential_type["injectors"]["env"][variable])
    carriers = [field_id for field_id in fields(credential_type) if "\x1e" in template.render(**{field_id: "\x1e"})]
    if len(carriers) != 1:
        raise AssertionError(f"{variable} carries {carriers or 'no field'}, not exactly one field")
    return carriers[0]


# -- surveys (awx/api/views: JobTemplateSurveySpec.post, and SurveyJobTemplateMixin in awx/main/models/mixins.py) ---------------

SURVEY_TYPES = {"text": str, "textarea": str, "password": str, "integer": int, "float": (int, float), "multiplechoice": str, "multiselect": list}


def survey_problems(survey: dict) -> list[str]:
    """What AWX refuses when a survey spec is saved."""
    found = [f"missing key {key!r}" for key in ("name", "description", "spec") if key not in survey]
    variables = set()
    for index, question in enumerate(survey.get("spec", [])):
        found += [f"question {index}: missing {key!r}" for key in ("type", "question_name", "variable", "required") if key not in question]
        kind = question.get("type")
        if kind not in SURVEY_TYPES:
            found.append(f"question {index}: type {kind!r} is not one of {sorted(SURVEY_TYPES)}")
            continue
        if question.get("variable") in variables:
            found.append(f"question {index}: variable {question.get('variable')!r} is asked twice")
        variables.add(question.get("variable"))
        if kind in ("multiplechoice", "multiselect") and not question.get("choices"):
            found.append(f"question {index}: a {kind} question needs choices")
        default = question.get("default")
        if default not in (None, "") and kind == "integer" and (isinstance(default, bool) or not isinstance(default, int)):
            found.append(f"question {index}: the default {default!r} is not an integer")
    return found


def survey_answer_problems(question: dict, value) -> list[str]:
    """What AWX says of ``value`` as the answer to ``question`` (survey_variable_validation)."""
    name, kind = question["variable"], question["type"]
    if isinstance(value, bool) or not isinstance(value, SURVEY_TYPES[kind]):
        return [f"{name}: {value!r} is not an answer of type {kind}"]
    size = len(value) if isinstance(value, str) else value
    if kind in ("text", "textarea", "password", "integer", "float"):
        if "min" in question and size < question["min"]:
            return [f"{name}: {value!r} is below the minimum {question['min']}"]
        if "max" in question and size > question["max"]:
            return [f"{name}: {value!r} is above the maximum {question['max']}"]
    if kind == "multiplechoice" and value not in question["choices"]:
        return [f"{name}: {value!r} is not a choice"]
    if kind == "multiselect" and not set(value) <= set(question["choices"]):
        return [f"{name}: {value!r} holds values that are not choices"]
    return []


def survey_extra_vars(survey: dict, answers: dict) -> dict:
    """The extra variables a launch with ``answers`` gets: each question's answer, or its default when it has one; refused as AWX refuses."""
    extra_vars, found = {}, []
    for question in survey["spec"]:
        name = question["variable"]
        if name in answers:
            value = answers[name]
        elif question.get("default") not in (None, ""):
            value = question["default"]
        else:
            if question["required"]:
                found.append(f"{name}: value missing")
            continue
        found += survey_answer_problems(question, value)
        extra_vars[name] = value
    if found:
        raise ValueError("; ".join(found))
    return extra_vars
