"""A real `assistant serve` subprocess on a free loopback port, for the UI and API tests.

Our own servers bind port 0 and report the port they got (`assistant serve` prints its URL,
uvicorn in this process exposes its sockets), so no port is chosen first and bound later.
Programs that cannot report their port (`chroma run`) go through `start_with_port_retries`."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from assistant import Assistant
from tests.conftest import SEEDS, copy_index


@dataclass
class Server:
    """A running server and where it keeps its files."""

    url: str  # ends with "/"
    index_dir: Path
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def feedback(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    @property
    def api(self) -> str:
        """The API's base URL (what an OpenAI client takes as base_url)."""
        return self.url + "v1"


T = TypeVar("T")


class PortTaken(RuntimeError):
    """A program exited because the port chosen for it was taken before it could bind it."""


def exited_on_taken_port(log_text: str) -> bool:
    """Whether a server's log says its bind failed because the address is in use."""
    text = log_text.lower()
    # Python servers say "address already in use"; `chroma run` says "Address ... is not available".
    return "address already in use" in text or "is not available" in text


def start_with_port_retries(start: Callable[[int], T], tries: int = 5) -> T:
    """`start(port)` on a port free when chosen, again on another one while it raises PortTaken.

    Only for external programs that cannot bind port 0 and say which port they got (`chroma
    run`): the port is free when chosen but another process may take it before the program binds
    it, so a bind failure is retried on a fresh port instead of failing the test."""
    for attempt in range(tries):
        try:
            return start(free_port())
        except PortTaken:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def free_port() -> int:
    """A loopback port free when chosen: only for `start_with_port_retries`, whose `start`
    raises PortTaken when another process took it first (a `start` that needs a second port
    takes it here too, and both are chosen afresh on a retry)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def refused_port(port: int = 0) -> Iterator[int]:
    """A loopback port (0: a free one) where connections are refused, held for the block so no
    other process takes it."""
    with refusing_socket(port) as holder:
        yield int(holder.getsockname()[1])


def refusing_socket(port: int = 0) -> socket.socket:
    """A socket bound to loopback `port` (0: a free one) that does not listen: connecting to it
    gets a reset, and no other process can take the port. A server may later listen on it."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past a server's TIME_WAITs
    holder.bind(("127.0.0.1", port))
    return holder


def start_chroma(port: int, data: Path, log: Path, timeout: float = 90) -> subprocess.Popen[bytes]:
    """`chroma run` on loopback `port` keeping its data in `data`, once its heartbeat answers.

    Raises PortTaken when the port was taken before it bound it (for start_with_port_retries):
    `chroma run --port 0` listens on a free port but reports ":0", so it cannot use port 0."""
    chroma = Path(sys.executable).with_name("chroma")
    start = log.stat().st_size if log.exists() else 0
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    heartbeat = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(heartbeat, timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            pass
        if process.poll() is not None:
            text = log.read_bytes()[start:].decode(errors="replace")
            if exited_on_taken_port(text):
                raise PortTaken(f"port {port}: {text[-300:]}")
            raise RuntimeError(f"chroma run exited: {text[-2000:]}")
        time.sleep(0.3)
    stop_process(process)
    raise TimeoutError(f"chroma run did not start: {log.read_text(errors='replace')[-2000:]}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started: terminate, then kill if it does not exit."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


SERVING = re.compile(r"assistant: serving .*?at http://\S+?:(\d+)/")


def server_env(root: Path, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a server: no ASSISTANT_* of the developer, offline, these settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASSISTANT_")}
    env.update(
        {
            "ASSISTANT_CONFIG": "",  # no settings file
            "ASSISTANT_DATA_DIR": str(data_dir),
            "ASSISTANT_SOURCES": str(SEEDS),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            **{f"ASSISTANT_{key.upper()}": value for key, value in settings.items()},
        }
    )
    return env


def start_server(
    root: Path, seed_index: Path, *args: str, ready: str = "healthz", **settings: str
) -> Server:
    """`assistant serve ARGS` on a copy of the seed index, with its own data dir and settings."""
    index_dir, data_dir = root / "index", root / "data"
    copy_index(seed_index, index_dir)
    return launch_server(
        [sys.executable, "-m", "assistant.cli", "serve", "--index", str(index_dir), *args],
        root,
        index_dir,
        data_dir,
        server_env(root, data_dir, **settings),
        ready,
    )


def restart_server(server: Server, *args: str, ready: str = "healthz", **settings: str) -> Server:
    """`server` stopped, then `assistant serve ARGS` started again on its index and data dir (a
    restart: a new process, the same files)."""
    stop_server(server)
    root = server.log.parent
    server.log.replace(root / f"serve.{server.process.pid}.log")  # kept: the new one starts anew
    return launch_server(
        [sys.executable, "-m", "assistant.cli", "serve", "--index", str(server.index_dir), *args],
        root,
        server.index_dir,
        server.data_dir,
        server_env(root, server.data_dir, **settings),
        ready,
    )


def launch_server(
    command: list[str], root: Path, index_dir: Path, data_dir: Path, env: dict[str, str], ready: str
) -> Server:
    """`command` (an `assistant serve`) on port 0: its URL is the one it prints once bound."""
    log = root / "serve.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [*command, "--port", "0"], stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=root
        )
    server = Server("", index_dir, data_dir, log, process)
    try:
        server.url = f"http://127.0.0.1:{wait_for_port(process, log)}/"
        wait_until_up(server, ready)
    except BaseException:
        stop_server(server)
        raise
    return server


def wait_for_port(process: subprocess.Popen[bytes], log: Path, timeout: float = 300) -> int:
    """The port an `assistant serve` prints once it has bound it (and loaded its models)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = SERVING.search(log.read_text(errors="replace"))
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        time.sleep(0.2)
    raise TimeoutError(f"the server printed no URL: {log.read_text()[-3000:]}")


def wait_until_up(server: Server, ready: str, timeout: float = 300) -> None:
    """Block until `ready` (a path) answers 200, or 401 behind a login."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited: {server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + ready, timeout=5) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{server.url} did not come up: {server.log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    """Stop the server process we started."""
    stop_process(server.process)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """An ASGI `app` under uvicorn on a free loopback port in this process; yields its URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]  # the port it bound
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class Gate:
    """Holds every answer of an Assistant until opened (the server's work made observable)."""

    def __init__(self, assistant: Assistant) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        real = assistant.ask

        def ask(*args: Any, **kwargs: Any) -> Any:
            self.entered.set()
            assert self.opened.wait(60), "the test never opened the gate"
            return real(*args, **kwargs)

        assistant.ask = ask  # type: ignore[method-assign]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` until it holds (or fail after 30 s naming `what`)."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
