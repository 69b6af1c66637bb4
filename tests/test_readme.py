"""The README's sample outputs are what the commands print today, so the README cannot go stale.

Each block sits between ``--8<-- [start:NAME]`` / ``[end:NAME]`` markers (which the docs site also
includes); the tests run the command the README shows and compare the lines it shows.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ._wait import scaled

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def readme_section(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"--8<-- \[start:{name}\][^\n]*\n(.*?)\n[^\n]*--8<-- \[end:{name}\]", text, re.DOTALL)
    assert match, f"README.md has no section {name!r} between --8<-- [start:{name}] and [end:{name}]"
    return match[1]


def code_blocks(section: str) -> list[list[str]]:
    """The lines of each fenced block of *section*, in order."""
    return [block.split("\n") for block in re.findall(r"```[a-z]*\n(.*?)\n```", section, re.DOTALL)]


def run_here(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CM_PRODUCT_TOKEN", "CMVOICE_BASE_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8",
                           timeout=scaled(600))


def tiny_notebooks(folder: Path) -> Path:
    """Four one-cell notebooks under the demo's notebook names (the real ones run in tests/notebooks)."""
    from cmvoice_nb.demo import NOTEBOOKS

    folder.mkdir()
    for name in NOTEBOOKS:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


@pytest.mark.slow
@pytest.mark.notebooks
def test_the_readme_shows_exactly_what_the_demo_prints(tmp_path):
    shown = code_blocks(readme_section("demo-output"))[0]
    notebooks = tiny_notebooks(tmp_path / "nbs")
    done = run_here([sys.executable, "-m", "cmvoice_nb.demo", "--out", "build/demo", "--notebooks", str(notebooks)],
                    cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    printed = done.stdout.rstrip("\n").split("\n")
    assert printed == shown
    assert done.stderr == ""  # a quiet first run: nothing from the kernels or the HTML export


@pytest.mark.slow
def test_running_the_demo_twice_prints_the_same_numbers(tmp_path):
    first = run_here([sys.executable, "-m", "cmvoice_nb.demo", "--out", "a", "--no-notebooks"], cwd=tmp_path)
    second = run_here([sys.executable, "-m", "cmvoice_nb.demo", "--out", "b", "--no-notebooks"], cwd=tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr

    def facts(out: str) -> list[str]:
        return [line for line in out.splitlines() if line.lstrip().startswith(("callbacks:", "followup:"))]

    assert facts(first.stdout) == facts(second.stdout) and len(facts(first.stdout)) == 2


def test_the_readme_dutch_dry_run_previews_what_it_shows(tmp_path):
    csv_lines, command_block = code_blocks(readme_section("dutch"))
    # As Dutch Excel saves it: UTF-8 with a byte-order mark, CRLF line ends, ';' separators.
    (tmp_path / "klanten.csv").write_bytes(("\r\n".join(csv_lines) + "\r\n").encode("utf-8-sig"))
    cut = command_block.index("...")
    command = " ".join(line.rstrip("\\").strip() for line in command_block[:cut])
    argv = shlex.split(command)
    assert argv[0] == "cmvoice" and "--dry-run" in argv
    done = run_here([sys.executable, "-m", "cmvoice_nb", *argv[1:]], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = command_block[cut + 1:]
    # CLDR puts a no-break space between € and the amount; the README shows a plain one.
    printed = done.stdout.replace("\xa0", " ").replace("\u202f", " ").splitlines()
    start = printed.index(shown[0])
    assert printed[start:start + len(shown)] == shown
    assert not (tmp_path / "klanten.sqlite").exists()  # a dry run writes no journal
