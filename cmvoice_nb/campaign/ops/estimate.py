"""The cost estimate (a temporary re-export of :mod:`cmvoice_nb.campaign.estimate`)."""
from ..estimate import FRAME_COLUMNS, PRICE_COLUMNS, Estimate, estimate_payloads, read_prices

__all__ = ["Estimate", "estimate_payloads", "read_prices", "FRAME_COLUMNS", "PRICE_COLUMNS"]
