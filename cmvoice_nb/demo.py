"""The whole job end to end, headless, against the built-in simulator: ``python -m cmvoice_nb.demo``.

Steps (each one runs even when an earlier one failed, and the summary says which failed):

1. **audio** — convert the sample prompts to telephony WAV under ``OUT/prompts`` and check them;
2. **spelling** — build the en-GB spelling set from ``sample_audio/spelling_en`` under ``OUT/upload``,
   check and pack it;
3. **campaign** — plan and send a mixed campaign (Notification with a ``File`` prompt, OTP with
   ``code-type: Custom`` spelled by that set, DTMF) to the simulator, journaled under ``OUT``;
4. **callbacks** — receive the callbacks with a :class:`~cmvoice_nb.callbacks.CallbackReceiver`,
   load and summarise them, write ``OUT/report.html``;
5. **followup** — plan a follow-up wave from the journal and the callbacks (everyone whose call was
   Cancelled or Failed; the injected clock follows the simulator's call times, which run ahead of the
   wall clock), send it, receive its callbacks, and print the reach per wave;
6. **notebooks** — execute the four shipped notebooks into ``OUT/notebooks`` (``.ipynb`` and ``.html``),
   skipped with a note when nbclient/nbconvert are not installed.

Nothing needs an account or a network: every server listens on 127.0.0.1.

Examples
--------
>>> from cmvoice_nb.demo import run_demo         # doctest: +SKIP
>>> summary = run_demo("build/demo")             # doctest: +SKIP
>>> summary.ok                                   # doctest: +SKIP
True
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import spec

logger = logging.getLogger(__name__)

NOTEBOOKS = ("01_audio_preparation", "02_otp_spelling_set", "03_campaign", "04_callback_analysis")
CALLER = "+31201234567"


@dataclass
class DemoSummary:
    """What the demo did: one line per step, and whether every step succeeded."""

    out: Path
    lines: list[tuple[str, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def add(self, step: str, text: str) -> None:
        self.lines.append((step, text))

    def __str__(self) -> str:
        width = max((len(s) for s, _ in self.lines), default=0) + 1
        body = "\n".join(f"  {step + ':':<{width}} {text}" for step, text in self.lines)
        verdict = "all steps passed" if self.ok else f"FAILED: {', '.join(self.failed)}"
        return f"cmvoice_nb demo → {self.out}\n{body}\n  {verdict}"

    def __repr__(self) -> str:
        return f"<DemoSummary {self.out} ok={self.ok} steps={len(self.lines)}>"


def find_project_dir(name: str) -> Path | None:
    """The project's *name* folder (``sample_audio``, ``notebooks``): the checkout's, beside the
    package; else the copy an installed wheel carries (``cmvoice_nb/_data/<name>``); else one in the
    current directory. None when there is none."""
    from importlib.resources import files

    checkout = Path(__file__).resolve().parents[1] / name
    if checkout.is_dir():
        return checkout
    shipped = files("cmvoice_nb") / "_data" / name
    if isinstance(shipped, Path) and shipped.is_dir():  # a package on the file system, not in a zip
        return shipped
    here = Path.cwd() / name
    return here if here.is_dir() else None


def sample_audio() -> Path:
    """The sample prompts the demo and the notebooks use: the checkout's ``sample_audio/``, or the
    copy an installed wheel carries (see :func:`find_project_dir`).

    Raises :class:`~cmvoice_nb.errors.ConfigurationError` when there is neither.

    Examples
    --------
    >>> (sample_audio() / "spelling_en").is_dir()
    True
    """
    from .errors import ConfigurationError

    found = find_project_dir("sample_audio")
    if found is None:
        raise ConfigurationError("no sample_audio/ folder: neither a checkout beside the package nor an installed "
                                 "package's copy (cmvoice_nb/_data/sample_audio); reinstall the package from a wheel "
                                 "or run from the project's checkout")
    return found


# -- steps ------------------------------------------------------------------------------------------
def step_audio(samples: Path, out: Path, summary: DemoSummary) -> None:
    from .audio import check_folder, convert_paths

    prompts = out / "prompts"
    files = sorted(p for p in samples.iterdir() if p.is_file() and p.suffix.lower() in spec.AUDIO_SUFFIXES)
    table = convert_paths([(p.name, p, prompts / (p.stem + ".wav")) for p in files], normalize_dbfs=-20.0,
                          trim=True, workers=1, progress=False)
    checked = check_folder(prompts, workers=1, progress=False)
    converted = int((table["status"] == "converted").sum())
    compliant = int(checked["ok"].sum())
    summary.facts.update(audio_files=len(files), audio_converted=converted, audio_compliant=compliant)
    summary.add("audio", f"{len(files)} sample prompts, {converted} converted, {compliant}/{len(checked)} compliant "
                         f"→ {prompts}")
    if converted != len(files) or compliant != len(checked):
        raise RuntimeError("some prompts did not convert or are not compliant")


def step_spelling(samples: Path, out: Path, summary: DemoSummary) -> None:
    from .spelling import build_spelling_set, check_spelling_set, pack_spelling_set

    root = out / "upload"  # holds spelling/en-GB/, as uploaded to the Audio Prompt Manager
    build_spelling_set(samples / "spelling_en", root, locale="en-GB", overwrite=True, progress=False)
    report = check_spelling_set(root, locale="en-GB")
    summary.facts.update(spelling_ok=report.ok, spelling_present=len(report.present))
    if not report.ok:
        summary.add("spelling", f"en-GB NOT valid: {report.summary}")
        raise RuntimeError(report.summary)
    zip_path = pack_spelling_set(root, locale="en-GB", out=out / "spelling-en-GB.zip")
    summary.add("spelling", f"en-GB valid ({len(report.present)} characters), packed {zip_path}")


def _campaign_frames():
    import pandas as pd

    # Last two digits choose the simulator's outcome for 09..12; other numbers draw seeded chances.
    endings = ["10", "10", "10", "09", "11", "12", "10", "37", "48", "55", "63", "74"]
    notification = pd.DataFrame({
        "first_name": ["Ann", "Bob", "Cem", "Dora", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jet", "Kees", "Lot"],
        "phone": [f"06 12{i:02d} 56{e}" for i, e in enumerate(endings)],
    })
    otp = pd.DataFrame({"callee": [f"+3161{i:03d}57{e}" for i, e in enumerate(endings[:8])],
                        "code": ["48213", "7k9x2", "0815", "31337", "2468", "97531", "k3y5", "1a2b3"]})
    dtmf = pd.DataFrame({"callee": [f"+3161{i:03d}58{e}" for i, e in enumerate(endings[:8])]})
    return notification, otp, dtmf


def step_campaign(out: Path, summary: DemoSummary, state: dict) -> None:
    import pandas as pd

    from .callbacks import CallbackReceiver
    from .campaign import plan_campaign, results_to_csv, send_campaign
    from .simulator import Simulator

    prompts = out / "prompts"
    sim = state["sim"] = Simulator(seed=1, audio_root=prompts if prompts.is_dir() else None)
    rx = state["rx"] = CallbackReceiver(out / "callbacks" / "callbacks.jsonl").start()
    notification, otp, dtmf = _campaign_frames()
    common = {"caller": CALLER, "callback-url": rx.url}
    jobs: list[tuple[str, pd.DataFrame, dict[str, str] | None, dict[str, Any]]] = [
        ("notification", notification, {"callee": "phone"},
         {**common, "prompt": "Hello {first_name}, your appointment is tomorrow at nine.", "prompt-type": "TTS"}),
        ("otp", otp, None,
         {**common, "intro-prompt": "welcome.wav", "intro-prompt-type": "File", "code-type": "Custom",
          "voice.language": "en-GB"}),
        ("dtmf", dtmf, None,
         {**common, "prompt": "Press 1 to confirm, 2 to cancel.", "prompt-type": "TTS",
          "min-digits": 1, "max-digits": 1, "max-attempts": 2}),
    ]
    parts = []
    invalid = 0
    for app, df, columns, defaults in jobs:
        # audio_root / spelling_root make the plan refuse missing or non-compliant audio before sending.
        plan = plan_campaign(df, app=app, name=f"demo-{app}", columns=columns, defaults=defaults, region="NL",
                             audio_root=prompts if prompts.is_dir() else None,
                             spelling_root=out / "upload" if (out / "upload").is_dir() else None)
        invalid += int(plan.summary()["invalid"])
        # One request at a time: the simulator draws each call's outcome in the order calls arrive,
        # so the demo prints the same numbers on every run (the README shows them).
        res = send_campaign(plan, sim.client(), journal=out / "campaign.sqlite", rate=50.0, burst=20,
                            concurrency=1, progress=False)
        parts.append(res.assign(app=app))
    results = pd.concat(parts, ignore_index=True)
    results_to_csv(results, out / "results.csv")
    state["results"] = results
    counts = results["status"].value_counts().to_dict()
    sent = int(results["status"].isin(["queued", "rejected", "failed", "unknown"]).sum())
    placed = sim.placed_count()
    summary.facts.update(calls_rows=len(results), calls_sent=sent, calls_placed_now=placed, call_status=counts)
    statuses = ", ".join(f"{k} {v}" for k, v in counts.items())
    if placed:
        line = f"{len(results)} rows, {placed} calls placed on the simulator ({statuses})"
    else:
        # A re-run: the journal already settled every row, so nothing is sent again.
        line = f"{len(results)} rows, none sent again: the journal holds them from an earlier run ({statuses})"
    summary.add("campaign", f"{line}; journal {out / 'campaign.sqlite'}")
    if invalid:
        raise RuntimeError(f"{invalid} demo rows were invalid")


def step_callbacks(out: Path, summary: DemoSummary, state: dict) -> None:
    from .callbacks import load_callbacks, summarize
    from .campaign import Journal, funnel, write_report
    from .campaign.report import campaign_results, people_reached

    sim, rx = state.get("sim"), state.get("rx")
    if sim is None or rx is None:
        raise RuntimeError("no campaign was sent")
    sim.wait_idle(60)
    rx.wait_for(sim.placed_count(), timeout=60)
    calls = load_callbacks(out / "callbacks" / "callbacks.jsonl", warn=False)
    overall = summarize(calls)
    # Most frequent first, ties by name: callbacks arrive in any order, the summary line does not.
    counted = calls["outcome"].astype("string").value_counts().to_dict()
    outcomes = dict(sorted(counted.items(), key=lambda kv: (-kv[1], kv[0])))
    rate = float(overall["answer_rate"].iloc[0])
    # The headline is over people (every wave, from the journal): a re-run that sends nothing new
    # cannot lower it, as a rate over calls would once a follow-up wave called the unanswered again.
    reached = people = 0
    with Journal(out / "campaign.sqlite") as journal:
        for name in journal.campaigns():
            r, p = people_reached(funnel(campaign_results(journal, name), calls))
            reached, people = reached + r, people + p
    report = write_report(calls, results=state.get("results"), html_path=out / "report.html",
                          title="cmvoice_nb demo campaign")
    summary.facts.update(callbacks=len(calls), outcomes=outcomes, answer_rate=rate, people=people,
                         people_reached=reached)
    summary.add("callbacks", f"{len(calls)} in the log, {rx.count} received this run ("
                + ", ".join(f"{k} {v}" for k, v in outcomes.items()) + f"); reached {reached} of {people} people "
                f"({reached / people if people else 0:.0%} of people)")
    summary.add("report", str(report))


#: Follow-up settings of the demo: two attempts per person, a gap measured on the simulator's clock.
FOLLOWUP_MAX_ATTEMPTS = 2
FOLLOWUP_GAP = "10min"


def step_followup(out: Path, summary: DemoSummary, state: dict) -> None:
    import pandas as pd

    from .callbacks import load_callbacks
    from .campaign import Journal, plan_followup, reach_by_wave, send_campaign

    sim, rx = state.get("sim"), state.get("rx")
    if sim is None or rx is None:
        raise RuntimeError("no campaign was sent")
    log = out / "callbacks" / "callbacks.jsonl"
    journal = out / "campaign.sqlite"
    calls = load_callbacks(log, warn=False)
    # The simulator stamps a call's end at its start plus its simulated length, ahead of the wall
    # clock (speed): measure the gap from the last call's end, as an operator would an hour later.
    now = calls["finished_on"].max() + pd.Timedelta(FOLLOWUP_GAP) + pd.Timedelta(minutes=1)
    before = sim.placed_count()
    left: dict[str, int] = {}
    for app in ("notification", "otp", "dtmf"):
        plan = plan_followup(journal, calls, campaign=f"demo-{app}", max_attempts=FOLLOWUP_MAX_ATTEMPTS,
                             min_gap=FOLLOWUP_GAP, now=now)
        for reason, n in plan.left_out_summary().items():
            left[reason] = left.get(reason, 0) + int(n)
        send_campaign(plan, sim.client(), journal=journal, rate=50.0, burst=20, concurrency=1, progress=False)
    placed = sim.placed_count() - before
    sim.wait_idle(60)
    rx.wait_for(sim.placed_count(), timeout=60)
    calls = load_callbacks(log, warn=False)
    with Journal(journal) as j:
        reach = reach_by_wave(j, calls)  # every attempt of every wave the journal recorded
    state["reach"] = reach
    summary.facts.update(followup_placed=placed, followup_left_out=left, reach=reach.to_dict("index"))
    reasons = ", ".join(f"{k} {v}" for k, v in left.items()) or "nobody"
    summary.add("followup", f"wave 2 called {placed} unanswered again (left out: {reasons}); reach: "
                + "; ".join(f"after {w} attempt{'s' if w != 1 else ''} {int(r['answered_cumulative'])}/"
                            f"{reach.attrs['people']} ({r['reach_cumulative']:.0%})"
                            for w, r in zip(reach.index.tolist(), reach.to_dict("records"), strict=True)))


def _kernel_config() -> Any:
    """The kernels' transport encrypted (CurveZMQ keys from the kernel manager) where the installed
    jupyter_client and pyzmq can: a kernel on plain TCP warns about it on stderr, even on loopback."""
    import zmq
    from jupyter_client import KernelManager
    from traitlets.config import Config

    if "transport_encryption" in KernelManager.class_trait_names() and zmq.has("curve"):
        return Config({"KernelManager": {"transport_encryption": "auto"}})
    return Config()


class _NoAltTextNotice(logging.Filter):
    # nbconvert's HTML template cannot carry an image output's alt text: it adds a generic one to
    # every plot itself and logs a warning that says so, once per notebook.
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Alternative text is missing")


def _exporter_log() -> logging.Logger:
    """The HTML exporter's logger: its own warnings, less the alt-text notice."""
    log = logging.getLogger(f"{__name__}.nbconvert")
    if not any(isinstance(f, _NoAltTextNotice) for f in log.filters):
        log.addFilter(_NoAltTextNotice())
    return log


