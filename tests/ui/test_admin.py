"""The Admin tab's tables and its rule for removing users, on a real catalog."""

from __future__ import annotations

from pathlib import Path

from assistant.account_types import ApiKeyInfo, Grant, User
from assistant.accounts import Accounts
from assistant.collections import CollectionInfo
from assistant.ui.admin import collection_rows, removal_problem, split_names, user_rows


def test_user_rows_count_each_users_api_keys() -> None:
    users = [User("zoe", "member", ("legal", "staff")), User("amy", "admin")]
    keys = [ApiKeyInfo("k1", "zoe", 0.0), ApiKeyInfo("k2", "zoe", 0.0)]
    assert user_rows(users, keys) == [["amy", "admin", "", 0], ["zoe", "member", "legal, staff", 2]]


def test_collection_rows_name_the_readers_and_granted_collections_not_indexed_yet() -> None:
    collections = [CollectionInfo("default", 3, 30), CollectionInfo("board", 1, 4)]
    grants = [Grant("default", "group", "staff"), Grant("default", "user", "amy"),
              Grant("hr", "group", "people")]  # fmt: skip
    assert collection_rows(collections, grants) == [
        ["board", 1, "admins only"],
        ["default", 3, "group staff, user amy"],
        ["hr", 0, "group people"],
    ]


def test_group_names_are_split_on_commas_and_spaces() -> None:
    assert split_names(" legal, staff  people,,") == ["legal", "staff", "people"]
    assert split_names("") == []


def test_nobody_removes_themselves(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path / "catalog.sqlite3")
    accounts.add_user("dave", "dave-password", admin=True)
    accounts.add_user("alice", "alice-password", ["staff"])
    assert (
        removal_problem(accounts, "dave", "dave")
        == "You cannot remove yourself; another admin can."
    )
    assert removal_problem(accounts, "nobody", "dave") == "There is no user 'nobody'."
    assert removal_problem(accounts, "alice", "dave") is None
    assert removal_problem(accounts, "dave", "ops") is None  # a settings login may
