"""Per-step render time of the teaching view at 200 practitioners.

What one press of Step costs, split into its parts, for one run and for the
side-by-side pair, in the one-space and the four-space scenario:

* ``model``  the model step(s) plus the view's bookkeeping (leavers, challengers, log);
* ``draw``   building the SVG community picture(s) and charts;
* ``page``   the whole server-side update after clicking Step in the rendered
  page (``solara.render``, no browser): model, drawings, Solara's diff of the
  widget tree; this is the number the view's 200 ms budget is about;
* ``browser`` (with ``--browser``) the same click in headless Chromium against
  a running ``copsim viz``, timed inside the page from the click until the
  status, the picture and the charts have all changed and the next frame is
  drawn (server, websocket, Vue and layout included).

With ``--many`` it times instead one press of the "What happens across many
runs?" panel (:func:`copsim.viz.many.run_many` plus its histograms) for every
shipped scenario at its default size, alone and side by side, over
``--seeds`` seeds (default 200): wall and CPU seconds, best of ``--repeats``.

Each figure is the median (and 90th percentile) over ``--steps`` steps after a
warm-up.  Timings depend on the machine; the script prints its core count and
load so numbers can be read in context.

Usage::

    PYTHONPATH=src python benchmarks/bench_viz.py
    PYTHONPATH=src python benchmarks/bench_viz.py --browser --steps 20
    PYTHONPATH=src python benchmarks/bench_viz.py --many --seeds 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from copsim.viz import drawing, histograms, many
from copsim.viz import settings as st
from copsim.viz.session import Session

PRACTITIONERS = 200
SCENARIOS = ("bindura_eag", "ogp_workshop")
WARMUP = 10


def session_for(scenario: str, compare: bool) -> Session:
    """A session at 200 practitioners, warmed up by a few steps."""
    session = Session(scenario, seed=1)
    session.set_value("n_practitioners", PRACTITIONERS)
    session.set_compare(compare)
    session.reset()
    for _ in range(WARMUP):
        session.step()
    return session


def timed(action: Callable[[], object], repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per call of ``action``.

    On a shared machine the wall clock includes waiting for a core; the CPU
    time (this process) is what the work itself costs.
    """
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        cpu.append(1000.0 * (time.process_time() - start_cpu))
        wall.append(1000.0 * (time.perf_counter() - start))
    return wall, cpu


def summary(times: list[float]) -> str:
    """'12.3 ms (p90 15.0)': the median and the 90th percentile."""
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):6.1f} ms (p90 {p90:6.1f})"


def draw_all(session: Session) -> None:
    """Build every SVG the page shows for the session."""
    for run in session.runs:
        drawing.community_svg(run, drawing.colour_options(run)[0], 2)
    drawing.charts_svg(session.runs, session.run_names())


def page_step_times(session: Session, steps: int) -> tuple[list[float], list[float]]:
    """Click Step in the rendered page (no browser) and time the whole update."""
    import ipyvuetify as v
    import solara

    from copsim.viz.app import TeachingView

    _, rc = solara.render(TeachingView(session), handle_error=False)
    (button,) = [w for w in rc.find(v.Btn).widgets if "Step" in w.children]
    try:
        return timed(button.click, steps)
    finally:
        # outside a Solara server the counters are process-wide: a page left open
        # would redraw along with the next case's pages and slow them down
        rc.close()


#: In the page: click Step, wait until the status, the picture and the charts have all
#: changed, then for the next animation frame; resolve with the milliseconds taken.
CLICK_AND_WAIT = """() => new Promise(resolve => {
    const parts = ['.copsim-status', '.copsim-community', '.copsim-charts']
        .map(sel => document.querySelector(sel));
    const before = parts.map(el => el.innerHTML);
    const step = [...document.querySelectorAll('button')]
        .find(b => b.innerText.trim().toUpperCase() === 'STEP');
    const start = performance.now();
    const observer = new MutationObserver(() => {
        if (parts.every((el, i) => el.innerHTML !== before[i])) {
            observer.disconnect();
            requestAnimationFrame(() => resolve(performance.now() - start));
        }
    });
    observer.observe(document.querySelector('.copsim-main'),
        {subtree: true, childList: true, characterData: true, attributes: true});
    step.click();
})"""