def step_notebooks(notebooks: Path | None, out: Path, summary: DemoSummary, *, timeout_s: float = 600) -> None:
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbconvert import HTMLExporter
    except ImportError as exc:
        summary.add("notebooks", f"skipped: {exc.name} is not installed (pip install -e '.[test]' to execute them)")
        return
    if notebooks is None:
        summary.add("notebooks", "skipped: no notebooks/ folder (not in a checkout, not in the installed package)")
        return
    from ._fsutil import atomic_write_text

    dest = out / "notebooks"
    work = out / "notebook-work"
    dest.mkdir(parents=True, exist_ok=True)
    failed = []
    old = os.environ.get("CMVOICE_NB_WORKDIR")
    os.environ["CMVOICE_NB_WORKDIR"] = str(work.resolve())  # inherited by the kernels we start
    try:
        for name in NOTEBOOKS:
            src = notebooks / f"{name}.ipynb"
            nb = nbformat.read(src, as_version=4)
            try:
                NotebookClient(nb, timeout=timeout_s, kernel_name="python3", config=_kernel_config(),
                               resources={"metadata": {"path": str(notebooks)}}).execute()
            except Exception as exc:  # keep going: the other notebooks still tell the user something
                failed.append(f"{name} ({type(exc).__name__})")
                logger.error("notebook %s failed: %s", name, exc)
            atomic_write_text(dest / f"{name}.ipynb", nbformat.writes(nb))
            body, _ = HTMLExporter(log=_exporter_log()).from_notebook_node(nb)
            atomic_write_text(dest / f"{name}.html", body)
    finally:
        if old is None:
            os.environ.pop("CMVOICE_NB_WORKDIR", None)
        else:
            os.environ["CMVOICE_NB_WORKDIR"] = old
    done = len(NOTEBOOKS) - len(failed)
    summary.add("notebooks", f"{done}/{len(NOTEBOOKS)} executed without error → {dest} (.ipynb + .html)"
                + (f"; failed: {', '.join(failed)}" if failed else ""))
    if failed:
        raise RuntimeError("notebooks failed: " + ", ".join(failed))


