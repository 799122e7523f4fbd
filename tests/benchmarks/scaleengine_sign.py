"""Sign one ScaleEngine API request and print the text to post as its ``json`` form field.

The benchmark's baseline (``uri_restart.yml``) calls this the way a careful
user without the collection would: the request ``command``, ``api_key``,
``timestamp``, ``cdn``, then the command's fields, encoded byte for byte as
PHP's ``json_encode`` with default flags (no spaces, ``\\/``, lowercase
``\\uXXXX`` with surrogate pairs for non-ASCII, DEL raw), signed with
HMAC-SHA256 keyed by the secret string as it is, the padded base64 digest
added as the last key ``signature``, and the whole encoded the same way again
(docs/scaleengine.md, "Signing, retries and failures").

    python scaleengine_sign.py stream.close app=demo-origin inst=live stream=channel01

The key, secret and CDN id come from ``SCALEENGINE_API_KEY``,
``SCALEENGINE_API_SECRET`` and ``SCALEENGINE_CDN`` (never from the command
line, where other users of the machine could read them). Field values are
strings, or integers when written ``name:=123``.

Standard library only: it does not import the collection.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import sys
import time

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ENVELOPE = ("command", "api_key", "timestamp", "cdn", "signature", "cdn_id")


def php_string(text: str) -> str:
    """``text`` as PHP's json_encode writes a string."""
    pieces = ['"']
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            pieces.append(_SHORT_ESCAPES[char])
        elif code < 0x20:
            pieces.append(f"\\u{code:04x}")
        elif code < 0x80:
            pieces.append(char)
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError("text with a lone surrogate is not UTF-8: PHP cannot encode it")
        elif code > 0xFFFF:
            code -= 0x10000
            pieces.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            pieces.append(f"\\u{code:04x}")
    pieces.append('"')
    return "".join(pieces)


def php_encode(request: dict) -> str:
    """A flat request (string and integer values) as PHP's json_encode writes it."""
    members = []
    for key, value in request.items():
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"field {key}: only strings and integers are signed here")
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise ValueError(f"field {key}: the integer does not fit in 64 bits")
        members.append(php_string(key) + ":" + (str(value) if isinstance(value, int) else php_string(value)))
    return "{" + ",".join(members) + "}"


def signed_body(command: str, fields: dict, api_key: str, secret: str, cdn: int | str, timestamp: int) -> str:
    request = {"command": command, "api_key": api_key, "timestamp": timestamp, "cdn": cdn}
    for name, value in fields.items():
        if name in _ENVELOPE:
            raise ValueError(f"field {name} is part of the envelope")
        request[name] = value
    digest = hmac.new(secret.encode("utf-8"), php_encode(request).encode("utf-8"), hashlib.sha256).digest()
    request["signature"] = base64.b64encode(digest).decode("ascii")
    return php_encode(request)


def parse_fields(arguments: list[str]) -> dict:
    fields: dict = {}
    for argument in arguments:
        if ":=" in argument:
            name, _sep, value = argument.partition(":=")
            fields[name] = int(value)
        elif "=" in argument:
            name, _sep, value = argument.partition("=")
            fields[name] = value
        else:
            raise ValueError(f"{argument!r} is neither name=text nor name:=integer")
    return fields


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        api_key, secret, cdn = (os.environ[name] for name in ("SCALEENGINE_API_KEY", "SCALEENGINE_API_SECRET", "SCALEENGINE_CDN"))
    except KeyError as exc:
        print(f"scaleengine_sign: {exc.args[0]} is not set", file=sys.stderr)
        return 2
    try:
        body = signed_body(argv[0], parse_fields(argv[1:]), api_key, secret, int(cdn) if cdn.isdigit() else cdn, int(time.time()))
    except ValueError as exc:
        print(f"scaleengine_sign: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(body + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
