"""The systemd units in deploy/: each sandboxed well enough that `systemd-analyze security`
rates it OK or better, and each starting a command publisher has."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

UNITS = sorted((ROOT / "deploy").glob("*.service"))
ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(ANALYZE is None, reason="no systemd-analyze on this machine")
@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_each_unit_is_rated_ok_or_better_by_systemd(unit: Path, tmp_path: Path) -> None:
    # A template's file name holds an @ that the offline check takes for an instance.
    copy = tmp_path / unit.name.replace("@", "-template")
    copy.write_text(unit.read_text())
    rated = subprocess.run(
        [str(ANALYZE), "security", "--offline=true", str(copy)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    found = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", rated.stdout)
    assert found, rated.stdout + rated.stderr
    assert found.group(2) in ("SAFE", "OK"), found.group(0)


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_each_unit_starts_a_command_publisher_has(unit: Path) -> None:
    (start,) = re.findall(r"^ExecStart=\S+/publisher (.+)$", unit.read_text(), re.MULTILINE)
    words = [word for word in start.split() if not word.startswith("$")]
    assert run_cli(*words, "--help").returncode == 0, start
