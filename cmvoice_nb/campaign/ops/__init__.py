"""Operations on a campaign beside its stages: suppression and the estimate (a temporary re-export)."""
__all__: list[str] = []
