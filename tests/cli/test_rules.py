"""``orderhub rules check`` and ``orderhub rules default``."""

from __future__ import annotations

import subprocess
import sys

from hub.cli import main
from hub.domain.rules import default_ruleset


def test_check_default_rules_ok(tmp_path, capsys):
    path = tmp_path / "rules.yaml"
    path.write_text(default_ruleset().text, "utf-8")
    assert main(["rules", "check", str(path)]) == 0
    out = capsys.readouterr()
    ok, warning = out.out.splitlines()
    assert ok == "ok: version 1, 2 rules"
    assert warning.startswith(f"{path}:77: warning: rules 'douyin-live-new-buyer' (line 67) "
                              "and 'vip-same-city-fast' can match the same order")
    assert out.err == ""


def test_check_warns_of_a_shadowed_rule_with_its_line(tmp_path, capsys):
    path = tmp_path / "rules.yaml"
    path.write_text("version: 2\nname: x\nrules:\n"
                    "  - {id: jd, precedence: 1, when: {field: channel, eq: jd}, "
                    "then: {lane: P1}}\n"
                    "  - {id: jd-big, precedence: 2, when: {all: [{field: channel, eq: jd}, "
                    "{field: score, gt: 90}]}, then: {lane: P1}}\n", "utf-8")
    assert main(["rules", "check", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(
        f"{path}:5: warning: rule 'jd-big' can never fire: rule 'jd' (line 4) comes first")
    assert main(["rules", "check", "--strict", str(path)]) == 1


def test_check_prints_one_line_per_problem_and_exits_1(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 4\n"
        "name: bad\n"
        "colour: red\n"
        "rules:\n"
        "  - id: a\n"
        "    precedence: 1\n"
        "    when: {field: amounts.paid_fen, gt: abc}\n"
        "    then: {lane: P9}\n", "utf-8")
    assert main(["rules", "check", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{path}:3: unknown field 'colour'")
    assert lines[1].startswith(f"{path}:7: gt: expects a number for 'amounts.paid_fen'")
    assert lines[2].startswith(f"{path}:8: rules[0].then.lane: Input should be 'P0'")


def test_check_yaml_syntax_error(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nname: [x\n", "utf-8")
    assert main(["rules", "check", str(path)]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{path}:3: YAML syntax error")


def test_unreadable_file_is_one_clear_line_without_traceback(tmp_path):
    missing = tmp_path / "nope.yaml"
    for target in (missing, tmp_path):
        proc = subprocess.run([sys.executable, "-m", "hub.cli", "rules", "check", str(target)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1
        assert proc.stdout == ""
        assert proc.stderr.startswith(f"orderhub rules check: cannot read {target}: ")
        assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_default_prints_the_shipped_file(capsys):
    assert main(["rules", "default"]) == 0
    assert capsys.readouterr().out == default_ruleset().text
