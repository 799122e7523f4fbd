# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Task parameters as a module hands them to its work: validated through the module's own argument spec and constraints."""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator


def refusal(module_kwargs: dict, raw: dict) -> str:
    """The error messages of validating ``raw``, joined (empty when valid)."""
    return "; ".join(ArgumentSpecValidator(**module_kwargs).validate(raw).error_messages)


def validated(module_kwargs: dict, raw: dict, failure=AssertionError) -> dict:
    """``raw`` validated as AnsibleModule validates a task's arguments (defaults, types, constraints).

    ``module_kwargs`` is the module's own ``*_MODULE_KWARGS`` from its vendor's args.py: the
    argument spec and its constraints, exactly what the module hands to AnsibleModule.

    Invalid arguments raise ``failure`` with the joined messages: AssertionError by default, or the
    error the module would fail the task with where a test expects that.
    """
    result = ArgumentSpecValidator(**module_kwargs).validate(raw)
    if result.error_messages:
        raise failure("; ".join(result.error_messages))
    return result.validated_parameters
