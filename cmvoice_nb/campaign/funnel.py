"""Results joined with callbacks (a temporary re-export of :mod:`cmvoice_nb.callbacks.analysis`)."""
from ..callbacks.analysis import funnel, reach_by_wave, scope_results

__all__ = ["funnel", "reach_by_wave", "scope_results"]
