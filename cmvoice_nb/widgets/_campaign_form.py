"""The Campaign app's generated form: one row per field of the chosen app, a column *or* a default.

:class:`FieldForm` is the box of form rows, generated from :data:`cmvoice_nb.spec.APPS`: each
field has a column dropdown, an input for its campaign-wide default (fields that differ per
row by nature have none) and a mark saying whether it is filled. What was chosen survives a
switch to another app and back.
"""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from ._common import BAD, NONE_LABEL, OK

#: The value of "—" (not mapped / no default) in the dropdowns: ipywidgets shows a None value as a blank.
UNSET = ""
#: Fields that differ per row by nature: mapped from a column, never given one default.
PER_ROW = ("instruction-id", "callee", "callees")
#: Fields shown before the "More fields" accordion (with every required one).
COMMON = ("callee", "caller", "prompt", "prompt-type", "code", "code-type", "intro-prompt", "valid-prompt",
          "voice.language", "callback-url")
_LABEL_W, _COLUMN_W, _DEFAULT_W = "15em", "15em", "30em"
_HELP_ICON = ("<span style='display:inline-block;width:1.2em;height:1.2em;line-height:1.2em;border-radius:50%;"
              "background:#eaeef2;color:#57606a;text-align:center;font-size:85%;cursor:help'>?</span>")


def app_fields(app: str) -> list[Any]:
    """The fields of *app* a user can map or default, voice keys spelled ``voice.<key>``.

    Examples
    --------
    >>> [f.key for f in app_fields("notification")][:3]
    ['instruction-id', 'callee', 'caller']
    >>> "voice.language" in [f.key for f in app_fields("otp")]
    True
    """
    from ..spec import APPS, VOICE_FIELDS

    fields = [f for f in APPS[app].fields if not f.forbidden and f.kind not in ("voice", "list")]
    return fields + [_VoiceField(f) for f in VOICE_FIELDS]


class _VoiceField:
    """A voice sub-field presented like a top-level one (``voice.language``)."""

    def __init__(self, field: Any) -> None:
        self._field = field
        self.key = f"voice.{field.key}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._field, name)


def unset(value: Any) -> bool:
    """True for "no column" / "no default"."""
    return value is None or (isinstance(value, str) and value == UNSET)


def needed(field: Any) -> bool:
    """Whether the form marks *field* needed (``*``)."""
    # callee is not "required" in the spec (callees may replace it) but the form offers only callee.
    return bool(field.required) or field.key == "callee"


def field_help(field: Any) -> str:
    """The tooltip of a field: its description, choices, provider default and template note."""
    text = field.description or ""
    if field.kind == "enum":
        text += f" — one of {', '.join(field.choices)}"
    if field.default is not None:
        text += f" (provider default: {field.default})"
    if getattr(field, "template", False):
        text += "; text prompts take {column} templates filled per row"
    return text.strip(" —")


def default_widget(field: Any) -> W.Widget:
    """An input for a field's campaign-wide default; empty / "—" means "not given"."""
    layout = W.Layout(width=_DEFAULT_W)
    tip = field_help(field)
    if field.kind == "enum":
        return W.Dropdown(options=[(NONE_LABEL, UNSET)] + [(c, c) for c in field.choices], value=UNSET,
                          layout=layout, tooltip=tip)
    if field.kind == "bool":
        return W.Dropdown(options=[(NONE_LABEL, UNSET), ("true", True), ("false", False)], value=UNSET,
                          layout=layout, tooltip=tip)
    placeholder = NONE_LABEL if field.default is None else f"{NONE_LABEL} (provider default {field.default})"
    if getattr(field, "template", False):
        return W.Textarea(value="", placeholder="text, or a file name; {column} fills it per row", rows=2,
                          layout=layout, tooltip=tip)
    return W.Text(value="", placeholder=placeholder, layout=layout, tooltip=tip)


def default_value(field: Any, widget: W.Widget) -> Any:
    """The default typed for *field* (an int field's digits as an int), or None when empty."""
    value = widget.value
    if field.kind in ("enum", "bool"):
        return None if unset(value) else value
    text = str(value).strip()
    if not text:
        return None
    if field.kind == "int":
        try:
            return int(text)
        except ValueError:
            return text  # the plan reports it with the field name and the allowed range
    return text


