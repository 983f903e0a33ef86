"""A directory (LDAP) as a second source of users and groups, against a real OpenLDAP slapd."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from assistant.accounts import Accounts, User
from assistant.directory import Directory, DirectoryConfig
from assistant.errors import DirectoryUnavailableError
from assistant.settings import Settings
from tests.conftest import make_settings
from tests.ldap_server import (
    ADMIN,
    ADMIN_PASSWORD,
    BASE,
    GROUPS,
    PEOPLE,
    DirectoryPerson,
    Slapd,
    ldap_settings,
    set_groups,
    start_slapd,
)
from tests.servers import refused_port

PEOPLE_LIST = [
    DirectoryPerson("carol", "carol-directory-pw", ("people",)),
    DirectoryPerson("dave", "dave-directory-pw", ("engineering", "people")),
    DirectoryPerson("erin", "erin-directory-pw", ("engineering",)),
    DirectoryPerson("frank", "frank-directory-pw", ("legal",)),
]


@pytest.fixture(scope="module")
def ldap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    directory = start_slapd(tmp_path_factory.mktemp("slapd"), PEOPLE_LIST)
    yield directory
    directory.stop()


def accounts_with(tmp_path: Path, directory: Slapd, **more: object) -> Accounts:
    """Accounts of a fresh catalog with the test directory, through the real settings."""
    values: dict[str, object] = {**ldap_settings(directory), **more}
    return Accounts.from_settings(make_settings(tmp_path / "index", **values))


def test_a_directory_user_signs_in_with_their_directory_password(
    ldap_server: Slapd, tmp_path: Path
) -> None:
    accounts = accounts_with(tmp_path, ldap_server)
    carol = accounts.verify("carol", "carol-directory-pw")
    assert carol is not None
    assert (carol.name, carol.role, carol.groups) == ("carol", "member", ("people",))
    dave = accounts.verify("dave", "dave-directory-pw")
    assert dave is not None
    assert dave.groups == ("engineering", "people")
    # A wrong password, an empty one (an unauthenticated bind would succeed), a name the
    # directory does not have, and filter or DN syntax in the name sign nobody in.
    assert accounts.verify("carol", "dave-directory-pw") is None
    assert accounts.verify("carol", "") is None
    assert accounts.verify("mallory", "carol-directory-pw") is None
    assert accounts.verify("carol)(uid=*", "carol-directory-pw") is None
    assert accounts.verify("carol,ou=people", "carol-directory-pw") is None


def test_directory_groups_feed_the_same_grants_as_local_groups(
    ldap_server: Slapd, tmp_path: Path
) -> None:
    accounts = accounts_with(tmp_path, ldap_server)
    accounts.add_user("root", "local-admin-pw", admin=True)
    accounts.grant("hr", group="people")
    accounts.grant("eng", group="engineering")
    accounts.grant("legal", user="erin")  # a directory user named in a grant
    carol = accounts.verify("carol", "carol-directory-pw")
    erin = accounts.verify("erin", "erin-directory-pw")
    assert carol is not None
    assert erin is not None
    assert accounts.readable(carol) == frozenset({"hr"})
    assert accounts.readable(erin) == frozenset({"eng", "legal"})
    assert accounts.user("carol") == carol  # looked up again on every question
    assert accounts.any_users()  # a directory closes the API and the chat behind logins
    assert [u.name for u in accounts.users()] == ["root"]  # the catalog's own users only
    with pytest.raises(Exception, match="directory users sign in instead"):
        accounts.create_api_key("carol")


def test_group_changes_apply_once_the_cache_expires(ldap_server: Slapd, tmp_path: Path) -> None:
    fresh = accounts_with(tmp_path / "fresh", ldap_server, ldap_cache_seconds=0)
    cached = accounts_with(tmp_path / "cached", ldap_server, ldap_cache_seconds=3600)
    assert cached.verify("dave", "dave-directory-pw") is not None
    set_groups(ldap_server, "dave", old="people", new="legal")
    try:
        fresh_dave = fresh.user("dave")
        cached_dave = cached.user("dave")
        assert fresh_dave is not None
        assert cached_dave is not None
        assert fresh_dave.groups == ("engineering", "legal")
        assert cached_dave.groups == ("engineering", "people")  # read at sign-in, kept
    finally:
        set_groups(ldap_server, "dave", old="legal", new="people")


def test_users_found_by_a_search_with_a_service_account(ldap_server: Slapd, tmp_path: Path) -> None:
    accounts = accounts_with(
        tmp_path,
        ldap_server,
        ldap_user_dn_template=None,
        ldap_user_search_base=PEOPLE,
        ldap_bind_dn=ADMIN,
        ldap_bind_password=ADMIN_PASSWORD,
    )
    erin = accounts.verify("erin", "erin-directory-pw")
    assert erin is not None
    assert erin.groups == ("engineering",)
    assert accounts.verify("erin", "wrong-password") is None
    assert accounts.verify("nobody-here", "erin-directory-pw") is None
    looked_up = accounts.user("carol")  # without her password: the service account reads
    assert looked_up is not None
    assert looked_up.groups == ("people",)
    refused = Directory(
        DirectoryConfig(
            ldap_server.url,
            user_search_base=PEOPLE,
            bind_dn=ADMIN,
            bind_password=SecretStr("not the admin password"),
        )
    )
    with pytest.raises(DirectoryUnavailableError, match=r"refused the bind of the service"):
        refused.authenticate("erin", "erin-directory-pw")


def test_an_unreachable_directory_is_an_error_not_a_wrong_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = start_slapd(tmp_path / "slapd", PEOPLE_LIST)
    accounts = accounts_with(tmp_path, directory, ldap_cache_seconds=0)
    accounts.add_user("root", "local-admin-pw", admin=True)
    assert accounts.verify("carol", "carol-directory-pw") is not None
    directory.stop()
    with refused_port(directory.port), caplog.at_level(logging.WARNING):
        with pytest.raises(DirectoryUnavailableError, match="cannot be reached") as raised:
            accounts.verify("carol", "carol-directory-pw")
        assert directory.url in str(raised.value)
        # The local admin signs in without the directory; carol, signed in before, reads
        # nothing until it is back.
        root = accounts.verify("root", "local-admin-pw")
        assert root is not None
        assert root.admin
        assert accounts.user("carol") is None
        assert accounts.readable(carol_as_signed_in()) == frozenset()
    assert "carol-directory-pw" not in caplog.text


def carol_as_signed_in() -> User:
    return User("carol", "member", ("people",))


def test_settings_need_one_way_to_find_a_user() -> None:
    base = {"ldap_url": "ldap://127.0.0.1:389", "ldap_group_search_base": GROUPS}
    with pytest.raises(ValidationError, match="exactly one of"):
        Settings.model_validate(base)
    with pytest.raises(ValidationError, match="exactly one of"):
        Settings.model_validate(
            {
                **base,
                "ldap_user_dn_template": f"uid={{username}},{PEOPLE}",
                "ldap_user_search_base": BASE,
            }
        )
    with pytest.raises(ValidationError, match=r"needs \{username\}"):
        Settings.model_validate({**base, "ldap_user_dn_template": f"uid=x,{PEOPLE}"})
    with pytest.raises(ValidationError, match="ldap_url"):
        Settings.model_validate({"ldap_url": "http://example.org", "ldap_user_search_base": BASE})
    secret = Settings.model_validate(
        {**base, "ldap_user_search_base": BASE, "ldap_bind_password": "service-secret-77"}
    )
    assert "service-secret-77" not in repr(secret)
    assert "service-secret-77" not in secret.model_dump_json()
