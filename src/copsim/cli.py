"""The ``copsim`` command line.

Subcommands register themselves with :func:`command`; adding one is a function
that configures its parser and a function that runs it::

    def _viz_args(p):  p.add_argument("--port", type=int, default=8765)

    @command("viz", "open the browser view", _viz_args)
    def _viz(args) -> int: ...

Handlers import what they need lazily, so ``copsim --help`` stays fast.
Exit codes: 0 success, 1 the work failed, 2 bad input (config or arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from copsim.sweep.design import Design

Handler = Callable[[argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, one-line help, parser setup and handler."""

    name: str
    help: str
    configure: Configure
    handler: Handler


COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, configure: Configure) -> Callable[[Handler], Handler]:
    """Register a subcommand (decorator for its handler)."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(name, help, configure, handler)
        return handler

    return register


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def _positive_int(text: str) -> int:
    """An argparse type for counts that must be at least 1 (``--workers``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _target_width(text: str) -> float:
    """An argparse type for ``--target-ci``: a finite number above 0."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number (a 95% CI half-width such as 0.05), got {text!r}"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"must be a number above 0 (a 95% CI half-width such as 0.05), got {text}"
        )
    return value


def _allow_huge_arg(p: argparse.ArgumentParser) -> None:
    from copsim.sweep.config import MAX_RUNS

    p.add_argument(
        "--allow-huge",
        action="store_true",
        help=f"accept a design of more than {MAX_RUNS:,} runs (config: allow_huge: true)",
    )


# ----------------------------------------------------------------------------- input checks
# Everything a sweep can be told that would otherwise fail later with an OS or
# JSON traceback is checked here first and answered with one line and exit code 2.
def _size_text(n_bytes: float) -> str:
    """``1.5e9`` -> ``'1.5 GB'`` (decimal units, as memory is quoted in the docs)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= size:
            return f"{n_bytes / size:,.1f} {unit}"
    return f"{n_bytes:.0f} B"


def _physical_memory() -> int | None:
    """Bytes of RAM on this machine (``None`` where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


#: Above this, a single run is large enough to deserve a warning whatever the machine.
LARGE_RUN_BYTES = 2_000_000_000


def memory_warning(memory_bytes: int, workers: int, ram: int | None) -> str | None:
    """A warning when the runs of a sweep may not fit in memory, else ``None``."""
    from copsim.params import PROCESS_BASE_BYTES

    need = workers * (memory_bytes + PROCESS_BASE_BYTES)
    if ram is not None and need > 0.8 * ram:
        return (
            f"warning: {workers} worker(s) x about {_size_text(memory_bytes + PROCESS_BASE_BYTES)} "
            f"each = {_size_text(need)}, more than this machine's memory ({_size_text(ram)}) "
            "allows; use fewer --workers or a smaller community"
        )
    if memory_bytes > LARGE_RUN_BYTES:
        return f"warning: each run may need about {_size_text(memory_bytes)} of memory"
    return None


def estimate_lines(design: Design, workers: int) -> list[str]:
    """Design size, estimated time and memory, for the plan of ``validate`` and ``sweep``."""
    from copsim.params import PROCESS_BASE_BYTES
    from copsim.sweep.config import MAX_RUNS, duration_text
    from copsim.sweep.design import estimate, peak_values

    est = estimate(design)
    used = max(1, min(workers, design.n_chunks))
    peak = peak_values(design)
    lines = [
        f"design size: {est.n_points:,} points, {est.n_runs:,} runs "
        f"(limit {MAX_RUNS:,} runs without --allow-huge)",
        f"estimated time: about {duration_text(est.run_seconds)} per run, {duration_text(est.cpu_seconds)} "
        f"of CPU in all, about {duration_text(est.cpu_seconds / used)} on {used} worker(s) "
        "(a rough guide calibrated on a 2-core machine; runs that stop early take less)",
        f"estimated memory: up to {_size_text(est.memory_bytes)} per run "
        f"(n_practitioners up to {peak['n_practitioners']:,}), plus about "
        f"{_size_text(PROCESS_BASE_BYTES)} per worker process",
    ]
    warning = memory_warning(est.memory_bytes, used, _physical_memory())
    return [*lines, warning] if warning else lines


def _output_problem(out: Path) -> str | None:
    """Why results cannot be written to ``out``, or ``None`` if they can (as far as we see)."""
    if out.exists() and not out.is_dir():
        return f"the output path {out} exists and is not a folder; choose another --out"
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return f"cannot create the results folder {out}: {probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        what = f"the results folder {out}" if probe == out else f"{out}: its parent {probe}"
        return f"cannot write to {what}: permission denied (read-only?); choose another --out"
    return None


def _manifest_problem(out: Path) -> str | None:
    """A manifest that cannot be read, named by its path (``None`` if fine or absent)."""
    from copsim.sweep.storage import MANIFEST

    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
    else:
        if isinstance(data, dict):
            return None
        reason = f"a JSON {type(data).__name__}, not an object"
    return (
        f"{path}: the results manifest is damaged ({reason}); move the folder away, "
        "or start again with --fresh"
    )


def _os_error_text(exc: OSError, out: Path | None) -> str:
    """One line for an OSError met while writing results (no traceback)."""
    what = f": {exc.filename}" if exc.filename else ""
    where = f"results folder {out}" if out is not None else "results folder"
    return f"copsim sweep: cannot use the {where}: {exc.strerror or exc}{what}"


def _sweep_preflight(args: argparse.Namespace) -> tuple[int | None, Design, Path]:
    """Validate the config and check the output before anything is written.

    Returns ``(exit code or None to go on, design, output folder)``.  Validation
    is remembered, so the sweep does not validate the design a second time.
    """
    from copsim.sweep.runner import plan

    cfg, design = plan(args.config)  # a ConfigError is answered by main()
    out = Path(args.out) if args.out is not None else cfg.output_dir
    if not args.dry_run:
        problem = _output_problem(out) or (None if args.fresh else _manifest_problem(out))
        if problem:
            return _fail(f"copsim sweep: {problem}", 2), design, out
    from copsim.params import estimated_memory_bytes
    from copsim.sweep.design import peak_values

    workers = _sweep_workers(args, design)
    memory = estimated_memory_bytes(peak_values(design))
    # On a Dask cluster the runs use the workers' memory, not this machine's.
    ram = None if args.scheduler else _physical_memory()
    warning = memory_warning(memory, workers, ram)
    if warning:
        print(warning, file=sys.stderr)
    return None, design, out


def _sweep_workers(args: argparse.Namespace, design: Design) -> int:
    """Local worker processes a sweep will start (no more than it has chunks)."""
    from copsim.sweep.backends import default_workers

    return max(1, min(args.workers or default_workers(), design.n_chunks))


# ----------------------------------------------------------------------------- run
def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="experiment config file (YAML)")
    p.add_argument("--point", type=int, default=0, help="design point to run (default 0)")
    p.add_argument(
        "--replicates",
        type=int,
        default=1,
        help="replicates of that point, from the first (default 1)",
    )
    p.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    _allow_huge_arg(p)


@command("run", "run one design point of a config and print its outcome record", _run_args)
def _run(args: argparse.Namespace) -> int:
    from copsim.sweep.config import allow_huge_designs
    from copsim.sweep.execution import execute_run, load_model_class
    from copsim.sweep.runner import plan

    with allow_huge_designs(args.allow_huge):
        cfg, design = plan(args.config)
    if not 0 <= args.point < design.n_points:
        return _fail(f"--point must be in [0, {design.n_points - 1}], got {args.point}", 2)
    if not 1 <= args.replicates <= design.replicates:
        return _fail(f"--replicates must be in [1, {design.replicates}], got {args.replicates}", 2)
    model_cls = load_model_class(cfg.model)
    records = [
        execute_run(design.run_task(args.point * design.replicates + rep), model_cls, 0, 0)["row"]
        for rep in range(args.replicates)
    ]
    factors = design.point_factors(args.point)
    if args.json:
        for row in records:
            print(json.dumps(row, default=str))
    else:
        import pandas as pd

        print(f"{cfg.name}: point {args.point} {factors or '(base)'}")
        table = pd.DataFrame(records).drop(columns=["traceback"]).T
        table.columns = [f"replicate {r['replicate']}" for r in records]
        with pd.option_context("display.max_rows", None, "display.max_colwidth", 60):
            print(table.to_string())
    failed = [r for r in records if r["status"] == "failed"]
    for row in failed:
        print(f"run failed: {row['error']}\n{row['traceback']}", file=sys.stderr)
    return 1 if failed else 0


# ----------------------------------------------------------------------------- sweep
def _sweep_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="experiment config file (YAML)")
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="worker processes, at least 1 (default: all cores)",
    )
    p.add_argument(
        "--backend",
        choices=("local", "dask"),
        default="local",
        help="local process pool (default) or dask.distributed",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="join an existing Dask cluster (e.g. tcp://host:8786); implies --backend dask",
    )
    restart = p.add_mutually_exclusive_group()
    restart.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted sweep (a plain re-run also skips finished runs)",
    )
    restart.add_argument("--fresh", action="store_true", help="discard existing results first")
    p.add_argument("--dry-run", action="store_true", help="validate and show the plan; run nothing")
    p.add_argument("--out", default=None, help="results folder (default: the config's output)")
    p.add_argument("--report", action="store_true", help="write report.html when complete")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--ensemble-size",
        type=_positive_int,
        default=None,
        help="runs stepped together in one array program (default: automatic; never "
        "changes a result)",
    )
    p.add_argument(
        "--target-ci",
        type=_target_width,
        default=None,
        metavar="W",
        help="then add replicates, in rounds, to the design cells whose 95%% CI half-width "
        "(the report's Replication section) is wider than W, until every cell is within W "
        "or at --max-replicates (resumable: run the same command again)",
    )
    p.add_argument(
        "--max-replicates",
        type=_positive_int,
        default=None,
        metavar="N",
        help="with --target-ci: most replicates per design point (default: "
        "report.max_replicates in the config, else 10 x replicates)",
    )
    _allow_huge_arg(p)


@command("sweep", "run (or resume) the parameter sweep of a config", _sweep_args)
def _sweep(args: argparse.Namespace) -> int:
    from copsim.sweep.config import allow_huge_designs
    from copsim.sweep.runner import SweepError, run_sweep

    if args.max_replicates is not None and args.target_ci is None:
        return _fail("copsim sweep: --max-replicates only applies with --target-ci W", 2)
    with allow_huge_designs(args.allow_huge):
        refused, design, out = _sweep_preflight(args)
    if refused is not None:
        return refused
    options = dict(
        workers=args.workers,
        backend="dask" if args.scheduler else args.backend,
        scheduler=args.scheduler,
        resume=args.resume,
        fresh=args.fresh,
        dry_run=args.dry_run,
        progress=not args.no_progress,
        out=args.out,
        ensemble_size=args.ensemble_size,
    )
    try:
        with allow_huge_designs(args.allow_huge):
            if args.target_ci is None:
                summary = run_sweep(args.config, **options)
                text = str(summary)
            else:  # the sweep, then rounds of replicates for the cells still too wide
                from copsim.sweep.target_ci import run_target_ci

                summary = run_target_ci(
                    args.config,
                    args.target_ci,
                    args.max_replicates,
                    on_round=lambda line: print(line, flush=True),
                    **options,
                )
                text = summary.text(rounds=False)
    except OSError as exc:  # e.g. the folder became read-only, or the disk is full
        return _fail(_os_error_text(exc, out), 2)
    except (SweepError, ValueError, RuntimeError) as exc:
        from copsim.sweep.config import ConfigError

        return _fail(str(exc), 2 if isinstance(exc, ConfigError) else getattr(exc, "exit_code", 1))
    print(text)
    return _after_sweep(args, design, out, summary)


def _after_sweep(args: argparse.Namespace, design: Design, out: Path, summary) -> int:
    """What every sweep does once it has printed its summary (plain or ``--target-ci``):
    the estimate of a dry run, the report, and the exit code (130 interrupted, 1 when
    every run failed)."""
    if summary.dry_run:
        here = _folder_design(design, out, args.fresh)
        print("\n".join(estimate_lines(here, _sweep_workers(args, here))))
        return 0
    if summary.complete and args.report:
        from copsim.report import write_report

        print(f"report: {write_report(summary.path)}")
    elif summary.complete:
        print(f"report: copsim report {summary.path}")
    if summary.interrupted:
        return 130
    if summary.n_runs and summary.failed_total >= summary.n_runs:
        return _fail(
            f"copsim sweep: all {summary.n_runs} runs failed; see the 'error' column of "
            f"{summary.path / 'runs.parquet'} (or copsim run {args.config} --point 0)",
            1,
        )
    return 0


def _folder_design(design: Design, out: Path, fresh: bool) -> Design:
    """The design the results folder holds (with cells --target-ci raised), for estimates."""
    from copsim.sweep.runner import SweepError, folder_design
    from copsim.sweep.storage import ResultsError

    if fresh:
        return design
    try:
        return folder_design(design, out)
    except (SweepError, ResultsError):
        return design  # the plan printed above names the problem


# ----------------------------------------------------------------------------- report
def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", help="results folder written by copsim sweep")
    p.add_argument(
        "--format",
        choices=("html", "md"),
        default="html",
        help="html: one self-contained file (default); md: Markdown + PNG files",
    )
    p.add_argument("--out", default=None, help="report file (default: RESULTS/report.html|md)")


@command("report", "write an HTML (or Markdown) report of a results folder", _report_args)
def _report(args: argparse.Namespace) -> int:
    from copsim.report import write_report

    damaged = _manifest_problem(Path(args.results))
    if damaged:
        return _fail(f"copsim report: {damaged}", 2)
    try:
        path = write_report(args.results, args.out, args.format)
    except (FileNotFoundError, ValueError) as exc:
        return _fail(f"copsim report: {exc}", 2)
    print(f"report: {path}")
    return 0


# ----------------------------------------------------------------------------- validate
def _validate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="experiment config file(s)")
    p.add_argument("--quiet", action="store_true", help="print only problems")
    _allow_huge_arg(p)


@command("validate", "check config files and show what they would run", _validate_args)
def _validate(args: argparse.Namespace) -> int:
    from copsim.sweep.backends import default_workers
    from copsim.sweep.config import ConfigError, allow_huge_designs
    from copsim.sweep.runner import describe_plan, plan

    status = 0
    for path in args.configs:
        try:
            with allow_huge_designs(args.allow_huge):
                cfg, design = plan(path)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            status = 2
            continue
        if not args.quiet:
            print(f"{path}: ok")
            print(describe_plan(cfg, design, cfg.output_dir))
            print("\n".join(estimate_lines(design, default_workers())))
    return status


# ----------------------------------------------------------------------------- viz
def _viz_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host",
        default="localhost",
        help="address to listen on (default localhost; 0.0.0.0 lets other machines connect)",
    )
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free port)")
    p.add_argument("--no-open", action="store_true", help="do not open a browser tab")


@command("viz", "open the teaching view in the browser (a local Solara server)", _viz_args)
def _viz(args: argparse.Namespace) -> int:
    from copsim.viz.server import free_port, serve

    if not 0 <= args.port <= 65535:
        return _fail(f"--port must be in [0, 65535], got {args.port}", 2)
    port = args.port or free_port(args.host)
    return serve(args.host, port, open_browser=not args.no_open)


# ----------------------------------------------------------------------------- discover
def _discover_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", help="results folder written by copsim sweep")
    p.add_argument(
        "--outcome",
        default="expansive",
        help="a label (expansive, defensive, stagnant, dissolved) or a condition over outcome "
        "columns, e.g. 'expansiveness > 0.5 and defensiveness < 0.2' (default expansive)",
    )
    p.add_argument(
        "--factors",
        default=None,
        help="comma-separated factors (default: the parameters the design varied)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=0.8,
        help="density the box should reach (default 0.8): the box kept has the most "
        "coverage at that density",
    )
    p.add_argument("--format", choices=("text", "md", "json"), default="text")


@command("discover", "which conditions make the outcome happen? (PRIM, CART)", _discover_args)
def _discover(args: argparse.Namespace) -> int:
    from copsim import analysis as an
    from copsim.sweep.storage import ResultsError

    try:
        runs = an.load(args.results).runs
        factors = (
            [f.strip() for f in args.factors.split(",") if f.strip()] if args.factors else None
        )
        found = an.discover(runs, args.outcome, factors=factors, threshold=args.threshold)
    except (FileNotFoundError, ResultsError) as exc:
        return _fail(f"copsim discover: {exc}", 2)
    except an.NothingToDiscover as exc:
        return _fail(f"copsim discover: {exc}", 1)
    except an.DiscoveryError as exc:
        return _fail(f"copsim discover: {exc}", 2)
    except an.MissingExtraError as exc:
        return _fail(f"copsim discover: {exc}", 1)
    print(found.render(args.format), end="")
    return 0


# ----------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    from copsim import __version__

    parser = argparse.ArgumentParser(
        prog="copsim",
        description="Agent-based simulation of community-of-practice dynamics.",
    )
    parser.add_argument("--version", action="version", version=f"copsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.configure(p)
        p.set_defaults(_handler=cmd.handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``copsim`` script."""
    from copsim.sweep.config import ConfigError

    args = build_parser().parse_args(argv)
    try:
        return int(args._handler(args))
    except ConfigError as exc:
        return _fail(str(exc), 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
