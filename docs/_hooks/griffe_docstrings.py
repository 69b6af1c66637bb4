"""Griffe extension: the package's reST-flavoured numpydoc docstrings, rendered by mkdocstrings.

The docstrings are written for ``help()``, doctest and editors, in numpydoc with Sphinx roles
(``:func:`~cmvoice_nb.campaign.plan_campaign```). mkdocstrings renders Markdown, so before it
does, this extension rewrites each docstring:

- a Sphinx role becomes a cross-reference: the target is resolved the way Python would resolve
  the name in the docstring's own scope (its class, its module, the module's imports), then
  followed to the object that defines it, so ``:class:`Journal``` in a module that imported
  ``Journal`` links to ``cmvoice_nb.campaign.journal._store.Journal`` wherever the reference
  renders it. The link is *optional*: an object the API reference does not render (a private
  helper) shows as code. A target that names nothing (a typo, a renamed function) is a warning,
  which ``mkdocs build --strict`` turns into a failure. Names outside the package (``pandas``,
  ``zipfile``, builtins) render as code;
- a reST literal block (a paragraph ending in ``::`` followed by an indented block) becomes a
  Markdown code block (the ``::`` becomes ``:``, or goes when it stands alone).
"""
from __future__ import annotations

import builtins
import html
import importlib.util
import logging
import re
from typing import Any

import griffe

# Counted by `mkdocs build --strict` (mkdocs counts warnings of the `mkdocs.*` loggers).
log = logging.getLogger("mkdocs.plugins.cmvoice_docs")

PACKAGE = "cmvoice_nb"
ROLE = re.compile(r":(?:py:)?(?P<role>func|class|meth|mod|attr|data|exc|obj|const|type):`(?P<text>[^`]+)`")
CALLABLE_ROLES = {"func", "meth"}


def _split(text: str) -> tuple[str, str | None, bool]:
    """``title <target>`` / ``~target`` / ``target`` -> (target, explicit title, short)."""
    match = re.fullmatch(r"(?P<title>.*?)\s*<(?P<target>[^>]+)>", text, flags=re.DOTALL)
    if match:
        return match["target"].strip(), " ".join(match["title"].split()), False
    text = text.strip()
    if text.startswith("~"):
        return text[1:], None, True
    return text.lstrip("!"), None, False


def _lookup(collection: Any, path: str, role: str = "") -> Any | None:
    try:
        return collection.get_member(path)
    except Exception:  # KeyError, an alias whose target is outside the package, ...
        pass
    parent_path, _, name = path.rpartition(".")
    if not parent_path:
        return None
    try:
        parent = collection.get_member(parent_path)
        if parent.is_alias:
            parent = parent.final_target
    except Exception:
        return None
    if not parent.is_class:
        return None
    try:  # inherited: Journal's methods live on its mixins
        member = parent.all_members.get(name)
    except Exception:
        member = None
    if member is not None:
        return member
    # An attribute set in __init__ or __slots__ and documented in the class's Attributes section:
    # griffe has no object for it, so the reference points at the class.
    if role in {"attr", "data", "obj"}:
        text = (parent.docstring.value if parent.docstring else "") + "\n" + (parent.source or "")
        if re.search(rf"\b{re.escape(name)}\b", text):
            return parent
    return None


def _canonical(obj: Any) -> str:
    try:
        return obj.final_target.path if obj.is_alias else obj.path
    except Exception:
        return obj.path


def _resolve(scope: Any, target: str, role: str = "") -> tuple[str, bool]:
    """(path, found): *target* as seen from *scope*; found=False when nothing in the package has it."""
    collection = scope.modules_collection
    relative = target.startswith(".")
    target = target.lstrip(".")
    if target == PACKAGE or target.startswith(PACKAGE + "."):
        obj = _lookup(collection, target, role)
        return (_canonical(obj), True) if obj is not None else (target, False)
    first, _, rest = target.partition(".")
    candidates: list[str] = []
    node = scope
    while node is not None:  # the scope chain: the object, its class, its module, its packages
        try:
            resolved = node.resolve(first)
        except Exception:
            resolved = None
        if resolved:
            candidates.append(resolved + ("." + rest if rest else ""))
            break
        node = node.parent
    node = scope
    while node is not None:  # members of the enclosing class, inherited ones included
        if node.is_class:
            candidates.append(f"{node.path}.{target}")
            break
        node = node.parent
    if relative or not candidates:
        module = scope.module
        while module is not None:  # `.decide` or a sibling named from a package docstring
            candidates.append(f"{module.path}.{target}")
            module = module.parent
    for path in candidates:
        if not (path == PACKAGE or path.startswith(PACKAGE + ".")):
            return path, True  # imported from elsewhere: pandas, the standard library
        obj = _lookup(collection, path, role)
        if obj is not None:
            return _canonical(obj), True
    return target, False


