# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers the work functions share: request fields, and a state-changing command sent through ``ExecutionContext.perform``."""

from __future__ import annotations

from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.answers import is_failure, is_not_found


def request_fields(*pairs) -> dict:
    """Request fields in the given order, leaving out those the user did not set."""
    return {name: value for name, value in pairs if value is not None}


def perform_change(context, client, command: str, fields: dict) -> dict | None:
    """Send the state-changing ``command`` through ``context.perform``; its answer, or None in check mode (nothing sent).

    An answer saying that there was nothing to act on (the stream stopped, the
    session is gone: :func:`.answers.is_not_found`) leaves the task unchanged;
    any other failure raises the API's error.
    """
    answers = []

    def send():
        answer = client.send(command, fields)
        answers.append(answer)
        if is_not_found(answer):
            return False
        if is_failure(answer):
            raise client.failure(command, answer)
        return answer

    context.perform(send)
    return answers[0] if answers else None
