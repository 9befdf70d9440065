"""The "What happens across many runs?" panel of the teaching view.

One press runs the staged settings over many seeds (:mod:`copsim.viz.many`)
off the UI thread (``solara.lab.use_task``), with a progress bar and a Stop
button; the page keeps stepping and responding meanwhile.  The panel then
shows the label shares, the spread of expansiveness and defensiveness
(:mod:`copsim.viz.histograms`) with the run on screen marked, and in
side-by-side mode the paired differences B - A.

Redraws follow the page's rules (:mod:`copsim.viz.components`): the panel
does not read Mesa's update counter, so a step never re-renders it; it reads
the settings counter, so that a changed setting marks the results as stale at
once, and its task's state, so that progress and the finished result show.
"""

from __future__ import annotations

import html
import time

import solara
import solara.lab

from copsim.outcomes import LABELS
from copsim.viz import drawing, histograms, many
from copsim.viz import settings as st
from copsim.viz.components import help_note, label_chip, settings_counter
from copsim.viz.session import Session

TITLE = "What happens across many runs?"
STALE_STYLE = "opacity: 0.4; pointer-events: none;"


def run_button_text(n: int, compare: bool) -> str:
    """The button's text, saying how many seeds and for which settings."""
    return f"Run {n} seeds with {'both settings' if compare else 'these settings'}"


def shares_html(result: many.ManyRuns) -> str:
    """The label shares as a small table: count and percentage per label (per arm)."""
    arms = result.arms
    head = "".join(f"<th style='text-align:left; padding:0 14px;'>run {a.name}</th>" for a in arms)
    if not result.paired:
        head = "<th style='text-align:left; padding:0 14px;'>runs</th>"
    rows = []
    for label in LABELS:
        cells = []
        for arm in arms:
            count, share = arm.counts()[label], arm.shares()[label]
            bar = (
                f"<span style='display:inline-block; width:{100 * share:.0f}px; height:9px; "
                f"background:{drawing.LABEL_COLOURS[label]}; margin-right:6px;'></span>"
            )
            cells.append(
                f"<td style='padding:2px 14px; white-space:nowrap;' data-label='{label}' "
                f"data-arm='{arm.name}'>{bar}{count} ({100 * share:.0f}%)</td>"
            )
        rows.append(f"<tr><td>{label_chip(label)}</td>{''.join(cells)}</tr>")
    return (
        f"<table style='font-size:14px; border-collapse:collapse;'><tr><th></th>{head}</tr>"
        + "".join(rows)
        + "</table>"
    )


def details_text(result: many.ManyRuns) -> str:
    """How far the runs went, how long they took and which seeds are worth watching."""
    first = result.arms[0]
    horizon = first.params.max_steps
    stopped = int((first.steps < horizon).sum())
    if not first.params.social_layer and first.steps.max() < horizon:
        reach = (
            f"each ran until nothing was left to learn (step {first.steps.min()} to "
            f"{first.steps.max()})"
        )
    else:
        reach = f"each ran to step {horizon}, the scenario's end"
        if stopped:
            reach += f" ({stopped} dissolved earlier)"
    watch = []
    for label in LABELS:
        seeds = first.seeds_with(label, result.seeds)
        if seeds:
            watch.append(
                f"{label}: seed{'s' if len(seeds) > 1 else ''} " + ", ".join(map(str, seeds))
            )
    arms = " (run A)" if result.paired else ""
    return (
        f"{result.n * len(result.arms)} runs in {result.seconds:.1f} s; {reach}. "
        f"Runs to watch{arms}: {'; '.join(watch)}. Type one into the seed field and press "
        "Reset to see it."
    )


