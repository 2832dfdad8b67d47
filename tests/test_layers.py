"""The layers of docs/architecture.md hold, and the check that says so can fail.

import-linter reads its contracts from pyproject.toml. The first test checks the tree
as it is; the others copy the tree, add one forbidden import, and expect the check to
name the broken contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=tree, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_tree_keeps_every_contract() -> None:
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "static", "*.html")
    for package in ("hub", "sim"):
        shutil.copytree(ROOT / package, tree / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("hub/domain/priority.py", "import httpx", "the domain does no I/O"),
    ("hub/domain/routing.py", "import hub.app", "domain <- app <- shells"),
    ("hub/app/intake.py", "import hub.ledger", "domain <- app <- shells"),
    ("hub/api/orders.py", "import hub.actors", "domain <- app <- shells"),
    ("hub/ledger/memory.py", "import sim.trace", "the hub does not import the harness"),
    ("sim/emulators/jd.py", "import hub.connectors", "the emulators sign and check with"),
])
def test_a_forbidden_import_breaks_the_check(scratch: Path, module: str, line: str,
                                             contract: str) -> None:
    path = scratch / module
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original + f"\n{line}  # added by tests/test_layers.py\n",
                        encoding="utf-8")
        done = lint(scratch)
    finally:
        path.write_text(original, encoding="utf-8")
    assert done.returncode != 0, done.stdout
    broken = done.stdout.split("Broken contracts")[-1]
    assert contract in broken, done.stdout
