"""The conversations sidebar: the user's stored conversations, newest first, to reopen, search,
rename, delete (confirmed, with undo) and export as Markdown.

Whose conversations they are: the signed-in user's when logins are on; otherwise this
browser's, named by a random id kept in its local storage (encrypted with a secret kept in the
conversation file, so it survives a restart). Every change goes through
`Assistant.conversations`, which checks the owner on each read and write; the browser only
ever names a conversation id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

import gradio as gr

from assistant.core import Assistant
from assistant.types import Conversation
from assistant.ui import ASSETS
from assistant.ui.auth import WebLogins, username_of
from assistant.ui.chat import Turn, Turns, run_before_each_question, said, settle_script
from assistant.ui.feedback import closed_row
from assistant.ui.names import SourceNames
from assistant.ui.owners import first_visit_id, owner_of, with_browser_id
from assistant.ui.render import render_answer, shown_question, typed_question
from assistant.ui.upkeep import ExportFolder

BROWSER_STORAGE_KEY = "qa-browser"
log = logging.getLogger(__name__)


def chat_messages(
    conversation: Conversation, names: SourceNames
) -> tuple[list[dict[str, str]], Turns]:
    """The chat's messages and answered turns for a stored conversation (files named by
    `names`)."""
    messages: list[dict[str, str]] = []
    turns: Turns = {}
    for turn in conversation.turns:
        messages.append({"role": "user", "content": shown_question(turn.question)})
        turns[len(messages)] = Turn(turn.question, turn.answer)
        content = render_answer(names.answer(turn.answer))
        messages.append({"role": "assistant", "content": content})
    return messages, turns


@dataclass
class ConversationSidebar:
    """The sidebar's components; `wire` connects them to the chat."""

    browser: gr.BrowserState
    active: gr.State
    # Whether this server process has put a chat on this page (loaded it, switched it, or took
    # a question from its box): False after a restart behind a page left open (see `wire`).
    shown: gr.State
    saved: gr.State
    deleted: gr.State
    new_chat: gr.Button
    search: gr.Textbox
    listing: gr.Radio
    note: gr.HTML
    actions: gr.Column
    title: gr.Textbox
    rename: gr.Button
    export: gr.DownloadButton
    delete: gr.Button
    confirm_row: gr.Column
    confirm_text: gr.HTML
    confirm: gr.Button
    cancel: gr.Button
    undo_row: gr.Column
    undo_text: gr.HTML
    undo: gr.Button
    id_secret: str

    def first_visit(self, request: gr.Request) -> str | None:
        """The id this page's browser takes if it has none yet (see `first_visit_id`)."""
        return first_visit_id(self.id_secret, request.session_hash)

    def owner(self, browser: Mapping[str, Any] | None, request: gr.Request) -> str | None:
        """Whose conversations this page's event acts on (see `owner_of`)."""
        return owner_of(username_of(request), browser, self.first_visit(request))

    def stored_state(
        self, browser: Mapping[str, Any] | None, request: gr.Request
    ) -> dict[str, Any]:
        """The browser's stored state, with this page's first-visit id if it had none."""
        return with_browser_id(browser, self.first_visit(request))

    @property
    def view_outputs(self) -> list[Any]:
        """What `view` returns, in order."""
        return [
            self.listing,
            self.note,
            self.actions,
            self.title,
            self.export,
            self.confirm_row,
            self.undo_row,
            self.undo_text,
        ]


