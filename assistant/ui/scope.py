"""The chat's "Search in" selector: a question limited to chosen collections.

Its choices are the collections the signed-in reader may read, set when the page loads and
after every change to the index (the page's static config names none); nothing chosen means
every collection they may read. It is shown only when there is something to choose (two
collections or more). A choice the reader may no longer read (a revoked grant) finds nothing
there: the assistant restricts every question to what the reader may read, whatever is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from assistant.account_types import User
from assistant.collections import CollectionInfo
from assistant.core import Assistant

LABEL = "Search in"
INFO = "Nothing chosen: every collection you may read."


def build_scope() -> gr.Dropdown:
    """The selector, empty and hidden until the page loads."""
    return gr.Dropdown(
        choices=[],
        value=[],
        multiselect=True,
        label=LABEL,
        info=INFO,
        visible=False,
        interactive=True,
        elem_id="qa-scope",
    )


def scope_choices(collections: Sequence[CollectionInfo]) -> list[tuple[str, str]]:
    """(label, name) per collection: "board (3 documents)"."""
    return [
        (f"{c.name} ({c.documents} document{'s' if c.documents != 1 else ''})", c.name)
        for c in collections
    ]


def scope_update(assistant: Assistant, user: User | None, chosen: Sequence[str] = ()) -> Any:
    """The selector for `user`: their collections, what was chosen and is still there kept."""
    collections = assistant.collections(user)
    names = {c.name for c in collections}
    return gr.Dropdown(
        choices=scope_choices(collections),
        value=[name for name in chosen if name in names],
        visible=len(collections) > 1,
    )


def chosen_collections(value: Sequence[str] | str | None) -> list[str] | None:
    """What the selector sends, as `Assistant.ask`'s `collections`: None when nothing is
    chosen (every collection the reader may read)."""
    if not value:
        return None
    names = [value] if isinstance(value, str) else [str(name) for name in value]
    return names or None
