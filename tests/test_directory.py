"""A directory (LDAP) as a second source of users and groups, against a real OpenLDAP slapd."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from assistant.account_types import User
from assistant.accounts import Accounts
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
from tests.tls import Certificates, make_certificates

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


@pytest.fixture(scope="module")
def tls_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Slapd, Certificates]]:
    """A slapd offering StartTLS and ldaps:// with a test CA's certificate, which accepts a
    password over TLS only."""
    root = tmp_path_factory.mktemp("slapd-tls")
    certificates = make_certificates(root / "tls")
    directory = start_slapd(root / "server", PEOPLE_LIST, tls=certificates)
    yield directory, certificates
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


def test_members_of_the_admin_groups_are_admins(ldap_server: Slapd, tmp_path: Path) -> None:
    accounts = accounts_with(tmp_path, ldap_server, ldap_admin_groups="engineering,legal")
    dave = accounts.verify("dave", "dave-directory-pw")
    carol = accounts.verify("carol", "carol-directory-pw")
    assert dave is not None
    assert carol is not None
    assert (dave.role, dave.groups) == ("admin", ("engineering", "people"))
    assert carol.role == "member"
    assert accounts.readable(dave) is None  # every collection
    assert accounts.readable(carol) == frozenset()  # no grant to `people` here
    frank = accounts.user("frank")  # looked up, not signed in: the same rule
    assert frank is not None
    assert frank.admin
    without = accounts_with(tmp_path / "plain", ldap_server).user("frank")
    assert without is not None
    assert not without.admin  # no admin groups set: directory users are members


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


def test_start_tls_sends_the_password_over_tls_only(
    tls_directory: tuple[Slapd, Certificates], tmp_path: Path
) -> None:
    directory, certificates = tls_directory
    plain = accounts_with(tmp_path / "plain", directory)
    with pytest.raises(DirectoryUnavailableError, match=r"confidentiality.*set ldap_start_tls"):
        plain.verify("carol", "carol-directory-pw")  # refused in clear, not a wrong password
    secure = accounts_with(
        tmp_path / "tls", directory, ldap_start_tls=True, ldap_ca_file=certificates.ca
    )
    carol = secure.verify("carol", "carol-directory-pw")
    assert carol is not None
    assert carol.groups == ("people",)
    assert secure.verify("carol", "not-her-password") is None


def test_ldaps_checks_the_certificate_too(
    tls_directory: tuple[Slapd, Certificates], tmp_path: Path
) -> None:
    directory, certificates = tls_directory
    assert directory.ldaps_url is not None
    accounts = accounts_with(
        tmp_path, directory, ldap_url=directory.ldaps_url, ldap_ca_file=certificates.ca
    )
    dave = accounts.verify("dave", "dave-directory-pw")
    assert dave is not None
    assert dave.groups == ("engineering", "people")


def test_a_certificate_no_trusted_ca_signed_is_refused(
    tls_directory: tuple[Slapd, Certificates], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory, _ = tls_directory
    assert directory.ldaps_url is not None
    other_ca = make_certificates(tmp_path / "other").ca
    ways = [
        {"ldap_start_tls": True, "ldap_ca_file": other_ca},
        {"ldap_start_tls": True},  # the system's CAs do not know the test CA
        {"ldap_url": directory.ldaps_url, "ldap_ca_file": other_ca},
        {"ldap_url": directory.ldaps_url},
    ]
    with caplog.at_level(logging.WARNING):
        for number, way in enumerate(ways):
            accounts = accounts_with(tmp_path / str(number), directory, **way)
            with pytest.raises(DirectoryUnavailableError, match="TLS handshake"):
                accounts.verify("carol", "carol-directory-pw")
    assert "carol-directory-pw" not in caplog.text


def test_a_certificate_for_another_host_name_is_refused(tmp_path: Path) -> None:
    certificates = make_certificates(tmp_path / "tls", names="DNS:ldap.elsewhere.example")
    directory = start_slapd(tmp_path / "server", PEOPLE_LIST, tls=certificates)
    try:
        for way in ({"ldap_start_tls": True}, {"ldap_url": directory.ldaps_url}):
            accounts = accounts_with(
                tmp_path / str(way), directory, ldap_ca_file=certificates.ca, **way
            )
            with pytest.raises(DirectoryUnavailableError, match="TLS handshake"):
                accounts.verify("carol", "carol-directory-pw")
    finally:
        directory.stop()


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
    with pytest.raises(ValidationError, match="ldaps:// is TLS already"):
        Settings.model_validate(
            {**base, "ldap_url": "ldaps://127.0.0.1:636", "ldap_user_search_base": BASE,
             "ldap_start_tls": True}
        )  # fmt: skip
    with pytest.raises(ValidationError, match="is not a file"):
        Settings.model_validate(
            {**base, "ldap_user_search_base": BASE, "ldap_ca_file": "/nonexistent/ca.pem"}
        )
    secret = Settings.model_validate(
        {**base, "ldap_user_search_base": BASE, "ldap_bind_password": "service-secret-77"}
    )
    assert "service-secret-77" not in repr(secret)
    assert "service-secret-77" not in secret.model_dump_json()
