#!/usr/bin/python
# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: usp_publishing_point
short_description: Create, update or delete a Unified Streaming publishing point
version_added: 0.1.0
description:
  - Manages a Unified Streaming Platform (USP) live publishing point, the server manifest C({name}.isml) in its own directory,
    through the publishing point REST API of the API virtual host.
  - With O(state=present) a missing point is created (C(POST)); an existing one whose C(<head>) options differ from the desired
    ones is updated (C(PUT)) with the server's head merged with the desired options. Only the options you give are compared,
    after normalisation (V(true) equals C("true"), V(60) equals C("60")), so a second identical run reports no change and costs
    exactly one request.
  - The API cannot update the C(<body>) of a manifest (its tracks). A body difference fails the task and names the difference,
    unless O(recreate=true), which deletes and creates the point again.
  - With O(state=absent) the point is deleted. Outside check mode and diff mode, and without O(backup_path), that is one
    C(DELETE) and nothing else - HTTP 200 means this task deleted it (C(changed=true)), HTTP 404 that it did not exist
    (C(changed=false), no warning). In check mode or diff mode, or with O(backup_path), the point is read first (C(GET)),
    for the prediction, the diff's C(before) or the saved manifest.
  - USP refuses to delete a point that is not idle, starting or stopped; the task then fails, says the current state (when
    O(origin_url) is set) and that nothing was deleted.
  - Several tasks may manage the same point at once (forks, two operators). When an answer shows that another client changed
    the point after this task read it, the task reads it again and decides anew, up to 5 rounds, then fails saying the point kept
    changing. A create answered 409 is compared with what the other client created and updated if its head differs. An update
    answered 404 (deleted meanwhile) creates the point again from the desired options or manifest, with a warning, because
    O(state=present) means the point exists with these settings. A delete answered 404 after this task had read the point is
    success with C(changed=false) and a warning that this task deleted nothing. C(changed) always says whether this task's own
    requests changed the server.
  - A create is never sent twice. When its answer is lost after the request may have reached the server (a reset or close
    mid-answer, no answer within O(timeout), or HTTP 502 or 504 from a gateway), the point is read back once. If it exists, the
    task goes on from there and reports C(changed=true) with a warning; if not, the task fails saying nothing was created and that
    running it again is safe.
author: mediaops.streaming contributors (@mediaops)
extends_documentation_fragment:
  - mediaops.streaming.attributes
  - mediaops.streaming.usp.server
  - mediaops.streaming.usp
  - mediaops.streaming.connection
attributes:
  check_mode:
    support: full
    details: Reads the publishing point and reports what would change; sends no C(POST), C(PUT) or C(DELETE).
  diff_mode:
    support: full
    details: Shows the server manifest before and after, normalised so that only meaningful differences appear.
options:
  state:
    description:
      - V(present) creates or updates the publishing point; V(absent) deletes it with all its files, including the archive.
    type: str
    choices: [present, absent]
    default: present
  options:
    description:
      - Server manifest head options, as in the C(<meta name=... content=...>) elements of the manifest, for example
        V(archiving=true), V(archive_segment_length=60), V(dvr_window_length=30).
      - mp4split spellings are accepted and mean the same option, for example C(mpd.segment_template) is C(mpd_segment_template)
        and C(--archiving) is C(archiving).
      - Booleans become V(true)/V(false), numbers their digits; a value of V(null) is an mp4split flag without value and
        becomes V(true).
      - On create, these options are applied over USP's default head (C(lookahead_fragments=2), C(dvr_window_length=30),
        C(archive_cmaf=false), C(archive_segment_length=0), C(archiving=false)).
      - Mutually exclusive with O(manifest) and O(src). With none of the three, a missing point is created with the default
        manifest and an existing one is left as it is.
    type: dict
  manifest:
    description:
      - The full server manifest (SMIL text), for example made with C(mp4split -o channel00.isml --archiving=1 ...).
      - Its head options are compared with the server's; its body (tracks) must equal the server's or O(recreate) must be set.
    type: str
  src:
    description:
      - Path to a server manifest file on the host that runs the module; as O(manifest) otherwise.
    type: path
  recreate:
    description:
      - When the desired body differs from the server's, delete the publishing point and create it again.
      - This removes the point's archive. The delete is refused by USP while an encoder is ingesting.
    type: bool
    default: false
  backup_path:
    description:
      - A file on the host that runs the module holding the point's manifest while the point is deleted.
      - O(state=absent) writes the manifest it read to this file before the C(DELETE) (missing directories are created with mode
        V(0700), the file with mode V(0600), written atomically, as a temporary file renamed over it). A point that does not exist
        writes nothing. If the file cannot be written, nothing is deleted.
      - O(state=present) removes the file once the point exists as wanted (a file that cannot be removed is a warning).
      - Nothing is written or removed in check mode.
      - This is how a point deleted to be created again (for example by the role C(mediaops.streaming.restart_session)) is not lost
        when the run is killed between the delete and the create; create it again with O(src) set to this file.
      - With O(state=absent), the point is read before the delete (one C(GET) more).
    type: path
