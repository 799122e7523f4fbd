#!/usr/bin/python
# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scaleengine_command
short_description: Send any signed ScaleEngine API command
version_added: 0.1.0
description:
  - The escape hatch for ScaleEngine API commands without a module of their own (for example C(recording.start) or
    C(pushpublish.add)). Sends O(command) with the fields in O(params), signed, and returns the decoded answer.
  - A failure answer (C(status=failure)) fails the task with the API's code and message.
  - The module cannot know whether a command changes anything, so RV(ignore:changed) is what O(changed) says.
  - In check mode the command is not sent unless O(read_only=true).
  - The module cannot know either whether a command is safe to do twice. After a failure that leaves it unknown whether the
    server got the command (the connection reset or timed out after sending, HTTP 429, 502, 503 or 504), it is sent again
    only with O(read_only=true) or for C(stream.details), C(stream.active), C(viewer.live), C(stream.close) and
    C(pushpublish.disconnect); any other command fails saying that it was not repeated, so check its effect before running
    the task again.
author: mediaops.streaming contributors (@mediaops)
extends_documentation_fragment:
  - mediaops.streaming.attributes
  - mediaops.streaming.scaleengine
  - mediaops.streaming.connection
attributes:
  check_mode:
    support: full
    details: Sends nothing in check mode unless O(read_only=true).
  diff_mode:
    support: partial
    details:
      - The module cannot read what an arbitrary command changes, so the diff only says which command is (or would be) sent,
        C(sent=false) before and C(sent=true) after. It is shown when the task reports a change (O(changed=true)).
options:
  command:
    description:
      - The API command, for example V(stream.active) or V(recording.start).
    type: str
    required: true
  params:
    description:
      - The command's own fields, sent in the order given after C(command), C(api_key), C(timestamp) and C(cdn)
        (which the module sets and which cannot appear here).
      - Values are strings, integers, booleans, null, lists and non-empty objects. Floating-point numbers, empty objects and
        objects keyed V("0"), V("1"), ... are refused, because the API re-encodes the request in PHP before verifying the
        signature and they would not come out the same; pass them as strings.
      - Note that some commands take C(app) as C(name/inst) in one field (C(recording.*)) and others separately (C(stream.*)).
      - Lists and objects may nest at most 32 levels deep (O(params) itself is the first), and the request may be at most
        1 MiB once encoded. The fields C(app), C(inst), C(stream), C(entry_name), C(origin_url) and C(url) must not contain
        control characters. All of this is checked before anything is sent, in check mode too.
    type: dict
    default: {}
  changed:
    description:
      - What to report as RV(ignore:changed) when the command succeeds (and, in check mode, what it would report).
    type: bool
    default: false
  read_only:
    description:
      - Declares that the command only reads (for example V(stream.details), V(stream.active), V(viewer.live)).
      - It is then sent in check mode too, and RV(ignore:changed) is always V(false); it cannot be combined with O(changed=true).
      - It is also sent again after a failure that left it unknown whether the server got it (see the description).
    type: bool
    default: false
seealso:
  - module: mediaops.streaming.scaleengine_stream
  - module: mediaops.streaming.scaleengine_viewer_info
"""

EXAMPLES = r"""
- name: List the active streams of an application instance
  mediaops.streaming.scaleengine_command:
    cdn: 158
    api_key: "{{ scaleengine_api_key }}"
    api_secret: "{{ scaleengine_api_secret }}"
    command: stream.active
    params:
      app: demo-origin
      inst: live
    read_only: true
  delegate_to: localhost
  register: active

- name: Start recording (a change)
  mediaops.streaming.scaleengine_command:
    command: recording.start
    params:
      app: demo-origin/live
      stream: my_live_stream
    changed: true
  delegate_to: localhost
"""

RETURN = r"""
response:
  description:
    - The API's decoded answer, all of it (C(status), C(message), C(data), C(handle_time), ...).
    - An answer over 8 MiB, nested more than 32 levels deep, with duplicate keys, C(NaN) or C(Infinity), or whose C(status)
      or C(code) is of the wrong type fails the task instead.
    - V(null) when the command was not sent (check mode without O(read_only)).
  returned: always
  type: dict
  sample:
    status: success
    message: 1 active streams
    data:
      - app: demo-origin
        inst: live
        stream: my_live_stream
        stream_id: 1000
    handle_time: 0.0034 seconds
sent:
  description: Whether the command was sent.
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mediaops.streaming.plugins.module_utils.runner import run_module
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine import args
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.command import run_command


def main():
    module = AnsibleModule(supports_check_mode=True, **args.COMMAND_MODULE_KWARGS)
    run_module(module, run_command)


if __name__ == "__main__":
    main()
