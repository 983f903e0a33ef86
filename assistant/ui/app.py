"""A Gradio chat over the Assistant: answers with their numbered sources."""

from __future__ import annotations

import html
import os
from typing import Any

from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.types import Answer


def render_answer(answer: Answer) -> str:
    """Markdown for one answer: the text, then the sources it cites."""
    if answer.refused:
        hint = "Try rephrasing, or ask about something the documents cover."
        return f"**{html.escape(answer.text)}** {hint}"
    lines = [html.escape(answer.text)]
    if answer.notice:
        lines.append(f"\n_{html.escape(answer.notice)}_")
    if answer.citations:
        lines.append("\n**Sources**")
        for citation in answer.citations:
            where = f" — {html.escape(citation.section)}" if citation.section else ""
            quote = html.escape(" ".join(citation.quote.split()))
            lines.append(f"{citation.id}. `{html.escape(citation.source)}`{where}: “{quote}”")
    return "\n".join(lines)


def build_app(assistant: Assistant) -> Any:
    """The Gradio Blocks app."""
    import gradio as gr

    def respond(message: str, history: list[dict[str, Any]]) -> str:
        turns = [
            {"role": turn["role"], "content": _text(turn["content"])}
            for turn in history
            if turn.get("role") in ("user", "assistant")
        ]
        try:
            return render_answer(assistant.ask(message, history=turns))
        except AssistantError as exc:
            return f"⚠️ {html.escape(str(exc))}"

    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["monospace"])
    return gr.ChatInterface(
        respond,
        title="Document assistant",
        description="Answers come only from the indexed documents, with numbered sources.",
        analytics_enabled=False,
        api_name="ask",
    ), theme


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_text(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return str(content)


def serve(settings: Settings) -> None:
    """Build the index if needed and serve the chat until interrupted."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    assistant = Assistant(settings)
    try:  # load the model and open the store now, not on the first question
        assistant.retrieve("warm up", k=1)
    except AssistantError as exc:
        print(f"assistant: {exc}")
    app, theme = build_app(assistant)
    app.queue().launch(
        server_name=settings.host, server_port=settings.port, theme=theme, footer_links=[]
    )
