"""Sub-commands of the ``cmvoice`` CLI, one module per command group.

Each module defines ``register(subparsers)``: it adds its parser(s) and sets
``func`` on them to a callable ``run(args) -> int`` (the exit status). The
top-level :mod:`cmvoice_nb.cli` imports these modules only when the CLI runs,
so importing the package stays cheap.
"""

#: Modules registered by :func:`cmvoice_nb.cli.build_parser`, in help order.
COMMAND_MODULES = (
    "simulate",
    "audio",
    "spelling",
    "send",
    "followup",
    "status",
    "receive",
    "report",
)


__all__ = ["COMMAND_MODULES"]
