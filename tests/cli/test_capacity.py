"""`orderhub capacity`: bad input is a clear error (exit 2) before any model runs."""

from __future__ import annotations

import pytest

from hub.cli import main


@pytest.mark.parametrize("args, message", [
    (["no-such-day"], "no such scenario"),
    (["baseline-8k", "--sweep", "weather=1"], "NAME one of volume, interval"),
    (["baseline-8k", "--sweep", "volume=-5"], "must be more than zero"),
    (["baseline-8k", "--cost", "bribes=5"], "--cost bribes: unknown"),
    (["baseline-8k", "--cost", "wage_per_hour=lots"], "expected NAME=NUMBER"),
    (["baseline-8k", "--calibration-sample", "2"], "a share in (0, 1]"),
    (["baseline-8k", "--live", "nowhere/summary.json"], "no such rehearsal summary"),
])
def test_bad_input_is_refused_with_the_reason(args, message, capsys, tmp_path) -> None:
    assert main(["capacity", *args, "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("orderhub capacity: ") and message in err
    assert not (tmp_path / "summary.json").exists()
