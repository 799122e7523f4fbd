# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``mediaops.streaming.live_streams`` inventory through ``ansible-inventory`` and ``ansible-playbook``, against the emulators.

The inventory plugin runs in the controller's main process, so the two execution
paths of the modules do not matter here: each test builds one
:class:`~tests.helpers.playbook.AnsibleRunner`. Credentials reach the plugin the
way AWX injects them, as environment variables (the inventory files hold none).
Expected values are written out from what each test sets up in the emulators.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import shutil
import socket
import tempfile
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from tests.emulators.red5 import Red5Emulator
from tests.emulators.red5_sm2 import DEFAULT_PASSWORD, DEFAULT_USERNAME, Red5Sm2Emulator
from tests.emulators.scaleengine import API_PATH, DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_CDN, ScaleEngineEmulator
from tests.emulators.stack import build_stack
from tests.helpers.playbook import BIN_DIR, AnsibleRunner
from tests.helpers.restart_vars import FAST, START_TASKS

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_INVENTORY = REPO_ROOT / "tests" / "demo" / "live.mediaops.yml"
PLUGIN = "mediaops.streaming.live_streams"
# With it, a failing inventory source fails the command (AWX sets ANSIBLE_INVENTORY_UNPARSED_FAILED for inventory updates).
FAIL_ON_UNPARSED = {"ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true"}
# A start time in the emulators' epoch milliseconds, and what the host variable says.
START_MS = 1772445000000
START_ISO = "2026-03-02T09:50:00.000Z"


@pytest.fixture
def runner(tmp_path, ansible_collections_path):
    short_tmp = Path(tempfile.mkdtemp(prefix="mediaops-inv-"))
    try:
        yield AnsibleRunner(tmp_path, ansible_collections_path, tmp=short_tmp)
    finally:
        shutil.rmtree(short_tmp, ignore_errors=True)


@pytest.fixture
def scaleengine_live():
    """ScaleEngine with three live streams in two application instances; ch1 pushes to two places, one of them disconnected."""
    emulator = ScaleEngineEmulator(seed=False).start()
    emulator.start_stream("demo-origin", "live", "ch1", stream_id=501, origin_url="origin-1.secdn.net")
    emulator.add_pushpublish("demo-origin", "live", "ch1", "usp-ch1", push_service_id=71, target="https://usp.example.net/ch1/ch1.isml")
    akamai = emulator.add_pushpublish("demo-origin", "live", "ch1", "akamai", push_service_id=72, target="rtmp://akamai.example.net/live/streamkey-SECRET")
    akamai["connected"] = False
    emulator.start_stream("demo-origin", "live", "ch2", stream_id=502)
    emulator.start_stream("demo-channel", "live", "ch3", stream_id=503)
    yield emulator
    emulator.stop()


def scaleengine_env(emulator, secret: str = DEFAULT_API_SECRET) -> dict:
    return {
        "SCALEENGINE_API_URL": emulator.url() + API_PATH,
        "SCALEENGINE_CDN": str(DEFAULT_CDN),
        "SCALEENGINE_API_KEY": DEFAULT_API_KEY,
        "SCALEENGINE_API_SECRET": secret,
    }


def closed_port_url() -> str:
    """A URL of 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def write_inventory(runner, config: dict, name: str = "live") -> Path:
    path = runner.workdir / f"{name}.mediaops.yml"
    # YAML with its document marker, as users write it (Ansible's ini plugin, tried after a failing plugin, refuses "---").
    path.write_text(yaml.safe_dump(dict({"plugin": PLUGIN}, **config), explicit_start=True, sort_keys=False))
    return path


def inventory(runner, config: dict, *args: str, env: dict | None = None, name: str = "live"):
    path = write_inventory(runner, config, name)
    return runner.run([str(BIN_DIR / "ansible-inventory"), "-i", str(path), *args], env=env)


def graph(result) -> dict[str, list[str]]:
    """``ansible-inventory --graph`` as {group: [hosts in order]}; groups without hosts listed with []."""
    assert result.rc == 0, result.output
    groups: dict[str, list[str]] = {}
    current = None
    for line in result.stdout.splitlines():
        match = re.match(r"^(?: *\|)* *\|--(@?)(.+?):?$", line)
        if not match:
            continue
        if match.group(1):
            current = match.group(2)
            groups.setdefault(current, [])
        else:
            groups[current].append(match.group(2))
    return {group: hosts for group, hosts in groups.items() if group not in ("all", "ungrouped") or hosts}


def plain(value):
    """``ansible-inventory --list`` output without its markers of untrusted strings (values read from the APIs)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def host_vars(result) -> dict[str, dict]:
    assert result.rc == 0, result.output
    return plain(json.loads(result.stdout))["_meta"]["hostvars"]


