# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where module_utils meet ``AnsibleModule``.

A module's ``main()`` builds ``AnsibleModule`` and calls :func:`run_module`
with its work function. The work function takes the validated parameters, the
check-mode and diff flags and a ``warn`` callable, returns the result dict and
raises :class:`StreamingError`; it never sees ``AnsibleModule``, so the same
code can be tested without Ansible and run in-process later.
"""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HAS_REQUESTS, REQUESTS_IMPORT_ERROR

try:
    from ansible_collections.mediaops.streaming.plugins.module_utils.smil import HAS_LXML, LXML_IMPORT_ERROR
except ImportError:  # smil.py itself guards lxml; this only covers a broken install
    HAS_LXML, LXML_IMPORT_ERROR = False, None

_LIBRARIES = {
    "requests": (HAS_REQUESTS, REQUESTS_IMPORT_ERROR),
    "lxml": (HAS_LXML, LXML_IMPORT_ERROR),
}


def run_module(module, work, requires=("requests",)):
    """Check libraries, run ``work`` and exit the module with its result."""
    for library in requires:
        present, import_error = _LIBRARIES[library]
        if not present:
            module.fail_json(msg=missing_required_lib(library), exception=import_error)
    try:
        result = work(module.params, check_mode=module.check_mode, diff=module._diff, warn=module.warn)
    except StreamingError as exc:
        module.fail_json(msg=str(exc), **exc.result())
    module.exit_json(**result)
