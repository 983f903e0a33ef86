"""A real OpenLDAP `slapd` (Debian's) on a loopback port, in a temporary folder, for the
directory tests: an mdb database under dc=example,dc=org loaded with `slapadd`.

`slapd` cannot bind port 0 and say which port it got, so it starts through
`start_with_port_retries` (tests/servers.py)."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from ldap3 import BASE as BASE_SCOPE
from ldap3 import MODIFY_ADD, MODIFY_DELETE, NONE, Connection, Server
from ldap3.core.exceptions import LDAPException

from tests.servers import (
    PortTaken,
    exited_on_taken_port,
    free_port,
    start_with_port_retries,
    stop_process,
)
from tests.tls import Certificates

BASE = "dc=example,dc=org"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
ADMIN = f"cn=admin,{BASE}"  # the database's root: the service account of the search tests
ADMIN_PASSWORD = "directory-admin-pw"
SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")


@dataclass(frozen=True)
class DirectoryPerson:
    """A user of the test directory and the groups (groupOfNames) they are a member of."""

    uid: str
    password: str
    groups: tuple[str, ...] = ()


@dataclass
class Slapd:
    """A running slapd and where it keeps its files."""

    url: str
    port: int
    root: Path
    process: subprocess.Popen[bytes]
    ldaps_url: str | None = None  # with certificates: TLS from the start, on a second port

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL) and wait until it has exited."""
        stop_process(self.process)


def require_slapd() -> None:
    """Skip with the install command when Debian's slapd is not there (`make system-deps`)."""
    if not (SLAPD.exists() and SLAPADD.exists()):
        pytest.skip("Debian's slapd is not installed: `make system-deps`")


def _config(root: Path, tls: Certificates | None) -> str:
    includes = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS)
    # With certificates, StartTLS and ldaps:// are offered and a password is accepted over TLS
    # only (a simple bind needs a security strength of 128: a plain bind is refused with
    # "confidentiality required").
    secure = (
        f"TLSCACertificateFile {tls.ca}\nTLSCertificateFile {tls.cert}\n"
        f"TLSCertificateKeyFile {tls.key}\nsecurity simple_bind=128\n"
        if tls
        else ""
    )
    return f"""{includes}
{secure}modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {root}/slapd.pid
database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "{ADMIN}"
rootpw {ADMIN_PASSWORD}
directory {root}/db
access to attrs=userPassword by anonymous auth by * none
access to * by * read
"""


def _ldif(people: list[DirectoryPerson]) -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
    ]
    for person in people:
        entries.append(
            f"dn: uid={person.uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {person.uid}\n"
            f"cn: {person.uid}\nsn: {person.uid}\nuserPassword: {person.password}"
        )
    groups = sorted({group for person in people for group in person.groups})
    for group in groups:
        members = [f"member: uid={p.uid},{PEOPLE}" for p in people if group in p.groups]
        entries.append(
            f"dn: cn={group},{GROUPS}\nobjectClass: groupOfNames\ncn: {group}\n"
            + "\n".join(members)
        )
    return "\n\n".join(entries) + "\n"


def start_slapd(
    root: Path,
    people: list[DirectoryPerson],
    timeout: float = 30,
    tls: Certificates | None = None,
) -> Slapd:
    """A slapd on a free loopback port serving `people`, once it accepts connections; with
    `tls`, StartTLS there and ldaps:// on a second port."""
    require_slapd()
    (root / "db").mkdir(parents=True)
    (root / "slapd.conf").write_text(_config(root, tls))
    (root / "data.ldif").write_text(_ldif(people))
    subprocess.run(
        [str(SLAPADD), "-q", "-f", str(root / "slapd.conf"), "-l", str(root / "data.ldif")],
        check=True,
        capture_output=True,
    )

    def start(port: int) -> Slapd:
        log = root / "slapd.log"
        urls = [f"ldap://127.0.0.1:{port}/"]
        ldaps = f"ldaps://127.0.0.1:{free_port()}" if tls else None
        urls += [f"{ldaps}/"] if ldaps else []
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [str(SLAPD), "-f", str(root / "slapd.conf"), "-h", " ".join(urls), "-d", "none"],
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                text = log.read_text(errors="replace")
                if exited_on_taken_port(text):
                    raise PortTaken(f"port {port}: {text[-300:]}")
                raise RuntimeError(f"slapd exited: {text[-2000:]}")
            if _serves_base(port):
                return Slapd(f"ldap://127.0.0.1:{port}", port, root, process, ldaps)
            time.sleep(0.05)
        stop_process(process)
        raise TimeoutError(f"slapd did not start: {log.read_text(errors='replace')[-2000:]}")

    return start_with_port_retries(start)


def _serves_base(port: int) -> bool:
    """Whether a directory on `port` answers an anonymous read of our base entry."""
    server = Server(f"ldap://127.0.0.1:{port}", connect_timeout=1, get_info=NONE)
    connection = Connection(server, receive_timeout=2, raise_exceptions=False)
    try:
        return bool(
            connection.bind()
            and connection.search(BASE, "(objectClass=*)", search_scope=BASE_SCOPE)
        )
    except LDAPException:
        return False
    finally:
        connection.unbind()


def set_groups(directory: Slapd, uid: str, old: str, new: str) -> None:
    """Move a user from group `old` to group `new` in the running directory (as its root; a
    groupOfNames keeps at least one member, so `old` needs another)."""
    server = Server(directory.url, get_info=NONE)
    person = f"uid={uid},{PEOPLE}"
    connection = Connection(server, ADMIN, ADMIN_PASSWORD, raise_exceptions=True)
    connection.bind()
    try:
        connection.modify(f"cn={new},{GROUPS}", {"member": [(MODIFY_ADD, [person])]})
        connection.modify(f"cn={old},{GROUPS}", {"member": [(MODIFY_DELETE, [person])]})
    finally:
        connection.unbind()


def ldap_settings(directory: Slapd, **more: str) -> dict[str, str]:
    """The `ldap_*` settings (as ASSISTANT_* values) of a test directory."""
    return {
        "ldap_url": directory.url,
        "ldap_user_dn_template": f"uid={{username}},{PEOPLE}",
        "ldap_group_search_base": GROUPS,
        "ldap_timeout": "5",
        **more,
    }
