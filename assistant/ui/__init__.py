"""The staff web chat (Gradio)."""

from pathlib import Path

from assistant.ui.gradio_import import skip_stub_generation

ASSETS = Path(__file__).parent / "assets"  # the page's scripts and style sheet

skip_stub_generation()  # before any module of this package imports gradio