notes:
  - XML from the server or from O(manifest)/O(src) is parsed without entity expansion, DTD loading or network access, and
    refused above 50 MiB (USP answers HTTP 413 above 50 MB) or when it has a C(<!DOCTYPE>) at all, which is where entities and
    external DTDs are declared (mp4split writes none). A manifest, O(src) file or merged update over the limit is refused before
    it is sent; O(src) is read no further than the limit and must be UTF-8.
    All of this is checked before any request.
  - To keep one host in charge of a shared point, use C(run_once=true) or C(throttle=1) on the task.
seealso:
  - module: mediaops.streaming.usp_publishing_point_info
  - module: mediaops.streaming.usp_archive_purge
  - name: Unified Streaming publishing point API
    description: The REST API this module uses.
    link: https://docs.unified-streaming.com/documentation/live/publishing-point-api.html
"""

EXAMPLES = r"""
- name: Create or update a live channel with archiving
  mediaops.streaming.usp_publishing_point:
    api_url: http://live-api.example.com
    name: channel00
    options:
      archiving: true
      archive_length: 3600
      archive_segment_length: 1800
      dvr_window_length: 30
      restart_on_encoder_reconnect: null
      hls.client_manifest_version: 4
      mpd.segment_template: number_timeline
  delegate_to: localhost

- name: Set the connection once per play with the action group
  module_defaults:
    group/mediaops.streaming.usp:
      api_url: http://live-api.example.com
      origin_url: http://live.example.com
      username: ansible
      password: "{{ usp_api_password }}"
  block:
    - name: A channel below a parent directory, from a manifest made by mp4split
      mediaops.streaming.usp_publishing_point:
        name: match42
        base_path: events/2026
        src: files/match42.isml
      delegate_to: localhost

    - name: Remove a channel (the encoder must have stopped)
      mediaops.streaming.usp_publishing_point:
        name: channel01
        state: absent
      delegate_to: localhost

    - name: Delete a channel to create it again, keeping its manifest on disk in between
      mediaops.streaming.usp_publishing_point:
        name: channel03
        state: absent
        backup_path: /var/lib/ansible/usp/channel03.isml
      delegate_to: localhost

    - name: Create it again from the saved manifest, which is removed once the point exists
      mediaops.streaming.usp_publishing_point:
        name: channel03
        src: /var/lib/ansible/usp/channel03.isml
        backup_path: /var/lib/ansible/usp/channel03.isml
      delegate_to: localhost

- name: Change a body setting, accepting that the point (and its archive) is recreated
  mediaops.streaming.usp_publishing_point:
    api_url: http://live-api.example.com
    name: channel02
    manifest: "{{ lookup('ansible.builtin.file', 'channel02.isml') }}"
    recreate: true
  delegate_to: localhost
"""

RETURN = r"""
url:
  description: URL of the server manifest on the API virtual host.
  returned: always
  type: str
  sample: http://live-api.example.com/channel00/channel00.isml
settings:
  description:
    - Head options of the publishing point after the task (what the server has, or in check mode would have), as strings.
    - Empty when O(state=absent).
  returned: always
  type: dict
  sample:
    clientManifestRelativePath: channel00.ismc
    creator: Unified Streaming Platform (USP)
    lookahead_fragments: "2"
    dvr_window_length: "30"
    archive_cmaf: "false"
    archive_segment_length: "1800"
    archiving: "true"
manifest:
  description: The server manifest (SMIL text) after the task; V(null) when O(state=absent).
  returned: always
  type: str
  sample: |
    <?xml version="1.0" encoding="utf-8"?>
    <smil xmlns="http://www.w3.org/2001/SMIL20/Language">
      <head>
        <meta name="archiving" content="true"/>
      </head>
      <body>
        <switch/>
      </body>
    </smil>
changes:
  description: The head options that were (or would be) updated, as C(name 'before' -> 'after').
  returned: when an existing publishing point was updated
  type: str
  sample: "archiving: 'false' -> 'true', dvr_window_length: '30' -> '60'"
recreated:
  description:
    - Whether the point was (or would be) deleted and created again because its body differed.
    - Also V(true) when this task deleted the point for that reason and another client created the new one first.
  returned: when O(recreate=true) and the body differed
  type: bool
  sample: true
backup_file:
  description: The file the point's manifest was written to before the delete (O(backup_path)).
  returned: when O(state=absent) wrote O(backup_path) (the point existed, not in check mode)
  type: str
  sample: /var/lib/ansible/usp/channel03.isml
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mediaops.streaming.plugins.module_utils.runner import run_module
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import args
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.publishing_point import ensure_publishing_point


def main():
    module = AnsibleModule(supports_check_mode=True, **args.PUBLISHING_POINT_MODULE_KWARGS)
    run_module(module, ensure_publishing_point, requires=("requests", "lxml"))


if __name__ == "__main__":
    main()
