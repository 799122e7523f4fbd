# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes every module documents, stated once (as community.general.attributes does).

``DOCUMENTATION`` goes into every module: what the attributes mean (in the
words of ansible-core's ``ansible.builtin.action_common_attributes`` and its
``ACTIONGROUPS``), that the modules run on any platform (they talk HTTP from
the host they run on), and that each belongs to its vendor's action group (the
group's name is in the vendor fragment). ``INFO_MODULE`` adds the check and
diff mode support of a module that only reads. A module states its own
``check_mode`` and ``diff_mode`` support (and their details) when it changes
anything.
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target, if not supported the action will be skipped.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode
  platform:
    description: Target OS/families that can be operated against
    support: N/A
    platforms: all
  action_group:
    description: Action is part of action_group(s), for convenient setting of module_defaults.
    support: full
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
"""
