"""Regenerate docs/parameters.md from ``copsim.Params.describe()``.

Run it after adding or changing a parameter::

    python docs/make_parameters.py           # rewrite docs/parameters.md
    python docs/make_parameters.py --check   # exit 1 if the file is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import copsim  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from copsim import Params

HERE = Path(__file__).resolve().parent

HEADER = """# Parameters

Every parameter of a copsim run: its group, default, allowed range, unit and meaning.
An invalid value raises `ParamsError` naming the field, the value and what is allowed.
`Params.march1991(p1, p2, p3, p4)` gives March's (1991) setting in his notation.

This file is generated from `copsim.Params.describe()` by `docs/make_parameters.py`;
edit the parameter definitions in `src/copsim/params.py` and re-run the script rather
than editing this file.
"""


def render() -> str:
    """The whole Markdown page."""
    return f"{HEADER}\n{Params.describe()}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate docs/parameters.md")
    parser.add_argument("--out", type=Path, default=HERE / "parameters.md")
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run python docs/make_parameters.py")
            return 1
        return 0
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(text)
    tmp.replace(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
