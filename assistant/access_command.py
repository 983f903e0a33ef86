"""The access commands: `collections` (who may read which collection), `users`, `api-keys`,
`hash-password` and `hash-api-key`: their options and output."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.account_types import check_account_name, check_password
from assistant.command_options import add_index_option, index_folder_missing, require_index_folder
from assistant.errors import UsageError
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.collections import CollectionInfo

MIN_API_KEY_CHARS = 20


def add_access_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The access subcommands and their options."""
    collections = commands.add_parser(
        "collections",
        help="list collections; grant or revoke reading them",
        description="List the collections of the index with their documents, passages and "
        "grants, or grant (revoke) reading one to a group or a user (docs/teams.md). Files go "
        "into a collection with `assistant ingest PATH --collection NAME` or the "
        "collection_folders setting. Grants apply from the next question on.",
    )
    collections.add_argument(
        "action", nargs="?", default="list", choices=("list", "grant", "revoke")
    )
    collections.add_argument("name", nargs="?", metavar="NAME", help="the collection")
    who = collections.add_mutually_exclusive_group()
    who.add_argument("--group", metavar="G", help="grant to (revoke from) this group")
    who.add_argument("--user", metavar="U", help="grant to (revoke from) this user")
    add_index_option(collections)
    collections.add_argument("--json", action="store_true", help="print one JSON array")

    users = commands.add_parser(
        "users",
        help="manage users and their groups",
        description="Users sign in to the web chat and own personal API keys; an admin reads "
        "every collection, a member the collections granted to their groups or to them "
        "(docs/teams.md). The password is asked twice on a terminal, or read as one line from "
        "standard input with --password-stdin. These are the catalog's own users: directory "
        "(LDAP) users sign in without being added, as members of their directory groups (admins "
        "when in ldap_admin_groups).",
    )
    users.add_argument("action", choices=("add", "list", "remove", "set-groups", "set-role"))
    users.add_argument("name", nargs="?", metavar="NAME", help="the user")
    users.add_argument(
        "--group", action="append", default=[], metavar="G", help="a group (repeat for several)"
    )
    role = users.add_mutually_exclusive_group()
    role.add_argument("--admin", action="store_true", help="make the user an admin")
    role.add_argument("--member", action="store_true", help="make the user a member (set-role)")
    users.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add_index_option(users)
    users.add_argument("--json", action="store_true", help="list as one JSON array")

    api_keys = commands.add_parser(
        "api-keys",
        help="personal API keys of users",
        description="Create a key for a catalog user (printed once; requests with it read what the "
        "user may read), list keys (ids and owners, never the keys) or revoke one by id. "
        "Keys of the api_keys setting stay service keys that read everything.",
    )
    api_keys.add_argument("action", choices=("create", "list", "revoke"))
    api_keys.add_argument("key_id", nargs="?", metavar="ID", help="the key to revoke")
    api_keys.add_argument("--user", metavar="NAME", help="the key's owner (create)")
    add_index_option(api_keys)

    hash_password = commands.add_parser(
        "hash-password",
        help="make a password hash for a web chat login",
        description="Print a scrypt hash of a password for the auth_users setting or an "
        "auth_file line (see docs/ui.md). The password is read from the terminal without "
        "echo (asked twice), or as one line from standard input when piped.",
    )
    hash_password.add_argument(
        "--username", metavar="NAME", help="print a `NAME:hash` line ready for auth_file"
    )

    hash_api_key = commands.add_parser(
        "hash-api-key",
        help="make an API key and its hash for the api_keys setting",
        description="Print a new random API key (give it to the client; it is shown only "
        "once) and its SHA-256 hash, sha256$<hex> (put that in the api_keys setting under a "
        "name of your choice; see docs/api.md). With --stdin, hash a key read as one line from "
        "standard input instead and print only the hash: the way to re-hash a key whose "
        "setting still holds a deprecated scrypt$ hash.",
    )
    hash_api_key.add_argument(
        "--stdin", action="store_true", help="hash a key from standard input (20+ characters)"
    )