@solara.component
def ManyRunsResult(result: many.ManyRuns, on_screen: bool, stale: list[str]):
    """The shares, the sentence, the histograms and the seeds worth watching."""
    svg = solara.use_memo(
        lambda: histograms.many_svg(result, on_screen), dependencies=[result, on_screen]
    )
    if stale:
        solara.Warning(
            "Settings changed since these runs (" + "; ".join(stale) + "): run again. "
            "The results below are for the old settings.",
            dense=True,
        )
    with solara.Column(gap="6px", style=STALE_STYLE if stale else ""):
        solara.HTML(
            tag="p",
            unsafe_innerHTML=html.escape(many.reading(result, on_screen)),
            classes=["copsim-many-reading"],
            style="font-size: 15px; margin: 4px 0;",
        )
        solara.HTML(tag="div", unsafe_innerHTML=shares_html(result), classes=["copsim-many-shares"])
        if result.paired:
            lines = "".join(
                f"<li><b>{m}</b>: {html.escape(many.describe_difference(result.difference(m), result.n))}</li>"
                for m in many.MEASURES
            )
            solara.HTML(
                tag="ul",
                unsafe_innerHTML=lines,
                classes=["copsim-many-differences"],
                style="font-size: 14px; margin: 2px 0;",
            )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=svg,
            classes=["copsim-many-hist"],
            # about the scale of the live charts, not stretched across a wide screen
            style=f"max-width: {1.25 * histograms.many_width(result):.0f}px;",
        )
        help_note(details_text(result))


@solara.component
def ManyRunsPanel(session: Session, blocked: bool = False):
    """The panel: seed count, the Run/Stop buttons, progress, and the last result.

    ``blocked`` is True while the seed field holds text that is not a seed.
    """
    settings_counter.get()  # redraw when a setting changes (the results may be stale)
    job = solara.use_memo(many.Job, dependencies=[])
    count = solara.use_reactive(many.DEFAULT_COUNT)
    started = solara.use_ref(0.0)

    def work(settings, n: int):
        def on_progress(done: int, total: int) -> None:
            task.progress = 100.0 * done / total

        return job.execute(settings, n, on_progress)

    task = solara.lab.use_task(work, dependencies=None, raise_error=False)
    state = task.result  # read the whole state, so every change (progress, end) redraws
    busy = state.pending or job.busy

    def on_run() -> None:
        settings = session.staged
        if blocked or not job.claim(settings, count.value):
            return  # a computation is already running: a second press does nothing
        started.current = time.perf_counter()
        task(settings, count.value)

    staged = session.staged
    with solara.Details(TITLE), solara.Column(gap="6px", classes=["copsim-many"]):
        help_note(
            "One run is one draw: the same settings with another seed can end differently. "
            "Run the settings on the left (as staged, side by side included) over many "
            "seeds at once, starting from the seed on the left, to see how often each "
            "ending comes up."
        )
        with solara.Row(gap="12px", style="align-items: center; flex-wrap: wrap;"):
            solara.v.Select(
                label="Seeds",
                items=[{"text": f"{n} seeds", "value": n} for n in many.COUNTS],
                v_model=count.value,
                on_v_model=count.set,
                dense=True,
                disabled=busy,
                style_="max-width: 140px;",
            )
            solara.Button(
                run_button_text(count.value, staged.compare),
                icon_name="mdi-dice-multiple",
                color="primary",
                on_click=on_run,
                disabled=busy or blocked,
            )
            if busy:
                solara.Button("Stop", icon_name="mdi-stop", outlined=True, on_click=job.cancel)
        if blocked:
            solara.Error("Fix the seed (left) before running many seeds.", dense=True)
        if busy:
            done, total = job.done, job.total or count.value
            seconds = time.perf_counter() - started.current
            solara.ProgressLinear(state.progress if state.progress else True)
            solara.Text(
                f"Running… {done} of {total} runs done ({seconds:.0f} s)",
                classes=["copsim-many-progress"],
            )
        if job.error:
            solara.Error(f"The runs could not be made: {job.error}", dense=True)
        elif state.error and state.exception is not None:
            solara.Error(f"The runs failed: {state.exception}", dense=True)
        if job.note:
            solara.Info(job.note, dense=True)
        result = job.result
        if result is not None:
            screen = [(run.params, run.seed) for run in session.runs]
            ManyRunsResult(result, result.shows_screen(screen), result.changes_since(staged))
        elif not busy:
            solara.Text(
                f"Press the button to run {st.scenario_title(staged.scenario)} "
                f"over {count.value} seeds.",
                style="color: #5f5f5f; font-size: 13px;",
            )