def stream_active_requests(emulator) -> list[tuple[str, str]]:
    return [(command["app"], command["inst"]) for command in emulator.commands("stream.active")]


def http_get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


# -- ScaleEngine ----------------------------------------------------------------------------------


def test_scaleengine_streams_grouped_with_their_facts(runner, scaleengine_live):
    config = {
        "sources": ["scaleengine"],
        "scaleengine_apps": [{"app": "demo-origin", "inst": "live"}, {"app": "demo-channel", "inst": "live"}],
        "keyed_groups": [{"key": "live_stream_app", "prefix": "app"}],
    }
    env = scaleengine_env(scaleengine_live)
    assert graph(inventory(runner, config, "--graph", env=env)) == {
        "live_scaleengine": ["ch1", "ch2", "ch3"],
        "app_demo_origin": ["ch1", "ch2"],
        "app_demo_channel": ["ch3"],
    }
    # One stream.active per application instance, nothing else.
    assert stream_active_requests(scaleengine_live) == [("demo-origin", "live"), ("demo-channel", "live")]
    assert len(scaleengine_live.received()) == 2

    result = inventory(runner, config, "--list", env=env)
    hosts = host_vars(result)
    started = scaleengine_live.streams[("demo-origin", "live", "ch1")]["publish_time"]
    assert hosts["ch1"] == {
        "live_stream_vendor": "scaleengine",
        "live_stream_app": "demo-origin",
        "live_stream_instance": "live",
        "live_stream_name": "ch1",
        "live_stream_id": 501,
        "live_stream_scope": None,
        "live_stream_origin": "origin-1.secdn.net",
        "live_stream_region": None,
        "live_stream_subscribers": None,
        "live_stream_start_time": _iso_seconds(started),
        # The push targets are left out: a push URL carries the destination's stream key.
        "live_stream_pushpublish": [
            {"entry_name": "usp-ch1", "push_service_id": 71, "connected": True},
            {"entry_name": "akamai", "push_service_id": 72, "connected": False},
        ],
        "live_stream_api_version": None,
    }
    assert hosts["ch3"]["live_stream_app"] == "demo-channel"
    assert hosts["ch2"]["live_stream_pushpublish"] == []
    for secret in (DEFAULT_API_SECRET, DEFAULT_API_KEY, "streamkey-SECRET"):
        assert secret not in result.output


