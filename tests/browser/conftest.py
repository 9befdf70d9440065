"""Fixtures for the end-to-end tests: the ``copsim viz`` server and Debian's Chromium.

The server is started once per test session on a free localhost port and shut
down afterwards; each test gets a fresh browser context (a new Solara session).
Chromium must be Debian's ``/usr/bin/chromium`` (installed by
``scripts/setup_extras.sh``); if it is missing the tests fail, they do not skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from viz_page import SCREENSHOTS, ViewPage

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Seconds to wait for the server to answer and for the page to show its first step.
STARTUP_TIMEOUT = 120
VIEWPORT = {"width": 1600, "height": 1400}


def _free_port() -> int:
    from copsim.viz.server import free_port

    return free_port("127.0.0.1")


def _wait_for(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"copsim viz exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"copsim viz did not answer at {url} within {STARTUP_TIMEOUT} s")


@pytest.fixture(scope="session")
def viz_url() -> Iterator[str]:
    """Start ``copsim viz`` on a free port; yield its URL; stop it."""
    from copsim.viz.assets import missing_assets

    missing = missing_assets()
    if missing:
        pytest.fail(
            "Solara's front-end files are not cached (" + ", ".join(a.spec for a in missing) + "); "
            "run `bash scripts/setup_extras.sh .venv` (or python -m copsim.viz.assets)"
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log = SCREENSHOTS / "server.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "copsim.cli", "viz", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-open"]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        _wait_for(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium package "
            "(`apt-get install chromium`, or run `bash scripts/setup_extras.sh .venv` as root)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def view(browser, viz_url) -> Iterator[ViewPage]:
    """A fresh browser session on the teaching view, loaded and ready."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    result = ViewPage(page)
    page.on("console", lambda m: result.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: result.errors.append(str(e)))
    page.on("requestfailed", lambda r: result.failed.append(r.url))
    page.goto(viz_url)
    page.locator(".copsim-status").wait_for(timeout=STARTUP_TIMEOUT * 1000)
    page.locator(".copsim-charts svg").wait_for()
    yield result
    context.close()
