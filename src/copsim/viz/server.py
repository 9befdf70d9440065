"""Starting the teaching view: a local Solara server for :mod:`copsim.viz.app`.

``copsim viz`` calls :func:`serve`.  The server runs in production mode (no
file watching, no development checks), does not report usage to Solara's
telemetry service and does not look up newer Solara versions online: a
classroom machine may have no internet access at all.
"""

from __future__ import annotations

import os
import socket
import sys

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


def asset_warning() -> str | None:
    """A hint when Solara's front-end files are not cached yet (None when all are)."""
    from copsim.viz.assets import missing_assets

    try:
        missing = missing_assets()
    except RuntimeError as exc:  # an unexpected Solara layout: say so, but still start
        return f"note: could not check Solara's cached assets ({exc})"
    if not missing:
        return None
    names = ", ".join(a.spec for a in missing)
    return (
        f"note: Solara's front-end files are not cached yet ({names}); the page will fetch "
        "them from the internet. To work offline run: python -m copsim.viz.assets"
    )


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_browser: bool = True) -> int:
    """Run the server until interrupted; returns an exit code."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    warning = asset_warning()
    if warning:
        print(warning, file=sys.stderr)
    from solara.__main__ import cli

    print(f"copsim teaching view: http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    cli.main(
        args=solara_args(host, port, open_browser), prog_name="copsim viz", standalone_mode=False
    )
    return 0