def _iso_seconds(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_scaleengine_wrong_secret_fails_with_a_clear_message_without_the_secret(runner, scaleengine_live):
    secret = "wrong-" + secrets.token_hex(24)
    config = {"sources": ["scaleengine"], "scaleengine_apps": [{"app": "demo-origin", "inst": "live"}]}
    result = inventory(runner, config, "--graph", env=dict(scaleengine_env(scaleengine_live, secret), **FAIL_ON_UNPARSED))
    assert result.rc != 0
    url = scaleengine_live.url() + API_PATH
    assert (
        f"live_streams: the ScaleEngine source failed: ScaleEngine stream.active failed: Failed HMAC-SHA256 signature (code 0003) (POST {url})."
        " Check api_secret (SCALEENGINE_API_SECRET)"
    ) in result.output
    for form in (secret, secret[:12], secret[-12:]):
        assert form not in result.output

    # Without the setting, Ansible goes on with a warning and without the source's hosts.
    result = inventory(runner, config, "--graph", env=scaleengine_env(scaleengine_live, secret))
    assert "live_streams: the ScaleEngine source failed" in result.output
    assert graph(result) == {}


def test_filters_compose_and_groups(runner, scaleengine_live):
    config = {
        "sources": ["scaleengine"],
        "scaleengine_apps": [{"app": "demo-origin", "inst": "live"}, {"app": "demo-channel", "inst": "live"}],
        # ch2 is filtered out by the first, ch3 by the second.
        "filters": ["live_stream_name != 'ch2'", "live_stream_app == 'demo-origin' or live_stream_id == 999"],
        "compose": {"restart_session_channel": "live_stream_name | upper", "pushes": "live_stream_pushpublish | map(attribute='entry_name') | list"},
        "groups": {"pushing": "live_stream_pushpublish | selectattr('connected') | list | length > 0"},
    }
    env = scaleengine_env(scaleengine_live)
    assert graph(inventory(runner, config, "--graph", env=env)) == {"live_scaleengine": ["ch1"], "pushing": ["ch1"]}
    hosts = host_vars(inventory(runner, config, "--list", env=env))
    assert list(hosts) == ["ch1"]
    assert hosts["ch1"]["restart_session_channel"] == "CH1"
    assert hosts["ch1"]["pushes"] == ["usp-ch1", "akamai"]


def test_failing_filter_fails_when_strict_and_is_ignored_with_a_warning_otherwise(runner, scaleengine_live):
    config = {"sources": ["scaleengine"], "scaleengine_apps": [{"app": "demo-origin", "inst": "live"}], "filters": ["live_stream_region.startswith('eu')"]}
    env = scaleengine_env(scaleengine_live)
    result = inventory(runner, config, "--graph", env=dict(env, **FAIL_ON_UNPARSED))
    assert result.rc != 0
    assert "live_streams: could not evaluate the filter \"live_stream_region.startswith('eu')\" for scaleengine stream demo-origin/live/ch1" in result.output

    result = inventory(runner, dict(config, strict=False), "--graph", env=env)
    assert graph(result) == {"live_scaleengine": ["ch1", "ch2"]}
    assert "(the filter is ignored for it: strict is false)" in result.output


def test_cache_second_run_sends_no_request(runner, scaleengine_live):
    cache_dir = runner.workdir / "inventory-cache"
    config = {
        "sources": ["scaleengine"],
        "scaleengine_apps": [{"app": "demo-origin", "inst": "live"}],
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(cache_dir),
        "cache_timeout": 600,
    }
    env = scaleengine_env(scaleengine_live)
    first = host_vars(inventory(runner, config, "--list", env=env))
    assert list(first) == ["ch1", "ch2"]
    assert len(scaleengine_live.received()) == 1
    scaleengine_live.clear_log()
    # The streams changed, but the cache answers: no request, the same hosts.
    scaleengine_live.stop_stream("demo-origin", "live", "ch2")
    second = host_vars(inventory(runner, config, "--list", env=env))
    assert second == first
    assert scaleengine_live.received() == []
    cached = "".join(path.read_text() for path in cache_dir.iterdir())
    assert "ch1" in cached
    for secret in (DEFAULT_API_SECRET, DEFAULT_API_KEY):
        assert secret not in cached
    # --flush-cache asks again.
    third = host_vars(inventory(runner, config, "--list", "--flush-cache", env=env))
    assert list(third) == ["ch1"]
    assert len(scaleengine_live.received()) == 1


# -- Red5 Stream Manager 1.x and 2.0 ------------------------------------------------------------------


@pytest.fixture
def red5():
    emulator = Red5Emulator().start()
    yield emulator
    emulator.stop()


def test_red5_1x_origins_become_hosts_and_edges_do_not(runner, red5):
    red5.start_broadcast(scope="live", name="cam1", region="us-east-1", start_time=START_MS, subscribers=5)
    red5.start_broadcast(scope="live", name="cam2", region="eu-west-1", start_time=START_MS)
    # A viewer's subscribe lookup makes an edge serve cam1: the 4.0 list then has an edge item for it.
    http_get(red5.url() + "/streammanager/api/4.0/event/live/cam1?action=subscribe&region=eu-west-1")
    listed = http_get(red5.url() + "/streammanager/api/4.0/event/list/stats")
    assert sorted((item["name"], item["type"]) for item in listed) == [("cam1", "edge"), ("cam1", "origin"), ("cam2", "origin")]
    red5.clear_log()

    config = {"sources": ["red5"], "keyed_groups": [{"key": "live_stream_region", "prefix": "region"}]}
    env = {"RED5_SM_URL": red5.url(), "RED5_SM_API_VERSION": "4.0"}
    assert graph(inventory(runner, config, "--graph", env=env)) == {
        "live_red5": ["cam1", "cam2"],
        "region_us_east_1": ["cam1"],
        "region_eu_west_1": ["cam2"],
    }
    assert [entry.path for entry in red5.log()] == ["/streammanager/api/4.0/event/list/stats"]
    hosts = host_vars(inventory(runner, config, "--list", env=env))
    assert hosts["cam1"] == {
        "live_stream_vendor": "red5",
        "live_stream_app": None,
        "live_stream_instance": None,
        "live_stream_name": "cam1",
        "live_stream_id": None,
        "live_stream_scope": "live",
        "live_stream_origin": "10.0.1.10",
        "live_stream_region": "us-east-1",
        "live_stream_subscribers": 5,
        "live_stream_start_time": START_ISO,
        "live_stream_pushpublish": [],
        "live_stream_api_version": "4.0",
    }


def test_red5_1x_unreachable_fails_naming_the_source_and_url(runner):
    url = closed_port_url()
    config = {"sources": ["red5"], "red5_retries": 0, "red5_api_version": "3.1"}
    result = inventory(runner, config, "--graph", env=dict({"RED5_SM_URL": url}, **FAIL_ON_UNPARSED))
    assert result.rc != 0
    assert (
        "live_streams: the Red5 Stream Manager source failed: request failed: could not connect to the server (is the URL right and the server up?) "
        f"(GET {url}/streammanager/api/3.1/event/list/stats)"
    ) in result.output


@pytest.fixture
def red5_sm2():
    emulator = Red5Sm2Emulator().start()
    emulator.start_broadcast(scope="live", name="s1", region="ashburn", start_time=START_MS, subscribers=3)
    emulator.start_broadcast(scope="live/sub", name="s2", region="frankfurt", start_time=START_MS)
    yield emulator
    emulator.stop()


def test_red5_sm2_streams_grouped_by_sub_group(runner, red5_sm2):
    config = {"sources": ["red5"], "keyed_groups": [{"key": "live_stream_region", "prefix": "subgroup"}, {"key": "live_stream_vendor", "prefix": "vendor"}]}
    env = {"RED5_SM_URL": red5_sm2.url(), "RED5_SM_API_VERSION": "sm2"}
    assert graph(inventory(runner, config, "--graph", env=env)) == {
        "live_red5": ["s1", "s2"],
        "subgroup_ashburn": ["s1"],
        "vendor_red5": ["s1", "s2"],
        "subgroup_frankfurt": ["s2"],
    }
    hosts = host_vars(inventory(runner, config, "--list", env=env))
    assert hosts["s2"]["live_stream_id"] == "live/sub/s2"
    assert hosts["s2"]["live_stream_scope"] == "live/sub"
    assert hosts["s1"]["live_stream_origin"] == "10.0.0.1"
    assert hosts["s1"]["live_stream_subscribers"] == 3
    assert hosts["s1"]["live_stream_api_version"] == "sm2"
    # The start time is now minus the stream's duration: the emulator's clock and the plugin's differ by milliseconds.
    assert hosts["s1"]["live_stream_start_time"].startswith(START_ISO[:16])
    # Public stream calls: no login.
    assert not red5_sm2.log(method="PUT")

    # api_version auto detects Stream Manager 2.0 and says so.
    hosts = host_vars(inventory(runner, config, "--list", env=dict(env, RED5_SM_API_VERSION="auto")))
    assert hosts["s1"]["live_stream_api_version"] == "sm2"


def test_red5_sm2_login_with_credentials_from_the_environment(runner, red5_sm2):
    red5_sm2.set_auth(streams_require_auth=True)
    config = {"sources": ["red5"], "red5_api_version": "sm2"}
    # What the AWX credential type injects, the unused 1.x token included.
    env = {
        "RED5_SM_URL": red5_sm2.url(),
        "RED5_SM_NODE_GROUP": "default",
        "RED5_SM_USERNAME": DEFAULT_USERNAME,
        "RED5_SM_PASSWORD": DEFAULT_PASSWORD,
        "RED5_SM_ACCESS_TOKEN": "",
    }
    result = inventory(runner, config, "--graph", env=env)
    assert graph(result) == {"live_red5": ["s1", "s2"]}
    assert [entry.path for entry in red5_sm2.log(method="PUT")] == ["/as/v1/auth/login"]
    assert DEFAULT_PASSWORD not in result.output

    password = "wrong-" + secrets.token_hex(16)
    result = inventory(runner, config, "--graph", "-vvvv", env=dict(env, RED5_SM_PASSWORD=password, **FAIL_ON_UNPARSED))
    assert result.rc != 0
    assert (
        "live_streams: the Red5 Stream Manager source failed: the Stream Manager refused the login: wrong username or password "
        f"(PUT {red5_sm2.url()}/as/v1/auth/login returned HTTP 401). Check username and password"
    ) in result.output
    basic = base64.b64encode(f"{DEFAULT_USERNAME}:{password}".encode()).decode()
    for form in (password, password[:14], basic):
        assert form not in result.output


# -- both sources -------------------------------------------------------------------------------------


def test_strict_false_keeps_the_other_source_with_a_warning(runner, scaleengine_live):
    url = closed_port_url()
    config = {"sources": ["scaleengine", "red5"], "strict": False, "scaleengine_apps": [{"app": "demo-origin", "inst": "live"}], "red5_retries": 0}
    env = dict(scaleengine_env(scaleengine_live), RED5_SM_URL=url, RED5_SM_API_VERSION="4.0")
    result = inventory(runner, config, "--graph", env=dict(env, **FAIL_ON_UNPARSED))
    assert graph(result) == {"live_scaleengine": ["ch1", "ch2"]}
    assert (
        "live_streams: the Red5 Stream Manager source failed: request failed: could not connect to the server (is the URL right and the server up?) "
        f"(GET {url}/streammanager/api/4.0/event/list/stats)"
    ) in result.output
    assert "(its hosts are left out: strict is false)" in result.output

    # strict (the default): the whole source fails, with no host of either.
    result = inventory(runner, dict(config, strict=True), "--graph", env=dict(env, **FAIL_ON_UNPARSED))
    assert result.rc != 0
    assert "live_streams: the Red5 Stream Manager source failed" in result.output


def test_same_stream_on_both_sources_gets_two_host_names_with_a_warning(runner, scaleengine_live, red5):
    red5.start_broadcast(scope="live", name="ch1", region="us-east-1", start_time=START_MS)
    config = {"sources": ["scaleengine", "red5"], "scaleengine_apps": [{"app": "demo-origin", "inst": "live"}]}
    env = dict(scaleengine_env(scaleengine_live), RED5_SM_URL=red5.url(), RED5_SM_API_VERSION="4.0")
    result = inventory(runner, config, "--graph", env=env)
    assert graph(result) == {"live_scaleengine": ["ch1", "ch2"], "live_red5": ["ch1@red5"]}
    warning = (
        "live_streams: scaleengine stream demo-origin/live/ch1 and red5 stream live/ch1 both have the host name 'ch1'; "
        "the red5 stream live/ch1 is named 'ch1@red5'"
    )
    # Ansible wraps long warnings: compare without the line breaks.
    assert warning in " ".join(result.output.split())


# -- the demo's inventory file and a restart of one group -------------------------------------------


@pytest.fixture
def stack():
    emulators = build_stack(["ch1", "ch2", "ch3"], interval=0.5, eos_delay=0.3, red5_delay=0.3)
    yield emulators
    emulators.stop()


def test_demo_inventory_against_the_stack(runner, stack):
    result = runner.run([str(BIN_DIR / "ansible-inventory"), "-i", str(DEMO_INVENTORY), "--graph"], env=stack.env())
    assert graph(result) == {
        "live_scaleengine": ["ch1", "ch2", "ch3"],
        "live_red5": ["ch1@red5", "ch2@red5", "ch3@red5"],
        "pushing": ["ch1", "ch2", "ch3"],
        "vendor_scaleengine": ["ch1", "ch2", "ch3"],
        "region_none": ["ch1", "ch2", "ch3"],
        "vendor_red5": ["ch1@red5", "ch2@red5", "ch3@red5"],
        "region_us_east_1": ["ch1@red5", "ch2@red5", "ch3@red5"],
    }
    assert "WARNING" not in result.output


def test_restart_session_targets_one_group_of_the_inventory(runner, stack):
    path = write_inventory(
        runner,
        {"sources": ["scaleengine"], "scaleengine_apps": [{"app": "demo-origin", "inst": "live"}], "groups": {"canary": "live_stream_name in ['ch1', 'ch3']"}},
    )
    extra = runner.workdir / "vars.json"
    extra.write_text(json.dumps(dict(FAST, restart_session_start_tasks=START_TASKS)))
    argv = [str(BIN_DIR / "ansible-playbook"), "mediaops.streaming.restart_session", "-i", str(path), "--limit", "canary", "-e", f"@{extra}"]
    result = runner.run(argv, env=stack.env())
    assert result.rc == 0, result.output
    closed = [command["stream"] for command in stack.scaleengine.commands("stream.close")]
    assert sorted(closed) == ["ch1", "ch3"]
    recreated = sorted(entry.path for entry in stack.usp.log(method="DELETE"))
    assert recreated == ["/ch1/ch1.isml", "/ch3/ch3.isml"]
    assert re.search(r"^ch2\s", result.stdout, re.MULTILINE) is None
    assert stack.is_live("ch2")
