"""``make demo``: the emulated streaming stack, the USP demo, then a complete session restart.

1. ``python -m tests.emulators.stack --channels 3`` starts the USP, ScaleEngine
   and Red5 emulators in one process, wired like a live channel: three channels
   whose (simulated) encoder pushes through ScaleEngine into a publishing point
   with archiving on, and publishes on the Red5 Stream Manager.
2. ``tests/demo/usp_demo.yml``: one publishing point through its whole life.
3. ``ansible-playbook mediaops.streaming.restart_session`` restarts the three
   channels in parallel (``restart_inventory.yml``, ``restart_vars.yml``).
4. The before/after picture of every channel, read from the emulators.
5. ``ansible-inventory --graph`` of ``tests/demo/live.mediaops.yml``: the
   streams live now, as hosts (the ``mediaops.streaming.live_streams`` inventory).

The emulators' URLs reach the playbooks through the environment variables an
AWX credential would set (``USP_API_URL``, ``SCALEENGINE_API_SECRET``, ...).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = Path(__file__).resolve().parent
BIN_DIR = Path(sys.executable).parent
CHANNELS = 3


def start_stack() -> tuple[subprocess.Popen, dict]:
    command = [sys.executable, "-m", "tests.emulators.stack", "--channels", str(CHANNELS), "--interval", "0.5", "--fragments", "30"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=5)
        raise SystemExit(f"the emulators did not start (exit code {process.returncode})")
    return process, json.loads(line)


def collections_path() -> Path:
    root = Path(tempfile.mkdtemp(prefix="mediaops-demo-"))
    (root / "ansible_collections" / "mediaops").mkdir(parents=True)
    (root / "ansible_collections" / "mediaops" / "streaming").symlink_to(REPO_ROOT)
    (root / "tmp").mkdir()
    return root


def control(base_url: str, action: str) -> dict | list:
    """An emulator's control API (``POST /_emulator/<action>``): what it holds, for the picture."""
    request = urllib.request.Request(f"{base_url.rstrip('/')}/_emulator/{action}", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def picture(urls: dict) -> list[str]:
    """One line per channel: USP state, archive, settings; ScaleEngine; Red5."""
    points = control(urls["usp_origin"], "points")
    scaleengine_api = urls["scaleengine_api"].rsplit("/stable/", 1)[0]
    live = {item["stream"] for item in control(scaleengine_api, "state")["streams"]}
    red5 = {item["name"]: item for item in control(urls["red5"], "registry")}
    red5_sm2 = {item["name"]: item for item in control(urls["red5_sm2"], "streams")}
    lines = [
        f"  {'channel':<10} {'USP state':<9} {'archived':>9}  {'archive from':<27} {'dvr window':>10}  {'ScaleEngine':<11}  {'Red5 SM 1.x':<11}  Red5 SM 2.0"
    ]
    for name in urls["channels"]:
        point = points.get(name)
        if point is None:
            lines.append(f"  {name:<10} {'(none)':<9}")
            continue
        archive = point["archive"]
        archived = sum(_seconds(item["start"], item["end"]) for item in archive)
        since = archive[0]["start"] if archive else "-"
        broadcast = red5.get(name)
        red5_state = "publishing" if broadcast and broadcast["active"] else "stopped" if broadcast else "-"
        red5_sm2_state = "publishing" if name in red5_sm2 and red5_sm2[name]["live"] else "-"
        lines.append(
            f"  {name:<10} {point['state']:<9} {archived:>8.0f}s  {since:<27} {point['head'].get('dvr_window_length', '-'):>10}"
            f"  {'live' if name in live else 'not live':<11}  {red5_state:<11}  {red5_sm2_state}"
        )
    return lines


def main() -> int:
    stack, urls = start_stack()
    print(f"USP emulator: API {urls['usp_api']}, origin {urls['usp_origin']}")
    print(f"ScaleEngine emulator: {urls['scaleengine_api']} (cdn {urls['scaleengine_cdn']})")
    print(f"Red5 Stream Manager emulators: 1.x {urls['red5']}, 2.0 {urls['red5_sm2']}")
    print(f"channels: {', '.join(urls['channels'])} (live, archiving)\n", flush=True)
    collections = collections_path()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "USP_", "SCALEENGINE_", "RED5_"))}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        # Everything the run writes (the role's backups, the ScaleEngine signing ledger) goes where the demo cleans up.
        ANSIBLE_HOME=str(collections / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(collections / "ansible-home" / "tmp"),
        TMPDIR=str(collections / "tmp"),
        ANSIBLE_RETRY_FILES_ENABLED="false",
        # What AWX credentials for the three services would inject.
        USP_API_URL=urls["usp_api"],
        USP_ORIGIN_URL=urls["usp_origin"],
        SCALEENGINE_API_URL=urls["scaleengine_api"],
        SCALEENGINE_CDN=str(urls["scaleengine_cdn"]),
        SCALEENGINE_API_KEY=urls["scaleengine_api_key"],
        SCALEENGINE_API_SECRET=urls["scaleengine_api_secret"],
        RED5_SM_URL=urls["red5"],
        # channel03 is verified on the Stream Manager 2.0 (restart_inventory.yml).
        DEMO_RED5_SM2_URL=urls["red5_sm2"],
        PATH=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    failed = []
    try:
        print("== 1. A publishing point through its whole life (tests/demo/usp_demo.yml)", flush=True)
        usp_demo = subprocess.run([str(BIN_DIR / "ansible-playbook"), str(DEMO_DIR / "usp_demo.yml")], cwd=REPO_ROOT, env=env, check=False)
        if usp_demo.returncode:
            failed.append(f"usp_demo.yml (exit code {usp_demo.returncode})")

        before = picture(urls)
        print("\n== 2. Restart the sessions of all channels (ansible-playbook mediaops.streaming.restart_session --forks 3)\n")
        print("before:\n" + "\n".join(before) + "\n", flush=True)
        restart = subprocess.run(
            [
                str(BIN_DIR / "ansible-playbook"),
                "mediaops.streaming.restart_session",
                "-i",
                str(DEMO_DIR / "restart_inventory.yml"),
                "-e",
                f"@{DEMO_DIR / 'restart_vars.yml'}",
                "-e",
                f"restart_session_start_tasks={DEMO_DIR / 'restart_start_encoder.yml'}",
                "--forks",
                str(CHANNELS),
            ],
            cwd=REPO_ROOT,
            env=env,
            check=False,
        )
        if restart.returncode:
            failed.append(f"restart_session (exit code {restart.returncode})")
        print("before:\n" + "\n".join(before))
        print("after:\n" + "\n".join(picture(urls)))
        print(
            "\nEach channel was stopped through ScaleEngine, waited for until its publishing point had stopped, purged,"
            "\ndeleted, created again (channel01/02 with a new DVR window, channel03 as it was) and started again;"
            "\nits archive now holds only what the encoder sent after the restart. The role then waited until each stream"
            "\npublished again on a Red5 Pro Stream Manager: 1.x for channel01/02, 2.0 (api_version sm2) for channel03."
        )

        print("\n== 3. What is live now, as inventory (ansible-inventory -i tests/demo/live.mediaops.yml --graph)\n", flush=True)
        graph = subprocess.run(
            [str(BIN_DIR / "ansible-inventory"), "-i", str(DEMO_DIR / "live.mediaops.yml"), "--graph"],
            cwd=REPO_ROOT,
            # A live inventory whose source fails is an error, not a warning and an empty graph (docs/inventory.md).
            env=dict(env, ANSIBLE_INVENTORY_UNPARSED_FAILED="true"),
            check=False,
        )
        if graph.returncode:
            failed.append(f"ansible-inventory (exit code {graph.returncode})")
        print("\nEvery stream live on ScaleEngine and on the Red5 Stream Manager is a host; a group of them (--limit) is what")
        print("restart_session restarts next time (docs/inventory.md).")
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(timeout=10)
        shutil.rmtree(collections, ignore_errors=True)
    print("\ndemo: " + (f"FAILED: {', '.join(failed)}" if failed else "finished"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