def collections_command(settings: Settings, args: argparse.Namespace) -> int:
    """`assistant collections`: list them with their readers, or grant or revoke reading."""
    from assistant.accounts import Accounts

    _takes_no_name(f"collections {args.action}", args.action == "list", args.name)
    if args.action != "grant":
        require_index_folder(settings)  # a grant may come before the documents
    accounts = Accounts.from_settings(settings)
    if args.action in ("grant", "revoke"):
        if not args.name or not (args.group or args.user):
            raise UsageError(
                f"usage: assistant collections {args.action} NAME --group G | --user U"
            )
        change = accounts.grant if args.action == "grant" else accounts.revoke
        change(args.name, group=args.group, user=args.user)
        whom = f"group {args.group}" if args.group else f"user {args.user}"
        verb = "may now read" if args.action == "grant" else "may no longer read"
        print(f"{whom} {verb} collection {args.name}")
        if args.action == "grant" and args.name not in {c.name for c in _indexed(settings)}:
            # a mistyped name must not pass unseen
            print(
                f"no document is in collection {args.name} yet: the grant applies to what "
                f"`assistant ingest --collection {args.name}` adds",
                file=sys.stderr,
            )
        return 0
    found = _indexed(settings)
    grants: dict[str, list[str]] = {}
    for grant in accounts.grants():
        grants.setdefault(grant.collection, []).append(f"{grant.kind} {grant.principal}")
    if args.json:
        rows = [
            {"name": c.name, "documents": c.documents, "passages": c.chunks,
             "grants": grants.get(c.name, [])}
            for c in found
        ]  # fmt: skip
        print(json.dumps(rows, ensure_ascii=False))
    elif not found:
        print(f"no documents indexed in {settings.index_dir}")
    else:
        width = max(len(c.name) for c in found)
        for c in found:
            readers = ", ".join(grants.get(c.name, [])) or "admins only"
            print(f"{c.name:<{width}}  {c.documents} documents, {c.chunks} passages; {readers}")
    return 0


def _indexed(settings: Settings) -> list[CollectionInfo]:
    """The collections that hold documents (the pipeline loaded only for the commands that
    ask: a revoke does not)."""
    from assistant.core import Assistant

    return Assistant(settings).collections()


def _stdin_line() -> str:
    """One line of standard input, which must be UTF-8 text (a password or key is hashed as
    UTF-8: undecodable bytes would fail there, as a traceback)."""
    raw = sys.stdin.readline()
    if not raw:
        raise UsageError(
            "standard input ended before a line: pipe the secret in, or run the command in a "
            "terminal to be asked for it"
        )
    line = raw.rstrip("\r\n")
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("standard input is not UTF-8 text") from None
    return line


def _read_new_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return _stdin_line()
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat it: ") != password:
        raise UsageError("the passwords differ")
    return password


def _takes_no_name(command: str, nameless: bool, given: str | None) -> None:
    """Refuse a name given to an action that takes none (`collections list nope` listed every
    collection, as if the name had been read)."""
    if nameless and given is not None:
        raise UsageError(f"`assistant {command}` takes no name (got {given!r})")


