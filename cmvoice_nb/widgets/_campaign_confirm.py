"""The deliberate step before real calls: the facts of the send, and the campaign name typed to confirm.

:class:`Confirmation` is hidden until a plan is put to the operator (:meth:`~Confirmation.ask`);
its button is enabled only while the typed name equals the plan's name (and, when a callback URL
cannot be reached by the provider, while ``reachable`` is ticked), and
:meth:`~Confirmation.confirmed` checks the name again, since ``Button.click()`` from code
ignores ``disabled``. The app binds it to a snapshot of its form and withdraws it on any change.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as W

from ._common import BAD


class Confirmation(W.VBox):
    """The confirmation box: a summary table, the name field, ``confirm`` and ``cancel``.

    Attributes
    ----------
    summary, text, confirm, cancel, reachable
        The controls (``reachable``: "the callback URL is reachable through a tunnel or VPN",
        shown only when a callback URL's host is loopback, private or link-local).
    pending, problems
        The plan awaiting confirmation (or None) and why its callback URLs cannot be reached.
    """

    def __init__(self) -> None:
        self.summary = W.HTML()
        self.text = W.Text(value="", description="Campaign name", placeholder="type the campaign name",
                           style={"description_width": "9em"}, layout=W.Layout(width="28em"))
        self.confirm = W.Button(description="Place real calls", button_style="danger", icon="phone", disabled=True,
                                layout=W.Layout(width="16em"))
        self.cancel = W.Button(description="Cancel", layout=W.Layout(width="8em"))
        self.reachable = W.Checkbox(value=False, indent=False, layout=W.Layout(width="auto", display="none"),
                                    description="The callback URL is reachable by the provider (tunnel or VPN)")
        super().__init__([self.summary, self.reachable, W.HBox([self.text, self.confirm, self.cancel])],
                         layout=W.Layout(display="none", border="2px solid #cf222e", padding="6px"))
        self.add_class("cmvoice-confirm")
        self.pending: Any = None
        self.problems: list[str] = []
        self.text.observe(lambda _c: self._enable(), names="value")
        self.reachable.observe(lambda _c: self._enable(), names="value")

    def ask(self, plan: Any, facts: Sequence[tuple[str, str]], *, calls: int,
            problems: Sequence[str] = ()) -> None:
        """Show *facts* about *plan* (``(label, text)`` lines) and wait for its name to be typed.

        *problems* (why the provider cannot reach a callback URL) are said in red; the button
        then also needs ``reachable`` ticked.
        """
        rows = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
                       f"<td>{html.escape(v)}</td></tr>" for k, v in facts)
        self.summary.value = (
            f"<b style='color:{BAD}'>Real calls: check, then type the campaign name "
            f"<code>{html.escape(plan.name)}</code> to confirm.</b><table>{rows}</table>"
            + "".join(f"<div style='color:{BAD}'><b>Refused unless ticked below</b>: {html.escape(p)}</div>"
                      for p in problems))
        self.pending = plan
        self.problems = list(problems)
        self.reachable.value = False
        self.reachable.layout.display = "" if problems else "none"
        self.text.value = ""
        self.confirm.description = f"Place {calls} real calls"
        self.confirm.disabled = True
        self.layout.display = ""

    def confirmed(self) -> bool:
        """True when a plan is pending and its exact name is typed."""
        return self.pending is not None and self.text.value.strip() == self.pending.name

    def _enable(self) -> None:
        self.confirm.disabled = not self.confirmed() or bool(self.problems and not self.reachable.value)

    def dismiss(self) -> None:
        """Forget the pending plan and hide the box."""
        self.pending = None
        self.problems = []
        self.reachable.value = False
        self.reachable.layout.display = "none"
        self.text.value = ""
        self.confirm.disabled = True
        self.layout.display = "none"


__all__ = ["Confirmation"]
