"""The restart_session role variables that the integration tests share."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# The demo's task files that start and stop the simulated encoder.
START_TASKS = str(REPO_ROOT / "tests" / "demo" / "restart_start_encoder.yml")
STOP_TASKS = str(REPO_ROOT / "tests" / "demo" / "restart_stop_encoder.yml")

# Small timeouts and poll intervals keep the failure tests fast; the emulated
# encoder stops 0.3 s after End Of Stream and Red5 follows 0.3 s after a start.
FAST = {
    "restart_session_stop_method": "scaleengine_stream",
    "restart_session_scaleengine_app": "demo-origin",
    "restart_session_scaleengine_inst": "live",
    "restart_session_stop_timeout": 10,
    "restart_session_poll_interval": 0.2,
    "restart_session_started_timeout": 20,
    "restart_session_red5_timeout": 20,
}
