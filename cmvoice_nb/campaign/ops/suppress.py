"""Do-not-call lists and allowed countries (a temporary re-export of :mod:`cmvoice_nb.campaign.suppress`)."""
from ..suppress import (SuppressionList, Unreadable, apply_suppression, check_allowed_country, parse_allowed_countries,
                        read_suppression, suppression_reason, text_entries)

__all__ = ["SuppressionList", "Unreadable", "apply_suppression", "check_allowed_country", "parse_allowed_countries",
           "read_suppression", "suppression_reason", "text_entries"]