# -- driver -----------------------------------------------------------------------------------------
def run_demo(out: str | os.PathLike = "build/demo", *, samples: str | os.PathLike | None = None,
             notebooks: str | os.PathLike | None = None, execute_notebooks: bool = True) -> DemoSummary:
    """Run every step into *out* and return the :class:`DemoSummary` (never raises for a failed step)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    samples_dir = Path(samples) if samples is not None else find_project_dir("sample_audio")
    nb_dir = Path(notebooks).resolve() if notebooks is not None else find_project_dir("notebooks")
    summary = DemoSummary(out=out)
    state: dict[str, Any] = {}

    def run(step: str, fn: Callable[[], None]) -> None:
        t0 = time.monotonic()
        try:
            fn()
        except Exception as exc:
            summary.failed.append(step)
            if not any(s == step for s, _ in summary.lines):
                summary.add(step, f"FAILED: {type(exc).__name__}: {exc}")
            logger.debug("step %s failed\n%s", step, traceback.format_exc())
        logger.info("step %s took %.1f s", step, time.monotonic() - t0)

    if samples_dir is None:
        summary.failed.append("audio")
        summary.add("audio", "FAILED: no sample_audio/ folder found (not in a checkout, not in the installed "
                             "package: pass --samples)")
    else:
        run("audio", lambda: step_audio(samples_dir, out, summary))
        run("spelling", lambda: step_spelling(samples_dir, out, summary))
    try:
        run("campaign", lambda: step_campaign(out, summary, state))
        run("callbacks", lambda: step_callbacks(out, summary, state))
        run("followup", lambda: step_followup(out, summary, state))
    finally:
        if state.get("rx") is not None:
            state["rx"].stop()
        if state.get("sim") is not None:
            state["sim"].close()
    if execute_notebooks:
        run("notebooks", lambda: step_notebooks(nb_dir, out, summary))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cmvoice_nb.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="build/demo", help="output folder (default: build/demo)")
    parser.add_argument("--samples", default=None, help="sample_audio folder (default: the project's)")
    parser.add_argument("--notebooks", default=None, help="notebooks folder (default: the project's)")
    parser.add_argument("--no-notebooks", action="store_true", help="do not execute the notebooks")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    summary = run_demo(args.out, samples=args.samples, notebooks=args.notebooks,
                       execute_notebooks=not args.no_notebooks)
    print(summary)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
