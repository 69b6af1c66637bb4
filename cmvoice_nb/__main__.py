"""``python -m cmvoice_nb`` runs the ``cmvoice`` CLI."""
import sys

from .cli import main

sys.exit(main())