def build_sidebar(secret: str, id_secret: str) -> ConversationSidebar:
    """The left sidebar's components (inside the Blocks being built); `secret` protects the
    browser's stored state, `id_secret` makes first-visit ids (see `first_visit_id`)."""
    browser = gr.BrowserState({}, storage_key=BROWSER_STORAGE_KEY, secret=secret)
    active, saved, deleted = gr.State(None), gr.State(None), gr.State(None)
    shown = gr.State(False)
    with gr.Sidebar(
        label="Conversations", position="left", open=True, width=300, elem_id="qa-history"
    ):
        new_chat = gr.Button("New chat", variant="primary", size="sm", elem_id="qa-new-chat")
        search = gr.Textbox(
            label="Search conversations",
            placeholder="Search titles and text",
            show_label=False,
            max_length=200,
            elem_id="qa-search",
        )
        listing = gr.Radio(
            choices=[], label="Conversations", show_label=False, elem_id="qa-conversations"
        )
        note = gr.HTML(
            "",
            js_on_load=(ASSETS / "history.js").read_text("utf-8"),
            elem_id="qa-history-note",
        )
        with gr.Column(visible=False, elem_id="qa-undo-row") as undo_row:
            undo_text = gr.HTML("")
            undo = gr.Button("Undo", size="sm", elem_id="qa-undo")
        with gr.Column(visible=False, elem_id="qa-conversation-actions") as actions:
            title = gr.Textbox(label="Title", max_length=120, elem_id="qa-title")
            with gr.Row():
                rename = gr.Button("Rename", size="sm", min_width=60, elem_id="qa-rename")
                export = gr.DownloadButton("Export", size="sm", min_width=60, elem_id="qa-export")
                delete = gr.Button(
                    "Delete", size="sm", variant="stop", min_width=60, elem_id="qa-delete"
                )
        with gr.Column(visible=False, elem_id="qa-confirm-row") as confirm_row:
            confirm_text = gr.HTML("")
            with gr.Row():
                confirm = gr.Button(
                    "Delete", size="sm", variant="stop", min_width=60, elem_id="qa-confirm-delete"
                )
                cancel = gr.Button("Cancel", size="sm", min_width=60, elem_id="qa-cancel-delete")
    return ConversationSidebar(
        browser, active, shown, saved, deleted, new_chat, search, listing, note, actions, title,
        rename, export, delete, confirm_row, confirm_text, confirm, cancel, undo_row,
        undo_text, undo, id_secret,
    )  # fmt: skip


