"""MkDocs hook: the pages made from the code, so they cannot drift from it.

- ``reference/cli.md``: every ``cmvoice`` command's ``--help``, from
  :func:`cmvoice_nb.cli.build_parser` (nothing copied by hand);
- ``reference/api/<module>.md``: one page per public module of the documented packages, each
  object rendered once, on the page of the public module that defines it (a name defined in a
  private module is rendered by the nearest public package above it); the other names a module
  exports are listed with a link to where they are rendered;
- ``notebooks/*.ipynb``: the shipped notebooks, added from the top-level ``notebooks/`` folder for
  mkdocs-jupyter to render as they are committed (never executed here).

The API reference's navigation is built here too: one entry per documented package, its modules
under it, appended to the ``API reference`` section of ``nav`` in ``mkdocs.yml``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "cmvoice_nb"

# The documented packages (the public API), in the order of the reference's navigation.
DOCUMENTED = [
    "cmvoice_nb",
    "cmvoice_nb.errors", "cmvoice_nb.spec", "cmvoice_nb.voices", "cmvoice_nb.wire", "cmvoice_nb.timing",
    "cmvoice_nb.messages",
    "cmvoice_nb.instructions", "cmvoice_nb.numbers", "cmvoice_nb.client", "cmvoice_nb.simulator",
    "cmvoice_nb.audio", "cmvoice_nb.spelling",
    "cmvoice_nb.campaign", "cmvoice_nb.campaign.plan", "cmvoice_nb.campaign.ops", "cmvoice_nb.campaign.journal",
    "cmvoice_nb.campaign.send", "cmvoice_nb.campaign.followup",
    "cmvoice_nb.callbacks", "cmvoice_nb.widgets",
]
# Packages reached only by the command line (documented by the CLI reference).
UNDOCUMENTED = {"cmvoice_nb.cli", "cmvoice_nb.commands", "cmvoice_nb.demo", "cmvoice_nb.__main__"}


# -- the CLI reference ------------------------------------------------------------------------------
def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((name, sub))
    return found


def _help(parser: argparse.ArgumentParser) -> str:
    # A fixed width, so the page is the same on every machine and terminal.
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return parser.format_help().rstrip()
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def cli_markdown() -> str:
    from cmvoice_nb.cli import build_parser

    parser = build_parser()
    parts = ["# Command line: `cmvoice`", "",
             "Generated from the command's own argument parser (`cmvoice_nb.cli.build_parser()`) each time "
             "this site is built: it is exactly what `cmvoice ... --help` prints. The guides explain each "
             "command in context.", "",
        "```text", _help(parser), "```", ""]

    def walk(prefix: str, p: argparse.ArgumentParser, level: int) -> None:
        for name, sub in _subcommands(p):
            full = f"{prefix} {name}"
            parts.extend([f"{'#' * level} `{full}`", "", "```text", _help(sub), "```", ""])
            walk(full, sub, min(level + 1, 4))

    walk("cmvoice", parser, 2)
    return "\n".join(parts)


# -- the API reference ------------------------------------------------------------------------------
def _public(path: str) -> bool:
    return not any(part.startswith("_") for part in path.split(".")[1:])


def _modules() -> list[str]:
    """Every public module of the documented packages, in navigation order."""
    out: list[str] = []
    for name in DOCUMENTED:
        if name in out:
            continue
        out.append(name)
        if name == PACKAGE:
            continue
        module = importlib.import_module(name)
        if hasattr(module, "__path__"):
            for info in pkgutil.walk_packages(module.__path__, name + "."):
                if _public(info.name) and info.name not in out and info.name not in UNDOCUMENTED \
                        and not any(info.name.startswith(d + ".") or info.name == d for d in DOCUMENTED[1:]
                                    if d != name and d.startswith(name + ".")):
                    out.append(info.name)
    # sub-packages listed in DOCUMENTED come after their parent's modules; keep DOCUMENTED's order
    return out


def _exports(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items()
                 if not n.startswith("_") and getattr(v, "__module__", module_name) == module_name
                 and not isinstance(v, type(sys))]
    return [n for n in names if not isinstance(getattr(module, n, None), type(sys))]


def _canonical(griffe_pkg: Any, module_name: str, name: str, value: Any) -> str:
    """The path of the object *module_name.name* names, where it is defined ("" when unknown)."""
    try:
        member = griffe_pkg.modules_collection.get_member(f"{module_name}.{name}")
        target = member.final_target if member.is_alias else member
        # `campaign.funnel` is both a sub-module and the function that __init__ binds over it
        if not (target.is_module and not isinstance(value, type(sys))):
            return target.path
    except Exception:
        pass
    defining, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if isinstance(defining, str) and isinstance(qualname, str) and defining.startswith(PACKAGE) \
            and "<" not in qualname:
        return f"{defining}.{qualname}"
    return ""


def _choose_home(canonical: str, exporters: list[str], modules: list[str]) -> str:
    """The page that renders *canonical*: its public defining module, else the nearest exporter."""
    parts = canonical.split(".")[:-1]
    while parts:
        candidate = ".".join(parts)
        if candidate in exporters:
            return candidate
        parts.pop()
    defining = canonical.rsplit(".", 1)[0]

    def closeness(m: str) -> tuple[int, int]:
        common = 0
        for a, b in zip(m.split("."), defining.split("."), strict=False):
            if a != b:
                break
            common += 1
        return (-common, modules.index(m))

    return min(exporters, key=closeness)


def _undocumented_inherited(griffe_pkg: Any, module_name: str, names: list[str], home: dict[str, str]) -> list[str]:
    """Public members the page's classes inherit from classes the reference does not document.

    ``Journal``'s methods live on private mixins and ``Notification.validate`` on a private base:
    they are rendered with the class. What a documented base defines (``CMVoiceError.say``) is
    rendered once, on that base.
    """
    found: set[str] = set()

    def walk(cls: Any, seen: set[str]) -> None:
        for base in getattr(cls, "resolved_bases", []):
            if base.path in seen or not base.path.startswith(PACKAGE + "."):
                continue
            seen.add(base.path)
            if base.path not in home:
                found.update(n for n, m in base.members.items() if not n.startswith("_") and not m.is_alias)
            walk(base, seen)

    for name in names:
        try:
            obj = griffe_pkg.modules_collection.get_member(f"{module_name}.{name}")
            obj = obj.final_target if obj.is_alias else obj
        except Exception:
            continue
        if obj.is_class:
            walk(obj, set())
    return sorted(found)


def api_pages() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """{docs path: markdown} and the navigation [(module, docs path)]."""
    import griffe

    griffe_pkg = griffe.load(PACKAGE, search_paths=[str(ROOT)], resolve_aliases=True, resolve_external=False)
    modules = _modules()
    page_of = {m: f"reference/api/{m}.md" for m in modules}
    exported: dict[str, list[tuple[str, str]]] = {}  # module -> [(name, canonical)]
    exporters: dict[str, list[str]] = {}  # canonical -> modules exporting it
    for name in modules:
        module = importlib.import_module(name)
        exported[name] = []
        for export in _exports(name):
            canonical = _canonical(griffe_pkg, name, export, getattr(module, export))
            exported[name].append((export, canonical))
            if canonical and name != PACKAGE:
                exporters.setdefault(canonical, []).append(name)
    home = {c: _choose_home(c, ms, modules) for c, ms in exporters.items()}
    pages: dict[str, str] = {}
    nav: list[tuple[str, str]] = []
    for name in modules:
        rendered: list[str] = []
        elsewhere: list[tuple[str, str, str]] = []  # (name, identifier, home module)
        for export, canonical in exported[name]:
            where = home.get(canonical, name) if canonical else name
            if name != PACKAGE and where == name:
                rendered.append(export)
            else:
                elsewhere.append((export, canonical or f"{name}.{export}", where))
        title = name if name == PACKAGE else name[len(PACKAGE) + 1:]
        lines = ["---", f"title: {title}", "---", "", f"::: {name}", "    options:",
                 "      show_root_heading: true", "      heading_level: 1",
                 "      show_root_full_path: true", "      show_root_toc_entry: false"]
        inherited = _undocumented_inherited(griffe_pkg, name, rendered, home)
        if inherited:
            lines.append("      inherited_members:")
            lines.extend(f"        - {n}" for n in inherited)
        if rendered:
            lines.append("      members:")
            lines.extend(f"        - {n}" for n in rendered)
        else:
            lines.append("      members: false")
        if elsewhere:
            lines += ["", "## Also importable from here" if rendered else "## Names", "",
                      "| name | documented in |", "|---|---|"]
            for export, identifier, where in sorted(elsewhere, key=lambda e: e[0].lower()):
                lines.append(f"| [`{export}`][{identifier}] | [`{where}`]({Path(page_of[where]).name}) |")
        pages[page_of[name]] = "\n".join(lines) + "\n"
        nav.append((name, page_of[name]))
    index = ["# API reference", "",
             "Generated from the docstrings (numpydoc) at every build. Each object is documented once, on "
             "the page of the public module that defines it; a module's page also lists the names it "
             "re-exports, with a link. Everything listed under [`cmvoice_nb`](cmvoice_nb.md) is importable "
             "from the package root (`import cmvoice_nb as cm; cm.plan_campaign`).", "",
             "| module | what it holds |", "|---|---|"]
    for name, path in nav:
        doc = (importlib.import_module(name).__doc__ or "").strip().split("\n\n")[0]
        summary = " ".join(doc.split()).replace("|", "\\|")
        summary = re.sub(r":[a-z]+:`(~?)([^`]+)`",
                         lambda m: f"`{m[2].rsplit('.', 1)[-1] if m[1] else m[2].lstrip('.')}`", summary)
        if len(summary) > 160:
            summary = summary[:157].rsplit(" ", 1)[0] + " …"
        index.append(f"| [`{name}`]({Path(path).name}) | {summary} |")
    pages["reference/api/index.md"] = "\n".join(index) + "\n"
    return pages, nav


# -- sections of docstrings shown in the guides ------------------------------------------------------
def template_language_markdown() -> str:
    """The template mini-language from ``cmvoice_nb.campaign.plan.templates``'s docstring, as Markdown."""
    import inspect

    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from griffe_docstrings import _tables
    finally:
        sys.path.pop(0)
    from cmvoice_nb.campaign.plan import templates

    doc = inspect.cleandoc(templates.__doc__ or "")
    match = re.search(r"The template mini-language\n-+\n(.*?)\n\nExamples\n-+\n", doc, re.DOTALL)
    if match is None:
        raise RuntimeError("cmvoice_nb.campaign.plan.templates: no 'The template mini-language' section")

    def role(m: re.Match) -> str:
        target = m["target"].lstrip("~")
        shown = target.rsplit(".", 1)[-1] + ("()" if m["role"] in ("func", "meth") else "")
        path = target if target.startswith(PACKAGE) else f"{templates.__name__}.{target}"
        return f"[`{shown}`][{path}]"

    body = re.sub(r":(?P<role>func|class|meth|mod|attr|data):`(?P<target>[^`]+)`", role, match[1])
    return _tables(body)


