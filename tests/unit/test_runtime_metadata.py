"""meta/runtime.yml must list every module in its vendor's action group."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GROUP_BY_PREFIX = {"usp_": "usp", "scaleengine_": "scaleengine", "red5_": "red5"}


def modules() -> set[str]:
    return {path.stem for path in (ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__"}


def runtime() -> dict:
    return yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())


def test_every_module_is_in_its_vendor_group():
    groups = runtime()["action_groups"]
    missing = []
    for module in sorted(modules()):
        prefix = next((prefix for prefix in GROUP_BY_PREFIX if module.startswith(prefix)), None)
        assert prefix, f"module {module} has no vendor prefix ({', '.join(GROUP_BY_PREFIX)}): add it to GROUP_BY_PREFIX and meta/runtime.yml"
        if module not in groups.get(GROUP_BY_PREFIX[prefix], []):
            missing.append(f"{module} -> {GROUP_BY_PREFIX[prefix]}")
    assert not missing, f"modules missing from their action group in meta/runtime.yml: {missing}"


def test_groups_name_only_existing_modules():
    groups = runtime()["action_groups"]
    listed = {name for group, names in groups.items() if group != "all" for name in names if isinstance(name, str)}
    assert listed <= modules(), f"meta/runtime.yml lists modules that do not exist: {sorted(listed - modules())}"


def test_all_group_extends_every_vendor_group():
    groups = runtime()["action_groups"]
    extended = next(item["metadata"]["extend_group"] for item in groups["all"] if isinstance(item, dict))
    assert sorted(extended) == sorted(set(GROUP_BY_PREFIX.values()))


def test_requires_ansible_matches_support_statement():
    assert runtime()["requires_ansible"] == ">=2.19.0"
