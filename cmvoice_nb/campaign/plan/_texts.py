"""Every row's text fields at once: templates rendered by column, texts checked by column.

A template is literal text around placeholders. A placeholder that says a text cell as written
(``{naam}``) takes the column itself, as Arrow text; any other (a date, an amount, a spec, a
number cell) is rendered once per distinct (cell, voice language) with the per-row path's own
function and mapped back to the rows. A row's text is then ``literal + piece + literal …``, held
as those pieces (the frame's own column for a cell said as written: nothing copied).

What the per-row path would check one text at a time is checked on the whole column: the text
is stripped (a row whose pieces would change under ``str.strip()`` is left to the per-row path),
not empty, and within the field's length. A row whose placeholder cannot be filled (an empty
cell, an unreadable date) is left to the per-row path, which says why.
"""
from __future__ import annotations

from typing import Any

from ._amounts import quick_amount
from ._cells import WHITESPACE, arrow_text, blank_mask, cells, codes, combine, first_positions, mask
from ._group import BLOCK, TextColumn
from ._rows import cell_value
from .templates import TemplateError, cell_renderer, compile_template, is_blank, voice_locale

__all__ = ["languages", "varying_fields", "text_column"]

#: One character that ``str.strip()`` keeps at an end of a text.
_EDGE = f"^[^{WHITESPACE}]$"


def varying_fields(planning: Any) -> list:
    """The text fields whose value is each row's own: a template default, or a column of texts."""
    return [f for f in planning.fields if f.template and (f.key in planning.templates or f.key in planning.colmap)]


def languages(planning: Any, df: Any) -> tuple[Any, list]:
    """Each row's voice language, as codes into a list of languages (a template speaks it)."""
    import numpy as np

    column = planning.colmap.get("voice.language")
    if column is None:
        return np.zeros(len(df), dtype=np.int64), [planning.language_of({})]
    found = codes(df[column])
    firsts = first_positions(found)
    return found, [planning.language_of({column: v}) for v in cells(df, column, firsts)]