GENERATED_SECTIONS = {"<!-- generated: template-language -->": template_language_markdown}


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    for marker, make in GENERATED_SECTIONS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown


# -- mkdocs events ----------------------------------------------------------------------------------
_API_NAV: list[tuple[str, str]] = []


def on_config(config, **kwargs):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return config


@event_priority(100)  # before mkdocs-jupyter's on_files, which wraps the notebooks it finds
def on_files(files: Files, config, **kwargs) -> Files:
    generated = {"reference/cli.md": cli_markdown()}
    api, nav = api_pages()
    generated.update(api)
    _API_NAV[:] = nav
    for path, content in generated.items():
        files.append(File.generated(config, path, content=content))
    for notebook in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        files.append(File(f"notebooks/{notebook.name}", src_dir=str(ROOT), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    return files


def on_nav(nav, config, files, **kwargs):
    """Put the generated module pages under "API reference", one section per documented package."""
    from mkdocs.structure.nav import Section

    def page(path: str):
        f = files.get_file_from_path(path)
        return f.page if f is not None else None

    def build(parent: Section) -> list:
        groups: dict[str, list[str]] = {}
        for name, _path in _API_NAV:
            owner = max((d for d in DOCUMENTED if name == d or name.startswith(d + ".")), key=len)
            groups.setdefault(owner, []).append(name)
        children: list = []
        for owner in DOCUMENTED:
            names = groups.get(owner, [])
            pages = [page(f"reference/api/{n}.md") for n in names]
            pages = [p for p in pages if p is not None]
            if len(pages) == 1:
                pages[0].parent = parent
                children.append(pages[0])
            elif pages:
                section = Section(title=owner if owner == PACKAGE else owner[len(PACKAGE) + 1:], children=pages)
                section.parent = parent
                for p in pages:
                    p.parent = section
                children.append(section)
        return children

    def splice(items) -> None:
        for item in items:
            if isinstance(item, Section):
                if item.title == "API reference":
                    item.children = list(item.children) + build(item)
                else:
                    splice(item.children)

    splice(nav.items)
    return nav
