# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: live_streams
short_description: Live streams on ScaleEngine and Red5 Pro Stream Managers as inventory hosts
version_added: 0.1.0
description:
  - One inventory host per live stream, read from ScaleEngine (C(stream.active) of each application instance in
    O(scaleengine_apps)) and/or a Red5 Pro Stream Manager (the stream list with stats of Stream Manager 1.x, or of Stream
    Manager 2.0 with O(red5_api_version=sm2)).
  - The stream's facts are host variables with the prefix C(live_stream_) (see the notes); the host name is the stream's name
    by default (O(hostname)), so the P(mediaops.streaming.restart_session#role) role can target the channels of a group.
  - Each source puts its hosts in the group C(live_scaleengine) or C(live_red5); O(keyed_groups), O(groups), O(compose) and
    O(filters) work as in P(ansible.builtin.constructed#inventory).
  - Credentials come from the same environment variables the modules use (E(SCALEENGINE_API_KEY), E(RED5_SM_PASSWORD)...), so an
    AWX or AAP inventory source with the collection's credential types works unchanged.
  - The inventory file's name must end in C(.mediaops.yml) or C(.mediaops.yaml).
author: mediaops.streaming contributors (@mediaops)
requirements:
  - requests (Python library, on the controller)
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; it marks the file as this plugin's configuration.
    type: str
    required: true
    choices: [mediaops.streaming.live_streams]
  sources:
    description:
      - Which sources to read, in this order (it decides which of two streams of the same host name keeps it, see O(hostname)).
    type: list
    elements: str
    required: true
    choices: [scaleengine, red5]
  strict:
    description:
      - V(true) (the default here, unlike P(ansible.builtin.constructed#inventory)) fails the inventory source when a source
        cannot be read (unreachable, refused credentials, a broken answer, a missing option), with a message naming the
        source, the URL, the status and what to check, and when an expression of O(compose), O(groups), O(keyed_groups),
        O(filters) or O(hostname) fails. An inventory that silently lacks the channels of an unreachable source would make a
        playbook targeting them do nothing and succeed.
      - V(false) turns a failing source into a warning with the same message and keeps the other source's hosts, and ignores
        failing expressions as constructed inventories do (a failing filter is ignored for that stream, with a warning; a
        failing O(hostname) falls back to the stream's name).
    type: bool
    default: true
  hostname:
    description:
      - Jinja2 template of the host name, over the host variables.
      - When not set, the host name is the stream's name, as with C({{ live_stream_name }}) (a default written as a template
        would be rendered by Ansible's configuration before any stream is known).
      - When two streams render the same name, the later one (in the order of O(sources), then of the source's answer) is named
        C(<name>@<vendor>) and, if that is taken too, C(<name>@<vendor>:<app>/<inst>) (ScaleEngine) or
        C(<name>@red5:<scope>) (Red5), with a warning naming both streams.
    type: str
  filters:
    description:
      - Jinja2 conditionals over the host variables; a live stream becomes a host only when all are true.
      - They are evaluated before the host name is chosen, so a stream filtered out takes no name.
    type: list
    elements: str
    default: []
  scaleengine_api_url:
    description:
      - URL of the ScaleEngine API, as O(mediaops.streaming.scaleengine_stream#module:api_url).
      - An empty value means the default.
    type: str
    default: https://api.scaleengine.net/stable/
    env:
      - name: SCALEENGINE_API_URL
  scaleengine_cdn:
    description:
      - The ScaleEngine CDN id of the account. Required with V(scaleengine) in O(sources).
    type: int
    env:
      - name: SCALEENGINE_CDN
  scaleengine_api_key:
    description:
      - The API key of the account. Required with V(scaleengine) in O(sources). Never shown.
    type: str
    env:
      - name: SCALEENGINE_API_KEY
  scaleengine_api_secret:
    description:
      - The API secret that signs every request. Required with V(scaleengine) in O(sources). Never sent or shown.
    type: str
    env:
      - name: SCALEENGINE_API_SECRET
  scaleengine_apps:
    description:
      - The application instances whose live streams become hosts, one C(stream.active) request each.
      - Required with V(scaleengine) in O(sources).
    type: list
    elements: dict
    default: []
    suboptions:
      app:
        description: The application's name.
        type: str
        required: true
      inst:
        description: The instance's name.
        type: str
        required: true
  scaleengine_validate_certs:
    description: Verify the ScaleEngine API's TLS certificate.
    type: bool
    default: true
  scaleengine_ca_path:
    description: PEM file with the CA certificate(s) to trust for the ScaleEngine API instead of the system store.
    type: path
  scaleengine_timeout:
    description: Seconds to wait for the ScaleEngine API to connect and to answer each request.
    type: float
    default: 30
  scaleengine_retries:
    description:
      - How many times a request that failed on the way (or met the API's code 1000, heavy load) is tried again, with backoff;
        each retry is a warning.
    type: int
    default: 3
  red5_url:
    description:
      - Base URL of the Red5 Pro Stream Manager, as O(mediaops.streaming.red5_stream_info#module:url). Required with V(red5) in
        O(sources).
    type: str
    env:
      - name: RED5_SM_URL
  red5_api_version:
    description:
      - Which Stream Manager API to speak, as O(mediaops.streaming.red5_stream_info#module:api_version).
      - On 1.x API 3.1 and 4.0 the list holds an origin item and one item per edge for each stream; only the origin items become
        hosts. On Stream Manager 2.0 (V(sm2)) every row of the list is one live stream.
    type: str
    default: "2.0"
    choices: ["1.0", "2.0", "3.0", "3.1", "4.0", sm2, auto]
    env:
      - name: RED5_SM_API_VERSION
  red5_node_group:
    description: Stream Manager 2.0 node group of the streams. Ignored by 1.x.
    type: str
    default: default
    env:
      - name: RED5_SM_NODE_GROUP
  red5_username:
    description: Stream Manager 2.0 user for the login, sent only when the Stream Manager asks for one on its stream list.
    type: str
    env:
      - name: RED5_SM_USERNAME
  red5_password:
    description: Password of O(red5_username). Never shown.
    type: str
    env:
      - name: RED5_SM_PASSWORD
  red5_access_token:
    description:
      - Stream Manager 1.x administrator token. The inventory does not send it (the stream list needs none); it is accepted so
        that the collection's AWX credential type injects nothing this plugin does not know. Never shown.
    type: str
    env:
      - name: RED5_SM_ACCESS_TOKEN
  red5_validate_certs:
    description: Verify the Stream Manager's TLS certificate.
    type: bool
    default: true
  red5_ca_path:
    description: PEM file with the CA certificate(s) to trust for the Stream Manager instead of the system store.
    type: path
  red5_timeout:
    description: Seconds to wait for the Stream Manager to connect and to answer each request.
    type: float
    default: 30
  red5_retries:
    description: How many times a request that failed on the way is tried again, with backoff; each retry is a warning.
    type: int
    default: 3
notes:
  - "Host variables, the same for every source (V(null) where the source does not say):
    C(live_stream_vendor) (V(scaleengine) or V(red5)), C(live_stream_app) (ScaleEngine application),
    C(live_stream_instance) (ScaleEngine instance), C(live_stream_name) (the stream), C(live_stream_id) (ScaleEngine stream id,
    Stream Manager 2.0 stream guid), C(live_stream_scope) (Red5), C(live_stream_origin) (ScaleEngine origin server, Red5 server
    address), C(live_stream_region) (Red5 region, Stream Manager 2.0 sub-group), C(live_stream_subscribers) (Red5 subscribers,
    ScaleEngine viewers when the answer has them), C(live_stream_start_time) (ISO 8601 UTC), C(live_stream_pushpublish)
    (ScaleEngine PushPublish sessions, each with C(entry_name), C(push_service_id), C(connected) and the C(status) or C(state)
    the answer gives, never the push target; V([]) otherwise) and C(live_stream_api_version) (Red5: the API spoken, also when
    detected with V(auto))."
  - No host variable and nothing in the cache holds a secret; secrets are masked in every message.
  - Ansible reports a failing inventory source as a warning and goes on without its hosts, unless
    E(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED) (or E(ANSIBLE_INVENTORY_UNPARSED_FAILED), which AWX sets for inventory updates)
    makes it an error. Set it where a run must not go on without the channels.
  - With O(cache), the cache holds the streams' host variables (before O(filters), O(hostname) and the constructed options, which
    apply on every run), keyed by the inventory file's path. A run in which a source failed (O(strict=false)) does not update
    the cache.
  - See docs/inventory.md in the collection for the worked example and what was inferred from the vendors' references.
seealso:
  - plugin: ansible.builtin.constructed
    plugin_type: inventory
  - module: mediaops.streaming.scaleengine_stream
  - module: mediaops.streaming.red5_stream_info
"""

EXAMPLES = r"""
# live.mediaops.yml: every live channel on ScaleEngine and on a Stream Manager 2.0, credentials from the environment
# (SCALEENGINE_CDN, SCALEENGINE_API_KEY, SCALEENGINE_API_SECRET, RED5_SM_URL...: what the AWX credential types inject).
plugin: mediaops.streaming.live_streams
sources: [scaleengine, red5]
scaleengine_apps:
  - {app: demo-origin, inst: live}
red5_api_version: sm2
keyed_groups:
  # region_ashburn, region_frankfurt...
  - key: live_stream_region
    prefix: region
    default_value: none  # ScaleEngine streams have no region; with strict (the default) a null key is an error
groups:
  busy: (live_stream_subscribers | default(0, true)) > 100
compose:
  restart_session_channel: live_stream_name

---
# Only the channels whose name starts with "ch", from ScaleEngine alone, cached for five minutes.
plugin: mediaops.streaming.live_streams
sources: [scaleengine]
scaleengine_apps:
  - {app: demo-origin, inst: live}
filters:
  - live_stream_name.startswith('ch')
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/mediaops-live-streams
cache_timeout: 300

---
# Keep what can be read when one source is down (a warning names the failing one).
plugin: mediaops.streaming.live_streams
sources: [scaleengine, red5]
strict: false
scaleengine_apps:
  - {app: demo-origin, inst: live}
red5_api_version: "4.0"
"""

import contextlib
import functools

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.template import trust_as_template
from ansible.utils.display import Display
from ansible.utils.vars import combine_vars

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import (
    StreamingError,
    basic_credentials,
    excerpt,
    forget_secrets,
    register_secret,
    scrub,
)
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HAS_REQUESTS
from ansible_collections.mediaops.streaming.plugins.plugin_utils.live_streams import (
    PREFIX,
    RED5,
    SCALEENGINE,
    VENDOR_LABELS,
    FilterError,
    HostNames,
    describe_stream,
    passes_filters,
    read_red5_streams,
    read_scaleengine_streams,
)

display = Display()

FILE_SUFFIXES = (".mediaops.yml", ".mediaops.yaml")
_SECRET_OPTIONS = ("scaleengine_api_key", "scaleengine_api_secret", "red5_password", "red5_access_token")
# The text options a user may write as a template (a lookup, a vault variable); the others are plain values.
_TEMPLATED_OPTIONS = ("scaleengine_api_url", "red5_url", "red5_username", *_SECRET_OPTIONS)
_CACHE_KEYS = ("sources", "streams")
DEFAULT_HOSTNAME = "{{ live_stream_name }}"


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Live streams as hosts; see DOCUMENTATION."""

    NAME = "mediaops.streaming.live_streams"

    def verify_file(self, path):
        return super().verify_file(path) and str(path).endswith(FILE_SUFFIXES)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        strict = self.get_option("strict")
        # The cache pattern of ansible-core's cacheable inventories: read it when allowed, refresh it when asked to (--flush-cache).
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        cache_key = self.get_cache_key(path)
        streams = None
        if use_cache:
            with contextlib.suppress(KeyError):
                streams = self._cached(self._cache[cache_key])
            update_cache = streams is None
        if streams is None:
            streams, complete = self._read_sources(strict)
            # A partial answer is not kept: the next run asks the failed source again.
            update_cache = update_cache and complete
        if update_cache:
            self._cache[cache_key] = streams
        self._populate(streams, strict)

    @staticmethod
    def _cached(data):
        """The cached streams, or None when the cache holds something this plugin did not write."""
        if isinstance(data, dict) and all(isinstance(data.get(key), list) for key in _CACHE_KEYS):
            return data
        return None

    # -- reading the sources ---------------------------------------------------------------

    def _option(self, name):
        value = self.get_option(name)
        if name in _TEMPLATED_OPTIONS and isinstance(value, str) and self.templar.is_template(value):
            value = self.templar.template(value)
        return value

    def _scaleengine_params(self) -> dict:
        params = {name: self._option(f"scaleengine_{name}") for name in ("api_url", "cdn", "api_key", "api_secret")}
        params.update({name: self.get_option(f"scaleengine_{name}") for name in ("validate_certs", "ca_path", "timeout", "retries")})
        return params

    def _red5_params(self) -> dict:
        params = {name: self._option(f"red5_{name}") for name in ("url", "username", "password", "access_token")}
        params.update({name: self.get_option(f"red5_{name}") for name in ("api_version", "node_group", "validate_certs", "ca_path", "timeout", "retries")})
        # The AWX credential type injects empty variables for empty fields; they mean the defaults.
        params["api_version"] = params["api_version"] or "2.0"
        params["node_group"] = params["node_group"] or "default"
        return params

    def _read_sources(self, strict: bool) -> tuple[dict, bool]:
        """``{"sources": [the vendors read], "streams": [host facts]}`` and whether every source was read."""
        scaleengine_params, red5_params = self._scaleengine_params(), self._red5_params()
        # Masked in every message from here on: the options, the Basic header of a Stream Manager 2.0 login and (the client
        # registers it) the token that login returns.
        for value in (*(scaleengine_params[name] for name in ("api_key", "api_secret")), red5_params["password"], red5_params["access_token"]):
            register_secret(value)
        for token in basic_credentials(red5_params["username"], red5_params["password"]):
            register_secret(token)
        context = ExecutionContext(check_mode=False, warn=lambda message: display.warning(scrub(f"live_streams: {message}")))
        readers = {
            SCALEENGINE: lambda: read_scaleengine_streams(scaleengine_params, self.get_option("scaleengine_apps"), context),
            RED5: lambda: read_red5_streams(red5_params, context),
        }
        result = {"sources": [], "streams": []}
        complete = True
        try:
            for vendor in dict.fromkeys(self.get_option("sources")):
                try:
                    if not HAS_REQUESTS:
                        raise StreamingError("the Python library requests is required on the controller")
                    streams = readers[vendor]()
                except StreamingError as exc:
                    message = scrub(f"live_streams: the {VENDOR_LABELS[vendor]} source failed: {exc}")
                    if strict:
                        raise AnsibleParserError(message) from None
                    display.warning(message + " (its hosts are left out: strict is false)")
                    complete = False
                    continue
                result["sources"].append(vendor)
                result["streams"].extend(streams)
        except AnsibleParserError:
            raise
        except Exception as exc:  # pylint: disable=broad-exception-caught  # a bug ends as one masked sentence, never a traceback
            raise AnsibleParserError(
                scrub(f"live_streams stopped on an unexpected {type(exc).__name__} ({excerpt(str(exc))}); this is a bug in mediaops.streaming")
            ) from None
        finally:
            # Nothing shown after this point carries a secret; the registry is per process, and this one goes on to run a playbook.
            forget_secrets()
        return result, complete

    # -- building the inventory ------------------------------------------------------------------

    def _variables(self, facts: dict) -> dict:
        """What templates see: the stream's facts, and the extra vars with use_extra_vars (as constructed's _compose does)."""
        return combine_vars(facts, self._vars) if self.get_option("use_extra_vars") else facts

    def _host_name(self, facts: dict, strict: bool) -> str:
        template = self.get_option("hostname")
        if template is None:
            # This plugin's own default; a value from the inventory file is trusted already.
            template = trust_as_template(DEFAULT_HOSTNAME)
        self.templar.available_variables = self._variables(facts)
        try:
            name = self.templar.template(template)
            name = "" if name is None else str(name).strip()
            if not name:
                raise ValueError("the template rendered an empty name")
        except Exception as exc:  # pylint: disable=broad-exception-caught  # a template error is the user's, reported with the template
            message = f"live_streams: could not render the hostname {template!r} for {describe_stream(facts)}: {exc}"
            if strict:
                raise AnsibleParserError(message) from None
            display.warning(message + "; the stream's name is used (strict is false)")
            return facts[PREFIX + "name"]
        return name

    def _evaluate(self, condition, variables: dict) -> bool:
        self.templar.available_variables = variables
        return self.templar.evaluate_conditional(condition)

    def _populate(self, read: dict, strict: bool) -> None:
        for vendor in read["sources"]:
            self.inventory.add_group(f"live_{vendor}")
        names = HostNames()
        for facts in read["streams"]:
            label = describe_stream(facts)
            try:
                wanted = passes_filters(
                    self.get_option("filters"), functools.partial(self._evaluate, variables=self._variables(facts)), strict, display.warning, label
                )
            except FilterError as exc:
                raise AnsibleParserError(str(exc)) from None
            if not wanted:
                continue
            host, clash = names.assign(self._host_name(facts, strict), facts)
            if clash:
                display.warning(clash)
            self.inventory.add_host(host, group=f"live_{facts[PREFIX + 'vendor']}")
            for key, value in facts.items():
                self.inventory.set_variable(host, key, value)
            # As constructed does: compose, groups and keyed groups see the host's variables so far.
            host_vars = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option("compose"), host_vars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, host, strict=strict)
