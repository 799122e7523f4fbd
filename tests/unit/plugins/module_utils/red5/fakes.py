# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Red5 unit tests share: the token, the Stream Manager url and the parameters each module hands its work."""

from __future__ import annotations

import json

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.red5 import args
from tests.unit.plugins.module_utils.spec import validated

TOKEN = "s3cr3t-admin-T0ken"
URL = "http://sm.example.com:5080"


def info_params(**raw) -> dict:
    """red5_stream_info's parameters (``url`` unless given); invalid ones raise the StreamingError the module would fail the task with."""
    return validated(args.STREAM_INFO_MODULE_KWARGS, {"url": URL, **raw}, StreamingError)


def registry_params(**raw) -> dict:
    """red5_stream_registry's parameters, as info_params."""
    return validated(args.STREAM_REGISTRY_MODULE_KWARGS, {"url": URL, **raw}, StreamingError)


class FakeResponse:
    """The parts of requests.Response the clients read: the status, the headers and the body as bytes."""

    def __init__(self, status=200, body="", content_type="application/json"):
        self.status_code = status
        if isinstance(body, bytes):
            self.content = body
        else:
            self.content = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
        self.headers = {"Content-Type": content_type} if content_type else {}
