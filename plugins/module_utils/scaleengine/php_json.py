# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request text encoded byte for byte as PHP's ``json_encode`` with default flags, and the bounds on what may be encoded.

ScaleEngine verifies a signature over the PHP encoding of the request
(docs/scaleengine.md, "Signing, retries and failures"); Python's
``json.dumps`` gives other bytes, so the requests have their own encoder.
"""

from __future__ import annotations

import re

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import MAX_JSON_DEPTH, size_text

# The largest request sent (docs/scaleengine.md, "Limits on what is sent").
MAX_REQUEST_BYTES = 1024 * 1024

# The integers a PHP array holds exactly (64 bits); json_decode turns a larger
# one into a float, which re-encodes differently (docs/scaleengine.md).
_PHP_INT_MIN = -(2**63)
_PHP_INT_MAX = 2**63 - 1
# Object keys that PHP's json_decode(..., true) turns into integer keys: an
# object keyed "0", "1", ... in order re-encodes as a list (docs/scaleengine.md).
_PHP_INTEGER_KEY = re.compile(r"^(0|-?[1-9][0-9]*)$")

# json_encode's short escapes (docs/scaleengine.md, "Signing, retries and failures"): `/` is escaped, DEL is not.
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _refuse(path: str, problem: str) -> StreamingError:
    return StreamingError(
        f"cannot sign field {path}: {problem}",
        advice="ScaleEngine verifies the signature after decoding and re-encoding the request in PHP, so values that do not survive "
        "that round trip could never verify; pass such values as strings",
    )


def too_deep(path: str) -> StreamingError:
    """The error for a value nested more than ``MAX_JSON_DEPTH`` levels."""
    return StreamingError(
        f"{path} nests lists and objects more than {MAX_JSON_DEPTH} levels deep",
        advice="ScaleEngine commands take flat fields; pass the value with less nesting, or as a JSON string",
    )


def too_large(problem: str) -> StreamingError:
    """The error for a request above ``MAX_REQUEST_BYTES``."""
    return StreamingError(
        f"the request is too large to send: {problem}",
        advice=f"ScaleEngine commands take short fields; a request may have at most {size_text(MAX_REQUEST_BYTES)}, so check the values passed",
    )


def _php_string(text: str, path: str) -> str:
    pieces = ['"']
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            pieces.append(_SHORT_ESCAPES[char])
        elif code < 0x20:
            pieces.append(f"\\u{code:04x}")
        elif code < 0x80:  # printable ASCII and DEL stay raw
            pieces.append(char)
        elif 0xD800 <= code <= 0xDFFF:
            # A lone surrogate (undecodable bytes kept with surrogateescape) is
            # not UTF-8, and PHP's json_encode and json_decode refuse text that is not.
            raise _refuse(path, "the text is not valid UTF-8 (it contains a lone surrogate)")
        elif code > 0xFFFF:
            code -= 0x10000
            pieces.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            pieces.append(f"\\u{code:04x}")
    pieces.append('"')
    return "".join(pieces)


def _php_scalar(value, path: str) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not _PHP_INT_MIN <= value <= _PHP_INT_MAX:
            raise _refuse(path, f"the integer {value} does not fit in 64 bits (PHP would turn it into a float)")
        return str(value)
    if isinstance(value, float):
        raise _refuse(path, f"{value!r} is a floating-point number, which PHP re-encodes in its own notation")
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse(path, "the bytes are not valid UTF-8") from None
    if isinstance(value, str):
        return _php_string(value, path)
    raise _refuse(path, f"values of type {type(value).__name__} cannot be sent")


def _php_object(value: dict, path: str, depth: int) -> str:
    if not value:
        raise _refuse(path, "an empty object becomes an empty list ([]) in PHP; leave the field out or pass []")
    keys = list(value)
    for key in keys:
        if not isinstance(key, str):
            raise _refuse(path, f"the key {key!r} is not a string")
    if [_PHP_INTEGER_KEY.match(key) and int(key) for key in keys] == list(range(len(keys))) and keys[0] == "0":
        raise _refuse(path, 'an object whose keys are "0", "1", ... in order becomes a list in PHP; pass a list instead')
    members = (_php_string(key, path) + ":" + php_json_encode(item, f"{path}.{key}", depth + 1) for key, item in value.items())
    return "{" + ",".join(members) + "}"


def php_json_encode(value, path: str = "request", depth: int = 0) -> str:
    """``value`` encoded byte for byte as PHP's ``json_encode($value)`` with default flags.

    Refuses (:class:`StreamingError`) values whose PHP round trip
    (``json_encode(json_decode($text, true))``) would change the text: floats,
    empty objects, objects whose keys PHP turns into list indexes, integers
    beyond 64 bits and text that is not valid UTF-8; and lists or objects
    nested more than ``MAX_JSON_DEPTH`` levels (``depth`` is how many enclose
    ``value``), before the recursion could exhaust the stack.
    """
    if not isinstance(value, (dict, list, tuple)):
        return _php_scalar(value, path)
    if depth >= MAX_JSON_DEPTH:
        raise too_deep(path)
    if isinstance(value, dict):
        return _php_object(value, path, depth)
    return "[" + ",".join(php_json_encode(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)) + "]"


def check_request_fields(fields: dict, prefix: str = "") -> None:
    """Refuse request fields nested too deeply or too large to send, without recursing and before any encoding.

    The encoder and PHP's json_encode recurse once per level, and encoding
    runs character by character, so a huge or deeply nested value from a
    playbook must be refused before either sees it. The size counted here is
    a lower bound of the encoded size (escapes only lengthen it); the exact
    size is checked again once encoded.
    """
    size = 2
    pending = [(fields, prefix.rstrip("."), 1)]
    while pending:
        container, path, level = pending.pop()
        if level > MAX_JSON_DEPTH:
            raise too_deep(path or "the request")
        is_object = isinstance(container, dict)
        for key, item in container.items() if is_object else enumerate(container):
            size += (len(str(key)) + 4) if is_object else 1
            if isinstance(item, (dict, list, tuple)):
                size += 2
                pending.append((item, (f"{path}.{key}" if path else str(key)) if is_object else f"{path}[{key}]", level + 1))
            else:
                size += len(item) + 2 if isinstance(item, (str, bytes)) else 8
            if size > MAX_REQUEST_BYTES:
                raise too_large(f"{prefix.rstrip('.') or 'the fields'} hold more than {size_text(MAX_REQUEST_BYTES)} of text")
