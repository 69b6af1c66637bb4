"""A JupyterLab server on loopback and helpers to drive it from Playwright.

The server listens on 127.0.0.1 with a random free port and a random token; its
config, runtime, settings and workspace folders live under a temporary folder so
nothing from the developer's own Jupyter set-up leaks in (and nothing leaks out).
The app object is exposed in the page (``expose_app_in_browser``) so the tests can
run JupyterLab commands ("run all cells") instead of guessing menu positions.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from .._net import free_port
from .._wait import scaled

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LabServer:
    """``jupyter lab`` as a child process; use as a context manager."""

    def __init__(self, root_dir: Path, state_dir: Path) -> None:
        self.root_dir = Path(root_dir)
        self.state_dir = Path(state_dir)
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = self.state_dir / "jupyterlab.log"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        for var, sub in [
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTERLAB_SETTINGS_DIR", "settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
            ("IPYTHONDIR", "ipython"),
        ]:
            path = self.state_dir / sub
            path.mkdir(parents=True, exist_ok=True)
            env[var] = str(path)
        # No "would you like news?" toast and no update check: loopback only, nothing on top of cells.
        notif = self.state_dir / "settings" / "@jupyterlab" / "apputils-extension"
        notif.mkdir(parents=True, exist_ok=True)
        (notif / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        env.pop("JUPYTER_TOKEN", None)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self, *, timeout_s: float = 90.0) -> LabServer:
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.open_browser=False",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabApp.extension_manager=readonly",
            "--ServerApp.terminals_enabled=False",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI containers run as root
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            cmd, cwd=self.root_dir, env=self._env(), stdout=self._log, stderr=subprocess.STDOUT
        )
        timeout_s = scaled(timeout_s)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {timeout_s} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=scaled(15))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=scaled(5))
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def notebook_url(self, relpath: str) -> str:
        return f"{self.url}/lab/tree/{relpath}?token={self.token}&reset"


# --- page helpers -----------------------------------------------------------------------------

_KERNEL_STATUS_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.sessionContext || !w.sessionContext.session || !w.sessionContext.session.kernel) return null;
  return w.sessionContext.session.kernel.status;
}"""

_CELL_STATE_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = [];
  for (const cell of w.content.model.cells) {
    const j = cell.toJSON();
    if (j.cell_type !== 'code') continue;
    const errors = (j.outputs || []).filter(o => o.output_type === 'error')
        .map(o => o.ename + ': ' + o.evalue);
    const text = Array.isArray(j.source) ? j.source.join('') : j.source;
    cells.push({count: j.execution_count, errors: errors, source: text.slice(0, 80)});
  }
  return cells;
}"""


def open_notebook(page, lab: LabServer, relpath: str, *, timeout_s: float = 90.0) -> None:
    """Open *relpath* in JupyterLab and wait until its kernel is idle."""
    timeout_s = scaled(timeout_s)
    page.goto(lab.notebook_url(relpath))
    page.wait_for_function("() => !!window.jupyterapp", timeout=timeout_s * 1000)
    page.wait_for_selector(".jp-Notebook", timeout=timeout_s * 1000)
    # A notebook without kernelspec metadata asks which kernel to start: take the default.
    deadline = time.monotonic() + timeout_s
    while page.evaluate(_KERNEL_STATUS_JS) != "idle":
        if time.monotonic() > deadline:
            raise TimeoutError(f"kernel of {relpath} never became idle")
        select = page.locator(".jp-Dialog .jp-mod-accept")
        if select.count():
            select.first.click()
        page.wait_for_timeout(250)


def wait_kernel(page, status: str, *, timeout_s: float) -> None:
    page.wait_for_function(
        f"() => ({_KERNEL_STATUS_JS})() === {json.dumps(status)}", timeout=timeout_s * 1000, polling=250
    )


def run_all_cells(page, *, timeout_s: float = 240.0) -> list[dict]:
    """Run every cell through JupyterLab's own command; return per-cell counts and errors."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # Every code cell gets an execution count once it ran (or "*" cleared); then the kernel idles.
    page.wait_for_function(
        f"""() => {{
          const s = ({_KERNEL_STATUS_JS})();
          if (s !== 'idle') return false;
          const cells = ({_CELL_STATE_JS})();
          return cells.every(c => c.count !== null || c.errors.length) || cells.some(c => c.errors.length);
        }}""",
        timeout=timeout_s * 1000,
        polling=500,
    )
    return page.evaluate(_CELL_STATE_JS)


def cell_errors(cells: list[dict]) -> list[str]:
    return [f"{c['source']!r}: {e}" for c in cells for e in c["errors"]]


@contextmanager
def new_page(browser, **context_options):
    """A page in a fresh browser context (its own cookies and downloads), closed on leaving."""
    context = browser.new_context(**context_options)
    try:
        yield context.new_page()
    finally:
        context.close()
