"""The command line: help, validate, run, sweep, report, exit codes."""

from pathlib import Path

import pytest

import copsim
from copsim.cli import COMMANDS, build_parser, main

CONFIG = """\
name: cli
base:
  preset: march1991
  params: {{n_practitioners: 8, n_dimensions: 8}}
design:
  grid:
    socialization_rate: [0.2, 0.8]
replicates: 2
seed: 3
steps: 10
stop: horizon
chunk_size: 2
output: {out}
"""


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "cli.yaml"
    path.write_text(CONFIG.format(out=tmp_path / "out"))
    return path


@pytest.mark.parametrize("name", [None, "run", "sweep", "report", "validate"])
def test_help_for_every_command(name, capsys):
    with pytest.raises(SystemExit) as info:
        main([name, "--help"] if name else ["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    if name == "sweep":
        for option in ("--workers", "--backend", "--scheduler", "--resume", "--dry-run"):
            assert option in text
    if name is None:
        assert all(cmd in text for cmd in COMMANDS)


def test_commands_are_registered_for_extension():
    assert {"run", "sweep", "report", "validate"} <= set(COMMANDS)
    parser = build_parser()
    assert parser.parse_args(["validate", "a.yaml"]).configs == ["a.yaml"]


def test_validate_good_and_bad(config, tmp_path, capsys):
    assert main(["validate", str(config)]) == 0
    assert "points: 2 x 2 replicates = 4 runs" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(config.read_text().replace("replicates: 2", "replicate: 2"))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:8: replicate: unknown key 'replicate' (did you mean 'replicates'?)" in err


def test_run_prints_the_outcome_record(config, capsys):
    assert main(["run", str(config), "--point", "1", "--replicates", "2"]) == 0
    out = capsys.readouterr().out
    assert "point 1 {'socialization_rate': 0.8}" in out
    assert "code_knowledge" in out and "replicate 1" in out and "3:1-1" in out
    assert main(["run", str(config), "--point", "7"]) == 2


def test_sweep_dry_run_then_sweep_then_report(config, tmp_path, capsys):
    assert main(["sweep", str(config), "--dry-run"]) == 0
    assert "chunks: 2 of up to 2 runs" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()
    assert main(["sweep", str(config), "--workers", "1", "--no-progress", "--report"]) == 0
    out = capsys.readouterr().out
    assert "sweep complete: 4 runs executed" in out and f"report: {tmp_path / 'out'}" in out
    assert (tmp_path / "out" / "report.html").exists()
    assert main(["sweep", str(config), "--resume", "--no-progress"]) == 0
    assert "already complete" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "out"), "--format", "md"]) == 0
    assert (tmp_path / "out" / "report.md").exists()
    assert len(copsim.load(tmp_path / "out", "runs")) == 4


def test_sweep_errors_exit_with_a_message(config, tmp_path, capsys):
    assert main(["sweep", str(config), "--resume", "--no-progress"]) == 1
    assert "nothing to resume" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(config.read_text().replace("[0.2, 0.8]", "[0.2, 8]"))
    assert main(["sweep", str(bad)]) == 2
    assert "socialization_rate[1] = 8" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nowhere")]) == 2
