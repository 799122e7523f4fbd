# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""scaleengine/signing.py: the exact bytes signed and posted, against the measured PHP test vectors."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.php_json import php_json_encode
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.signing import build_request, sign_request, signed_body
from tests.unit.plugins.module_utils.scaleengine.fakes import API_KEY, CDN, SECRET, TIMESTAMP, VECTORS, hmac_b64


@pytest.mark.parametrize(("command", "fields", "cdn", "text", "signature"), VECTORS, ids=["1-close", "2-push", "3-slash", "4-unicode", "5-cdn-string"])
def test_vectors(command, fields, cdn, text, signature):
    request = build_request(command, fields, API_KEY, cdn, TIMESTAMP)
    assert php_json_encode(request) == text
    assert sign_request(request, SECRET) == signature


def test_wrong_variants_differ():
    """What other clients get wrong gives the measured wrong signatures, never the right one."""
    request3 = build_request("viewer.live", VECTORS[2][1], API_KEY, CDN, TIMESTAMP)
    raw_slash = php_json_encode(request3).replace("\\/", "/")
    assert hmac_b64(raw_slash) == "Na8I8pERz5VHwT5ysGAfuMY46glfhHFRJ60Wik7PLGs="
    assert hmac_b64(raw_slash) != sign_request(request3, SECRET)

    request4 = build_request("stream.details", VECTORS[3][1], API_KEY, CDN, TIMESTAMP)
    raw_utf8 = json.dumps(request4, separators=(",", ":"), ensure_ascii=False)
    assert hmac_b64(raw_utf8) == "EKJVwQy2gyrwpI/Z9pNhoSpNllLiNvB/z96ACxppEp0="
    assert hmac_b64(raw_utf8) != sign_request(request4, SECRET)

    # Python's json.dumps default (spaces) and a hex-decoded secret differ too.
    request1 = build_request(*VECTORS[0][:2], API_KEY, CDN, TIMESTAMP)
    assert hmac_b64(json.dumps(request1)) != VECTORS[0][4]
    assert hmac_b64(VECTORS[0][3], bytes.fromhex(SECRET)) != VECTORS[0][4]
    # Key order is part of what is signed.
    reordered = dict(reversed(list(request1.items())))
    assert sign_request(reordered, SECRET) != VECTORS[0][4]


def test_signature_is_padded_base64_of_the_raw_digest():
    signature = sign_request(build_request(*VECTORS[0][:2], API_KEY, CDN, TIMESTAMP), SECRET)
    assert len(signature) == 44 and signature.endswith("=")
    assert len(base64.b64decode(signature)) == 32


def test_signed_body_puts_the_signature_last_with_escaped_slashes():
    request = build_request("viewer.live", VECTORS[2][1], API_KEY, CDN, TIMESTAMP)
    body = signed_body(request, SECRET)
    assert body == VECTORS[2][3][:-1] + ',"signature":"W5Qiw7g4SUm0lI\\/1dA8XM2YDHiOShSmCU0lRPJbQNhY="}'
    assert list(json.loads(body))[-1] == "signature"
    assert "signature" not in request  # the caller's request is not modified


def test_build_request_order_and_reserved_fields():
    request = build_request("stream.close", {"stream": "s", "app": "a"}, API_KEY, CDN, 5)
    assert list(request) == ["command", "api_key", "timestamp", "cdn", "stream", "app"]
    for name in ("signature", "api_key", "timestamp", "cdn", "command"):
        with pytest.raises(StreamingError, match=name):
            build_request("stream.close", {name: "x"}, API_KEY, CDN, 5)