def text_column(planning: Any, fld: Any, df: Any, langs: tuple) -> tuple[TextColumn, Any, Any]:
    """``(texts, present, ok)`` of one text field for every row.

    *present*: the row has the field (its cell, or the default); *ok*: its text is read here as
    the per-row path would read it (else the row is left to that path).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(df)
    key = fld.key
    template = planning.templates.get(key)
    default = planning.plain_defaults.get(key)
    column = planning.colmap.get(key)
    rendered = None
    if template is not None:
        literals, pieces = _pieces(template, df, langs, planning.readers)
        rendered = TextColumn(literals, pieces)
    elif not is_blank(default):
        try:
            rendered = TextColumn([cell_value(fld, default)], ())
        except ValueError:
            rendered = None
    if column is None:
        assert rendered is not None  # (a varying field has a template or a column)
        return rendered, np.ones(n, dtype=bool), _checked(rendered, n, fld.max_length)
    cell, usable, blank = _cell_texts(fld, df, column)
    if rendered is None:  # the column alone: a blank cell has no text
        found = TextColumn(("", ""), (cell,))
        ok = _checked(found, n, fld.max_length) | blank
        return found, ~blank, ok & (usable | blank)
    whole = []
    for start in range(0, n, BLOCK):  # a blank cell takes the default: one text column of both
        stop = min(start + BLOCK, n)
        other = _joined(rendered, start, stop)
        whole.append(pc.if_else(pa.array(~blank[start:stop]), cell.slice(start, stop - start), other))
    found = TextColumn(("", ""), (pa.concat_arrays(whole) if whole else pa.array([], pa.large_string()),))
    return found, np.ones(n, dtype=bool), _checked(found, n, fld.max_length) & (usable | blank)


def _cell_texts(fld: Any, df: Any, column: Any) -> tuple[Any, Any, Any]:
    """``(texts, usable, blank)`` of a text column: each cell as ``cell_value`` reads it (null where it cannot)."""
    import numpy as np
    import pyarrow as pa

    series = df[column]
    arr = arrow_text(series)
    if arr is not None:
        blank = blank_mask(arr)
        return arr, ~blank, blank
    found = codes(series)
    firsts = first_positions(found)
    texts: list = []
    blanks: list = []
    for value in cells(df, column, firsts):
        blanks.append(is_blank(value))
        try:
            texts.append(None if blanks[-1] else cell_value(fld, value))
        except ValueError:
            texts.append(None)
    uniq = _arrow(texts)
    blank = np.array(blanks, dtype=bool)[found]
    out = uniq.take(pa.array(found))
    return out, ~blank & ~out.is_null().to_numpy(zero_copy_only=False), blank


def _arrow(texts: list) -> Any:
    """Python texts as Arrow text; one that cannot be UTF-8 (a lone surrogate) becomes null (the per-row path's)."""
    import pyarrow as pa

    from ...errors import is_valid_unicode

    try:
        return pa.array(texts, type=pa.large_string())
    except (UnicodeError, pa.ArrowException):
        return pa.array([t if t is None or is_valid_unicode(t) else None for t in texts], type=pa.large_string())


def _pieces(template: str, df: Any, langs: tuple, readers: Any) -> tuple[list, list]:
    """The template's literal parts (outer whitespace stripped, as ``str.strip`` will) and each placeholder's column."""
    literals, pieces = [""], []
    for literal, placeholder in compile_template(template).parts:
        literals[-1] += literal
        if placeholder is not None:
            pieces.append(_piece(placeholder, df, langs, readers))
            literals.append("")
    literals[0], literals[-1] = literals[0].lstrip(), literals[-1].rstrip()
    return literals, pieces


def _piece(p: Any, df: Any, langs: tuple, readers: Any) -> Any:
    """One placeholder filled for every row (Arrow text, null where it cannot be filled)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    series = df[p.column]
    if p.kind == "text" and not p.spec and p.conversion is None:
        arr = arrow_text(series)
        if arr is not None:  # a text cell said as written: the column itself, blanks left out
            blank = blank_mask(arr)
            return pc.if_else(pa.array(blank), pa.scalar(None, pa.large_string()), arr) if blank.any() else arr
    found = codes(series)
    lang_codes, names = langs
    if len(names) > 1:
        found = combine([found, lang_codes], len(found))
    firsts = first_positions(found)
    rendered = []
    quick: dict = {}  # per language: a plainly written amount formatted without Decimal or Babel
    say: dict = {}  # per language: the placeholder's renderer (reader and formatter settled once)
    reader = (readers or {}).get((p.column, "number"))
    sign = getattr(reader, "decimal", None)
    for position, value in zip(firsts, cells(df, p.column, firsts), strict=True):
        language = names[lang_codes[position]]
        text = None
        if p.kind == "number" and p.conversion is None and isinstance(value, str):
            if language not in quick:
                quick[language] = quick_amount(p.spec, sign, voice_locale(language)) \
                    if sign in (",", ".", None) else None
            if quick[language] is not None:
                text = quick[language](value)
        if text is None:
            render = say.get(language)
            if render is None:
                render = say[language] = cell_renderer(p, locale=voice_locale(language), readers=readers)
            try:  # each distinct value (and language) once
                text = render(value)
            except TemplateError:
                pass
        rendered.append(text)
    return _arrow(rendered).take(pa.array(found))


def _joined(texts: TextColumn, start: int, stop: int) -> Any:
    """The texts of rows ``start:stop`` as one Arrow array (null where a piece is)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    literals = texts.literals
    if not texts.pieces:
        return pa.array([literals[0]] * (stop - start), type=pa.large_string())
    if len(texts.pieces) == 1 and literals == ("", ""):
        return texts.pieces[0].slice(start, stop - start)
    args: list = [pa.scalar(literals[0], pa.large_string())]
    for piece, literal in zip(texts.pieces, literals[1:], strict=True):
        args += [piece.slice(start, stop - start), pa.scalar(literal, pa.large_string())]
    return pc.binary_join_element_wise(*args, pa.scalar("", pa.large_string()))


def _checked(texts: TextColumn, n: int, max_length: int | None) -> Any:
    """Which rows' texts the per-row path would take as they are: stripped, not empty, within *max_length*.

    Read from the pieces, not the joined texts: an end of the text is its outer literal (already
    stripped) or, when that is empty, the first character of the first piece (the last of the
    last); the length is the pieces' lengths plus the literals'. A row whose end piece is empty
    is left to the per-row path.
    """
    import numpy as np
    import pyarrow.compute as pc

    literals, pieces = texts.literals, texts.pieces
    if not pieces:
        text = literals[0]
        fine = bool(text) and text.strip() == text and (max_length is None or len(text) <= max_length)
        return np.full(n, fine, dtype=bool)
    ok = np.ones(n, dtype=bool)
    length = np.full(n, sum(len(literal) for literal in literals), dtype=np.int64)
    for piece in pieces:
        size = pc.utf8_length(piece)
        ok &= mask(pc.is_valid(size))
        length += pc.fill_null(size, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    if not literals[0]:
        ok &= mask(pc.match_substring_regex(pc.utf8_slice_codeunits(pieces[0], 0, 1), _EDGE))
    if not literals[-1]:
        ok &= mask(pc.match_substring_regex(pc.utf8_slice_codeunits(pieces[-1], -1), _EDGE))
    if max_length is not None:
        ok &= length <= max_length
    return ok & (length > 0)
