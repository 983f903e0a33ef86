"""The staff web chat: layout and wiring of the Gradio app, its `ask` API, and its mounting."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import gradio as gr
from fastapi import FastAPI
from gradio.events import api

from assistant.account_types import User
from assistant.audit import new_request_id
from assistant.catalog import DocumentText
from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.proxyauth import TrustedProxy
from assistant.types import page_of
from assistant.ui import ASSETS, page
from assistant.ui import conversations as sidebar_ui
from assistant.ui.admin import build_admin_tab
from assistant.ui.auth import WebLogins, gradio_login_check, username_of
from assistant.ui.chat import (
    ASK,
    QUESTION_HINT,
    LiteralChat,
    Turn,
    Turns,
    answer_and_save,
    answer_stream,
    conversation,
    give_back_on_failure,
    in_worker_thread,
    settle_script,
    stopped,
)
from assistant.ui.documents import build_documents_tab, summary
from assistant.ui.events import PageEvent
from assistant.ui.feedback import build_feedback_row, wire_feedback
from assistant.ui.guard import NoRemoteFiles, SecurityHeaders, blocked_paths
from assistant.ui.login import LoginPage, login_message
from assistant.ui.names import SourceNames
from assistant.ui.quality import build_quality_tab
from assistant.ui.scope import build_scope, chosen_collections, scope_update
from assistant.ui.upkeep import ExportFolder, apply_retention_daily
from assistant.ui.viewer import (
    DOC_ID,
    SourceRef,
    render_document,
    render_empty,
    render_problem,
    render_source,
)

EXAMPLES_PENDING = "…"
log = logging.getLogger(__name__)
__all__ = ["Turn", "Turns", "answer_stream", "build_app", "conversation", "mount_ui"]


def build_app(
    assistant: Assistant,
    logins: WebLogins | None = None,
    exports: ExportFolder | None = None,
) -> gr.Blocks:
    """The Gradio Blocks app: chat, source panel, feedback, Documents tab and the `ask` API;
    conversation exports go to `exports` (None: a folder of the app's own).

    Every handler reads as the signed-in user (`logins.reader`): answers, passages, example
    questions, the documents listed and stored conversations hold only what they may read.
    Nothing drawn from the documents is in the page's static config: the header's counts, the
    example questions and the documents table are filled in when the page loads.
    """
    settings = assistant.settings
    logins = logins or WebLogins(assistant.accounts)

    def reader(request: gr.Request | None) -> User | None:
        return logins.reader(username_of(request))

    names = SourceNames(settings)

    async def respond(
        message: str,
        history: list[dict[str, Any]],
        state: Turns,
        active: str | None,
        browser: dict[str, Any] | None,
        chosen: list[str] | None,
        request: gr.Request,
    ) -> AsyncIterator[tuple[Any, ...]]:
        owner = conversations.owner(browser, request)
        answering = answer_and_save(
            assistant,
            message,
            history,
            state,
            owner,
            active,
            reader(request),
            chosen_collections(chosen),
        )
        async for html, new_turns, conversation_id, saved in in_worker_thread(answering):
            if saved is None:
                yield html, new_turns, gr.skip(), gr.skip()
            else:
                yield html, new_turns, conversation_id, saved

    demo: gr.Blocks
    # Old export files and uploads leave Gradio's cache after a day.
    with gr.Blocks(
        title=settings.ui_title,
        analytics_enabled=False,
        fill_height=True,
        delete_cache=(3600, 86400),
    ) as demo:
        conversations = sidebar_ui.build_sidebar(
            assistant.conversations.secret("browser-state"),
            assistant.conversations.secret("browser-id"),
        )
        turns = gr.State({})
        with gr.Sidebar(
            label="Source", position="right", open=False, width=440, elem_id="qa-sidebar"
        ) as sidebar:
            viewer = gr.HTML(
                render_empty(),
                js_on_load=(ASSETS / "viewer.js").read_text(encoding="utf-8"),
                elem_id="qa-viewer",
                question_hint=QUESTION_HINT,
            )
        header = gr.HTML(page.header(settings.ui_title, None), elem_id="qa-header")
        with gr.Tabs(elem_id="qa-tabs"):
            with gr.Tab("Chat", id="chat", elem_id="qa-chat-tab"):
                chatbot = gr.Chatbot(
                    elem_id="qa-chat",
                    show_label=False,
                    height="62vh",
                    min_height=320,
                    layout="panel",
                    sanitize_html=True,
                    allow_tags=False,  # no custom tags from a question survive sanitizing
                    latex_delimiters=[],
                    buttons=[],
                    feedback_options=("Like", "Dislike"),
                    placeholder=page.placeholder(True),
                )
                # No max_length: the browser would cut a long question silently. The counter
                # below says the limit and holds back a question over it (assets/input.js).
                textbox = gr.Textbox(
                    label="Question",
                    placeholder=QUESTION_HINT,
                    show_label=False,
                    lines=1,
                    max_lines=6,
                    submit_btn=ASK,
                    stop_btn="Stop",
                    autofocus=True,
                    elem_id="qa-question",
                )
                scope = build_scope()
                chat = LiteralChat(
                    respond,
                    chatbot=chatbot,
                    textbox=textbox,
                    additional_inputs=[
                        turns,
                        conversations.active,
                        conversations.browser,
                        scope,
                    ],
                    additional_outputs=[turns, conversations.active, conversations.saved],
                    # Only so that ChatInterface wires clicks on examples to asking: each user's
                    # own examples (from what they may read) are set when the page loads.
                    examples=[[EXAMPLES_PENDING, None]] if settings.ui_examples > 0 else None,
                    run_examples_on_click=True,
                    cache_examples=False,
                    fill_height=False,
                    analytics_enabled=False,
                    api_visibility="private",
                )
                chatbot.examples = None  # none in the page's static config
                give_back_on_failure(demo, chat)
                gr.HTML(
                    '<div class="qa-counter" aria-live="polite"></div>',
                    js_on_load=page.scripts(
                        "input.js", "feedback.js", "a11y.js", "phone.js", "drop.js"
                    ),
                    elem_id="qa-counter",
                    limit=settings.max_question_chars,
                )
                feedback = build_feedback_row()
            with gr.Tab("Documents", id="documents", elem_id="qa-documents-tab"):
                documents = build_documents_tab(assistant, logins)
            quality = build_quality_tab(assistant, logins)
            admin = build_admin_tab(assistant, logins)

        def read_shown(doc_id: str, request: gr.Request) -> DocumentText | None:
            """A document's text for the source panel, as the reader may read it, audited."""
            document = assistant.document_text(doc_id, reader(request))
            assistant.audit.record(
                "document_shown",
                username_of(request),
                new_request_id(),
                doc_id=doc_id,
                allowed=document is not None,
            )
            return document

        def show_source(evt: PageEvent, request: gr.Request) -> tuple[str, Any]:
            try:
                ref = SourceRef.from_event(evt.fields)
            except ValueError:
                return render_problem("That citation link is not valid."), gr.Sidebar(open=True)
            document = read_shown(ref.doc_id, request)
            page_number = (
                None if document is None else page_of(document.page_starts, ref.start, ref.end)
            )
            scan = (
                assistant.page_image(ref.doc_id, page_number, reader(request))
                if page_number is not None and not ref.whole
                else None
            )
            return render_source(document, ref, names, scan), gr.Sidebar(open=True)

        viewer.cite(show_source, None, [viewer, sidebar], api_visibility="private")

        def show_document(evt: PageEvent, request: gr.Request) -> tuple[str, Any]:
            """The Documents tab's Preview: the whole text of a document the reader may read."""
            doc_id = evt.text("doc")
            if not DOC_ID.fullmatch(doc_id):
                return render_problem("That document link is not valid."), gr.Sidebar(open=True)
            return render_document(read_shown(doc_id, request), names), gr.Sidebar(open=True)

        documents.table.preview_document(
            show_document, None, [viewer, sidebar], api_visibility="private"
        )

        wire_feedback(feedback, chatbot, turns, settings, assistant.feedback)

        def mark_stopped(messages: list[dict[str, Any]] | None) -> tuple[Any, Any]:
            """A stopped answer becomes a note saying so (not a spinner that never ends); None:
            another conversation was opened meanwhile."""
            changed = stopped(messages or [])
            return (gr.skip(), gr.skip()) if changed is None else (changed, changed)

        # After ChatInterface's own Stop (it cancels the answer), once the chat is done with it.
        textbox.stop(
            mark_stopped,
            chatbot,
            [chatbot, chat.chatbot_value],
            js=settle_script(switch=False),
            api_visibility="private",
        )

        sidebar_ui.wire(
            conversations,
            assistant,
            demo,
            chatbot,
            [chat.chatbot_value, turns, feedback.vote_ids, feedback.row],
            chat.chatbot_state,
            logins,
            exports or ExportFolder(demo),
        )

        def header_for(request: gr.Request) -> str:
            username = username_of(request)
            counts = summary(assistant, logins.reader(username))
            return page.header(settings.ui_title, counts, username)

        def suggestions_for(request: gr.Request) -> Any:
            """The empty chat's suggested questions for this user, from what they may read."""
            username = username_of(request)
            examples = assistant.suggested_questions(settings.ui_examples, logins.reader(username))
            return gr.Chatbot(
                examples=[{"text": question} for question in examples],
                placeholder=page.placeholder(bool(examples), logins.may_change_index(username)),
            )

        def scope_for(chosen: list[str] | None, request: gr.Request) -> Any:
            return scope_update(assistant, reader(request), chosen or [])

        def on_load(request: gr.Request) -> tuple[Any, ...]:
            username = username_of(request)
            return (
                header_for(request),
                suggestions_for(request),
                scope_for(None, request),
                *documents.refresh(username),
                *documents.controls(username),
            )

        demo.load(
            on_load,
            None,
            [header, chatbot, scope, *documents.outputs, *documents.control_outputs],
            api_visibility="private",
        )
        assert quality.on_load is not None
        demo.load(quality.on_load, None, [quality.tab, *quality.outputs], api_visibility="private")
        assert admin.on_load is not None
        demo.load(admin.on_load, None, [admin.tab, *admin.outputs], api_visibility="private")
        for change in documents.changes:
            change.then(header_for, None, header, api_visibility="private").then(
                suggestions_for, None, chatbot, api_visibility="private"
            ).then(scope_for, scope, scope, api_visibility="private")

        def ask(
            question: str, request: gr.Request, history: list[dict[str, str]] | None = None
        ) -> dict[str, Any]:
            """Answer a question from the indexed documents: the answer and its citations."""
            try:
                answer = assistant.ask(
                    question, history or None, user=reader(request), request_id=new_request_id()
                )
                return answer.to_json_dict()
            except AssistantError as exc:  # a malformed question or history turn, too
                raise gr.Error(str(exc)) from exc

        api(ask, api_name="ask")
    return demo


def mount_ui(app: FastAPI, assistant: Assistant, users: Mapping[str, str]) -> gr.Blocks:
    """Mount the web chat at `/` of `app` (after the app's own routes), behind a login when
    the catalog has users or the settings have logins (`users`)."""
    settings = assistant.settings
    apply_retention_daily(assistant.conversations)
    proxy = TrustedProxy.from_settings(settings)
    logins = WebLogins(assistant.accounts, users, proxy)
    required = logins.required
    # Behind a trusted SSO proxy the proxy signs users in: no login page (Gradio takes one or
    # the other), and a request not from a proxy is a 401.
    password_login = required and proxy is None
    exports = ExportFolder(app)
    demo = build_app(assistant, logins, exports)
    # Bounded both ways (docs/deployment.md): a few answers at once on two cores, and a full
    # queue tells the user the server is busy instead of making them wait without end.
    demo.queue(default_concurrency_limit=settings.ui_concurrency, max_size=settings.ui_queue_size)
    gr.mount_gradio_app(
        app,
        demo,
        path="/",
        server_name=settings.host,
        server_port=settings.port,
        auth=gradio_login_check(logins) if password_login else None,
        auth_dependency=logins.proxy_login if proxy is not None else None,
        auth_message=login_message(settings.ui_title) if password_login else None,
        theme=page.theme(),
        css_paths=[ASSETS / "style.css"],
        # Before Gradio's own scripts: the page's event stream (assets/stream.js says why).
        head=f"<script>{page.scripts('stream.js')}</script>",
        footer_links=[],
        max_file_size=int(settings.max_upload_mb * 1_000_000),
        allowed_paths=[],  # Gradio serves its own upload folder only
        blocked_paths=blocked_paths(settings),
        enable_monitoring=False,
        run_history=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        show_error=True,
    )
    # The exports go at the server's shutdown: uvicorn ends a server stopped with SIGTERM (or
    # Ctrl-C) by raising the signal again, so the process dies without exit handlers.
    at_shutdown(app, exports.remove)
    app.add_middleware(NoRemoteFiles)  # before Gradio's file route can fetch a URL
    app.add_middleware(LoginPage, title=settings.ui_title)
    app.add_middleware(SecurityHeaders)
    return demo


def at_shutdown(app: FastAPI, action: Callable[[], object]) -> None:
    """Run `action` when `app`'s lifespan ends (the server's shutdown), after what ran before."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        try:
            async with inner(app) as state:
                yield state
        finally:
            action()

    app.router.lifespan_context = lifespan
