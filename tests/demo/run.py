"""``make demo``: start the emulators as separate processes and run the demo playbook.

The emulators are started exactly as a user would start them by hand
(``python -m tests.emulators.usp``); their URLs reach the playbook through the
same environment variables an AWX credential would set (``USP_API_URL`` ...).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = Path(__file__).resolve().parent
BIN_DIR = Path(sys.executable).parent


def start_emulator(module: str, *args: str) -> tuple[subprocess.Popen, dict]:
    process = subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=5)
        raise SystemExit(f"{module} did not start (exit code {process.returncode})")
    return process, json.loads(line)


def collections_path() -> Path:
    root = Path(tempfile.mkdtemp(prefix="mediaops-demo-"))
    (root / "ansible_collections" / "mediaops").mkdir(parents=True)
    (root / "ansible_collections" / "mediaops" / "streaming").symlink_to(REPO_ROOT)
    return root


def main() -> int:
    usp, usp_urls = start_emulator("tests.emulators.usp")
    print(f"USP emulator: API {usp_urls['api']}, origin {usp_urls['origin']}", flush=True)
    collections = collections_path()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_HOME=str(collections / "ansible-home"),
        ANSIBLE_RETRY_FILES_ENABLED="false",
        USP_API_URL=usp_urls["api"],
        USP_ORIGIN_URL=usp_urls["origin"],
        PATH=f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}",
    )
    try:
        completed = subprocess.run([str(BIN_DIR / "ansible-playbook"), str(DEMO_DIR / "usp_demo.yml")], cwd=REPO_ROOT, env=env, check=False)
    finally:
        usp.send_signal(signal.SIGTERM)
        usp.wait(timeout=10)
        subprocess.run(["rm", "-rf", str(collections)], check=False)
    print("\ndemo: " + ("finished" if completed.returncode == 0 else f"FAILED (ansible-playbook exit code {completed.returncode})"))
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main())
