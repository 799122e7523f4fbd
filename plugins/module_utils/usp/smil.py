# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SMIL server manifests and origin answers: safe parsing, building, normalising, comparing.

Unified Streaming speaks SMIL everywhere: the publishing point API reads and
writes a server manifest (``.isml``) whose ``<head>`` holds the playout
options as ``<meta name content>`` and whose ``<body>`` lists the tracks, and
the origin answers ``/state``, ``/statistics`` and ``/archive`` with SMIL
documents of the same shape. Everything here works on lxml elements and plain
dicts; nothing talks HTTP and nothing decides ``changed``.

XML from a server or a user is untrusted: parsing never expands entities,
never loads a DTD, never touches the network, and refuses oversized documents
and documents with a DOCTYPE (which is where entities and external DTDs are
declared; SMIL server manifests have none).
"""

from __future__ import annotations

import copy
import math
import re
import traceback
from collections import Counter

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError

try:
    from lxml import etree
except ImportError:
    HAS_LXML = False
    LXML_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_LXML = True
    LXML_IMPORT_ERROR = None

SMIL_NAMESPACE = "http://www.w3.org/2001/SMIL20/Language"

# The API answers HTTP 413 to a server manifest over 50 megabytes (API
# reference, Create/Update), so nothing larger is worth parsing or sending.
MAX_SMIL_BYTES = 50 * 1024 * 1024

# Head metas the server writes itself on creation (the reference's default
# SMIL); what it puts there is its business, so they are never compared.
SERVER_MANAGED_OPTIONS = frozenset({"creator", "clientManifestRelativePath"})

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
CREATED_WITH_COMMENT = "<!-- Created with mediaops.streaming -->"

# Elements that group tracks in a SMIL body; they are walked, not reported.
_CONTAINERS = frozenset({"body", "switch", "par", "seq", "excl"})
# Elements that describe a track (or the document) rather than being one.
_NOT_TRACKS = frozenset({"param", "c", "meta"})
_OPTION_NAME = re.compile(r"[A-Za-z0-9_.-]+")

# A DOCTYPE is how billion-laughs (nested internal entities), XXE (external
# entities such as SYSTEM "file:///etc/passwd") and external DTDs get into a
# document. mp4split and USP write SMIL without one, so any DOCTYPE is refused.
# The marker is searched in the raw bytes before libxml2 sees them, in every
# encoding an XML document can be sent in without a declaration; the parsed
# tree is checked again for the rest.
_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_DOCTYPE_MARKERS = tuple("<!DOCTYPE".encode(encoding) for encoding in _ENCODINGS)
# Messages quote names from the document (a tag, a parser's complaint); a
# hostile document must not be able to make a message megabytes long.
_QUOTE_LIMIT = 200


def _require_lxml() -> None:
    if not HAS_LXML:
        raise StreamingError("The Python library lxml is required to handle SMIL documents")


def _localname(element) -> str | None:
    """The tag without its namespace; None for comments, processing instructions and entities."""
    tag = element.tag
    if not isinstance(tag, str):
        return None
    return tag.rpartition("}")[2]


def _namespace(element) -> str | None:
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].partition("}")[0]
    return None


def _root_of(root):
    """Accept an element or an ElementTree."""
    if hasattr(root, "getroot"):
        return root.getroot()
    return root


def _has_doctype(data: bytes) -> bool:
    return any(marker in data for marker in _DOCTYPE_MARKERS)


def _doctype_refusal(source: str) -> StreamingError:
    return StreamingError(
        f"{source} has a DOCTYPE declaration and was refused without being expanded or loaded: a DOCTYPE is where entities "
        "(billion laughs, external entities such as file:///etc/passwd) and external DTDs are declared, and SMIL server manifests "
        "need none (mp4split writes none); remove the <!DOCTYPE ...> declaration"
    )


def _quoted(text) -> str:
    text = str(text)
    return text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT] + "..."


def check_smil_size(size: int, source: str, sending: bool = False) -> None:
    """Refuse a SMIL document of ``size`` bytes above :data:`MAX_SMIL_BYTES` (USP answers HTTP 413 to those)."""
    if size > MAX_SMIL_BYTES:
        raise StreamingError(
            f"{source} is {size} bytes, more than the limit of {MAX_SMIL_BYTES} bytes (USP refuses server manifests over 50 MB with HTTP 413)"
            + ("; it was not sent" if sending else "")
        )


def read_smil_file(path: str, source: str) -> bytes:
    """The bytes of a SMIL file, reading at most one byte more than the limit (``src`` may name /dev/zero)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SMIL_BYTES + 1)
    except OSError as exc:
        raise StreamingError(f"cannot read {source}: {exc.strerror}") from None
    if len(data) > MAX_SMIL_BYTES:
        raise StreamingError(
            f"{source} is larger than the limit of {MAX_SMIL_BYTES} bytes (USP refuses server manifests over 50 MB with HTTP 413); it was not sent"
        )
    return data


