"""The Admin tab: the catalog's users and their groups, the collections and who may read them.

For signed-in admins (catalog admins and the settings' logins) only: nobody else sees the tab,
and every handler checks again on the server, so a member who calls one gets an error and
changes nothing. Everything goes through `Assistant.accounts` and `Assistant.collections`, the
same calls as `assistant users` and `assistant collections` on the command line; each change is
in the audit log with the admin who made it and a request id. A password typed here is never
shown again or kept in the page. Directory (LDAP) and SSO users are not listed: the directory
holds them, and grants to their groups are made here like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.account_types import ApiKeyInfo, Grant, User
from assistant.accounts import Accounts
from assistant.audit import new_request_id
from assistant.collections import CollectionInfo
from assistant.core import Assistant
from assistant.errors import AccountError
from assistant.ui.auth import WebLogins, username_of

USER_COLUMNS = ["User", "Role", "Groups", "API keys"]
COLLECTION_COLUMNS = ["Collection", "Documents", "Who may read it"]
FOR_ADMINS = "The Admin tab is for admins."


def split_names(text: str) -> list[str]:
    """Group names typed as a list: commas or spaces between them."""
    return [name for name in text.replace(",", " ").split() if name]


def user_rows(users: Sequence[User], keys: Sequence[ApiKeyInfo]) -> list[list[Any]]:
    """One row per catalog user, by name."""
    counts: dict[str, int] = {}
    for key in keys:
        counts[key.user] = counts.get(key.user, 0) + 1
    return [
        [user.name, user.role, ", ".join(user.groups), counts.get(user.name, 0)]
        for user in sorted(users, key=lambda u: u.name)
    ]


def collection_rows(
    collections: Sequence[CollectionInfo], grants: Sequence[Grant]
) -> list[list[Any]]:
    """One row per collection of the index (and per granted one not indexed yet): its size and
    its readers besides the admins."""
    readers: dict[str, list[str]] = {}
    for grant in grants:
        readers.setdefault(grant.collection, []).append(f"{grant.kind} {grant.principal}")
    sizes = {info.name: info.documents for info in collections}
    names = sorted(set(sizes) | set(readers))
    return [
        [name, sizes.get(name, 0), ", ".join(readers.get(name, [])) or "admins only"]
        for name in names
    ]


def removal_problem(accounts: Accounts, name: str, by: str) -> str | None:
    """Why the Admin tab will not remove `name` (None: it may). Nobody removes themselves, so
    an admin always remains: the one removing, or a settings login, which cannot be removed."""
    if name == by:
        return "You cannot remove yourself; another admin can."
    if accounts.local_user(name) is None:
        return f"There is no user {name!r}."
    return None


@dataclass
class AdminTab:
    """The tab's components; `on_load` shows and fills it for admins when a page loads."""

    tab: gr.Tab
    users: gr.Dataframe
    collections: gr.Dataframe
    user_choice: gr.Dropdown
    collection_choice: gr.Dropdown
    on_load: Callable[[gr.Request], tuple[Any, ...]] | None = None

    @property
    def outputs(self) -> list[Any]:
        return [self.users, self.collections, self.user_choice, self.collection_choice]


