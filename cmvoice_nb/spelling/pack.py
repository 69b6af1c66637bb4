"""Package a checked spelling set as the zip to upload through the Audio Prompt Manager.

The zip holds exactly ``spelling/<locale>/<char>.wav`` (lower-case names; the
seed's "Custom audio files for the OTP app"), nothing else: stray entries,
hidden files and sub-folders of the set are left out.
"""
from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path
from typing import Iterable

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
        Pack even when the validation has problems (the present character files only).
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
    if not report.ok and not force:
        raise SpellingPackError(
            f"refusing to pack {locale}: {len(report.problems)} problem(s): " + "; ".join(report.problems)
            + " (fix them, or pass force=True / --force)",
            report=report,
        )
    # Every character file goes in, also those outside chars/codes: they are valid and
    # leaving them out would silently shrink the set on upload.
    files = dict(report.files)
    if not files:
        raise SpellingPackError(f"nothing to pack: no character file in {report.folder}", report=report)
    out = Path(out)
    if out.resolve().parent == report.folder.resolve() or any(same_file(out, f) for f in files.values()):
        raise SpellingPackError(f"{out}: the zip must not be written inside the set folder {report.folder}",
                                report=report)
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
                zf.writestr(info, files[name.rsplit("/", 1)[1][:-4]].read_bytes())
    if not report.ok:
        logger.warning("packed %s despite %d problem(s) (force=True)", locale, len(report.problems))
    logger.info("packed %d character files of %s into %s", len(files), locale, out)
    return out


__all__ = ["SpellingPackError", "pack_spelling_set", "zip_members"]
