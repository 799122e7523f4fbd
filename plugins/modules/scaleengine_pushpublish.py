#!/usr/bin/python
# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scaleengine_pushpublish
short_description: Disconnect ScaleEngine PushPublish sessions
version_added: 0.1.0
description:
  - Stops PushPublish sessions (re-streams to other CDNs or platforms) with the signed C(pushpublish.disconnect) API command.
  - A stored session is identified by O(push_service_id); a session connected by hand (or whose push service was removed) by
    O(app), O(inst) and O(entry_name). O(entry_name=*) disconnects all pushes.
  - Idempotent where the API lists the sessions. When O(app) and O(inst) are given, the module first reads the stream's details
    (C(stream.details), with O(stream)) or the instance's active streams (C(stream.active), without it) and reports
    RV(ignore:changed=false) without disconnecting when no matching session is connected.
  - With only O(push_service_id) the sessions cannot be listed; the disconnect is sent and an answer saying that no matching
    session exists is reported as RV(ignore:changed=false).
  - In check mode only the read commands are sent.
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
      - The diff shows C(sessions_connected), each session with C(entry_name), C(push_service_id) and C(stream). When the
        sessions are listed first (RV(verified=true)) that is every connected session of the stream details, before and
        after the disconnect; otherwise the session asked for before and none after.
options:
  push_service_id:
    description:
      - The id of the stored PushPublish service (C(pushpublish.add)).
      - Either O(push_service_id), or O(app), O(inst) and O(entry_name) are required.
    type: int
  app:
    description:
      - The ScaleEngine application name, for example V(demo-origin).
      - Optional with O(push_service_id), but needed to check the sessions first.
    type: str
  inst:
    description:
      - The application instance, for example V(live).
    type: str
  stream:
    description:
      - The stream whose sessions are meant. Limits the check (and the disconnect) to that stream.
    type: str
  entry_name:
    description:
      - The unique key of the PushPublish session, as listed in the stream's details.
      - V(*) disconnects all pushes of the application instance (or of O(stream)).
    type: str
  origin_url:
    description:
      - The address of the origin to call (the API's C(origin_url) field). When not set the API picks its default.
    type: str
  state:
    description:
      - V(disconnected) disconnects the matching sessions that are connected.
    type: str
    choices: [disconnected]
    default: disconnected
notes:
  - The module looks for the sessions under the C(pushpublish) key of the stream details (also C(push_publish), C(sessions));
    a session with C(connected=false) or a C(status) of V(disconnected) or V(stopped) counts as not connected. If the details
    do not list sessions at all (or list them as C(null)), the disconnect is sent and RV(verified) is V(false). Sessions listed
    in a shape the module cannot read fail the task with a message that says what is wrong.
  - O(app), O(inst), O(stream), O(entry_name) and O(origin_url) must not contain control characters; such a value is refused
    before any request.
seealso:
  - module: mediaops.streaming.scaleengine_stream
"""

EXAMPLES = r"""
- name: Stop the push to Akamai of a manually connected session
  mediaops.streaming.scaleengine_pushpublish:
    cdn: 158
    api_key: "{{ scaleengine_api_key }}"
    api_secret: "{{ scaleengine_api_secret }}"
    app: demo-origin
    inst: live
    entry_name: cupertino-akamai
  delegate_to: localhost

- name: Stop every push of one stream
  mediaops.streaming.scaleengine_pushpublish:
    app: demo-origin
    inst: live
    stream: my_live_stream
    entry_name: "*"
    state: disconnected
  delegate_to: localhost

- name: Stop a stored push service
  mediaops.streaming.scaleengine_pushpublish:
    push_service_id: 1234
    app: demo-origin
    inst: live
  delegate_to: localhost
"""

RETURN = r"""
sessions_disconnected:
  description:
    - The sessions that were (in check mode, would be) disconnected, each with C(entry_name), C(push_service_id) and C(stream)
      as the stream details listed them.
    - When the sessions could not be listed (RV(verified=false)), one entry describing the request.
  returned: always
  type: list
  elements: dict
  sample:
    - entry_name: session_1
      push_service_id: 1234
      stream: my_live_stream
verified:
  description: Whether the sessions were listed from the stream details before acting.
  returned: always
  type: bool
  sample: true
message:
  description: The API's message for C(pushpublish.disconnect), or why nothing was done.
  returned: always
  type: str
  sample: session_1 disconnected
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mediaops.streaming.plugins.module_utils.runner import run_module
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine import args
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.pushpublish import disconnect_pushpublish


def main():
    module = AnsibleModule(supports_check_mode=True, **args.PUSHPUBLISH_MODULE_KWARGS)
    run_module(module, disconnect_pushpublish)


if __name__ == "__main__":
    main()
