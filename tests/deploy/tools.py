"""Finding the checking tools, and what the deploy/ files say."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).parents[2]
DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent  # the venv's tools (pyproject's dev extras)


def tool(name: str, why: str) -> str:
    """The tool's path, or the test skips saying which tool is missing and what it checks."""
    found = shutil.which(name, path=f"{BIN}:{os.environ.get('PATH', '')}")
    if found is None:
        pytest.skip(f"{name} is not installed ({why}); `pip install -e '.[dev]'` brings it")
    return found


def run(*argv: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def manifest(kind: str, name: str | None = None) -> dict[str, Any]:
    """The one resource of ``kind`` (and ``name``) under deploy/k8s."""
    found = [d for path in sorted((DEPLOY / "k8s").glob("*.yaml")) for d in documents(path)
             if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]