def wire(
    sidebar: ConversationSidebar,
    assistant: Assistant,
    demo: gr.Blocks,
    chatbot: gr.Chatbot,
    chat_outputs: list[Any],
    chat_history: gr.State,
    logins: WebLogins,
    exports: ExportFolder,
) -> None:
    """Connect the sidebar: `chat_outputs` are the chat's messages (ChatInterface's
    `chatbot_value`), its answered turns, the vote ids and the feedback comment row;
    `chat_history` is the history ChatInterface answers in (its `chatbot_state`); exports
    are written to `exports`. A conversation is read through `Assistant.conversation` as the
    signed-in user, so an answer citing what they may no longer read is withheld (also from the
    export)."""
    store = assistant.conversations
    names = SourceNames(assistant.settings)
    s = sidebar
    private: dict[str, Any] = {"api_visibility": "private"}
    # Events that put another conversation in the chat wait for (and stop) an answer on its way.
    switching: dict[str, Any] = {**private, "js": settle_script(switch=True)}

    def get(who: str | None, chosen: str | None, request: gr.Request) -> Conversation | None:
        """The owner's conversation as the signed-in user may read it now."""
        if not who or not chosen:
            return None
        return assistant.conversation(who, chosen, logins.reader(username_of(request)))

    def view(
        who: str | None,
        active: str | None,
        request: gr.Request,
        query: str = "",
        deleted_title: str | None = None,
    ) -> tuple[Any, ...]:
        """The sidebar as it should look now (see ConversationSidebar.view_outputs)."""
        user = logins.reader(username_of(request))
        items = assistant.find_conversations(who, query, user) if who else []
        conversation = get(who, active, request)
        choices = [(item.title, item.id) for item in items]
        if not items:
            note = "No matching conversations." if query.strip() else "No conversations yet."
        else:
            note = ""
        shown = active if any(item.id == active for item in items) else None
        undo_text = f"Deleted “{escape(deleted_title)}”." if deleted_title else ""
        return (
            gr.Radio(choices=choices, value=shown),
            f'<p class="qa-history-note">{note}</p>' if note else "",
            gr.Column(visible=conversation is not None),
            conversation.title if conversation else "",
            str(exports.write(names.conversation(conversation))) if conversation else None,
            gr.Column(visible=False),
            gr.Column(visible=deleted_title is not None),
            undo_text,
        )

    def chat_for(conversation: Conversation | None) -> tuple[Any, ...]:
        messages, turns = chat_messages(conversation, names) if conversation else ([], {})
        return messages, turns, {}, closed_row()

    def on_load(browser: dict[str, Any] | None, request: gr.Request) -> tuple[Any, ...]:
        state = s.stored_state(browser, request)
        stored = gr.skip() if state == browser else state
        who = s.owner(state, request)
        last = state.get("active")
        conversation = get(who, last if isinstance(last, str) else None, request)
        if conversation is None:
            # Nothing to reopen: the page's chat is new already. Left alone, so that a question
            # asked before this ran (a slow server) stays on screen and stays open.
            skipped = [gr.skip()] * (1 + len(chat_outputs))
            return (stored, *skipped, *view(who, None, request), True)
        return (
            stored,
            conversation.id,
            *chat_for(conversation),
            *view(who, conversation.id, request),
            True,
        )

    def remember(active: str | None, browser: dict[str, Any] | None, request: gr.Request) -> Any:
        """The browser's stored state with the open conversation (reopened on a reload)."""
        return {**s.stored_state(browser, request), "active": active}

    def on_open(
        chosen: str | None, browser: dict[str, Any], query: str, request: gr.Request
    ) -> tuple[Any, ...]:
        who = s.owner(browser, request)
        conversation = get(who, chosen, request)
        active = conversation.id if conversation else None
        return (active, *chat_for(conversation), *view(who, active, request, query), True)

    def on_new_chat(browser: dict[str, Any], query: str, request: gr.Request) -> tuple[Any, ...]:
        who = s.owner(browser, request)
        return (None, *chat_for(None), *view(who, None, request, query), True)

    def on_rename(
        title: str, active: str | None, browser: dict[str, Any], query: str, request: gr.Request
    ) -> tuple[Any, ...]:
        who = s.owner(browser, request)
        if who and active:
            try:
                store.rename(who, active, title)
            except ValueError:
                gr.Warning("A title cannot be blank.")
        return view(who, active, request, query)

    def on_delete(active: str | None, browser: dict[str, Any], request: gr.Request) -> Any:
        who = s.owner(browser, request)
        conversation = get(who, active, request)
        if conversation is None:
            return gr.Column(visible=False), ""
        text = (
            f"<p>Delete “{escape(conversation.title)}” and its {len(conversation.turns)} "
            "answered question(s)?</p>"
        )
        return gr.Column(visible=True), text

    def on_confirm(
        active: str | None, browser: dict[str, Any], query: str, request: gr.Request
    ) -> tuple[Any, ...]:
        who = s.owner(browser, request)
        conversation = get(who, active, request)
        if who is None or conversation is None or not store.delete(who, conversation.id):
            return (
                None,
                active,
                *[gr.skip()] * len(chat_outputs),
                *view(who, active, request, query),
                True,
            )
        exports.forget(conversation.id)
        return (
            conversation.id,
            None,
            *chat_for(None),
            *view(who, None, request, query, deleted_title=conversation.title),
            True,
        )

    def on_undo(
        deleted: str | None, browser: dict[str, Any], query: str, request: gr.Request
    ) -> tuple[Any, ...]:
        who = s.owner(browser, request)
        restored = store.restore(who, deleted) if who and deleted else None
        conversation = get(who, restored.id if restored else None, request)
        if conversation is None:
            gr.Warning("That conversation can no longer be restored.")
        active = conversation.id if conversation else None
        return (None, active, *chat_for(conversation), *view(who, active, request, query), True)

    def on_refresh(
        active: str | None, browser: dict[str, Any], query: str, request: gr.Request
    ) -> tuple[Any, ...]:
        return view(s.owner(browser, request), active, request, query)

    def on_chat_undo(
        data: gr.UndoData, turns: Turns, active: str | None, browser: dict[str, Any],
        query: str, request: gr.Request,
    ) -> tuple[Any, ...]:  # fmt: skip
        # The chat's undo removes its last question and what followed; so does the store.
        who = s.owner(browser, request)
        index = data.index if isinstance(data.index, int) else data.index[0]
        if who and active:
            store.truncate(who, active, sum(1 for position in turns if position < index))
        return view(who, active, request, query)

    def on_question(
        shown: bool,
        browser: dict[str, Any] | None,
        history: list[Any],
        on_screen: list[Any] | None,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        """Before a question is answered: when this server process never put a chat on this
        page (it started after the page loaded: a restart), the page's session state is gone
        (the chat's history, its turns, the open conversation), while the page still shows its
        conversation. When the conversation the browser remembers as open is the one on screen
        (the same questions, before the one just asked; another tab may have opened another
        since), the question goes on in it, as it would have before the restart: its history
        and turns are read back from the store, so a follow-up is understood and the chat keeps
        every turn. Otherwise the question starts a new conversation, as before."""
        unchanged = (True, gr.skip(), gr.skip(), gr.skip())
        if shown or history:
            return unchanged
        state = s.stored_state(browser, request)
        last = state.get("active")
        try:
            conversation = get(
                s.owner(state, request), last if isinstance(last, str) else None, request
            )
        except Exception:  # the question is answered all the same, in a new conversation
            log.exception("reading the open conversation back after a restart failed")
            return unchanged
        asked = [
            typed_question(said(m))
            for m in (on_screen or [])[:-1]
            if isinstance(m, dict) and m.get("role") == "user"
        ]
        if conversation is None or asked != [turn.question for turn in conversation.turns]:
            return unchanged
        messages, turns = chat_messages(conversation, names)
        return (True, conversation.id, messages, turns)

    run_before_each_question(
        demo,
        on_question,
        [s.shown, s.browser, chat_history, chatbot],
        [s.shown, s.active, chat_history, chat_outputs[1]],
    )
    switch_outputs = [s.active, *chat_outputs, *s.view_outputs, s.shown]
    demo.load(on_load, [s.browser], [s.browser, *switch_outputs], **private)
    # Remember the open conversation in the browser, so a reload reopens it.
    s.active.change(remember, [s.active, s.browser], s.browser, **private)
    s.listing.input(on_open, [s.listing, s.browser, s.search], switch_outputs, **switching)
    chatbot.undo(
        on_chat_undo,
        [chat_outputs[1], s.active, s.browser, s.search],
        s.view_outputs,
        **private,
    )
    for trigger in (s.new_chat.click, chatbot.clear):
        trigger(on_new_chat, [s.browser, s.search], switch_outputs, **switching)
    s.search.change(on_refresh, [s.active, s.browser, s.search], s.view_outputs, **private)
    s.saved.change(on_refresh, [s.active, s.browser, s.search], s.view_outputs, **private)
    for trigger in (s.rename.click, s.title.submit):
        trigger(on_rename, [s.title, s.active, s.browser, s.search], s.view_outputs, **private)
    s.delete.click(on_delete, [s.active, s.browser], [s.confirm_row, s.confirm_text], **private)
    s.cancel.click(lambda: gr.Column(visible=False), None, s.confirm_row, **private)
    s.confirm.click(
        on_confirm, [s.active, s.browser, s.search], [s.deleted, *switch_outputs], **switching
    )
    s.undo.click(
        on_undo, [s.deleted, s.browser, s.search], [s.deleted, *switch_outputs], **switching
    )