def browser_step_times(scenario_title: str, steps: int) -> list[float]:
    """Time Step clicks in headless Chromium, measured inside the page (no driver
    round trips): from the click until status, picture and charts are redrawn."""
    from playwright.sync_api import sync_playwright

    from copsim.viz.server import free_port

    port = free_port("127.0.0.1")
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "copsim.cli",
            "viz",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-open",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"],
            )
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.goto(url)
            page.locator(".copsim-status").wait_for(timeout=120_000)
            page.get_by_label("Scenario").click(force=True)
            page.get_by_role("option", name=scenario_title).click()
            size = page.locator(".v-input", has_text="Practitioners:")
            size.locator(".v-slider__thumb-container").focus()
            page.keyboard.press("Home")  # 10, then steps of 10
            for _ in range((PRACTITIONERS - 10) // 10):
                page.keyboard.press("ArrowRight")
            size.filter(has_text=f"Practitioners: {PRACTITIONERS}").wait_for()
            page.get_by_role("button", name="Reset", exact=True).click()
            page.locator(".copsim-log", has_text=f"{PRACTITIONERS} practitioners").wait_for()
            times = []
            for i in range(WARMUP + steps):
                elapsed = page.evaluate(CLICK_AND_WAIT)
                if i >= WARMUP:
                    times.append(elapsed)
            browser.close()
            return times
    finally:
        server.terminate()
        server.wait(timeout=20)


#: Slow corners of the panel beyond the defaults: the largest community the slider
#: allows, and March with turnover (no equilibrium, so every run lasts 10,000 steps).
MANY_EXTRA = (
    ("ogp_workshop", {"n_practitioners": 300}),
    ("march1991", {"turnover_rate": 0.02}),
)


def many_cases() -> list[tuple[str, Session]]:
    """Each scenario at its default size alone and side by side (run B changes power
    asymmetry, or for March, which has no power, the community's size), then the
    slow corners."""
    cases = []
    for scenario in st.scenario_names():
        for compare in (False, True):
            session = Session(scenario, seed=1)
            if compare:
                session.set_compare(True)
                if not session.staged.params().social_layer:
                    session.set_compare_name("n_practitioners")
            cases.append((f"{scenario}{' side by side' if compare else ''}", session))
    for scenario, changes in MANY_EXTRA:
        session = Session(scenario, seed=1)
        for name, value in changes.items():
            session.set_value(name, value)
        extra = ", ".join(f"{k}={v}" for k, v in changes.items())
        cases.append((f"{scenario} {extra}", session))
    return cases


def many_times(seeds: int, repeats: int) -> None:
    """Time one press of the many-runs panel (the runs and the histograms) per case."""
    for name, session in many_cases():
        best = None
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = many.run_many(session.staged, seeds)
            histograms.many_svg(result, on_screen=True)
            took = (time.perf_counter() - start, time.process_time() - start_cpu)
            best = took if best is None or took[0] < best[0] else best
        p = session.staged.params()
        runs = seeds * len(result.arms)
        print(
            f"{name:40s} {p.n_practitioners:4d} practitioners, {runs:4d} runs: "
            f"wall {best[0]:5.1f} s, cpu {best[1]:5.1f} s ({runs / best[0]:4.0f} runs/s), "
            f"steps {int(result.arms[0].steps.min())}-{int(result.arms[0].steps.max())}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per case (default 30)")
    parser.add_argument("--browser", action="store_true", help="also time clicks in Chromium")
    parser.add_argument("--many", action="store_true", help="time the many-runs panel instead")
    parser.add_argument("--seeds", type=int, default=many.DEFAULT_COUNT, help="seeds per press")
    parser.add_argument("--repeats", type=int, default=2, help="presses per case (best kept)")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if args.many:
        print(f"many-runs panel, {args.seeds} seeds; {os.cpu_count()} cores, load {load:.1f}")
        many_times(args.seeds, args.repeats)
        return 0
    print(
        f"{PRACTITIONERS} practitioners, {args.steps} steps per case; {os.cpu_count()} cores, load {load:.1f}"
    )
    for scenario in SCENARIOS:
        for compare in (False, True):
            name = f"{scenario}{' side by side' if compare else ''}"
            session = session_for(scenario, compare)
            _, model = timed(session.step, args.steps)
            _, draw = timed(lambda s=session: draw_all(s), args.steps)
            wall, cpu = page_step_times(session_for(scenario, compare), args.steps)
            print(
                f"{name:26s} cpu: model {summary(model)}  draw {summary(draw)}  "
                f"page {summary(cpu)} | page wall {summary(wall)}",
                flush=True,
            )
    if args.browser:
        for scenario, title in (
            ("bindura_eag", "Bindura widows' recycling group (Johnson 2007)"),
            ("ogp_workshop", "Open Government Partnership workshops (Reboot 2016)"),
        ):
            times = browser_step_times(title, args.steps)
            print(
                f"{scenario:26s} browser: click to new step drawn {summary(times)}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
