"""Package a checked spelling set as the zip to upload through the Audio Prompt Manager.

The zip holds exactly ``spelling/<locale>/<char>.wav`` (lower-case names; the
seed's "Custom audio files for the OTP app"), nothing else: stray entries,
hidden files and sub-folders of the set are left out.
"""
from __future__ import annotations

import logging
import os
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._fsutil import atomic_writer, same_file
from ..errors import SpellingSetError
from .check import SpellingCheckReport, check_spelling_set
from .names import require_locale

logger = logging.getLogger(__name__)

# A fixed timestamp makes the same set always pack to the same bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)


class SpellingPackError(SpellingSetError):
    """Packing was refused; :attr:`report` holds the failing validation."""

    def __init__(self, message: str, *, report: SpellingCheckReport | None = None) -> None:
        super().__init__(message)
        self.report = report


def _refusal_hint(report: SpellingCheckReport, *, codes: Any, chars: str | None) -> str:
    """The flag that fixes the refusal, named: ``--chars`` for a partial set, ``--force`` otherwise."""
    present = "".join(r["char"] for r in report.rows if r["present"])
    only_missing = bool(report.missing) and all("have no file" in p or p.startswith("missing")
                                                for p in report.problems)
    if only_missing and codes is None and chars is None and present:
        # A digits-only (or any partial) set is complete for what it is meant to read: say so.
        return (f" — the set holds only {present!r}: if that is all it must read, pass chars={present!r} "
                f"(--chars {present}), or the codes it must read (codes= / --code)")
    if only_missing:
        return " — add the missing files, or narrow what the set must cover (chars= / --chars, codes= / --code)"
    return (" (fix them; force=True / --force packs the files that pass anyway, never a rejected one)")


def _read_no_follow(path: Path, report: SpellingCheckReport) -> bytes:
    """The bytes of a regular file, never through a symbolic link (checked again at open)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise SpellingPackError(f"{path.name}: not a regular file; refusing to pack it", report=report)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as fh:
            now = os.fstat(fh.fileno())
            if not stat.S_ISREG(now.st_mode) or (now.st_ino, now.st_dev) != (st.st_ino, st.st_dev):
                raise SpellingPackError(f"{path.name}: changed while packing; refusing to pack it", report=report)
            return fh.read()
    except OSError as exc:
        raise SpellingPackError(f"{path.name}: cannot be read for packing ({exc.strerror or exc}); a symbolic "
                                "link is never followed", report=report) from exc


def zip_members(locale: str, chars: Iterable[str]) -> list[str]:
    """Member names of the upload zip, directories first, characters sorted.

    Examples
    --------
    >>> zip_members("en-GB", "ba1")
    ['spelling/', 'spelling/en-GB/', 'spelling/en-GB/1.wav', 'spelling/en-GB/a.wav', 'spelling/en-GB/b.wav']
    """
    return ["spelling/", f"spelling/{locale}/"] + [f"spelling/{locale}/{c}.wav" for c in sorted(set(chars))]


def pack_spelling_set(
    root: str | os.PathLike,
    *,
    locale: str,
    out: str | os.PathLike,
    force: bool = False,
    codes: Iterable[str] | str | None = None,
    chars: str | None = None,
) -> Path:
    """Validate the set, then write *out* as a zip of ``spelling/<locale>/<char>.wav``.

    Parameters
    ----------
    root
        The upload root holding ``spelling/<locale>/`` (or that folder itself).
    locale
        Five characters ``xx-XX``.
    out
        The zip to write (atomically; an existing zip there is replaced).
    force
        Pack even when the validation has set-level problems (missing characters, strays,
        loudness spread). Only character files that passed the check go in, force or not:
        a symbolic link, a text file named ``a.wav`` or a silent recording never does.
    codes, chars
        Passed to :func:`check_spelling_set`: what the set must cover.

    Returns
    -------
    pathlib.Path
        *out*.

    Raises
    ------
    SpellingPackError
        When the validation fails (unless *force*), when there is no file to
        pack, or when *out* would land inside the set or on one of its files.

    Examples
    --------
    >>> import tempfile
    >>> pack_spelling_set(tempfile.mkdtemp(), locale="en-GB", out="x.zip")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cmvoice_nb.spelling.pack.SpellingPackError: refusing to pack en-GB: ...
    """
    locale = require_locale(locale)
    report = check_spelling_set(root, locale=locale, codes=codes, chars=chars)
    linked = [p for p in (report.folder, report.folder.parent) if p.name in (locale, "spelling") and p.is_symlink()]
    if linked:
        # Never followed, force or not: the zip must hold the set, not wherever a link points.
        raise SpellingPackError(f"{linked[0]} is a symbolic link; refusing to pack through it — pack the real "
                                "folder", report=report)
    if not report.ok and not force:
        raise SpellingPackError(
            f"refusing to pack {locale}: {len(report.problems)} problem(s): " + "; ".join(report.problems)
            + _refusal_hint(report, codes=codes, chars=chars),
            report=report,
        )
    # Every character file that passed goes in, also those outside chars/codes: they are valid
    # and leaving them out would silently shrink the set on upload. A file the check rejected
    # (a symbolic link, a text file, silence, ...) never goes in, force or not.
    passed = {r["char"] for r in report.rows if r["ok"]}
    files = {c: p for c, p in report.files.items() if c in passed}
    rejected = sorted(set(report.files) - passed)
    if not files:
        raise SpellingPackError(f"nothing to pack: no character file in {report.folder} passed the check"
                                + (f" (rejected: {', '.join(rejected)})" if rejected else ""), report=report)
    out = Path(out)
    if out.resolve().parent == report.folder.resolve() or any(same_file(out, f) for f in report.files.values()):
        raise SpellingPackError(f"{out}: the zip must not be written inside the set folder {report.folder}",
                                report=report)
    payloads = {c: _read_no_follow(p, report) for c, p in files.items()}
    members = zip_members(locale, files)
    with atomic_writer(out, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in members:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            if name.endswith("/"):
                info.external_attr = (0o40755 << 16) | 0x10  # a directory entry
                zf.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, payloads[name.rsplit("/", 1)[1][:-4]])
    if rejected:
        logger.warning("left out of %s: %s (rejected by the check)", out, ", ".join(f"{c}.wav" for c in rejected))
    if not report.ok:
        logger.warning("packed %s despite %d problem(s) (force=True)", locale, len(report.problems))
    logger.info("packed %d character files of %s into %s", len(files), locale, out)
    return out


__all__ = ["SpellingPackError", "pack_spelling_set", "zip_members"]
