#!/usr/bin/python
# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scaleengine_stream
short_description: Close a live ScaleEngine stream
version_added: 0.1.0
description:
  - Closes a live stream on a ScaleEngine origin with the signed C(stream.close) API command, for example to make an encoder
    reconnect or, together with revoking its credentials, to shut it down.
  - Idempotent. The module first asks the API whether the stream is live (C(stream.details) for O(stream), C(stream.active) for
    O(stream_id)) and reports RV(ignore:changed=false) without closing when it is not.
  - In check mode only the read commands are sent; C(stream.close) is not.
author: mediaops.streaming contributors (@mediaops)
extends_documentation_fragment:
  - mediaops.streaming.attributes
  - mediaops.streaming.scaleengine
  - mediaops.streaming.connection
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows whether the stream is live, C(live=true) before and C(live=false) after, headed by
        C(app/inst/stream) (or C(app/inst/stream_id N)).
options:
  app:
    description:
      - The ScaleEngine application name, for example V(demo-origin).
    type: str
    required: true
  inst:
    description:
      - The application instance, for example V(live).
    type: str
    required: true
  stream:
    description:
      - The stream name.
      - Exactly one of O(stream) and O(stream_id) is required.
    type: str
  stream_id:
    description:
      - The unique id of the stream. The stream is looked up among the application instance's active streams
        (C(stream.active)) and closed by its id alone, as the API reference describes.
    type: int
  origin_url:
    description:
      - The address of the origin to call (the API's C(origin_url) field), for example V(jb-origin.secdn.net).
      - When not set the API picks its default origin for the application.
      - Not to be confused with the USP modules' O(origin_url) option.
    type: str
  state:
    description:
      - V(closed) closes the stream if it is live. Encoders may reconnect unless their authentication was revoked.
    type: str
    choices: [closed]
    default: closed
notes:
  - O(app), O(inst), O(stream) and O(origin_url) must not contain control characters (for example a trailing newline from a
    template); such a value is refused before any request.
  - An answer the module cannot read (over 8 MiB, nested more than 32 levels deep, or with C(data) or records of the wrong
    type) fails the task with a message that says what is wrong, never taking the stream for one that is not live.
  - The reference does not say what C(stream.details) answers for a stream that is not live. The module treats a success without
    data, or a failure without one of the general codes whose message says the stream is not found / not live, as not live; any
    other failure fails the task with the API's code and message.
seealso:
  - module: mediaops.streaming.scaleengine_pushpublish
  - module: mediaops.streaming.scaleengine_command
"""

EXAMPLES = r"""
- name: Close the stream so that the encoder reconnects
  mediaops.streaming.scaleengine_stream:
    cdn: 158
    api_key: "{{ scaleengine_api_key }}"
    api_secret: "{{ scaleengine_api_secret }}"
    app: demo-origin
    inst: live
    stream: my_live_stream
    state: closed
  delegate_to: localhost

- name: Close streams by id, connection options from the group defaults
  module_defaults:
    group/mediaops.streaming.scaleengine:
      cdn: 158
      api_key: "{{ scaleengine_api_key }}"
      api_secret: "{{ scaleengine_api_secret }}"
  block:
    - name: Close stream 1000 of demo-origin/live
      mediaops.streaming.scaleengine_stream:
        app: demo-origin
        inst: live
        stream_id: 1000
      delegate_to: localhost
"""

RETURN = r"""
stream:
  description:
    - The stream's details as the API reported them before it was closed (or would be, in check mode).
    - V(null) when the stream was not live.
  returned: always
  type: dict
  sample:
    app: demo-origin
    inst: live
    stream: my_live_stream
    stream_id: 1000
    pushpublish:
      - entry_name: session_1
        push_service_id: 1234
message:
  description: The API's message for C(stream.close), or why nothing was done.
  returned: always
  type: str
  sample: demo-origin/live/my_live_stream is not live; nothing to close
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mediaops.streaming.plugins.module_utils.runner import run_module
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine import args
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.stream import close_stream


def main():
    module = AnsibleModule(supports_check_mode=True, **args.STREAM_MODULE_KWARGS)
    run_module(module, close_stream)


if __name__ == "__main__":
    main()
