# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names refused before any request when they hold a control character (docs/scaleengine.md, "Limits on what is sent").

Names are sent inside the signed JSON, where a control character survives,
but no application, instance, stream or session name has one: it is a stray
newline or tab from a template or a file, and the API would look for a name
that does not exist.
"""

from __future__ import annotations

import re

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import printable

_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")
NAME_OPTIONS = ("app", "inst", "stream", "entry_name", "origin_url", "url")


def check_name(value, option: str):
    """``value`` unchanged, or :class:`StreamingError` when it is text with a control character."""
    if isinstance(value, (list, tuple)):
        for item in value:
            check_name(item, option)
        return value
    if isinstance(value, str):
        match = _CONTROL_CHARACTER.search(value)
        if match:
            raise StreamingError(
                f'{option} "{printable(value, 60, collapse=False)}" contains the control character U+{ord(match.group()):04X} at position {match.start() + 1}',
                advice="Remove it (it usually comes from a template or a file, for example a trailing newline): names never contain control characters",
            )
    return value


def check_names(params: dict, options=NAME_OPTIONS) -> None:
    """Refuse any of ``options`` in ``params`` that holds a control character."""
    for option in options:
        check_name(params.get(option), option)
