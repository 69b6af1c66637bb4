"""Paths shared by the notebook and demo tests."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOK_NAMES = ("01_audio_preparation", "02_otp_spelling_set", "03_campaign", "04_callback_analysis")
