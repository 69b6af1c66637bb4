"""The one build step pyproject.toml cannot say: the wheel carries the samples and the notebooks.

``sample_audio/`` and ``notebooks/`` stay at the top of the checkout, where the notebooks read
``../sample_audio`` and the docs link to them. A wheel gets a copy of both under
``cmvoice_nb/_data/``, so that ``python -m cmvoice_nb.demo`` and the notebooks run from an
installed package (``cmvoice_nb.demo.find_project_dir``). An editable install reads the checkout.
Everything else about the build is in ``pyproject.toml``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent

#: What ships from each top-level folder, by suffix in any case (the scripts that made them stay behind).
SHIPPED = {"sample_audio": {".wav", ".mp3", ".m4a", ".flac", ".ogg"}, "notebooks": {".ipynb"}}


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install finds the checkout's folders themselves
        for folder, suffixes in SHIPPED.items():
            source = HERE / folder
            if not source.is_dir():  # a wheel without them would fail at run time, far from here
                raise FileNotFoundError(f"{source} is missing: the wheel ships it (an sdist carries it: MANIFEST.in)")
            target = Path(self.build_lib) / "cmvoice_nb" / "_data" / folder
            for path in sorted(source.rglob("*")):
                if not path.is_file() or path.suffix.lower() not in suffixes or ".ipynb_checkpoints" in path.parts:
                    continue
                dest = target / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)


setup(cmdclass={"build_py": BuildWithData})