def parse_smil(text, source: str = "SMIL document"):
    """Parse untrusted SMIL ``text`` (str or bytes) and return its ``smil`` root element."""
    _require_lxml()
    if text is None:
        raise StreamingError(f"{source} is empty")
    if isinstance(text, str):
        # lxml refuses a str that carries an encoding declaration; the text is
        # already decoded, so encode it as UTF-8 and tell the parser so,
        # whatever the declaration says.
        data = text.encode("utf-8")
        encoding = "utf-8"
    elif isinstance(text, (bytes, bytearray)):
        data = bytes(text)
        encoding = None
    else:
        raise StreamingError(f"{source} must be text, not {type(text).__name__}")
    check_smil_size(len(data), source)
    if not data.strip():
        raise StreamingError(f"{source} is empty")
    if _has_doctype(data):
        raise _doctype_refusal(source)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        encoding=encoding,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise StreamingError(f"{source} is not well-formed XML: {_quoted(exc.msg or exc)}") from None
    if root is None:
        raise StreamingError(f"{source} is not well-formed XML: no root element")
    # The byte scan above cannot see every encoding a declaration may name;
    # the parsed tree is the last word.
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _doctype_refusal(source)
    if any(True for reference in root.iter(etree.Entity)):
        raise _doctype_refusal(source)
    if _localname(root) != "smil" or _namespace(root) not in (None, SMIL_NAMESPACE):
        raise StreamingError(f"{source} is not a SMIL document: its root element is {_quoted(repr(root.tag))}, expected 'smil' (namespace {SMIL_NAMESPACE})")
    return root


def _children(element, localname: str):
    return [child for child in element if _localname(child) == localname]


def find_body(root):
    """The ``<body>`` element of a parsed SMIL document, or None."""
    root = _root_of(root)
    if root is None:
        return None
    bodies = _children(root, "body")
    return bodies[0] if bodies else None


def _body_of(root_or_body):
    root_or_body = _root_of(root_or_body)
    if root_or_body is None:
        return None
    if _localname(root_or_body) == "body":
        return root_or_body
    return find_body(root_or_body)


def read_head_options(root) -> dict[str, str]:
    """``<head><meta name content>`` as a dict, in document order."""
    options = {}
    root = _root_of(root)
    for head in _children(root, "head"):
        for meta in _children(head, "meta"):
            name = meta.get("name")
            if name is None:
                continue
            options[name] = meta.get("content", "")
    return options


def _track_elements(body):
    """Media elements anywhere under ``body``, in document order, without descending into them."""
    found = []
    for child in body:
        name = _localname(child)
        if name is None or name in _NOT_TRACKS:
            continue
        if name in _CONTAINERS:
            found.extend(_track_elements(child))
        else:
            found.append(child)
    return found


def _int_or_none(value):
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _read_track(element) -> dict:
    return {
        "type": _localname(element),
        "src": element.get("src"),
        "system_bitrate": _int_or_none(element.get("systemBitrate")),
        "params": {param.get("name"): param.get("value") for param in _children(element, "param") if param.get("name") is not None},
        "ranges": [{"start": c.get("start"), "end": c.get("end")} for c in _children(element, "c")],
    }


def read_body_tracks(root) -> list[dict]:
    """One dict per media element under ``<body>``: type, src, system_bitrate, params, ranges.

    Reads server manifests as well as the origin's ``/statistics`` answer
    (params trackID, trackName, state, updated, duration) and ``/archive``
    answer (one ``<c start end>`` per contiguous archived range).
    """
    body = _body_of(root)
    if body is None:
        return []
    return [_read_track(element) for element in _track_elements(body)]


