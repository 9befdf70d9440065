"""Starting the teaching view: a local Solara server for :mod:`copsim.viz.app`.

``copsim viz`` calls :func:`serve`.  The server runs in production mode (no
file watching, no development checks), does not report usage to Solara's
telemetry service and does not look up newer Solara versions online: a
classroom machine may have no internet access at all.  On the first start of an
environment set up without ``tasks.sh`` it fetches Solara's front-end files into
the local cache (:func:`ensure_assets`), so later starts work offline.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
import tarfile

#: The Solara app the server runs (a module with a ``Page`` component).
APP = "copsim.viz.app"
DEFAULT_HOST = "localhost"
DEFAULT_PORT = 8765
#: Environment settings applied before Solara is imported (offline, quiet).
OFFLINE_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}


def solara_args(host: str, port: int, open_browser: bool) -> list[str]:
    """The ``solara run`` arguments for the teaching view."""
    return [
        "run",
        APP,
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-check-version",
        "--open" if open_browser else "--no-open",
    ]


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


#: What a failed fetch can raise: no network or a refused write (OSError), a proxy's
#: HTML page instead of JSON or a hash mismatch (ValueError), odd registry metadata
#: (KeyError), a truncated tarball (TarError).  The server still starts after any of them.
FETCH_ERRORS = (OSError, ValueError, KeyError, tarfile.TarError)


def fetch_command() -> str:
    """The exact command that fills the asset cache of *this* Python environment."""
    return f"{shlex.quote(sys.executable)} -m copsim.viz.assets"


def ensure_assets() -> str | None:
    """Make sure Solara's front-end files are cached before the server starts.

    Without them the page is blank wherever the browser cannot reach Solara's
    public CDN (a classroom proxy, no network).  ``tasks.sh`` fetches them during
    set-up; a plain ``pip install copsim[viz]`` does not, so the first start
    fetches what is missing from the npm registry (once: later starts find the
    cache).  Returns a line to print: what was fetched, or, when the fetch
    fails, why and the exact command to run once a network is available;
    ``None`` when everything was cached already.
    """
    from copsim.viz import assets

    try:
        missing = assets.missing_assets()
    except RuntimeError as exc:  # an unexpected Solara layout: say so, but still start
        return f"note: could not check Solara's cached assets ({exc})"
    if not missing:
        return None
    names = ", ".join(a.spec for a in missing)
    print(f"first start: fetching Solara's front-end files ({names})", file=sys.stderr, flush=True)
    try:
        fetched = assets.install(quiet=True)
    except FETCH_ERRORS as exc:
        return (
            f"warning: could not fetch Solara's front-end files ({names}): {exc}. "
            "Without them the page stays blank when the browser cannot reach the internet. "
            f"Fetch them once with network access: {fetch_command()}"
        )
    done = ", ".join(a.spec for a in fetched)
    return f"fetched {done} into the local cache; the view now works offline"


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_browser: bool = True) -> int:
    """Run the server until interrupted; returns an exit code."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    message = ensure_assets()
    if message:
        print(message, file=sys.stderr)
    from solara.__main__ import cli

    print(f"copsim teaching view: http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    cli.main(
        args=solara_args(host, port, open_browser), prog_name="copsim viz", standalone_mode=False
    )
    return 0
