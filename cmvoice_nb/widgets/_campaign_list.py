"""The list loaded in the Campaign app: uploaded bytes read by the library's one reader, and the proposal.

:func:`read_list` reads an upload exactly as :func:`~cmvoice_nb.campaign.inputs.read_table`
reads a file (CSV with any separator and encoding, Excel/ODS, Parquet; every cell as text; rows
indexed by spreadsheet line), through a private temporary copy removed at once; messages name
the uploaded file, never the copy. :func:`proposal_text` says which columns were proposed for
which field.
"""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["LIST_SUFFIXES", "read_list", "proposal_text", "column_options", "column_dropdown"]

#: What the upload accepts.
LIST_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".ods", ".parquet", ".pq")


def column_options(names: Any) -> list[tuple[str, Any]]:
    """The choices of a column dropdown: "—" (none) and each column of the list."""
    from ._campaign_form import UNSET
    from ._common import NONE_LABEL

    return [(NONE_LABEL, UNSET)] + [(str(c), c) for c in names]


def column_dropdown(names: Any, value: Any, *, description: str, tooltip: str, style: dict) -> Any:
    """A dropdown choosing one column of the list (or none) for a ``columns=`` key such as ``region``."""
    import ipywidgets as W

    from ._campaign_form import UNSET

    return W.Dropdown(options=column_options(names), value=value if value in list(names) else UNSET,
                      description=description, style=style, layout=W.Layout(width="24em"), tooltip=tooltip)


def _safe_name(name: str) -> str:
    base = Path(str(name or "list.csv").replace("\\", "/")).name
    return re.sub(r"[^\w.\- ]", "_", base)[:120] or "list.csv"


def read_list(name: str, data: bytes) -> Any:
    """The list in uploaded bytes (a DataFrame of text cells indexed by spreadsheet line).

    Raises
    ------
    CampaignError
        The bytes cannot be read as a list (the reader's message, naming the uploaded file).

    Examples
    --------
    >>> df = read_list("klanten.csv", "Naam;Telefoon\\r\\nAnn;06 1234 5610\\r\\n".encode("cp1252"))
    >>> df.to_dict("index")
    {2: {'Naam': 'Ann', 'Telefoon': '06 1234 5610'}}
    """
    import tempfile

    from ..campaign.inputs import read_table
    from ..errors import CampaignError

    base = _safe_name(name)
    with tempfile.TemporaryDirectory(prefix="cmvoice-list-") as folder:
        copy = Path(folder) / base
        copy.write_bytes(data)
        try:
            return read_table(copy)
        except CampaignError as exc:
            # The reader names the file it read: the operator's file, not the private copy.
            raise CampaignError(str(exc).replace(str(copy), base)) from None


def proposal_text(proposal: Mapping[str, Any], *, rows: int, name: str) -> str:
    """The line shown after an upload: rows read, and each proposed column with its field.

    Examples
    --------
    >>> proposal_text({"callee": "Telefoon", "region": "Land"}, rows=3, name="k.csv")
    '<b>k.csv</b>: 3 rows. Proposed: <b>Telefoon</b> → callee, <b>Land</b> → the Country column. Check them below.'
    """
    words = {"region": "the Country column", "subdivision": "the Subdivision column"}
    parts = [f"<b>{html.escape(str(col))}</b> → {html.escape(words.get(key, key))}" for key, col in proposal.items()]
    said = ("Proposed: " + ", ".join(parts) + ". Check them below.") if parts else \
        "No column was recognised: choose the callee's column below."
    return f"<b>{html.escape(name)}</b>: {rows} row{'s' if rows != 1 else ''}. {said}"