def normalise_option_name(name) -> str:
    """The head meta name for a user's option name: ``--mpd.segment_template`` -> ``mpd_segment_template``."""
    if not isinstance(name, str):
        raise StreamingError(f"Option name {name!r} must be a string, not {type(name).__name__}")
    stripped = name.removeprefix("--")
    if not stripped:
        raise StreamingError(f"Option name {name!r} is empty")
    if not _OPTION_NAME.fullmatch(stripped):
        raise StreamingError(f"Option name {name!r} may contain only letters, digits, '_', '.' and '-' (no whitespace)")
    # mp4split options become head metas with '.' replaced by '_' (docs/usp.md, "What the modules decide").
    return stripped.replace(".", "_")


def normalise_option_value(value) -> str:
    """A head meta value as the server stores it: ``True`` -> ``"true"``, ``60`` -> ``"60"``, ``None`` -> ``"true"``."""
    # bool before int: True is an int in Python and would become "1".
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        # mp4split flags such as --restart_on_encoder_reconnect take no value (docs/usp.md).
        return "true"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StreamingError(f"Option value {value!r} is not a finite number")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value.strip()
    raise StreamingError(f"Option value of type {type(value).__name__} is not supported; use a string, number, boolean or null")


def normalise_options(options) -> dict[str, str]:
    """Normalise names and values; refuse two spellings of one option with different values."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise StreamingError(f"Options must be a dict of name: value, not {type(options).__name__}")
    normalised = {}
    spelled = {}
    for key, value in options.items():
        name = normalise_option_name(key)
        try:
            text = normalise_option_value(value)
        except StreamingError as exc:
            raise StreamingError(f"Option {key!r}: {exc.message}") from None
        if name in normalised and normalised[name] != text:
            raise StreamingError(f"Options {spelled[name]!r} and {key!r} both mean {name!r} but have different values ({normalised[name]!r} and {text!r})")
        normalised.setdefault(name, text)
        spelled.setdefault(name, key)
    return normalised


def default_head_options(name: str) -> dict[str, str]:
    """The head of the reference's default SMIL (what ``mp4split -o name.isml`` writes), in its order."""
    return {
        "clientManifestRelativePath": f"{name}.ismc",
        "creator": "Unified Streaming Platform (USP)",
        "lookahead_fragments": "2",
        "dvr_window_length": "30",
        "archive_cmaf": "false",
        "archive_segment_length": "0",
        "archiving": "false",
    }


def _qualified(localname: str) -> str:
    return f"{{{SMIL_NAMESPACE}}}{localname}"


def _adopt_body(body):
    """A deep copy of ``body`` with un-namespaced elements moved into the SMIL namespace."""
    if _localname(body) != "body":
        raise StreamingError(f"Expected a SMIL <body> element, got {body.tag!r}")
    adopted = copy.deepcopy(body)
    # A body from a manifest without xmlns would otherwise be written with
    # xmlns="" inside our namespaced <smil>, which is a different document.
    for element in adopted.iter():
        if isinstance(element.tag, str) and _namespace(element) is None:
            element.tag = _qualified(element.tag)
    return adopted


def render_smil(head_options: dict, body=None) -> str:
    """A complete server manifest: declaration, comment, head metas in dict order, and ``body`` (default: an empty switch)."""
    _require_lxml()
    root = etree.Element(_qualified("smil"), nsmap={None: SMIL_NAMESPACE})
    head = etree.SubElement(root, _qualified("head"))
    for name, content in (head_options or {}).items():
        text = content if isinstance(content, str) else normalise_option_value(content)
        meta = etree.SubElement(head, _qualified("meta"))
        try:
            meta.set("name", str(name))
            meta.set("content", text)
        except ValueError as exc:
            # lxml refuses control characters XML cannot carry.
            raise StreamingError(f"Option {name!r} cannot be written to a SMIL document: {exc}") from None
    if body is None:
        # The reference's default SMIL has an empty <switch> in its body.
        etree.SubElement(etree.SubElement(root, _qualified("body")), _qualified("switch"))
    else:
        root.append(_adopt_body(body))
    etree.cleanup_namespaces(root)
    etree.indent(root, space="  ")
    document = etree.tostring(root, encoding="unicode", pretty_print=True)
    return f"{XML_DECLARATION}\n{CREATED_WITH_COMMENT}\n{document.rstrip()}\n"


def build_manifest(name: str, options) -> str:
    """The default manifest for publishing point ``name`` with the user's ``options`` applied."""
    head = default_head_options(name)
    # dict.update keeps a default's position and appends new keys in the user's order.
    head.update(normalise_options(options))
    return render_smil(head, None)


