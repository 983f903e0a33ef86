"""Users, groups and grants: a member reads only what is granted, at every Python door."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.account_types import User
from assistant.accounts import Accounts
from assistant.collections import CollectionError
from assistant.core import Assistant
from assistant.errors import AccountError
from tests.conftest import make_settings
from tests.test_collections import QUESTIONS, SALARY, write_docs

DEPLOY = "How do I deploy the billing service?"


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """hr and legal in their own collections, eng in `default`; four users."""
    docs = write_docs(tmp_path_factory.mktemp("company-docs"))
    assistant = Assistant(make_settings(tmp_path_factory.mktemp("company-index")))
    assistant.ingest([docs / "hr"], collection="hr")
    assistant.ingest([docs / "legal"], collection="legal")
    assistant.ingest([docs / "eng"])
    accounts = assistant.accounts
    accounts.add_user("alice", "alice-password", ["people"])
    accounts.add_user("bob", "bob-password", ["engineering"])
    accounts.add_user("carol", "carol-password")
    accounts.add_user("dave", "dave-password", admin=True)
    accounts.grant("hr", group="people")
    accounts.grant("default", group="engineering")
    accounts.grant("legal", user="bob")
    return assistant


def member(assistant: Assistant, name: str) -> User:
    found = assistant.accounts.user(name)
    assert found is not None
    return found


def test_the_store_keeps_users_groups_grants_and_keys(tmp_path: Path) -> None:
    keeps_users_groups_grants_and_keys(Accounts(tmp_path / "catalog.sqlite3"))


def keeps_users_groups_grants_and_keys(accounts: Accounts) -> None:
    """What any account store keeps and refuses (tests/test_replicas_postgres.py runs it on
    PostgreSQL)."""
    alice = accounts.add_user("alice", "a long password", ["people", "people", "ops"])
    assert alice == User("alice", "member", ("ops", "people"))
    with pytest.raises(AccountError, match="exists already"):
        accounts.add_user("alice", "another password")
    with pytest.raises(AccountError, match="at least 8"):
        accounts.add_user("eve", "short")
    with pytest.raises(AccountError, match="bad user name"):
        accounts.add_user("eve; drop", "a long password")
    assert accounts.verify("alice", "a long password") == alice
    assert accounts.verify("alice", "wrong password") is None
    assert accounts.verify("nobody", "a long password") is None
    assert accounts.set_groups("alice", ["ops"]).groups == ("ops",)
    accounts.grant("hr", group="ops")
    accounts.grant("hr", group="ops")  # idempotent
    accounts.grant("legal", user="alice")
    assert accounts.readable(accounts.user("alice") or alice) == frozenset({"hr", "legal"})
    with pytest.raises(AccountError, match="exactly one"):
        accounts.grant("hr")
    with pytest.raises(AccountError, match="no user 'zed'"):
        accounts.grant("hr", user="zed")
    with pytest.raises(AccountError, match="no grant"):
        accounts.revoke("hr", group="people")
    key_id, key = accounts.create_api_key("alice")
    assert accounts.user_for_key(key) == accounts.user("alice")
    assert accounts.user_for_key(key + "x") is None
    assert [k.key_id for k in accounts.api_keys()] == [key_id]
    accounts.remove_user("alice")
    assert accounts.user_for_key(key) is None  # the key went with its owner
    assert accounts.api_keys() == []
    assert all(g.kind == "group" for g in accounts.grants())  # and the personal grant
    assert accounts.readable(alice) == frozenset()  # removed since signing in: nothing


def test_a_member_is_answered_only_from_granted_collections(company: Assistant) -> None:
    alice, bob = member(company, "alice"), member(company, "bob")
    assert "95,000" in company.ask(SALARY, user=alice).text
    refused = company.ask(SALARY, user=bob)
    assert refused.refused
    assert not refused.citations
    assert not company.ask(DEPLOY, user=bob).refused
    assert company.ask(DEPLOY, user=alice).refused
    assert [c.name for c in company.collections(alice)] == ["hr"]
    assert [c.name for c in company.collections(bob)] == ["default", "legal"]
    assert {d.collection for d in company.documents(alice)} == {"hr"}


def test_a_forbidden_collection_reads_as_an_unknown_one(company: Assistant) -> None:
    alice = member(company, "alice")
    with pytest.raises(CollectionError, match=r"unknown collection 'legal' \(known: hr\)$"):
        company.ask(SALARY, collections=["legal"], user=alice)
    with pytest.raises(CollectionError, match=r"unknown collection 'nope' \(known: hr\)$"):
        company.ask(SALARY, collections=["nope"], user=alice)


def test_without_grants_nothing_is_read_and_admins_read_everything(company: Assistant) -> None:
    carol, dave = member(company, "carol"), member(company, "dave")
    for question in QUESTIONS:
        answer = company.ask(question, user=carol)
        assert answer.refused
        assert not answer.citations
    assert company.collections(carol) == []
    assert company.documents(carol) == []
    assert "95,000" in company.ask(SALARY, user=dave).text
    assert len(company.collections(dave)) == 3


def test_a_forbidden_document_reads_as_a_missing_one(company: Assistant) -> None:
    """`document_text`: the text of a document the user may read; None for one they may not
    read, exactly as for an id that does not exist."""
    by_name = {Path(r.source).name: r.doc_id for r in company.documents()}
    bob, alice = member(company, "bob"), member(company, "alice")
    salaries = by_name["salaries.md"]
    found = company.document_text(salaries, alice)
    assert found is not None
    assert "95,000" in found.text
    assert found.record.collection == "hr"
    assert company.document_text(salaries, bob) is None
    assert company.document_text("f" * 20, bob) is None
    assert company.document_text(salaries) == found  # a trusted caller
    assert company.document_text(salaries, member(company, "dave")) == found


def test_a_stored_answer_is_withheld_once_its_grant_is_revoked(company: Assistant) -> None:
    """`conversation(owner, id, user)`: an answer citing what the user may no longer read is
    replaced by a note; the rest of the conversation stays."""
    company.accounts.grant("hr", user="bob")
    try:
        bob = member(company, "bob")
        salary = company.ask(SALARY, user=bob)
        assert "95,000" in salary.text
        deploy = company.ask(DEPLOY, user=bob)
        saved = company.conversations.save_turn("user:bob", None, 0, SALARY, salary)
        company.conversations.save_turn("user:bob", saved.id, 1, DEPLOY, deploy)
        assert company.conversation("user:bob", saved.id, bob) == company.conversations.get(
            "user:bob", saved.id
        )
    finally:
        company.accounts.revoke("hr", user="bob")
    shown = company.conversation("user:bob", saved.id, bob)
    assert shown is not None
    assert [turn.question for turn in shown.turns] == [SALARY, DEPLOY]
    assert "95,000" not in shown.model_dump_json()
    assert "may not read now" in shown.turns[0].answer.text
    assert not shown.turns[0].answer.citations
    # The other answer stays, less what it listed to read on from the documents of hr: it was
    # asked while bob could read them, so its search found one.
    readable = {record.doc_id for record in company.documents(bob)}
    assert any(passage.doc_id not in readable for passage in deploy.related)
    kept = tuple(passage for passage in deploy.related if passage.doc_id in readable)
    assert shown.turns[1].answer == deploy.model_copy(update={"related": kept})
    assert company.conversation("user:alice", saved.id, member(company, "alice")) is None
    # Searching finds it by what is shown, never by the withheld answer's words.
    assert company.find_conversations("user:bob", "95,000", bob) == []
    assert [c.id for c in company.find_conversations("user:bob", "engineer EARN", bob)] == [
        saved.id
    ]
    assert [c.id for c in company.find_conversations("user:bob", "95,000")] == [saved.id]


def test_a_revoked_grant_takes_effect_on_the_next_question(company: Assistant) -> None:
    alice = member(company, "alice")
    assert not company.ask(SALARY, user=alice).refused
    company.accounts.revoke("hr", group="people")
    try:
        assert company.ask(SALARY, user=alice).refused
    finally:
        company.accounts.grant("hr", group="people")
    assert not company.ask(SALARY, user=alice).refused


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    granted=st.sets(st.sampled_from(["hr", "legal", "default"])),
    question=st.sampled_from(QUESTIONS),
    follow_up=st.booleans(),
)
def test_no_citation_ever_names_a_collection_the_member_may_not_read(
    company: Assistant, granted: set[str], question: str, follow_up: bool
) -> None:
    accounts = company.accounts
    accounts.set_groups("carol", ["probe"])
    for grant in [g for g in accounts.grants() if g.principal == "probe"]:
        accounts.revoke(grant.collection, group="probe")
    for collection in granted:
        accounts.grant(collection, group="probe")
    carol = member(company, "carol")
    # A history that quotes a forbidden document pulls nothing of it into the answer.
    history = (
        [{"role": "user", "content": SALARY},
         {"role": "assistant", "content": "The salary band is 95,000 to 120,000 euros [1]."}]
        if follow_up else []
    )  # fmt: skip
    answer = company.ask(question, history=history, user=carol)
    by_source = {d.source: d.collection for d in company.documents()}
    assert all(by_source[c.source] in granted for c in answer.citations)
    retrieval = company.retrieve(question, 10, user=carol)
    assert all(by_source[p.source] in granted for p in retrieval.passages)


def test_the_command_line_manages_users_grants_and_keys(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    index = str(tmp_path / "index")

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "assistant.cli", *args, "--index", index]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300)

    # A folder that does not exist (a mistyped --index) holds no users to list: said, not
    # shown as an empty list; the first user added makes the index, and says so.
    readers = [("users", "list"), ("api-keys", "list"), ("audit",), ("quality",)]
    for reading in [*readers, ("collections", "list"), ("collections", "revoke", "hr")]:
        nowhere = cli(*reading)
        assert nowhere.returncode == 2, reading
        assert nowhere.stderr.startswith(f"assistant: error: no index at {index}: check --index")
    assert not (tmp_path / "index").exists()
    added = cli(
        "users", "add", "alice", "--group", "people", "--password-stdin", stdin="pw-of-alice\n"
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added member alice (groups: people)"
    assert added.stderr.strip() == f"a new index at {index}, with no documents yet"
    assert cli("users", "list").returncode == 0
    no_keys = cli("api-keys", "list")
    assert (no_keys.returncode, no_keys.stdout) == (0, "")
    assert no_keys.stderr.startswith("no API keys: create one with")
    assert cli("users", "add", "alice", "--password-stdin", stdin="another-pw\n").returncode == 2
    assert cli("users", "set-groups", "alice", "--group", "ops").returncode == 0
    promoted = cli("users", "set-role", "alice", "--admin")
    assert promoted.stdout.strip() == "alice is now an admin", promoted.stderr
    assert cli("users", "set-role", "alice").returncode == 2  # neither --admin nor --member
    assert cli("users", "set-role", "nobody", "--member").returncode == 2
    assert cli("users", "set-role", "alice", "--member").stdout.strip() == "alice is now a member"
    listed = json.loads(cli("users", "list", "--json").stdout)
    assert listed == [{"name": "alice", "role": "member", "groups": ["ops"]}]
    granted = cli("collections", "grant", "hr", "--group", "ops")
    assert granted.stdout.strip() == "group ops may now read collection hr"
    assert granted.stderr.startswith("no document is in collection hr yet")
    missing = cli("collections", "grant", "hr")
    assert missing.returncode == 2
    assert "--group G | --user U" in missing.stderr
    created = cli("api-keys", "create", "--user", "alice")
    assert created.returncode == 0, created.stderr
    key_id = created.stdout.split()[1]
    assert created.stdout.split()[3].startswith("qa-")
    assert "shown only this once" in created.stderr
    assert cli("api-keys", "list").stdout.split() == [key_id, "alice"]
    assert cli("api-keys", "revoke", key_id).returncode == 0
    assert cli("api-keys", "revoke", key_id).returncode == 2
    assert Accounts(tmp_path / "index" / "catalog.sqlite3").verify("alice", "pw-of-alice")
    revoked = cli("collections", "revoke", "hr", "--group", "ops")
    assert revoked.stdout.strip() == "group ops may no longer read collection hr", revoked.stderr
    again = cli("collections", "revoke", "hr", "--group", "ops")
    assert again.returncode == 2
    assert "no grant of 'hr' to group 'ops'" in again.stderr
    kept = cli("api-keys", "create", "--user", "alice").stdout.split()[3]
    removed = cli("users", "remove", "alice")
    assert removed.stdout.strip() == "removed alice with their API keys and personal grants"
    assert json.loads(cli("users", "list", "--json").stdout) == []
    nobody = cli("users", "list")
    assert (nobody.stdout, nobody.stderr.split(":")[0]) == ("", "no users yet")
    gone = cli("users", "remove", "alice")
    assert gone.returncode == 2
    assert "no user 'alice'" in gone.stderr
    accounts = Accounts(tmp_path / "index" / "catalog.sqlite3")
    assert accounts.user_for_key(kept) is None  # a removed user's key opens nothing
    assert not accounts.verify("alice", "pw-of-alice")


def test_an_evaluation_runs_as_a_named_user(company: Assistant, tmp_path: Path) -> None:
    import io
    import json

    from assistant.evaluation.command import EvalOptions, eval_command
    from assistant.evaluation.config import EvalConfigError

    golden = tmp_path / "hr.jsonl"
    item = {"id": "salary", "question": SALARY, "must_contain_any": ["95,000"]}
    golden.write_text(json.dumps(item) + "\n", "utf-8")

    def run_as(user: str) -> dict[str, object]:
        options = EvalOptions(
            golden=(golden,), user=user, report=tmp_path / user, read_pyproject=False
        )
        assert eval_command(company.settings, options, out=io.StringIO()) == 0
        result: dict[str, object] = json.loads((tmp_path / user / "result.json").read_text())
        return result

    alice, bob = run_as("alice"), run_as("bob")
    assert alice["metrics"]["accuracy"] == 1.0  # type: ignore[index]
    assert bob["metrics"]["accuracy"] == 0.0  # type: ignore[index]
    assert bob["meta"]["user"] == "bob"  # type: ignore[index]
    # Nothing of the forbidden document reaches bob's report files (the golden item names
    # "95,000" itself; the rest of the band and the file's name are only in the document).
    assert "120,000" in json.dumps(alice)
    for written in (tmp_path / "bob").iterdir():
        text = written.read_text("utf-8", errors="replace")
        assert "120,000" not in text, written.name
        assert "salaries" not in text, written.name
    missing = EvalOptions(golden=(golden,), user="zed", report=tmp_path / "z", read_pyproject=False)
    with pytest.raises(EvalConfigError, match="no user 'zed'"):
        eval_command(company.settings, missing, out=io.StringIO())
