"""SMIL documents of the publishing point API reference, for the Unified Streaming tests.

Reference: https://docs.unified-streaming.com/documentation/live/publishing-point-api.html

The reference's examples are kept verbatim, one file each, in ``usp_api_reference/``
beside this module: their layout (the default manifest one element a line, the
answers one attribute a line) is part of what the parser and the emulator must read.
"""

from __future__ import annotations

from pathlib import Path

API_REFERENCE_DIR = Path(__file__).resolve().parent / "usp_api_reference"


def api_reference_example(name: str) -> str:
    """The reference's example ``name``: ``create`` (the default manifest of a new live point), ``state``, ``statistics``, ``archive``."""
    return (API_REFERENCE_DIR / f"{name}.smil").read_text(encoding="utf-8")


def default_manifest(name: str = "channel00", archiving: str = "false") -> str:
    """The reference's default manifest (``mp4split -o <name>.isml``) for the point ``name``, with ``archiving`` in its head."""
    text = api_reference_example("create")
    return text.replace('content="channel00.ismc"', f'content="{name}.ismc"').replace(
        '<meta name="archiving" content="false" />', f'<meta name="archiving" content="{archiving}" />'
    )