def _as_root(text_or_root, source: str):
    if isinstance(text_or_root, (str, bytes, bytearray)):
        return parse_smil(text_or_root, source)
    root = _root_of(text_or_root)
    if root is None:
        raise StreamingError(f"{source} is empty")
    return root


def _drop_keeping_tail(node) -> None:
    """Remove a comment or processing instruction without losing the text after it."""
    parent = node.getparent()
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def _canonical_body(body):
    """A copy of ``body`` without comments, surrounding whitespace or attribute-order differences."""
    cleaned = copy.deepcopy(body)
    for node in list(cleaned.iter(etree.Comment, etree.ProcessingInstruction)):
        _drop_keeping_tail(node)
    for element in cleaned.iter():
        element.text = (element.text or "").strip() or None
        element.tail = (element.tail or "").strip() or None
        attributes = sorted(element.attrib.items())
        element.attrib.clear()
        for key, value in attributes:
            element.set(key, value)
    return cleaned


def canonical_manifest(text_or_root, source: str = "SMIL document") -> str:
    """Re-render a manifest so that documents differing only in formatting, comments or attribute order are equal."""
    root = _as_root(text_or_root, source)
    body = find_body(root)
    return render_smil(read_head_options(root), None if body is None else _canonical_body(body))


def head_differences(current: dict, desired: dict, ignore=SERVER_MANAGED_OPTIONS) -> dict:
    """``{name: {"before", "after"}}`` for each desired option whose value the server does not already have.

    Only what the user asked for is compared: options only on the server are
    not differences, and server-managed options are ignored.
    """
    ignore = frozenset(ignore or ())
    current = current or {}
    changes = {}
    for name, value in normalise_options(desired).items():
        if name in ignore:
            continue
        before = current.get(name)
        if before is None or str(before).strip() != value:
            changes[name] = {"before": before, "after": value}
    return changes


def merge_head(current: dict, desired: dict) -> dict:
    """The server's head with the user's options applied: current order, new options appended."""
    merged = dict(current or {})
    merged.update(normalise_options(desired))
    return merged


def _track_signature(element) -> tuple:
    attributes = tuple(sorted((key, value.strip()) for key, value in element.attrib.items()))
    params = tuple(sorted(((param.get("name") or "").strip(), (param.get("value") or "").strip()) for param in _children(element, "param")))
    ranges = tuple(((c.get("start") or "").strip(), (c.get("end") or "").strip()) for c in _children(element, "c"))
    return (_localname(element), attributes, params, ranges)


def body_signature(root_or_body) -> tuple:
    """An order-insensitive, whitespace-insensitive, hashable description of the body's tracks.

    Containers are not part of it, so an empty ``<switch/>`` equals no body.
    """
    body = _body_of(root_or_body)
    if body is None:
        return ()
    return tuple(sorted(_track_signature(element) for element in _track_elements(body)))


def _describe_track(signature: tuple) -> str:
    kind, attributes, params, ranges = signature
    values = dict(attributes)
    # src and systemBitrate identify a track for a human; the rest follows in name order.
    order = [key for key in ("src", "systemBitrate") if key in values] + [key for key in sorted(values) if key not in ("src", "systemBitrate")]
    words = [f"track {kind}"]
    for key in order:
        value = values[key]
        words.append(f"{key}={value}" if value.isdigit() else f"{key}={value!r}")
    if params:
        words.append("[" + ", ".join(f"{name}={value!r}" for name, value in params) + "]")
    if ranges:
        words.append("ranges " + ", ".join(f"{start}-{end}" for start, end in ranges))
    return " ".join(words)


def body_differences(current_root, desired_root) -> list[str]:
    """Human-readable differences between the tracks on the server and in the desired manifest; empty when equal."""
    current = Counter(body_signature(current_root))
    desired = Counter(body_signature(desired_root))
    missing = sorted((desired - current).elements())
    extra = sorted((current - desired).elements())
    return [f"{_describe_track(track)} is in the desired manifest but not on the server" for track in missing] + [
        f"{_describe_track(track)} is on the server but not in the desired manifest" for track in extra
    ]


def describe_head_changes(changes: dict) -> str:
    """``archiving: 'false' -> 'true', dvr_window_length: '30' -> '60'``, sorted by name."""

    def show(value):
        return "(unset)" if value is None else repr(value)

    return ", ".join(f"{name}: {show(change.get('before'))} -> {show(change.get('after'))}" for name, change in sorted(changes.items()))
