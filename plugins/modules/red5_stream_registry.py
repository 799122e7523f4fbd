#!/usr/bin/python
# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: red5_stream_registry
short_description: Clear stream entries from a Red5 Pro Stream Manager (administration)
version_added: 0.1.0
description:
  - Clears the Stream Manager's stream entries with its administration call C(DELETE /admin/event), for example to remove
    entries left behind by origins that went away. Publishing itself is not affected.
  - API 1.0, 2.0 and 3.0 clear every entry. API 3.1 and 4.0 clear only inactive entries, unless O(include_active=true).
  - C(changed) is true when the Stream Manager reports that it removed entries (RV(count) > 0).
  - Needs O(access_token) on Stream Manager 1.x.
  - Stream Manager 2.0 (O(api_version=sm2)) has no call that clears stream entries; an entry expires by itself once its node stops
    reporting the stream (C(R5AS_STREAM_TIMEOUT), 30 seconds by default). There the module sends no request (with
    O(api_version=auto), only the detection's), reports C(changed=false) and RV(count=0), and says so in RV(message) and a
    warning.
author: mediaops.streaming contributors (@mediaops)
extends_documentation_fragment:
  - mediaops.streaming.attributes
  - mediaops.streaming.red5
  - mediaops.streaming.connection
attributes:
  check_mode:
    support: full
    details:
      - Check mode lists the active streams (without sending O(access_token)) and deletes nothing. It predicts RV(count) as the
        number of listed streams where the API version clears every entry or O(include_active=true); entries of streams that
        are no longer active are not in that list, so the prediction is a lower bound.
      - On API 3.1 and 4.0 without O(include_active), only inactive entries would be cleared, and no API call lists them; check
        mode then reports V(0) with a warning.
  diff_mode:
    support: full
    details:
      - The diff shows the number of entries of the kind the delete clears (all entries, or on API 3.1 and 4.0 without
        O(include_active) inactive entries only) before and after, as C(entries), under the header C(stream registry, all entries)
        or C(stream registry, inactive entries). Before is RV(count), after is V(0); in check mode before is the prediction.
      - There is no diff when nothing was cleared (RV(count=0)).
options:
  state:
    description:
      - V(cleared) removes the stream entries.
    type: str
    choices: [cleared]
    default: cleared
  include_active:
    description:
      - Also clear the entries of streams that are publishing (C(includeActive=true)).
      - API 3.1 and 4.0 only; refused on older versions, which always clear every entry, and on Stream Manager 2.0, which clears
        nothing.
    type: bool
notes:
  - The access token is sent as the C(accessToken) query parameter, as the API requires; it is masked in every message and
    URL the module shows.
  - C(DELETE) is repeated after a connection reset, a read timeout or HTTP 429/502/503/504 (see O(retries)); if the first
    attempt did clear entries, the repeated one reports the entries left, so RV(count) may then be lower than what was removed.
  - A C(count) given as a string of digits is accepted; an answer without a usable C(count) fails the task, saying that the
    entries are probably cleared.
seealso:
  - module: mediaops.streaming.red5_stream_info
"""

EXAMPLES = r"""
- name: Clear stale stream entries (API 3.1 and 4.0 keep the entries of live streams)
  mediaops.streaming.red5_stream_registry:
    url: https://sm.example.com
    api_version: "4.0"
    access_token: "{{ vault_red5_sm_token }}"
    state: cleared
  delegate_to: localhost
  register: cleared

- name: Report how many were removed
  ansible.builtin.debug:
    msg: "{{ cleared.count }} stream entries removed"

- name: One task for a fleet of Stream Managers of both families (2.0 has nothing to clear, and says so without failing)
  mediaops.streaming.red5_stream_registry:
    url: "{{ stream_manager_url }}"
    api_version: auto
  delegate_to: localhost

- name: Clear every entry, live ones too, with the token from RED5_SM_ACCESS_TOKEN
  mediaops.streaming.red5_stream_registry:
    url: https://sm.example.com
    api_version: "3.1"
    include_active: true
  delegate_to: localhost
"""

RETURN = r"""
api_version:
  description: The API spoken, as in O(api_version); with V(auto), the one the detection found.
  returned: success
  type: str
  sample: "4.0"
message:
  description: On Stream Manager 2.0, why nothing was cleared.
  returned: on Stream Manager 2.0
  type: str
  sample: >-
    Stream Manager 2.0 has no call to clear stream entries, so nothing was cleared: an entry expires by itself once its node
    stops reporting the stream (R5AS_STREAM_TIMEOUT, 30 seconds by default)
count:
  description:
    - Number of stream entries the Stream Manager removed (always V(0) on Stream Manager 2.0).
    - In check mode, the predicted number (a lower bound, see the check mode attribute).
  returned: success
  type: int
  sample: 3
diff:
  description:
    - In diff mode, when entries were cleared (or would be, in check mode), the number of entries of the kind the delete
      clears before and after (see the diff mode attribute).
  returned: in diff mode, when changed
  type: dict
  contains:
    before:
      description: The entries before, RV(count) of them.
      type: dict
      sample: {entries: 3}
    after:
      description: The entries after, none of them.
      type: dict
      sample: {entries: 0}
    before_header:
      description: Which entries the delete clears.
      type: str
      sample: stream registry, inactive entries
    after_header:
      description: The same as RV(diff.before_header).
      type: str
      sample: stream registry, inactive entries
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mediaops.streaming.plugins.module_utils.red5 import args
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.stream_registry import clear_stream_registry
from ansible_collections.mediaops.streaming.plugins.module_utils.runner import run_module


def main():
    module = AnsibleModule(supports_check_mode=True, **args.STREAM_REGISTRY_MODULE_KWARGS)
    run_module(module, clear_stream_registry)


if __name__ == "__main__":
    main()
