"""deploy/systemd/orderhub.service: systemd accepts it (`systemd-analyze verify`, the
binary path pointed at one that exists here), and it waits longer than the drain."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from hub.config import HubSettings
from tests.deploy.tools import DEPLOY, run, tool

UNIT = DEPLOY / "systemd" / "orderhub.service"


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze", "verifies the unit file")
    unit = tmp_path / "orderhub.service"
    text = UNIT.read_text(encoding="utf-8")
    unit.write_text(text.replace("/opt/orderhub/bin/orderhub", shutil.which("true") or "/bin/true"),
                    encoding="utf-8")
    done = run(analyze, "verify", str(unit))
    said = (done.stdout + done.stderr).strip()  # an unknown key is only a warning
    assert done.returncode == 0 and not said, said


def test_the_unit_waits_longer_than_the_drain() -> None:
    text = UNIT.read_text(encoding="utf-8")
    timeout = float(re.search(r"^TimeoutStopSec=(\d+)", text, flags=re.M).group(1))
    assert timeout >= HubSettings.model_fields["drain_s"].default + 30
    assert re.search(r"^KillMode=control-group", text, flags=re.M)  # the case the hub handles
