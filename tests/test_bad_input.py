"""Bad input gets a clear message and exit code 2: never a traceback, a hang or a silent run.

Each test here failed before the bad-input work of issue 13 (encodings, huge designs,
alias bombs, arbitrary model callables, empty identity dimensions, all-failed sweeps,
bad --workers / --resume --fresh, unwritable or damaged output folders, numpy scalars
in Params, memory estimates).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import copsim
from copsim import Params
from copsim.cli import main, memory_warning
from copsim.params import ParamsError, estimated_memory_bytes
from copsim.sweep import config as config_module
from copsim.sweep.config import (
    MAX_RUNS,
    ConfigError,
    config_from_text,
    load_config,
    register_model,
)
from copsim.sweep.design import Design, design_size, estimate

COPSIM = Path(sys.executable).with_name("copsim")

SMALL = """\
name: small
base:
  preset: march1991
  params: {{n_practitioners: 8, n_dimensions: 8}}
design:
  grid:
    socialization_rate: [0.2, 0.8]
seed: 3
steps: 5
stop: horizon
chunk_size: 2
output: {out}
"""


@pytest.fixture
def small(tmp_path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL.format(out=tmp_path / "out"), encoding="utf-8")
    return path


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run ``copsim ARGS`` in this process: (exit code, stdout, stderr), never a traceback."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse refusals
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    return code, out, err


def copsim_process(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The installed ``copsim`` script in a child process (the real entry point)."""
    return subprocess.run(
        [str(COPSIM), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def grid_config(n_keys: int, n_levels: int) -> str:
    """A grid of ``n_levels ** n_keys`` points over float parameters in [0, 1]."""
    names = ["safety", "permeability", "withdrawal", "renegotiation", "tacit_share", "exit_rate"]
    levels = ", ".join(str(round((i + 1) / (n_levels + 1), 4)) for i in range(n_levels))
    rows = "".join(f"    {name}: [{levels}]\n" for name in names[:n_keys])
    return f"name: huge\nseed: 1\ndesign:\n  grid:\n{rows}"


# ----------------------------------------------------------------------------- encodings
@pytest.mark.parametrize(
    ("encoding", "words"),
    [
        ("utf-16", "UTF-16"),
        ("utf-32", "UTF-32"),
        ("utf-16-le", "NUL bytes"),  # no byte-order mark
        ("latin-1", "not UTF-8"),
    ],
)
def test_non_utf8_config_names_the_file_in_validate_and_sweep(tmp_path, capsys, encoding, words):
    path = tmp_path / "wide.yaml"
    path.write_bytes(SMALL.format(out=tmp_path / "out").replace("small", "smäll").encode(encoding))
    for command in ("validate", "sweep"):
        code, _, err = cli([command, path], capsys)
        assert code == 2, (command, err)
        assert str(path) in err and words in err and "UTF-8" in err


def test_utf8_with_byte_order_mark_is_fine(tmp_path, small):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + small.read_bytes())
    assert load_config(path).name == "small"


def test_non_utf8_config_in_a_real_sweep_process(tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text(SMALL.format(out=tmp_path / "out"), encoding="utf-16")
    result = copsim_process("sweep", str(path), "--no-progress")
    assert result.returncode == 2
    assert str(path) in result.stderr and "UTF-16" in result.stderr
    assert "Traceback" not in result.stderr


# ----------------------------------------------------------------------------- huge designs
def test_huge_grid_is_counted_and_refused_without_being_built(tmp_path, capsys):
    path = tmp_path / "huge.yaml"
    path.write_text(grid_config(6, 100))  # 10^12 points
    start = time.perf_counter()
    code, _, err = cli(["validate", path], capsys)
    assert time.perf_counter() - start < 5
    assert code == 2
    assert "1,000,000,000,000 points" in err and f"limit of {MAX_RUNS:,} runs" in err
    assert "--allow-huge" in err and "CPU time" in err
    assert f"{path}:3: design" in err


@pytest.mark.parametrize(
    ("block", "runs"),
    [
        ("  lhs:\n    samples: 10000000\n    ranges: {safety: [0, 1]}\n", 10_000_000),
        ("  sobol:\n    samples: 1048576\n    ranges: {safety: [0, 1]}\n", 3 * 1_048_576),
    ],
)
def test_huge_samples_are_counted_not_drawn(block, runs):
    text = f"name: s\nseed: 1\ndesign:\n{block}"
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        config_from_text(text, "s.yaml")
    assert time.perf_counter() - start < 2
    assert f"= {runs:,} runs" in str(info.value)


@pytest.mark.parametrize("second_order", [False, True])
def test_sample_count_matches_the_drawn_samples(second_order):
    text = (
        "name: s\nseed: 1\ndesign:\n  sobol:\n    samples: 8\n"
        f"    second_order: {str(second_order).lower()}\n"
        "    ranges: {safety: [0, 1], permeability: [0, 1], n_spaces: [1, 4]}\n"
    )
    cfg = config_from_text(text)
    design = Design(cfg)
    assert design_size(cfg) == (len(design.samples), len(design.samples))
    assert design.n_points == 8 * (8 if second_order else 5)


def test_design_counts_its_points_before_drawing_samples():
    text = "name: s\nseed: 1\ndesign:\n  lhs:\n    samples: 64\n    ranges: {safety: [0, 1]}\n"
    cfg = config_from_text(text)
    design = Design(cfg)
    assert design.n_points == 64 and "samples" not in design.__dict__


def test_allow_huge_flag_and_config_key(tmp_path, capsys):
    text = SMALL.format(out=tmp_path / "out").replace("seed: 3", f"seed: 3\nreplicates: {MAX_RUNS}")
    path = tmp_path / "big.yaml"
    path.write_text(text)
    code, _, err = cli(["validate", path], capsys)
    assert code == 2 and "2,000,000 runs" in err
    code, out, _ = cli(["validate", path, "--allow-huge"], capsys)
    assert code == 0 and "design size: 2 points, 2,000,000 runs" in out
    assert config_from_text(text + "allow_huge: true\n").allow_huge
    # lifting the limit does not change what the results are (nor the folder they belong to)
    modest = text.replace(f"replicates: {MAX_RUNS}", "replicates: 3")
    allowed = config_from_text(modest + "allow_huge: true\n")
    assert Design(allowed).fingerprint() == Design(config_from_text(modest)).fingerprint()


def test_beyond_indexable_is_refused_even_when_allowed():
    text = grid_config(6, 2000) + "allow_huge: true\n"  # 6.4 * 10^19 points
    with pytest.raises(ConfigError, match="can be indexed"):
        config_from_text(text)


def test_validate_plan_shows_size_time_and_memory(small, capsys):
    code, out, _ = cli(["validate", small], capsys)
    assert code == 0
    assert "design size: 2 points, 2 runs" in out
    assert "estimated time: about" in out and "per run" in out
    assert "estimated memory: up to" in out and "n_practitioners up to 8" in out


# ----------------------------------------------------------------------------- YAML bombs
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
    for i in range(8)
)  # 9^9 (387 million) strings once expanded


def test_alias_bomb_is_refused_quickly_in_a_real_process(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text("name: bomb\nseed: 1\n" + ALIAS_BOMB)
    start = time.perf_counter()
    result = copsim_process("validate", str(path), timeout=60)
    assert time.perf_counter() - start < 30
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(path) in result.stderr and "aliases counted at full size" in result.stderr


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: &a [*a]\n", "refers to itself"),
        ("a: " + "[" * 200 + "]" * 200 + "\n", "nested deeper"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
    ],
)
def test_recursive_and_deep_yaml_is_refused(text, words):
    with pytest.raises(ConfigError, match=words):
        config_from_text(text, "x.yaml")


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("name: big\nseed: 1\n" + "# padding\n" * 200_000)
    with pytest.raises(ConfigError, match="larger than"):
        load_config(path)


# ----------------------------------------------------------------------------- models
def test_a_config_can_never_call_os_system(tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a, **k: calls.append(a) or 0)
    path = tmp_path / "evil.yaml"
    path.write_text(SMALL.format(out=tmp_path / "out") + 'model: "os:system"\n')
    for args in (["validate", path], ["run", path], ["sweep", path, "--workers", "1"]):
        code, _, err = cli(args, capsys)
        assert code == 2 and "model = 'os:system': not a copsim model" in err
        assert "'os' is part of Python" in err
    assert calls == [] and not (tmp_path / "out").exists()


def test_python_and_installed_modules_are_refused_without_being_imported():
    assert "antigravity" not in sys.modules  # importing it would open a web browser
    for spec in ("antigravity:fly", "subprocess:call", "builtins:exec", "yaml:load"):
        with pytest.raises(ConfigError, match="not a copsim model"):
            config_from_text(f"name: m\nseed: 1\nmodel: '{spec}'\n")
    assert "antigravity" not in sys.modules


LOCAL_MODELS = """\
from copsim.model import CoPModel


class MyModel(CoPModel):
    \"\"\"A user's own model.\"\"\"


def my_function(*args, **kwargs):
    raise AssertionError("a config must never call this")
"""


def test_a_copmodel_subclass_in_the_users_own_module_is_allowed(tmp_path, monkeypatch):
    (tmp_path / "my_copsim_models.py").write_text(LOCAL_MODELS)
    (tmp_path / "my_broken_models.py").write_text("raise ImportError('half-written')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    text = "name: m\nseed: 1\nmodel: {}\n"
    assert config_from_text(text.format("my_copsim_models:MyModel")).model.endswith("MyModel")
    for spec, words in [
        ("my_copsim_models:my_function", "not a subclass of copsim.model.CoPModel"),
        ("my_copsim_models:Missing", "AttributeError"),
        ("my_broken_models:Model", "half-written"),
        ("no_such_module_here:Model", "no module 'no_such_module_here'"),
    ]:
        with pytest.raises(ConfigError, match=words):
            config_from_text(text.format(spec))


def test_unknown_model_class_is_a_validation_error_with_file_line_field(tmp_path, capsys):
    path = tmp_path / "nosuch.yaml"
    path.write_text(SMALL.format(out=tmp_path / "out") + "model: copsim.model:NoSuchModel\n")
    code, _, err = cli(["sweep", path, "--workers", "1", "--no-progress"], capsys)
    assert code == 2
    assert f"{path}:13: model = 'copsim.model:NoSuchModel'" in err
    assert "did you mean 'copsim.model:CoPModel'" in err


class QuietModel:
    """A stand-in model class, registered by the test below."""


def test_registered_and_entry_point_models_are_allowed(monkeypatch):
    monkeypatch.setattr(config_module, "MODEL_REGISTRY", dict(config_module.MODEL_REGISTRY))
    text = "name: m\nseed: 1\nmodel: {}\n"
    spec = register_model(QuietModel)
    assert config_from_text(text.format(spec)).model == spec

    class Point:
        name, value = "theirs", "theirpkg.models:TheirModel"

    monkeypatch.setattr(config_module.metadata, "entry_points", lambda group: [Point()])
    assert config_from_text(text.format(Point.value)).model == Point.value
    with pytest.raises(ConfigError, match=r"theirpkg\.models:TheirModel"):
        config_from_text(text.format("theirpkg.models:Other"))


# ----------------------------------------------------------------------------- identity
def test_empty_identity_dimensions_is_caught_by_params():
    with pytest.raises(ParamsError, match="identity_dimensions") as info:
        Params(identity_dimensions={})
    assert info.value.fields == ("identity_dimensions",)
    assert Params(identity_dimensions={}, social_layer=False).identity_dimensions == {}


def test_empty_identity_dimensions_is_caught_by_validation_at_its_line(tmp_path, capsys):
    text = SMALL.format(out=tmp_path / "out").replace(
        "preset: march1991\n  params: {n_practitioners: 8, n_dimensions: 8}",
        "params:\n    n_practitioners: 8\n    identity_dimensions: {}",
    )
    path = tmp_path / "noid.yaml"
    path.write_text(text)
    code, _, err = cli(["sweep", path, "--workers", "1", "--no-progress"], capsys)
    assert code == 2 and not (tmp_path / "out").exists()
    assert f"{path}:5: base.params.identity_dimensions" in err and "(and 1 more points)" in err


def test_a_sweep_whose_runs_all_fail_exits_nonzero(small, capsys, monkeypatch):
    from copsim.ensemble import Ensemble

    def broken(self):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(Ensemble, "step", broken)  # the sweep's runs go through ensembles
    code, out, err = cli(["sweep", small, "--workers", "1", "--no-progress"], capsys)
    assert code == 1
    assert "failed runs: 2" in out and "all 2 runs failed" in err


# ----------------------------------------------------------------------------- arguments
@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_workers_must_be_a_positive_count(small, capsys, workers):
    code, _, err = cli(["sweep", small, "--workers", workers, "--no-progress"], capsys)
    assert code == 2 and "--workers" in err


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_the_python_api_refuses_a_worker_count_that_is_not_one_or_more(small, tmp_path, workers):
    with pytest.raises(ValueError, match="workers"):
        copsim.sweep(small, workers=workers, progress=False)
    assert not (tmp_path / "out").exists()


def test_resume_and_fresh_together_is_an_error(small, capsys, tmp_path):
    code, _, err = cli(["sweep", small, "--resume", "--fresh", "--no-progress"], capsys)
    assert code == 2 and "not allowed with argument --resume" in err
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- output folder
def test_output_path_that_is_a_file(small, tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("my notes\n")
    for out in (target, target / "sub"):
        code, _, err = cli(["sweep", small, "--out", out, "--no-progress"], capsys)
        assert code == 2 and str(target) in err and "not a folder" in err
    assert target.read_text() == "my notes\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_output_folder(small, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, _, err = cli(["sweep", small, "--out", locked / "res", "--no-progress"], capsys)
    finally:
        locked.chmod(0o755)
    assert code == 2 and "permission denied" in err and str(locked) in err


def test_read_only_output_folder_seen_before_writing(small, tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: Path(p) != locked and real_access(p, m))
    code, _, err = cli(["sweep", small, "--out", locked, "--no-progress"], capsys)
    assert code == 2 and "permission denied" in err and str(locked) in err
    assert list(locked.iterdir()) == []


def test_os_errors_while_writing_are_a_message_not_a_traceback(
    small, tmp_path, capsys, monkeypatch
):
    from copsim.sweep import storage

    def refuse(self, data):
        raise PermissionError(13, "Permission denied", str(self.root / "manifest.json"))

    monkeypatch.setattr(storage.ResultStore, "write_manifest", refuse)
    code, _, err = cli(["sweep", small, "--workers", "1", "--no-progress"], capsys)
    assert code == 2
    assert "cannot use the results folder" in err and "Permission denied" in err
    assert "manifest.json" in err


def test_damaged_manifest_is_named(small, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"experiment": "small", ')
    code, _, err = cli(["sweep", small, "--workers", "1", "--no-progress"], capsys)
    assert code == 2 and f"{out / 'manifest.json'}: the results manifest is damaged" in err
    code, _, err = cli(["report", out], capsys)
    assert code == 2 and str(out / "manifest.json") in err
    # copsim cannot tell that it wrote a damaged manifest, so --fresh does not
    # overwrite it either (it deletes or overwrites only what its manifest lists)
    code, _, err = cli(["sweep", small, "--workers", "1", "--no-progress", "--fresh"], capsys)
    assert code == 2 and str(out / "manifest.json") in err
    assert (out / "manifest.json").read_text() == '{"experiment": "small", '
    (out / "manifest.json").unlink()  # the user decides; then the sweep runs
    code, out_text, _ = cli(["sweep", small, "--workers", "1", "--no-progress"], capsys)
    assert code == 0 and "sweep complete" in out_text


# ----------------------------------------------------------------------------- numpy scalars
def test_params_accept_numpy_scalars_from_a_dataframe():
    frame = pd.DataFrame(
        {"n_practitioners": [20, 30], "safety": [0.5, 0.7], "social_layer": [True, False]}
    )
    row = frame.iloc[0].to_dict() | {"social_layer": frame["social_layer"].iloc[0]}
    assert isinstance(frame["n_practitioners"].iloc[0], np.integer)
    p = Params(**row)
    assert p.n_practitioners == 20 and type(p.n_practitioners) is int
    assert p.social_layer is True and p.safety == 0.5
    assert Params(n_practitioners=np.int64(20)).n_practitioners == 20
    assert Params(n_practitioners=np.float64(20.0)).n_practitioners == 20  # a gap-filled column
    assert Params(safety=np.float32(0.5)).safety == 0.5
    assert Params(identity_diversity=np.int64(1)).identity_diversity == 1.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_practitioners", np.float64(2.5)),
        ("n_practitioners", 2.5),
        ("n_practitioners", np.int64(1)),
        ("social_layer", np.int64(1)),
        ("n_spaces", np.float64("nan")),
    ],
)
def test_params_still_reject_inexact_numpy_values(field, value):
    with pytest.raises(ParamsError, match=field) as info:
        Params(**{field: value})
    assert info.value.fields == (field,)


# ----------------------------------------------------------------------------- memory
def test_memory_estimate_grows_with_the_community_and_warns():
    small, large = Params(), Params(n_practitioners=10_000_000)
    assert small.estimated_memory_bytes() < 20e6
    assert 5e9 < large.estimated_memory_bytes() < 20e9
    assert estimated_memory_bytes({"n_dimensions": 60}) > estimated_memory_bytes({})
    assert estimated_memory_bytes({"record_agents": True}) > estimated_memory_bytes({})
    assert memory_warning(small.estimated_memory_bytes(), 2, 8 * 10**9) is None
    assert "more than this machine's memory" in memory_warning(
        large.estimated_memory_bytes(), 2, 8 * 10**9
    )


def test_huge_community_warns_in_validate_and_at_sweep_start(tmp_path, capsys):
    path = tmp_path / "crowd.yaml"
    path.write_text(
        "name: crowd\nseed: 1\nsteps: 2\nbase:\n  params: {n_practitioners: 10000000}\n"
    )
    code, out, _ = cli(["validate", path], capsys)
    assert code == 0 and "warning:" in out and "10.0 GB" in out
    code, _, err = cli(["sweep", path, "--dry-run"], capsys)
    assert code == 0 and "warning:" in err


def test_design_estimate_takes_the_largest_community(tmp_path):
    text = (
        "name: e\nseed: 1\nsteps: 3\ndesign:\n  grid:\n"
        "    n_practitioners: [10, 1000000]\n    safety: [0.1, 0.2, 0.3]\n"
    )
    est = estimate(Design(config_from_text(text)))
    assert est.n_points == 6 and est.n_runs == 6
    assert (
        est.memory_bytes == Params(n_practitioners=1_000_000, max_steps=3).estimated_memory_bytes()
    )
    assert est.cpu_seconds == pytest.approx(6 * est.run_seconds)


# Peak resident memory of this process (VmHWM; ru_maxrss is not used because Linux
# carries the parent's peak over fork and exec, so a child started by a big pytest
# process would report the parent's).
MEASURE = """\
import json, sys
import copsim
from copsim import Params
from copsim.model import CoPModel

def peak():
    with open("/proc/self/status") as status:
        line = next(l for l in status if l.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024

p = Params(n_practitioners=int(sys.argv[1]), max_steps=3, stop_at_equilibrium=False)
before = peak()
CoPModel(p, rng=1).run()
print(json.dumps({"measured": peak() - before, "estimated": p.estimated_memory_bytes()}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_memory_estimate_is_close_to_a_measured_run():
    """The estimate is calibrated on real runs (docs/sweeps.md, Limits); check one here."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, "10000"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    numbers = json.loads(result.stdout)
    assert 0.5 * numbers["estimated"] < numbers["measured"] < 1.5 * numbers["estimated"], numbers
