"""Text files as operators save them: the encoding found from the bytes, the text decoded.

Lists, do-not-call lists and the receiver's opt-out list are read here alike: a byte-order mark
decides (UTF-8, UTF-16 LE/BE, UTF-32), else UTF-16 without one is recognised by its zero bytes,
else UTF-8, else Windows-1252 (Excel's Western-European CSV).
"""
from __future__ import annotations

import codecs
import csv
import re

from .errors import CampaignError
from .messages import opt

__all__ = ["decode_text", "unify_line_ends", "encoding_for_append", "sniff_separator", "SEPARATORS"]

#: The field separators a CSV may use, in order of preference.
SEPARATORS = ",;\t|"
# "3,16123E+10": the decimal comma of a Dutch or German spreadsheet's scientific notation, not a separator
_SCIENTIFIC_COMMA = re.compile(r"(?<=\d),(?=\d+[eE][+-]?\d)")
# Byte-order marks, longest first (a UTF-32 LE mark starts like a UTF-16 LE one).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _family(codec: str) -> str:
    """``"UTF-16"`` for every spelling of UTF-16 (``utf_16``, ``UTF-16LE`` ...), and so on."""
    name = codecs.lookup(codec).name.replace("_", "-")
    for family in ("utf-8", "utf-16", "utf-32"):
        if name.startswith(family):
            return family.upper()
    return name


def _line_at(data: bytes, position: int, codec: str) -> int:
    """The line (from 1) that byte *position* of *data* is on, counting CRLF, LF and lone CR."""
    head = data[:position].decode(codec, errors="replace")
    return head.count("\n") + head.count("\r") - head.count("\r\n") + 1


def _utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when *data* looks like UTF-16 text without a byte-order mark.

    Text in a Latin script as UTF-16 has a zero byte in every other position; text in any
    8-bit encoding has none.
    """
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    half = len(sample) // 2
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def decode_text(data: bytes, *, encoding: str | None = None, name: str = "the text",
                option: bool = True) -> tuple[str, str]:
    """Decode a text file's bytes as operators save them; ``(text, encoding used)``.

    Without *encoding*: a byte-order mark decides (UTF-8, UTF-16 LE/BE, UTF-32); else UTF-16
    without one is recognised by its zero bytes; else UTF-8; else Windows-1252 (``cp1252``,
    Excel's Western-European CSV). An explicit *encoding* wins, except over a byte-order mark
    it contradicts (an error naming the encoding the mark says). A byte-order mark is never
    part of the text.
    Line ends are left as they are (see :func:`unify_line_ends`).

    Parameters
    ----------
    data
        The file's bytes.
    encoding
        A Python codec name (``"utf-8"``, ``"cp1252"``, ``"utf-16"``, ``"latin-1"``).
    name
        What messages call the file (its path).
    option
        Whether messages name the option that sets the encoding (``encoding=`` / ``--encoding``):
        False where the caller has none.

    Raises
    ------
    CampaignError
        An unknown encoding, bytes that are not text in the encoding given or found, or an
        encoding that contradicts the file's byte-order mark; the message names the file,
        the line, the byte and the encoding.

    Examples
    --------
    >>> decode_text(b"\\xff\\xfe" + "nummer\\t+31612345678\\r\\n".encode("utf-16-le"))
    ('nummer\\t+31612345678\\r\\n', 'utf-16-le')
    >>> decode_text(b"\\xef\\xbb\\xbfnummer\\n")
    ('nummer\\n', 'utf-8-sig')
    >>> decode_text("n\\n".encode("utf-16"), encoding="cp1252", name="dnc.txt")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.CampaignError: dnc.txt: the file is UTF-16 (it starts with a UTF-16 byte-order mark), not ...
    """
    bom = next(((mark, codec) for mark, codec in _BOMS if data.startswith(mark)), None)
    if encoding:
        try:
            given = _family(encoding)
        except LookupError:
            fix = f" ({opt('encoding')} takes e.g. utf-8, cp1252, utf-16)" if option else ""
            raise CampaignError(f"{name}: unknown encoding {encoding!r}{fix}") from None
        if bom is not None and given != _family(bom[1]):
            found = _family(bom[1])
            how = (f": leave out {opt('encoding')} ({found} is detected) or give {opt('encoding_of', found.lower())}"
                   if option else "")
            raise CampaignError(f"{name}: the file is {found} (it starts with a {found} byte-order mark), "
                                f"not {encoding}{how}")
        text = _decode(data, encoding, name=name, label=encoding,
                       fix=f"leave out {opt('encoding')} to have the encoding detected" if option else
                       "save it as UTF-8")
        return (text[1:] if text.startswith("\ufeff") else text), encoding
    if bom is not None:
        mark, codec = bom
        label = _family(codec)
        text = _decode(data[len(mark):], codec, name=name, label=label,
                       fix=f"the file starts with a {label} byte-order mark but is damaged: save it again")
        return text, ("utf-8-sig" if codec == "utf-8" else codec)
    guess = _utf16_without_bom(data)
    if guess is not None:
        text = _decode(data, guess, name=name, label="UTF-16",
                       fix="the file looks like UTF-16 without a byte-order mark but is damaged: save it again")
        return text, guess
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if not data[: exc.start].isascii():
            # Valid UTF-8 letters before a byte that is not: a file of two encodings, which no
            # single guess reads right (cp1252 would garble every earlier letter).
            raise CampaignError(
                f"{name}: line {_line_at(data, exc.start, 'utf-8')} is not valid UTF-8 (byte 0x{data[exc.start]:02x}) "
                "while earlier lines are: the file mixes encodings; save it again as UTF-8") from None
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        fix = f" or name its encoding with {opt('encoding')}" if option else ""
        raise CampaignError(
            f"{name}: line {_line_at(data, exc.start, 'cp1252')} is neither UTF-8 nor Windows-1252 "
            f"(byte 0x{data[exc.start]:02x}); save the file as UTF-8 (Excel: \"CSV UTF-8\"){fix}") from None


def _decode(data: bytes, codec: str, *, name: str, label: str, fix: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = _line_at(data, exc.start, codec)
        raise CampaignError(f"{name}: line {line} is not valid {label} (byte 0x{data[exc.start]:02x}); {fix}") from None


def unify_line_ends(text: str) -> str:
    """*text* with every CRLF and lone CR (old Mac, some exports) as LF.

    Examples
    --------
    >>> unify_line_ends("a\\r\\nb\\rc\\n")
    'a\\nb\\nc\\n'
    """
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def encoding_for_append(used: str) -> str:
    """The codec that appends lines to a file :func:`decode_text` read with *used*: same bytes, no second mark.

    Examples
    --------
    >>> encoding_for_append("utf-8-sig"), encoding_for_append("utf-16-le"), encoding_for_append("cp1252")
    ('utf-8', 'utf-16-le', 'cp1252')
    """
    return "utf-8" if used in ("utf-8-sig", "utf-8") else used


def sniff_separator(sample: str) -> str:
    """The field separator of a CSV sample: one of ``, ; TAB |`` (``,`` when unsure).

    The decimal comma of a spreadsheet's scientific notation (``3,16123E+10``) is not taken
    for a separator.
    """
    sample = _SCIENTIFIC_COMMA.sub("", sample)
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=SEPARATORS).delimiter
    except csv.Error:
        # Sniffer gives up on one-column files and ragged quoting: count in the header.
        counts = {sep: lines[0].count(sep) for sep in SEPARATORS}
        best = max(counts, key=lambda sep: counts[sep])
        return best if counts[best] else ","