def build_admin_tab(assistant: Assistant, logins: WebLogins) -> AdminTab:
    """The tab, inside the Blocks being built (hidden until `on_load` shows it to an admin)."""
    private: dict[str, Any] = {"api_visibility": "private"}
    accounts = assistant.accounts
    with gr.Tab("Admin", id="admin", elem_id="qa-admin-tab", visible=False) as tab:
        gr.Markdown("### Users")
        users = gr.Dataframe(
            headers=USER_COLUMNS, interactive=False, wrap=True, elem_id="qa-a-users"
        )
        with gr.Row():
            name = gr.Textbox(label="New user's name", elem_id="qa-a-name")
            password = gr.Textbox(
                label="Password (8 characters or more)", type="password", elem_id="qa-a-password"
            )
            groups = gr.Textbox(label="Groups (comma-separated)", elem_id="qa-a-groups")
            admin = gr.Checkbox(label="Admin (reads everything)", elem_id="qa-a-admin")
        add = gr.Button("Add user", variant="primary", elem_id="qa-a-add")
        with gr.Row():
            user_choice = gr.Dropdown([], label="User", elem_id="qa-a-user")
            new_groups = gr.Textbox(
                label="Their groups (comma-separated)", elem_id="qa-a-new-groups"
            )
            role = gr.Radio(["member", "admin"], label="Role", elem_id="qa-a-role")
        with gr.Row():
            set_groups = gr.Button("Set groups", elem_id="qa-a-set-groups")
            set_role = gr.Button("Set role", elem_id="qa-a-set-role")
            remove = gr.Button("Remove user", variant="stop", elem_id="qa-a-remove")
        with gr.Row(visible=False, elem_id="qa-a-confirm-row") as confirm_row:
            confirm_text = gr.Markdown(elem_id="qa-a-confirm-text")
            confirm = gr.Button("Remove", variant="stop", elem_id="qa-a-confirm")
            cancel = gr.Button("Cancel", elem_id="qa-a-cancel")
        gr.Markdown("### Collections and who may read them")
        collections = gr.Dataframe(
            headers=COLLECTION_COLUMNS, interactive=False, wrap=True, elem_id="qa-a-collections"
        )
        with gr.Row():
            collection_choice = gr.Dropdown(
                [], label="Collection", allow_custom_value=True, elem_id="qa-a-collection"
            )
            kind = gr.Radio(["group", "user"], value="group", label="To a", elem_id="qa-a-kind")
            principal = gr.Textbox(label="Group or user name", elem_id="qa-a-principal")
        with gr.Row():
            grant = gr.Button("Grant", variant="primary", elem_id="qa-a-grant")
            revoke = gr.Button("Revoke", elem_id="qa-a-revoke")
        status = gr.Markdown(elem_id="qa-a-status")
    view = AdminTab(tab, users, collections, user_choice, collection_choice)

    def admin_of(request: gr.Request) -> str:
        """The signed-in admin making a change (gr.Error for anyone else)."""
        username = username_of(request)
        if username is None or not logins.administers(username):
            raise gr.Error(FOR_ADMINS)
        return username

    def fill(
        chosen_user: str | None = None, chosen_collection: str | None = None
    ) -> tuple[Any, ...]:
        people = sorted(accounts.users(), key=lambda u: u.name)
        rows = collection_rows(assistant.collections(), accounts.grants())
        names = [row[0] for row in rows]
        return (
            user_rows(people, accounts.api_keys()),
            rows,
            gr.Dropdown(
                choices=[user.name for user in people],
                value=chosen_user if any(u.name == chosen_user for u in people) else None,
            ),
            gr.Dropdown(
                choices=names, value=chosen_collection if chosen_collection in names else None
            ),
        )

    def refreshed(
        message: str, chosen_user: str | None = None, collection: str | None = None
    ) -> tuple[Any, ...]:
        return (*fill(chosen_user, collection), message)

    outputs = [*view.outputs, status]

    def on_add(
        new_name: str, new_password: str, group_text: str, make_admin: bool, request: gr.Request
    ) -> tuple[Any, ...]:
        by = admin_of(request)
        try:
            user = accounts.add_user(
                new_name.strip(),
                new_password,
                split_names(group_text),
                admin=make_admin,
                by=by,
                request_id=new_request_id(),
            )
        except AccountError as exc:
            return (*refreshed(f"Not added: {exc}."), gr.skip(), "", gr.skip(), gr.skip())
        groups_said = f" in {', '.join(user.groups)}" if user.groups else ""
        message = f"Added {user.name} ({user.role}{groups_said})."
        return (*refreshed(message, user.name), "", "", "", False)

    add.click(
        on_add,
        [name, password, groups, admin],
        [*outputs, name, password, groups, admin],
        **private,
    )

    def on_choose(chosen: str | None, request: gr.Request) -> tuple[str, str | None]:
        admin_of(request)
        user = accounts.local_user(chosen) if chosen else None
        return (", ".join(user.groups), user.role) if user else ("", None)

    # `change`, not `input`: Gradio's dropdown fires `input` again whenever it loses focus, so
    # opening the list and closing it (or the blur that follows every choice) would load the
    # stored groups and role over what the admin has typed since. `change` fires once per
    # new choice, the admin's or the server's (the user just added, none after a removal).
    user_choice.change(on_choose, [user_choice], [new_groups, role], **private)

    def on_set_groups(chosen: str | None, group_text: str, request: gr.Request) -> tuple[Any, ...]:
        by = admin_of(request)
        if not chosen:
            return refreshed("Choose a user first.")
        try:
            user = accounts.set_groups(
                chosen, split_names(group_text), by=by, request_id=new_request_id()
            )
        except AccountError as exc:
            return refreshed(f"Not changed: {exc}.", chosen)
        said = ", ".join(user.groups) or "no group"
        return refreshed(f"{user.name} is now in {said}.", chosen)

    set_groups.click(on_set_groups, [user_choice, new_groups], outputs, **private)

    def on_set_role(chosen: str | None, wanted: str | None, request: gr.Request) -> tuple[Any, ...]:
        by = admin_of(request)
        if not chosen or wanted not in ("member", "admin"):
            return refreshed("Choose a user and a role first.", chosen)
        if chosen == by:
            return refreshed("You cannot change your own role; another admin can.", chosen)
        try:
            user = accounts.set_role(
                chosen, admin=wanted == "admin", by=by, request_id=new_request_id()
            )
        except AccountError as exc:
            return refreshed(f"Not changed: {exc}.", chosen)
        return refreshed(f"{user.name} is now {'an' if user.admin else 'a'} {user.role}.", chosen)

    set_role.click(on_set_role, [user_choice, role], outputs, **private)

    def on_remove(chosen: str | None, request: gr.Request) -> tuple[Any, ...]:
        by = admin_of(request)
        problem = removal_problem(accounts, chosen, by) if chosen else "Choose a user first."
        if problem:
            return gr.Row(visible=False), "", problem
        return (
            gr.Row(visible=True),
            f"Remove **{chosen}** with their personal grants and API keys?",
            "",
        )

    remove.click(on_remove, [user_choice], [confirm_row, confirm_text, status], **private)
    cancel.click(lambda: (gr.Row(visible=False), ""), None, [confirm_row, status], **private)

    def on_confirm(chosen: str | None, request: gr.Request) -> tuple[Any, ...]:
        by = admin_of(request)
        problem = removal_problem(accounts, chosen, by) if chosen else "Choose a user first."
        if problem is None and chosen:
            try:
                accounts.remove_user(chosen, by=by, request_id=new_request_id())
            except AccountError as exc:
                problem = f"Not removed: {exc}."
        message = problem or f"Removed {chosen}."
        return (gr.Row(visible=False), *refreshed(message), "")

    confirm.click(on_confirm, [user_choice], [confirm_row, *outputs, new_groups], **private)

    def change_grant(
        collection: str | None, to: str, who: str, request: gr.Request, take_back: bool
    ) -> tuple[Any, ...]:
        by = admin_of(request)
        collection = (collection or "").strip()
        who = who.strip()
        if not collection or not who:
            return refreshed("Choose a collection and name a group or user.", None, collection)
        target = {"group": who} if to == "group" else {"user": who}
        try:
            if take_back:
                accounts.revoke(collection, **target, by=by, request_id=new_request_id())
            else:
                accounts.grant(collection, **target, by=by, request_id=new_request_id())
        except AccountError as exc:
            verb = "revoked" if take_back else "granted"
            return refreshed(f"Not {verb}: {exc}.", None, collection)
        if take_back:
            return refreshed(f"{to.title()} {who} no longer reads {collection}.", None, collection)
        return refreshed(f"{to.title()} {who} may read {collection}.", None, collection)

    def on_grant(collection: str | None, to: str, who: str, request: gr.Request) -> tuple[Any, ...]:
        return change_grant(collection, to, who, request, take_back=False)

    def on_revoke(
        collection: str | None, to: str, who: str, request: gr.Request
    ) -> tuple[Any, ...]:
        return change_grant(collection, to, who, request, take_back=True)

    grant.click(on_grant, [collection_choice, kind, principal], outputs, **private)

    revoke.click(on_revoke, [collection_choice, kind, principal], outputs, **private)

    def on_load(request: gr.Request) -> tuple[Any, ...]:
        if not logins.administers(username_of(request)):
            return gr.Tab(visible=False), [], [], gr.Dropdown(choices=[]), gr.Dropdown(choices=[])
        return gr.Tab(visible=True), *fill()

    view.on_load = on_load
    return view
