"""deploy/: Debian's nginx with the shipped site (TLS, affinity, streaming, body limit) in front of
two `assistant serve` replicas sharing one index (a real `chroma run` and the catalog), fed by an
ingest job; the systemd units checked by `systemd-analyze verify`; the settings example valid."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from dotenv import dotenv_values

from assistant import Settings
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, SEEDS
from tests.servers import (
    PortTaken,
    Server,
    free_port,
    launch_server,
    server_env,
    start_chroma,
    start_with_port_retries,
    stop_process,
    stop_server,
)
from tests.tls import Certificates, make_certificates, spki_pin
from tests.ui.conftest import PageLog, chat_page
from tests.ui.test_browser import QUESTION, ask
from tests.ui.test_conversations_browser import check_first_citation

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
NGINX = "/usr/sbin/nginx"
FACT = "Visitors to the Leeds office park in bay C, behind the loading dock."
PARKING_QUESTION = "Where do visitors to the Leeds office park?"


# -- the stack -------------------------------------------------------------------------------


@dataclass
class Stack:
    """The ingest job's settings, two replicas and nginx in front of them."""

    env: dict[str, str]
    docs: Path
    replicas: list[Server]
    https: str  # nginx's TLS address, ends with "/"
    http: str  # nginx's plain address, ends with "/"
    nginx_log: Path
    ca: Path  # the test CA that signed nginx's certificate
    cert: Path  # nginx's certificate

    def client(self) -> httpx.Client:
        """An HTTP client that trusts the test CA (and checks the name: 127.0.0.1)."""
        trust = ssl.create_default_context(cafile=str(self.ca))
        return httpx.Client(verify=trust, timeout=120, follow_redirects=False)

    def ask(self, base: str, question: str, tag: str = "") -> dict[str, Any]:
        """POST /v1/ask at `base` (nginx or a replica) and the answer's JSON (`tag`: a query
        parameter the API ignores, to find the request in nginx's log)."""
        with self.client() as http:
            query = f"?tag={tag}" if tag else ""
            response = http.post(base + "v1/ask" + query, json={"question": question})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def ingest(self) -> None:
        """The ingest job: `assistant sync` of the document folder with the replicas' settings."""
        result = subprocess.run(
            [sys.executable, "-m", "assistant.cli", "sync"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr


def site_config(
    replica_ports: list[int], https_port: int, http_port: int, tls: Certificates
) -> str:
    """The shipped site with only its addresses, ports and certificate paths changed."""
    site = (DEPLOY / "nginx" / "assistant.conf").read_text(encoding="utf-8")
    for shipped, port in zip(("7861", "7862"), replica_ports, strict=True):
        site, count = re.subn(rf"server 127\.0\.0\.1:{shipped}\b", f"server 127.0.0.1:{port}", site)
        assert count == 1, shipped
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "/etc/ssl/certs/assistant.example.com.pem": str(tls.cert),
        "/etc/ssl/private/assistant.example.com.key": str(tls.key),
    }
    for old, new in replacements.items():
        assert old in site, old
        site = site.replace(old, new)
    return site


def start_nginx(root: Path, site: str) -> subprocess.Popen[bytes]:
    """Debian's nginx in the foreground with its own prefix, logs and temporary folders."""
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / "tmp" / name).mkdir(parents=True, exist_ok=True)
    (root / "site.conf").write_text(site, encoding="utf-8")
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers may read our temp files
    temp_paths = "".join(
        f"  {name}_temp_path {root}/tmp/{name};\n" for name in ("proxy", "fastcgi", "uwsgi", "scgi")
    )
    (root / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {root}/nginx.pid;\n"
        f"error_log {root}/error.log info;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n  log_format upstream '$request $status $upstream_addr';\n"
        f"  access_log {root}/access.log upstream;\n  client_body_temp_path {root}/tmp/body;\n"
        f"{temp_paths}  include {root}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    log = root / "error.log"
    start = log.stat().st_size if log.exists() else 0
    process = subprocess.Popen(
        [NGINX, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    # Listening once the pid file is written; a taken port is PortTaken (retried elsewhere).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (root / "nginx.pid").exists():
            return process
        if process.poll() is not None:
            text = log.read_bytes()[start:].decode(errors="replace")
            if "address already in use" in text.lower():
                raise PortTaken(text[-300:])
            raise RuntimeError(f"nginx exited: {text[-2000:]}")
        time.sleep(0.1)
    stop_process(process)
    raise TimeoutError("nginx did not start")


def start_nginx_on(
    root: Path, replica_ports: list[int], https_port: int, tls: Certificates
) -> tuple[int, int, subprocess.Popen[bytes]]:
    """nginx on `https_port` and another port free now for plain HTTP (both retried together
    when either was taken before nginx bound it)."""
    http_port = free_port()
    site = site_config(replica_ports, https_port, http_port, tls)
    return https_port, http_port, start_nginx(root, site)


def behind_nginx(
    root: Path, env: dict[str, str], docs: Path, replicas: list[Server]
) -> tuple[Stack, subprocess.Popen[bytes]]:
    """nginx with the shipped site (a test certificate) in front of the running replicas, and
    the stack they make with the ingest job's settings."""
    tls = make_certificates(root / "tls")
    ports = [int(r.url.rsplit(":", 1)[1].rstrip("/")) for r in replicas]
    nginx_root = root / "nginx"
    https_port, http_port, nginx = start_with_port_retries(
        lambda port: start_nginx_on(nginx_root, ports, port, tls)
    )
    stack = Stack(
        env,
        docs,
        replicas,
        f"https://127.0.0.1:{https_port}/",
        f"http://127.0.0.1:{http_port}/",
        nginx_root / "error.log",
        tls.ca,
        tls.cert,
    )
    return stack, nginx


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not Path(NGINX).exists():
        pytest.fail(f"{NGINX} is missing: run `make system-deps`")
    root = tmp_path_factory.mktemp("deploy")
    chroma_port, chroma = start_with_port_retries(
        lambda port: (port, start_chroma(port, root / "chroma", root / "chroma.log"))
    )
    docs, index_dir, data_dir = root / "docs", root / "index", root / "data"
    shutil.copytree(SEEDS, docs)
    env = server_env(
        root,
        data_dir,
        index_dir=str(index_dir),
        sources=str(docs),
        chroma_mode="http",
        chroma_port=str(chroma_port),
    )
    processes: list[subprocess.Popen[bytes]] = [chroma]
    replicas: list[Server] = []
    try:
        Stack(env, docs, [], "", "", root, root, root).ingest()
        for name in ("one", "two"):
            (root / name).mkdir()
            replicas.append(
                launch_server(
                    [sys.executable, "-m", "assistant.cli", "serve"],
                    root / name,
                    index_dir,
                    data_dir,
                    env,
                    "healthz",
                )
            )
        stack, nginx = behind_nginx(root, env, docs, replicas)
        processes.append(nginx)
        with stack.client() as http:
            deadline = time.monotonic() + 60
            while http.get(stack.https + "healthz").status_code != 200:
                assert time.monotonic() < deadline, stack.nginx_log.read_text()
                time.sleep(0.5)
        yield stack
    finally:
        for replica in replicas:
            stop_server(replica)
        for process in reversed(processes):
            stop_process(process)


def served_by(stack: Stack, tag: str) -> str:
    """The replica (host:port) nginx's log shows answered the /v1/ask request sent with
    `?tag=<tag>`, once its line is there (nginx writes it after the client has the response).
    The test's log format ends with the replica, or the replicas tried in turn: the last one
    answered."""
    deadline = time.monotonic() + 30
    while True:
        lines = (stack.nginx_log.parent / "access.log").read_text().splitlines()
        found = [line for line in lines if line.startswith(f"POST /v1/ask?tag={tag} ")]
        if found:
            return found[0].rsplit(" ", 1)[-1]
        assert time.monotonic() < deadline, lines[-5:]
        time.sleep(0.05)


# -- through nginx ---------------------------------------------------------------------------


def test_the_api_answers_and_streams_through_nginx_over_tls(stack: Stack) -> None:
    body = stack.ask(stack.https, QUESTION)
    assert "Ant Group" in body["answer"]
    assert body["citations"]
    assert not body["refused"]

    events: list[str] = []
    with (
        stack.client() as http,
        http.stream(
            "POST",
            stack.https + "v1/chat/completions",
            json={"messages": [{"role": "user", "content": QUESTION}], "stream": True},
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert len(events) >= 3  # the role, the content and the finish, each its own event
    assert any("Ant Group" in event for event in events)


def test_plain_http_is_sent_to_https(stack: Stack) -> None:
    with stack.client() as http:
        response = http.get(stack.http + "healthz")
    assert response.status_code == 301
    assert response.headers["location"].startswith("https://")


def test_a_body_over_the_upload_limit_is_refused_by_nginx(stack: Stack) -> None:
    with stack.client() as http:
        response = http.post(
            stack.https + "v1/ask",
            content=b"x" * (22 * 1024 * 1024),  # the site allows 21m
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 413
    assert "nginx" in response.text  # nginx's own page: the body never reached a replica
    assert "client intended to send too large body" in stack.nginx_log.read_text()


def test_both_replicas_answer_from_what_the_ingest_job_commits(stack: Stack) -> None:
    note = stack.docs / "parking.md"
    note.write_text(f"# Visitor parking\n\n{FACT}\n", encoding="utf-8")
    try:
        stack.ingest()
        answers = [
            stack.ask(base, PARKING_QUESTION)
            for base in (*[r.url for r in stack.replicas], stack.https)
        ]
        for answer in answers:
            assert "bay C" in answer["answer"], answer
            assert answer["citations"][0]["source"].endswith("parking.md")
        first = [(c["source"], c["start"], c["end"], c["quote"]) for c in answers[0]["citations"]]
        for answer in answers[1:]:
            assert [
                (c["source"], c["start"], c["end"], c["quote"]) for c in answer["citations"]
            ] == first
    finally:
        note.unlink()
    stack.ingest()
    for base in (*[r.url for r in stack.replicas], stack.https):
        answer = stack.ask(base, PARKING_QUESTION)
        assert "bay C" not in answer["answer"]
        assert not any(c["source"].endswith("parking.md") for c in answer["citations"])


@pytest.fixture
def pinned_browser(stack: Stack, browser: Any) -> Iterator[Any]:
    """Debian's Chromium that accepts nginx's test certificate from its first connection on
    (its key pinned on the command line; Playwright's per-context `ignore_https_errors` alone
    let a connection made early fail now and then with "certificate unknown"). Launched by the
    session's Playwright (a second one cannot start in the same thread)."""
    pin = f"--ignore-certificate-errors-spki-list={spki_pin(stack.cert)}"
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, pin]
    )
    yield chromium
    chromium.close()


def test_the_chat_works_through_nginx_in_a_browser(stack: Stack, pinned_browser: Any) -> None:
    """The chat's join and event stream reach the same replica (affinity), its file routes and
    links work behind TLS, and the citation opens the exact passage."""
    front = Server(
        stack.https,
        stack.replicas[0].index_dir,
        stack.replicas[0].data_dir,
        stack.nginx_log,
        stack.replicas[0].process,
    )
    log = PageLog()
    viewport = {"width": 1280, "height": 800}
    with chat_page(pinned_browser, front, log, viewport, trust_any_certificate=True) as page:
        answer = ask(page, QUESTION)
        assert "Ant Group" in answer.inner_text()
        check_first_citation(page, front)


def test_a_stopped_replica_is_routed_around(stack: Stack) -> None:
    """Last in this module: it stops the replica nginx sends this client to."""
    stack.ask(stack.https, QUESTION, tag="first")
    replicas = [replica.url[len("http://") : -1] for replica in stack.replicas]
    chosen = replicas.index(served_by(stack, "first"))
    stop_server(stack.replicas[chosen])
    for n in range(3):
        assert "Ant Group" in stack.ask(stack.https, QUESTION, tag=f"after-{n}")["answer"]
        assert served_by(stack, f"after-{n}") == replicas[1 - chosen]


# -- systemd units and the settings example --------------------------------------------------


def units() -> list[Path]:
    return sorted((DEPLOY / "systemd").iterdir())


def test_the_systemd_units_pass_systemd_analyze(tmp_path: Path) -> None:
    """Every unit verifies without a warning, with the programs it starts at their real paths."""
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: run `make system-deps`")
    bin_dir = Path(sys.executable).parent
    names = []
    for unit in units():
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/opt/assistant/.venv/bin/", f"{bin_dir}/")
        text = text.replace("/etc/assistant/assistant.env", str(DEPLOY / "assistant.env.example"))
        name = unit.name.replace("@.", "@7861.")
        (tmp_path / name).write_text(text, encoding="utf-8")
        names.append(name)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_units_start_real_commands_with_real_options() -> None:
    """Each `assistant` command line of a unit names a subcommand and options its --help lists."""
    seen = 0
    for unit in units():
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read_string(unit.read_text(encoding="utf-8"))
        if not parser.has_option("Service", "ExecStart"):
            continue
        words = shlex.split(parser.get("Service", "ExecStart"))
        if not words[0].endswith("/assistant"):
            assert words[0].endswith("/chroma"), unit.name
            assert words[1] == "run", unit.name
            continue
        seen += 1
        usage = subprocess.run(
            [sys.executable, "-m", "assistant.cli", words[1], "--help"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert usage.returncode == 0, (unit.name, usage.stderr)
        for option in (w for w in words[2:] if w.startswith("--")):
            assert option in usage.stdout, (unit.name, option)
    assert seen == 3  # the replica, the watcher, the sync


def test_the_settings_example_is_valid_settings() -> None:
    """Every variable of deploy/assistant.env.example is a setting and its value validates."""
    values = dotenv_values(DEPLOY / "assistant.env.example")
    assert values
    assert all(key.startswith("ASSISTANT_") for key in values)
    fields = {key.removeprefix("ASSISTANT_").lower(): value for key, value in values.items()}
    assert set(fields) <= set(Settings.model_fields), set(fields) - set(Settings.model_fields)
    settings = Settings.model_validate(fields)
    assert settings.chroma_mode == "http"
    site = (DEPLOY / "nginx" / "assistant.conf").read_text(encoding="utf-8")
    limit = re.search(r"client_max_body_size (\d+)m;", site)
    assert limit, "the site sets no body limit"
    assert settings.max_upload_mb < int(limit.group(1))  # an allowed upload passes nginx
