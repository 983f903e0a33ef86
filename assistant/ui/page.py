"""The page's chrome around the web chat: its theme, its header, the empty chat's text and the
scripts it runs from assets/."""

from __future__ import annotations

from html import escape

import gradio as gr

from assistant.ui import ASSETS


def theme() -> gr.themes.Base:
    """Gradio's default theme with system fonts (the page must not fetch web fonts) and primary
    buttons dark enough for their white text."""
    return gr.themes.Default(
        primary_hue="blue",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    ).set(
        # White on blue-500 is 3.7:1; blue-600 makes 5.2:1 (WCAG AA for small text).
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        # The same for "stop" buttons (Delete): white on red-500 is 3.8:1, on red-700 6.5:1.
        button_cancel_background_fill="#b91c1c",
        button_cancel_background_fill_hover="#991b1b",
        button_cancel_background_fill_dark="#b91c1c",
        button_cancel_background_fill_hover_dark="#991b1b",
    )


def header(title: str, counts: str | None, username: str | None = None) -> str:
    """The page's title line; `counts` (None until the page loads) and who is signed in."""
    shown = f" ({escape(counts)})" if counts else ""
    signed_in = ""
    if username:  # Gradio's /logout ends the login and returns to the login page
        signed_in = (
            f'<p class="qa-signed-in">Signed in as <b>{escape(username)}</b> · '
            '<a href="logout" id="qa-logout">Sign out</a></p>'
        )
    return (
        f"<h1>{escape(title)}</h1>{signed_in}<p>Answers come only from the indexed documents"
        f"{shown}; every claim links to the passage it quotes.</p>"
    )


def placeholder(has_examples: bool, may_upload: bool = True) -> str:
    """The empty chat's text: how to ask, and where documents come from when none are indexed."""
    lines = [
        "### Ask a question about your documents",
        "Answers quote the documents. Click a number such as **[1]** to read the passage.",
    ]
    if not has_examples and may_upload:
        lines.append("No documents are indexed yet: add some in the **Documents** tab.")
    elif not has_examples:
        lines.append("No documents you may read are indexed yet: ask an administrator.")
    return "\n\n".join(lines)


def scripts(*names: str) -> str:
    """The page's own scripts from assets/, run once the chat has mounted."""
    return "\n".join((ASSETS / name).read_text(encoding="utf-8") for name in names)