def _external(target: str) -> bool:
    first = target.lstrip(".~").split(".")[0]
    if hasattr(builtins, first):
        return True
    try:
        return importlib.util.find_spec(first) is not None and first != PACKAGE
    except (ImportError, ValueError):
        return False


def _roles(scope: Any, text: str, where: str) -> str:
    def replace(match: re.Match) -> str:
        role = match["role"]
        target, title, short = _split(match["text"])
        path, found = _resolve(scope, target, role)
        shown = title or (target.lstrip(".").rsplit(".", 1)[-1] if short else target.lstrip("."))
        if role in CALLABLE_ROLES and not title and not shown.endswith(")"):
            shown += "()"
        code = f"<code>{html.escape(shown)}</code>"
        if not found:
            if not _external(target):
                log.warning("%s: cross-reference :%s:`%s` names nothing in %s", where, role, match["text"], PACKAGE)
            return code
        if not (path == PACKAGE or path.startswith(PACKAGE + ".")):
            return code
        return f'<autoref identifier="{html.escape(path)}" optional>{code}</autoref>'

    return ROLE.sub(replace, text)


def _literal_blocks(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.rstrip().endswith("::"):
            following = next((nxt for nxt in lines[i + 1:] if nxt.strip()), "")
            indent = len(line) - len(line.lstrip())
            if len(following) - len(following.lstrip()) > indent:
                stripped = line.rstrip()[:-2].rstrip()
                if not stripped:
                    continue
                line = stripped + ":"
        out.append(line)
    return "\n".join(out)


_TABLE_RULE = re.compile(r"^(?P<indent>\s*)=+(?:\s+=+)+\s*$")


def _cells(line: str, starts: list[int]) -> list[str]:
    parts = re.split(r"\s{2,}", line.strip())
    if len(parts) == len(starts) and line[:starts[1]].strip():
        return parts
    bounds = starts[1:] + [None]
    return [line[a:b].strip() for a, b in zip(starts, bounds, strict=True)]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _tables(text: str) -> str:
    """reST simple tables -> Markdown tables (a table without a header row -> a list)."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _TABLE_RULE.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        rule = lines[i]
        starts = [m.start() for m in re.finditer(r"=+", rule)]
        rules = [i]
        j = i + 1
        while j < len(lines) and len(rules) < 3:
            if _TABLE_RULE.match(lines[j]):
                rules.append(j)
                if j + 1 >= len(lines) or not lines[j + 1].strip():
                    break
            j += 1
        end = rules[-1]
        header: list[str] | None = None
        body_from = i + 1
        if len(rules) == 3:
            header = _cells(lines[i + 1], starts)
            body_from = rules[1] + 1
        rows: list[list[str]] = []
        for line in lines[body_from:end]:
            if not line.strip():
                continue
            cells = _cells(line, starts)
            if rows and not cells[0]:
                rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=False)]
            else:
                rows.append(cells)
        indent = match["indent"]
        if header:
            out.append(indent + "| " + " | ".join(_md_cell(c) for c in header) + " |")
            out.append(indent + "|" + "---|" * len(header))
            out.extend(indent + "| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows)
        else:
            out.extend(f"{indent}- {row[0]}: {' '.join(row[1:])}" for row in rows)
        i = end + 1
    return "\n".join(out)


class SphinxDocstrings(griffe.Extension):
    """Rewrite Sphinx roles and reST literal blocks in every docstring of the package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != PACKAGE:
            return
        seen: set[int] = set()
        self._walk(pkg, seen)

    def _walk(self, obj: Any, seen: set[int]) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if obj.docstring is not None:
            where = f"{obj.relative_filepath}:{obj.docstring.lineno}" if obj.docstring.lineno else obj.path
            obj.docstring.value = _roles(obj, _tables(_literal_blocks(obj.docstring.value)), where)
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, seen)
