"""architecture.md lists every module of the project with its purpose: the list and the tree must agree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "ports", "app", "adapters", "mock_upstream")


def test_every_module_is_listed_and_every_listed_module_exists() -> None:
    text = (ROOT / "architecture.md").read_text(encoding="utf-8")
    section = text.split("### Packages and modules", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_/]+\.py)` \|", section, flags=re.MULTILINE))
    tree = {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if not (path.name == "__init__.py" and path.stat().st_size < 200)  # an empty package marker needs no line
        and "_pb2" not in path.name  # generated gRPC code
        and "__pycache__" not in path.parts
    }
    assert sorted(tree - listed) == [], "modules missing from architecture.md"
    assert sorted(listed - tree) == [], "architecture.md lists modules that do not exist"
