"""The data the page's own scripts send with a custom event (`trigger(name, {...})`).

Gradio hands an event listener an instance of whatever `gr.EventData` subclass its parameter is
annotated with, built from the event's target and data (as `gr.SelectData` is): `PageEvent`
keeps that data as `fields`, so no handler reads Gradio's private attributes.
"""

from __future__ import annotations

from typing import Any

import gradio as gr


class PageEvent(gr.EventData):
    """A custom event of the page: `fields`, the data it was sent with (an event sent without
    data, or with data that is not an object, has none)."""

    def __init__(self, target: Any, data: Any) -> None:
        super().__init__(target, data)
        self.fields: dict[str, Any] = dict(data) if isinstance(data, dict) else {}

    def text(self, name: str) -> str:
        """One field as text ("" when it is missing)."""
        value = self.fields.get(name)
        return "" if value is None else str(value)