class FieldForm(W.VBox):
    """The form rows of one app's fields over the columns of *names*.

    Parameters
    ----------
    names
        The list's column names (the dropdowns' choices).
    columns, defaults
        Initial field → column and field → default value choices, by wire key.

    Attributes
    ----------
    mapping, default_inputs
        Field key → its column dropdown / its default input, for the app last built.
    """

    def __init__(self, names: list[Any], *, columns: dict[str, Any] | None = None,
                 defaults: dict[str, Any] | None = None) -> None:
        super().__init__()
        self._names = list(names)
        # Values typed in the form, by wire key: they survive app switches (and switching back).
        self._kept_columns: dict[str, Any] = dict(columns or {})
        self._kept_defaults: dict[str, Any] = dict(defaults or {})
        self.mapping: dict[str, W.Dropdown] = {}
        self.default_inputs: dict[str, W.Widget] = {}
        self._fields: dict[str, Any] = {}
        #: Called with no argument whenever a column or a default changes (the app withdraws a
        #: pending confirmation and forgets "nothing to send").
        self.on_change: Any = None
        self._app: str | None = None

    def set_names(self, names: list[Any], *, columns: dict[str, Any] | None = None) -> None:
        """Offer the columns of a new list, with *columns* (field → column) chosen; typed defaults stay."""
        self._remember()
        self._names = list(names)
        self._kept_columns = dict(columns or {})
        if self._app is not None:
            self.build(self._app, remember=False)

    @property
    def inputs(self) -> list[W.Widget]:
        """Every column dropdown and default input of the form (locked together while the app sends)."""
        return [*self.mapping.values(), *self.default_inputs.values()]

    def _changed(self, _change: Any = None) -> None:
        if self.on_change is not None:
            self.on_change()

    def _remember(self) -> None:
        for key, dd in self.mapping.items():
            self._kept_columns[key] = dd.value
        for key, widget in self.default_inputs.items():
            self._kept_defaults[key] = widget.value

    def build(self, app: str, *, remember: bool = True) -> None:
        """Make the rows of *app*'s fields, keeping what was chosen for fields it shares."""
        if remember:
            self._remember()
        self._app = app
        fields = app_fields(app)
        names = self._names
        columns = [(NONE_LABEL, UNSET)] + [(str(c), c) for c in names]
        mapping: dict[str, W.Dropdown] = {}
        defaults: dict[str, W.Widget] = {}
        rows: dict[str, W.Widget] = {}
        for f in fields:
            kept = self._kept_columns.get(f.key, 0)
            if f.key in self._kept_columns and (unset(kept) or kept in names):
                guess = UNSET if unset(kept) else kept
            else:
                guess = next((c for c in names if str(c) in (f.key, f.name, f.key.replace(".", "_"))), UNSET)
            dd = W.Dropdown(options=columns, value=guess, layout=W.Layout(width=_COLUMN_W), tooltip=field_help(f))
            mapping[f.key] = dd
            cells: list[W.Widget] = [self._label(f), dd]
            if f.key not in PER_ROW:
                widget = default_widget(f)
                kept = self._kept_defaults.get(f.key)
                if not unset(kept):
                    try:
                        widget.value = kept if f.kind in ("enum", "bool") else str(kept)
                    except Exception:  # a kept value this app's choices lack: leave it unset
                        pass
                defaults[f.key] = widget
                cells.append(widget)
            else:
                cells.append(W.HTML("<span style='color:#57606a'>per row: choose a column</span>",
                                    layout=W.Layout(width=_DEFAULT_W)))
            mark = W.HTML(layout=W.Layout(width="8em"))
            cells.append(mark)
            for w in cells[1:3]:
                w.observe(lambda _c, f=f, m=mark: self._mark(f, m), names="value")
                if hasattr(w, "disabled"):
                    w.observe(self._changed, names="value")
            rows[f.key] = W.HBox(cells)
            rows[f.key].add_class("cmvoice-field")
            self._mark(f, mark, mapping=mapping, defaults=defaults)
        self.mapping = mapping
        self.default_inputs = defaults
        self._fields = {f.key: f for f in fields}
        first = [k for k in rows if needed(self._fields[k]) or k in COMMON]
        rest = [k for k in rows if k not in first]
        head = W.HBox([W.HTML(f"<b>{t}</b>", layout=W.Layout(width=w)) for t, w in
                       (("Field (* needed)", _LABEL_W), ("Column", _COLUMN_W),
                        ("or a default for every row", _DEFAULT_W))])
        more = W.Accordion(children=[W.VBox([rows[k] for k in rest])])
        more.set_title(0, f"More fields ({len(rest)})")
        more.selected_index = None
        self.children = [head, *[rows[k] for k in first], more]

    @staticmethod
    def _label(field: Any) -> W.HTML:
        star = " *" if needed(field) else ""
        tip = html.escape(field_help(field), quote=True)
        return W.HTML(f"<span title='{tip}'>{html.escape(field.key)}{star} {_HELP_ICON}</span>",
                      layout=W.Layout(width=_LABEL_W))

    def _mark(self, field: Any, mark: W.HTML, *, mapping: dict | None = None, defaults: dict | None = None) -> None:
        mapping = self.mapping if mapping is None else mapping
        defaults = self.default_inputs if defaults is None else defaults
        column = mapping.get(field.key)
        default = defaults.get(field.key)
        if column is not None and not unset(column.value):
            mark.value = f"<span style='color:{OK}'>✓ column</span>"
        elif default is not None and default_value(field, default) is not None:
            mark.value = f"<span style='color:{OK}'>✓ default</span>"
        elif needed(field):
            mark.value = f"<span style='color:{BAD}'>✗ needed</span>"
        else:
            mark.value = ""

    def satisfied(self) -> dict[str, bool]:
        """Each needed field (``*``) → whether a column or a default fills it."""
        cols, defs = self.columns(), self.defaults()
        return {k: (k in cols or k in defs) for k, f in self._fields.items() if needed(f)}

    def columns(self) -> dict[str, Any]:
        """The field → column mapping chosen in the dropdowns."""
        return {key: dd.value for key, dd in self.mapping.items() if not unset(dd.value)}

    def defaults(self) -> dict[str, Any]:
        """The field → default value typed in the inputs (empty inputs left out)."""
        out = {}
        for key, widget in self.default_inputs.items():
            value = default_value(self._fields[key], widget)
            if value is not None:
                out[key] = value
        return out


__all__ = ["FieldForm", "UNSET", "PER_ROW", "COMMON", "app_fields", "default_value", "default_widget",
           "field_help", "needed", "unset"]
