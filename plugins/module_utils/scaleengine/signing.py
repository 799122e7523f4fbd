# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Requests built and signed the way ScaleEngine's PHP examples sign them.

The request without ``signature`` is encoded as PHP's ``json_encode`` does,
that text is signed with HMAC-SHA256 keyed by the secret string, and the
padded base64 digest is appended as the last key, ``signature``
(docs/scaleengine.md, "Signing, retries and failures").
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, register_secret
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.php_json import php_json_encode

# Fields the client writes itself, in this order, before the command's own
# fields; ``signature`` always comes last (docs/scaleengine.md, "Signing, retries and failures").
ENVELOPE_FIELDS = ("command", "api_key", "timestamp", "cdn")
RESERVED_FIELDS = frozenset((*ENVELOPE_FIELDS, "signature", "cdn_id"))


def sign_request(request: dict, secret: str) -> str:
    """The ``signature`` of ``request`` (which must not contain one): padded base64 HMAC-SHA256 of its PHP encoding."""
    text = php_json_encode(request)
    # The secret is used as the string it is, not hex-decoded (docs/scaleengine.md).
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def build_request(command: str, fields: dict, api_key: str, cdn, timestamp: int) -> dict:
    """The unsigned request in the order that is signed and sent: envelope, then the command's fields."""
    request = {"command": command, "api_key": api_key, "timestamp": timestamp, "cdn": cdn}
    for name, value in fields.items():
        if name in RESERVED_FIELDS:
            raise StreamingError(f"the field {name!r} is set by the module itself and cannot be passed to {command}")
        request[name] = value
    return request


def signed_body(request: dict, secret: str) -> str:
    """The text posted as the ``json`` form field: ``request`` plus its ``signature`` as the last key."""
    signed = dict(request)
    signed["signature"] = sign_request(request, secret)
    # A signature is a credential for as long as its timestamp is valid: a
    # server that quotes it in a failure message must not get it into the task's output.
    register_secret(signed["signature"])
    # Encoded the same way, so the signature's own '/' appear as '\/' (docs/scaleengine.md).
    return php_json_encode(signed)
