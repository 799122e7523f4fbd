# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""usp_publishing_points on the controller fast path (plugins/plugin_utils/fast_path.py); the module documents it."""

from __future__ import annotations

from ansible_collections.mediaops.streaming.plugins.plugin_utils.fast_path import action_for

ActionModule = action_for("usp_publishing_points")
