"""The package stands on its own: made into an sdist and a wheel, installed outside the checkout
with no network, it runs ``cmvoice`` and the demo from anywhere."""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tarfile
import venv
from pathlib import Path

import pytest

from ._wait import scaled

ROOT = Path(__file__).resolve().parents[1]
# What a checkout may hold that is not source: never copied into the build.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "site", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".hypothesis", ".ipynb_checkpoints", ".mypy_cache", ".ruff_cache")


def run(args, *, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=scaled(timeout))
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def without_the_checkout() -> dict:
    """This environment, less what would import the checkout's package instead of the installed one."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "CM_PRODUCT_TOKEN", "CMVOICE_BASE_URL")}


def make_venv(where: Path) -> Path:
    """A venv with system site packages that also sees the packages of the environment running the
    tests; returns its python.

    ``--system-site-packages`` gives a venv the site-packages of its BASE interpreter only: a venv
    made from inside another venv (the tests run in one) does not see the outer venv's packages
    (pandas, numpy, ...), and ``pip install --no-deps --no-index`` cannot fetch them. A ``.pth`` file
    in the new venv's site-packages names the outer one's directories: plain path lines, appended to
    ``sys.path`` after the new venv's own site-packages, so the installed wheel comes first. Plain
    lines, not ``site.addsitedir``: the outer directories' own ``.pth`` files are not run, so an
    editable install of the checkout there does not put the checkout back on the path.
    """
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=os.name != "nt").create(where)
    python = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       cwd=where, env=without_the_checkout()).stdout.strip())
    outer = [p for p in dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]]) if Path(p).is_dir()]
    (purelib / "outer_environment.pth").write_text("".join(f"{p}\n" for p in outer), encoding="utf-8")
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a fresh venv with the wheel installed, the sdist's file names, a folder far from the checkout)."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    env = without_the_checkout()
    # The sdist first, then the wheel from the sdist: what MANIFEST.in leaves out is missing from both.
    sdist = run([sys.executable, "-c", "from setuptools import build_meta; print(build_meta.build_sdist('dist'))"],
                cwd=source, env=env).stdout.strip().splitlines()[-1]
    with tarfile.open(source / "dist" / sdist) as tar:
        names = tar.getnames()
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--no-cache-dir",
         "-w", work / "wheels", source / "dist" / sdist], cwd=work, env=env)
    [wheel] = (work / "wheels").glob("cmvoice_nb-*.whl")
    python = make_venv(work / "venv")
    # --ignore-installed: the outer environment may hold this package too (an editable install of the
    # checkout); pip installs the wheel into the new venv beside it and never uninstalls it there.
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--no-cache-dir", "--ignore-installed", wheel],
        cwd=work, env=env)
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    return python, names, elsewhere


@pytest.mark.slow
def test_the_sdist_carries_the_samples_the_notebooks_and_the_changelog(installed):
    _python, names, _elsewhere = installed
    top = names[0].split("/")[0]
    for path in ("sample_audio/spelling_en/A.wav", "sample_audio/welcome.wav", "notebooks/03_campaign.ipynb",
                 "CHANGELOG.md", "setup.py", "cmvoice_nb/demo.py"):
        assert f"{top}/{path}" in names


@pytest.mark.slow
def test_the_installed_package_is_the_wheel_with_its_samples_and_notebooks(installed):
    python, _names, elsewhere = installed
    code = ("import cmvoice_nb, cmvoice_nb.demo as d; print(cmvoice_nb.__file__); print(d.sample_audio()); "
            "print(sorted(p.name for p in d.find_project_dir('notebooks').glob('*.ipynb')))")
    where, samples, notebooks = run([python, "-c", code], cwd=elsewhere, env=without_the_checkout()).stdout.splitlines()
    venv_dir = Path(python).parents[1]
    assert Path(where).is_relative_to(venv_dir) and not Path(where).is_relative_to(ROOT)
    assert Path(samples) == Path(where).parent / "_data" / "sample_audio"
    assert (Path(samples) / "spelling_en").is_dir()
    assert notebooks == str(["01_audio_preparation.ipynb", "02_otp_spelling_set.ipynb", "03_campaign.ipynb",
                             "04_callback_analysis.ipynb"])


@pytest.mark.slow
def test_the_installed_cmvoice_command_prints_its_help(installed):
    python, _names, elsewhere = installed
    command = Path(python).with_name("cmvoice.exe" if os.name == "nt" else "cmvoice")
    done = run([command, "--help"], cwd=elsewhere, env=without_the_checkout())
    assert "simulate" in done.stdout and "send" in done.stdout


@pytest.mark.slow
def test_the_installed_demo_runs_from_a_folder_outside_the_checkout(installed):
    python, _names, elsewhere = installed
    done = run([python, "-m", "cmvoice_nb.demo", "--out", "demo", "--no-notebooks"], cwd=elsewhere,
               env=without_the_checkout(), timeout=600)
    printed = done.stdout
    assert "9 sample prompts, 9 converted, 9/9 compliant" in printed
    assert "en-GB valid (36 characters)" in printed
    assert "28 calls placed on the simulator" in printed and "all steps passed" in printed
    assert (elsewhere / "demo" / "report.html").is_file()
    assert done.stderr == ""  # a quiet first run
