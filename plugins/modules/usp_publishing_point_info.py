#!/usr/bin/python
# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: usp_publishing_point_info
short_description: Read the settings, state, statistics and archive of a Unified Streaming publishing point
version_added: 0.1.0
description:
  - Reads a USP publishing point's settings from the API virtual host (O(api_url)) and its state, per-track statistics and
    archive from the origin virtual host (O(origin_url)).
  - Never changes anything, and does not fail because the publishing point does not exist (RV(publishing_point.exists) is V(false)).
  - With O(wait_for), polls the state until the point reaches one of the given states, and fails clearly on timeout.
author: mediaops.streaming contributors (@mediaops)
extends_documentation_fragment:
  - mediaops.streaming.attributes
  - mediaops.streaming.attributes.info_module
  - mediaops.streaming.usp.server
  - mediaops.streaming.usp
  - mediaops.streaming.connection
options:
  gather:
    description:
      - What to read. V(settings) and V(manifest) need O(api_url); V(state), V(statistics) and V(archive) need O(origin_url).
      - V(manifest) returns the server manifest itself (SMIL text) in RV(publishing_point.manifest). With V(settings) too, the
        manifest is read once for both.
      - By default everything for which a URL is set, except V(manifest), which is read only when listed.
    type: list
    elements: str
    choices: [settings, manifest, state, statistics, archive]
  wait_for:
    description:
      - Poll C(/state) until the publishing point is in one of these states, for example V([stopped, idle]) after stopping an
        encoder, or V([started]) after starting one. Needs O(origin_url).
      - A point that does not exist yet is waited for too.
    type: list
    elements: str
    choices: [idle, starting, started, stopping, stopped]
  wait_timeout:
    description: Seconds to wait for O(wait_for) before failing.
    type: float
    default: 300
  wait_interval:
    description: Seconds between two polls of the state.
    type: float
    default: 5
notes:
  - O(api_url) or O(origin_url) (or its environment variable) must be set.
  - O(name) and O(base_path) are checked before any request, as for M(mediaops.streaming.usp_publishing_point).
  - The manifest and the C(/state), C(/statistics) and C(/archive) answers are parsed without entity expansion, DTD loading or
    network access, and refused with a message naming the answer when they have a C(<!DOCTYPE>) or are over 50 MiB.
seealso:
  - module: mediaops.streaming.usp_publishing_point
  - module: mediaops.streaming.usp_archive_purge
"""

EXAMPLES = r"""
- name: Read everything about a channel
  mediaops.streaming.usp_publishing_point_info:
    api_url: http://live-api.example.com
    origin_url: http://live.example.com
    name: channel00
  delegate_to: localhost
  register: channel

- name: Show its state and archived ranges
  ansible.builtin.debug:
    msg: "{{ channel.publishing_point.state }}: {{ channel.publishing_point.archive | map(attribute='ranges') | list }}"

- name: Wait until the encoder has stopped (EOS received on all streams)
  mediaops.streaming.usp_publishing_point_info:
    origin_url: http://live.example.com
    name: channel00
    gather: [state]
    wait_for: [stopped, idle]
    wait_timeout: 120
    wait_interval: 2
  delegate_to: localhost

- name: Read the server manifest and whether the point may be deleted now (one GET of the manifest)
  mediaops.streaming.usp_publishing_point_info:
    api_url: http://live-api.example.com
    origin_url: http://live.example.com
    name: channel00
    gather: [settings, manifest, state]
  delegate_to: localhost
  register: channel

- name: Keep a copy of the manifest, to create the point again from it later
  ansible.builtin.copy:
    content: "{{ channel.publishing_point.manifest }}"
    dest: backup/channel00.isml
    mode: "0644"
  delegate_to: localhost
  when: channel.publishing_point.manifest is not none
"""

RETURN = r"""
waited:
  description: Seconds spent waiting for O(wait_for) (V(0) without it).
  returned: always
  type: float
  sample: 4.02
publishing_point:
  description: What was read. Keys that were not gathered are V(null).
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the publishing point exists.
      type: bool
      sample: true
    url:
      description: URL of the server manifest (API virtual host, or origin when only O(origin_url) is set).
      type: str
      sample: http://live-api.example.com/channel00/channel00.isml
    settings:
      description: Head options of the server manifest, as strings; empty when the point does not exist.
      type: dict
      sample: {archiving: "true", dvr_window_length: "30", archive_segment_length: "60"}
    manifest:
      description:
        - The server manifest as the API virtual host returns it (SMIL text), when O(gather) lists V(manifest).
        - V(null) when the point does not exist or V(manifest) was not gathered.
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
    state:
      description: One of V(idle), V(starting), V(started), V(stopping), V(stopped); V(null) when the point does not exist.
      type: str
      sample: started
    updated:
      description: When the state last changed, as the server reports it (ISO 8601, UTC).
      type: str
      sample: "2026-11-23T10:15:02.123456Z"
    deletable:
      description:
        - Whether USP would delete the point now, that is whether its state is V(idle), V(starting) or V(stopped) (the delete
          rule of the publishing point API).
        - V(null) when the state was not read (neither O(gather) V(state) nor O(wait_for)) or the point does not exist.
      type: bool
      sample: false
    tracks:
      description: Per-track statistics from C(/statistics).
      type: list
      elements: dict
      contains:
        src: {description: Track file, type: str, sample: channel00-video.ismv}
        type: {description: Media element, type: str, sample: video}
        system_bitrate: {description: Bitrate in bits per second, type: int, sample: 1000000}
        track_id: {description: Track ID, type: int, sample: 1}
        track_name: {description: Track name, type: str, sample: video}
        state: {description: Track state, type: str, sample: started}
        updated: {description: Last update of the track, type: str, sample: "2026-11-23T10:15:02.074115Z"}
        duration: {description: Ingested duration in the server's time scale (10 MHz ticks), type: int, sample: 479402800000}
      sample: []
    archive:
      description: Archived media per track from C(/archive); empty when nothing is archived.
      type: list
      elements: dict
      contains:
        src: {description: Track file, type: str, sample: channel00-video.ismv}
        type: {description: Media element, type: str, sample: video}
        track_id: {description: Track ID, type: int, sample: 1}
        track_name: {description: Track name, type: str, sample: video}
        ranges:
          description: Contiguous archived ranges; a track with gaps has several.
          type: list
          elements: dict
          sample: [{start: "2026-11-23T10:00:00.000000Z", end: "2026-11-23T10:15:00.000000Z"}]
      sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mediaops.streaming.plugins.module_utils.runner import run_module
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import args
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.info import read_publishing_point_info


def main():
    module = AnsibleModule(supports_check_mode=True, **args.INFO_MODULE_KWARGS)
    run_module(module, read_publishing_point_info, requires=("requests", "lxml"))


if __name__ == "__main__":
    main()
