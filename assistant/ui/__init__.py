"""The staff web chat (Gradio)."""