def users_command(settings: Settings, args: argparse.Namespace) -> int:
    """`assistant users`: list, add, remove, set the role or the groups of a user."""
    from assistant.accounts import Accounts

    _takes_no_name(f"users {args.action}", args.action == "list", args.name)
    # accounts may come before the documents, but a mistyped --index must not pass unseen
    new_index = args.action == "add" and index_folder_missing(settings)
    if args.action != "add":
        require_index_folder(settings)
    accounts = Accounts.from_settings(settings)
    if args.action == "list":
        found = accounts.users()
        if args.json:
            rows = [{"name": u.name, "role": u.role, "groups": list(u.groups)} for u in found]
            print(json.dumps(rows, ensure_ascii=False))
        for user in [] if args.json else found:
            print(f"{user.name}  {user.role}  groups: {', '.join(user.groups) or '-'}")
        if not found and not args.json:
            print("no users yet: add one with `assistant users add NAME`", file=sys.stderr)
        return 0
    if not args.name:
        raise UsageError(f"usage: assistant users {args.action} NAME")
    if args.action == "add":
        user = accounts.add_user(
            args.name, _read_new_password(args.password_stdin), args.group, args.admin
        )
        print(f"added {user.role} {user.name} (groups: {', '.join(user.groups) or '-'})")
        if new_index:
            print(f"a new index at {settings.index_dir}, with no documents yet", file=sys.stderr)
    elif args.action == "remove":
        accounts.remove_user(args.name)
        print(f"removed {args.name} with their API keys and personal grants")
    elif args.action == "set-role":
        if args.admin == args.member:
            raise UsageError("usage: assistant users set-role NAME --admin | --member")
        user = accounts.set_role(args.name, admin=args.admin)
        print(f"{user.name} is now {'an' if user.admin else 'a'} {user.role}")
    else:
        user = accounts.set_groups(args.name, args.group)
        print(f"{user.name} is now in: {', '.join(user.groups) or 'no group'}")
    return 0


def api_keys_command(settings: Settings, args: argparse.Namespace) -> int:
    """`assistant api-keys`: create, list or revoke users' personal API keys."""
    from assistant.accounts import Accounts

    _takes_no_name(f"api-keys {args.action}", args.action in ("create", "list"), args.key_id)
    require_index_folder(settings)
    accounts = Accounts.from_settings(settings)
    if args.action == "create":
        if not args.user:
            raise UsageError("usage: assistant api-keys create --user NAME")
        key_id, key = accounts.create_api_key(args.user)
        print(f"id:  {key_id}")
        print(f"key: {key}")
        print("the key is shown only this once: give it to its user now", file=sys.stderr)
    elif args.action == "list":
        keys = accounts.api_keys()
        for info in keys:
            print(f"{info.key_id}  {info.user}")
        if not keys:
            print(
                "no API keys: create one with `assistant api-keys create --user NAME`",
                file=sys.stderr,
            )
    else:
        if not args.key_id:
            raise UsageError("usage: assistant api-keys revoke ID")
        accounts.revoke_api_key(args.key_id)
        print(f"revoked {args.key_id}")
    return 0


def hash_password_command(settings: Settings, args: argparse.Namespace) -> int:
    """`assistant hash-password`: a scrypt hash of a password read without echo."""
    from assistant.security import hash_password

    password = _read_new_password(from_stdin=False)
    if not password:
        raise UsageError("the password is empty")
    check_password(password)
    if args.username is not None:
        check_account_name(args.username)  # an auth_file line is `NAME:hash`: no ":" in NAME
    encoded = hash_password(password)
    print(f"{args.username}:{encoded}" if args.username else encoded)
    return 0


def hash_api_key_command(settings: Settings, args: argparse.Namespace) -> int:
    """`assistant hash-api-key`: a new API key and its hash, or the hash of a given key."""
    from assistant.security import hash_api_key, new_api_key

    if not args.stdin:
        key = new_api_key()
        print(f"key:  {key}")
        print(f"hash: {hash_api_key(key)}")
        return 0
    key = _stdin_line().strip()
    if len(key) < MIN_API_KEY_CHARS:
        raise UsageError(
            f"an API key needs at least {MIN_API_KEY_CHARS} characters; "
            "leave out --stdin to make a random one"
        )
    print(hash_api_key(key))
    return 0


ACCESS_COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "collections": collections_command,
    "users": users_command,
    "api-keys": api_keys_command,
    "hash-password": hash_password_command,
    "hash-api-key": hash_api_key_command,
}
