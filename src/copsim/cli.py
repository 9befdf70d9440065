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
import sys
from collections.abc import Callable
from dataclasses import dataclass

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


@command("run", "run one design point of a config and print its outcome record", _run_args)
def _run(args: argparse.Namespace) -> int:
    from copsim.sweep.execution import execute_run, load_model_class
    from copsim.sweep.runner import plan

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
        "--workers", type=int, default=None, help="worker processes (default: all cores)"
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
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted sweep (a plain re-run also skips finished runs)",
    )
    p.add_argument("--fresh", action="store_true", help="discard existing results first")
    p.add_argument("--dry-run", action="store_true", help="validate and show the plan; run nothing")
    p.add_argument("--out", default=None, help="results folder (default: the config's output)")
    p.add_argument("--report", action="store_true", help="write report.html when complete")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


@command("sweep", "run (or resume) the parameter sweep of a config", _sweep_args)
def _sweep(args: argparse.Namespace) -> int:
    from copsim.sweep.runner import SweepError, run_sweep

    backend = "dask" if args.scheduler else args.backend
    try:
        summary = run_sweep(
            args.config,
            workers=args.workers,
            backend=backend,
            scheduler=args.scheduler,
            resume=args.resume,
            fresh=args.fresh,
            dry_run=args.dry_run,
            progress=not args.no_progress,
            out=args.out,
        )
    except (SweepError, ValueError, RuntimeError) as exc:
        from copsim.sweep.config import ConfigError

        return _fail(str(exc), 2 if isinstance(exc, ConfigError) else 1)
    print(summary)
    if summary.dry_run:
        return 0
    if summary.complete and args.report:
        from copsim.report import write_report

        print(f"report: {write_report(summary.path)}")
    elif summary.complete:
        print(f"report: copsim report {summary.path}")
    return 130 if summary.interrupted else 0


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


@command("validate", "check config files and show what they would run", _validate_args)
def _validate(args: argparse.Namespace) -> int:
    from copsim.sweep.config import ConfigError
    from copsim.sweep.runner import describe_plan, plan

    status = 0
    for path in args.configs:
        try:
            cfg, design = plan(path)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            status = 2
            continue
        if not args.quiet:
            print(f"{path}: ok")
            print(describe_plan(cfg, design, cfg.output_dir))
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

    try:
        runs = an.load(args.results).runs
        factors = (
            [f.strip() for f in args.factors.split(",") if f.strip()] if args.factors else None
        )
        found = an.discover(runs, args.outcome, factors=factors, threshold=args.threshold)
    except FileNotFoundError as exc:
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
