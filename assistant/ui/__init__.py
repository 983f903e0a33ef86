"""The staff web chat (Gradio)."""

from pathlib import Path

ASSETS = Path(__file__).parent / "assets"  # the page's scripts and style sheet
