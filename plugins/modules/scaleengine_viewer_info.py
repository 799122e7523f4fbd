#!/usr/bin/python
# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scaleengine_viewer_info
short_description: Live viewer counts from ScaleEngine
version_added: 0.1.0
description:
  - Reads live viewer data for streams and videos with the signed C(viewer.live) API command. Never changes anything.
  - Values with C(/) (VOD paths) and non-ASCII characters are signed the way the API verifies them; values with control
    characters are refused before any request.
  - The records are returned as the API sent them. An answer over 8 MiB or nested more than 32 levels deep, or whose C(data)
    is not a list of records, fails the task with a message that says what is wrong.
author: mediaops.streaming contributors (@mediaops)
extends_documentation_fragment:
  - mediaops.streaming.attributes
  - mediaops.streaming.scaleengine
  - mediaops.streaming.connection
attributes:
  check_mode:
    support: full
    details: The module only reads, so it runs normally in check mode.
  diff_mode:
    support: none
options:
  app:
    description:
      - The application(s) to report on, each as its name (V(demo-origin)) or its unique id (an integer).
      - A list of names and ids reports on several applications.
    type: raw
    required: true
  url:
    description:
      - Limits the report to streams or videos, each as a stream name or a VOD path (V(sestore3/username/path/filename.mp4)).
      - Several can be given separated by C(|), or as a list; C(*) is a wildcard (V(mystream_*) matches V(mystream_720p)).
      - When not set, all streams and videos of the application(s) are reported.
    type: raw
notes:
  - The reference names the account field C(cdn_id) for this command but its example sends C(cdn); the module sends C(cdn),
    as the example and the signature test vectors do.
seealso:
  - module: mediaops.streaming.scaleengine_command
"""

EXAMPLES = r"""
- name: Viewers of every stream of an application
  mediaops.streaming.scaleengine_viewer_info:
    cdn: 158
    api_key: "{{ scaleengine_api_key }}"
    api_secret: "{{ scaleengine_api_secret }}"
    app: demo-origin
  delegate_to: localhost
  register: viewers

- name: Viewers of all renditions of one stream and of a VOD file, in two applications
  mediaops.streaming.scaleengine_viewer_info:
    app: [demo-origin, 42]
    url:
      - mystream_*
      - sestore3/username/path/filename.mp4
  delegate_to: localhost
  register: viewers

- name: Show the total
  ansible.builtin.debug:
    msg: "{{ viewers.viewers | map(attribute='viewer_count_sum') | sum }} viewers"
"""

RETURN = r"""
viewers:
  description: The viewer records as the API returned them (an empty list when nobody is watching).
  returned: success
  type: list
  elements: dict
  contains:
    app:
      description: The application name.
      type: str
      sample: demo-origin
    video_url:
      description: The stream name or VOD path.
      type: str
      sample: sestore3/username/path/filename.mp4
    viewer_count_avg:
      description: Average number of viewers.
      type: int
      sample: 20
    viewer_count_min:
      description: Minimum number of viewers.
      type: int
      sample: 10
    viewer_count_max:
      description: Maximum number of viewers.
      type: int
      sample: 30
    viewer_count_sum:
      description: Total number of viewers.
      type: int
      sample: 100
message:
  description: The API's message.
  returned: success
  type: str
  sample: Found live viewers
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mediaops.streaming.plugins.module_utils.runner import run_module
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine import args
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.viewer import viewer_info


def main():
    module = AnsibleModule(supports_check_mode=True, **args.VIEWER_INFO_MODULE_KWARGS)
    run_module(module, viewer_info)


if __name__ == "__main__":
    main()
