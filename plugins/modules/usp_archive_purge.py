#!/usr/bin/python
# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: usp_archive_purge
short_description: Purge all or part of the archive of a Unified Streaming publishing point
version_added: 0.1.0
description:
  - Purges archived media of a USP live publishing point with a C(POST) to C({name}.isml/purge?t=...) on the origin virtual
    host (O(origin_url)).
  - Reads C(/archive) first; when nothing archived falls in the window, reports no change and sends no C(POST). After a purge
    it reads the archive again and returns both.
  - Purges of long archives take many minutes, so O(timeout) defaults to 1800 seconds here.
author: mediaops.streaming contributors (@mediaops)
extends_documentation_fragment:
  - mediaops.streaming.attributes
  - mediaops.streaming.usp.server
  - mediaops.streaming.usp
  - mediaops.streaming.connection
attributes:
  check_mode:
    support: full
    details: Reads the archive and predicts RV(archive_after) by trimming the window out of it; sends no C(POST).
  diff_mode:
    support: full
    details:
      - Shows the archive before and after the purge (after as read back from the server; in check mode, the prediction), as
        C(archive) lists per track under the URL of the publishing point.
options:
  all:
    description:
      - Purge the whole archive (C(t=0)). After the purge the archive should be empty; a warning says so when an encoder is
        still adding media.
      - Set exactly one of O(all=true), O(keep), or O(start) with O(end); O(all=false) is refused.
    type: bool
  keep:
    description:
      - Keep this much of the newest archive and purge everything older, as C(HH:MM:SS); hours may exceed 24 (V(48:00:00) keeps
        two days).
      - The module measures the kept duration back from the newest archived media to decide whether anything would be purged.
    type: str
  start:
    description:
      - Start of the range to purge, with O(end). Either an offset C(HH:MM:SS) on the media timeline (zero is
        1970-01-01T00:00:00Z, as in USP's examples) or an ISO 8601 time such as V(2026-11-23T10:00:00Z).
    type: str
  end:
    description: End of the range to purge, with O(start), in the same forms.
    type: str
  timeout:
    description: Seconds to wait for each request; purges of long archives are slow.
    type: float
    default: 1800
notes:
  - USP purges whole archive segment files (C(archive_segment_length)); media in a segment that straddles the edge of the
    window stays, and a later run with the same window then purges it (and reports a change) once the segment lies fully in it.
  - Only O(origin_url) is used; O(api_url) is ignored.
  - O(name) and O(base_path) are checked before any request, as for M(mediaops.streaming.usp_publishing_point). The C(/archive)
    answer is parsed without entity expansion, DTD loading or network access, and refused when it has a C(<!DOCTYPE>) or is over
    50 MiB.
seealso:
  - module: mediaops.streaming.usp_publishing_point_info
  - name: Purge part of an archive
    description: USP's documentation of the purge call.
    link: https://docs.unified-streaming.com/documentation/live/publishing-point-api.html#purge-part-of-an-archive
"""

EXAMPLES = r"""
- name: Purge the whole archive of a channel
  mediaops.streaming.usp_archive_purge:
    origin_url: http://live.example.com
    name: channel00
    all: true
  delegate_to: localhost

- name: Keep only the last two days
  mediaops.streaming.usp_archive_purge:
    origin_url: http://live.example.com
    name: channel00
    keep: "48:00:00"
  delegate_to: localhost

- name: Remove one morning
  mediaops.streaming.usp_archive_purge:
    origin_url: http://live.example.com
    name: channel00
    start: "2026-11-23T06:00:00Z"
    end: "2026-11-23T12:00:00Z"
  delegate_to: localhost
"""

RETURN = r"""
url:
  description: URL of the publishing point on the origin virtual host.
  returned: always
  type: str
  sample: http://live.example.com/channel00/channel00.isml
t:
  description: The C(t) value of the purge (sent, or that would be sent).
  returned: always
  type: str
  sample: "0"
archive_before:
  description: The archive before the purge, per track (as RV(mediaops.streaming.usp_publishing_point_info#module:publishing_point.archive)).
  returned: always
  type: list
  elements: dict
  sample: [{src: channel00-video.ismv, type: video, track_id: 1, track_name: video,
            ranges: [{start: "2026-11-23T10:00:00.000000Z", end: "2026-11-23T10:15:00.000000Z"}]}]
archive_after:
  description: The archive after the purge as read back from the server; in check mode, the prediction.
  returned: always
  type: list
  elements: dict
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mediaops.streaming.plugins.module_utils.runner import run_module
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import args
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.archive_purge import purge_archive


def main():
    module = AnsibleModule(supports_check_mode=True, **args.ARCHIVE_PURGE_MODULE_KWARGS)
    run_module(module, purge_archive, requires=("requests", "lxml"))


if __name__ == "__main__":
    main()
