"""Sign-in by a trusted SSO proxy on a real server: the user (and groups) a proxy names in its
headers are believed from the proxy's address only, for the chat and the HTTP API; from any
other peer, or with a forged X-Forwarded-For, the headers are ignored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import error_of
from tests.servers import Server, start_server, stop_server
from tests.test_collections import SALARY
from tests.ui.test_directory_server import ADMIN, SECRET, team_index

pytestmark = pytest.mark.integration

PROXY = "127.0.0.2"  # the proxy's address: loopback too, but not the tests' default 127.0.0.1
USER, GROUPS = "X-Forwarded-User", "X-Forwarded-Groups"


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("proxied")
    server = start_server(
        root / "serve",
        team_index(root),
        ready="healthz",
        trusted_user_header=USER,
        trusted_groups_header=GROUPS,
        trusted_proxies=f"{PROXY}/32",
    )
    yield server
    stop_server(server)


def client(server: Server, source: str, headers: dict[str, str]) -> httpx.Client:
    """An HTTP client connecting from `source` (a loopback address) with these headers."""
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=server.url, headers=headers, transport=transport, timeout=180)


def ask_chat(http: httpx.Client) -> str:
    """The chat's `ask` event through Gradio's HTTP call route: the streamed reply's text."""
    started = http.post("/gradio_api/call/ask", json={"data": [SALARY, []]})
    if started.status_code != 200:
        return f"HTTP {started.status_code}"
    event = started.json()["event_id"]
    return http.get(f"/gradio_api/call/ask/{event}").text


def test_the_api_believes_the_proxy_and_only_the_proxy(proxied_server: Server) -> None:
    people = {USER: "pat", GROUPS: "people, guests"}
    with client(proxied_server, PROXY, people) as proxy:
        answer = proxy.post("/v1/ask", json={"question": SALARY})
        assert answer.status_code == 200
        assert SECRET in answer.json()["answer"]
    with client(proxied_server, PROXY, {USER: "quinn", GROUPS: "engineering"}) as proxy:
        other = proxy.post("/v1/ask", json={"question": SALARY})
        assert other.status_code == 200
        assert SECRET not in other.text
    forged = {**people, "X-Forwarded-For": PROXY, "Forwarded": f"for={PROXY}"}
    for headers in (people, forged):
        with client(proxied_server, "127.0.0.1", headers) as stranger:
            refused = stranger.post("/v1/ask", json={"question": SALARY})
            assert refused.status_code == 401
            assert error_of(refused)["code"] == "missing_api_key"
            assert SECRET not in refused.text
    # Without the header, the proxy's own requests need a key or password like anyone's; a
    # catalog user named by the proxy is that user (the admin reads everything).
    with client(proxied_server, PROXY, {}) as bare:
        assert bare.post("/v1/ask", json={"question": SALARY}).status_code == 401
    with client(proxied_server, PROXY, {USER: ADMIN[0]}) as admin:
        assert SECRET in admin.post("/v1/ask", json={"question": SALARY}).json()["answer"]


def test_the_chat_believes_the_proxy_and_only_the_proxy(proxied_server: Server) -> None:
    with client(proxied_server, PROXY, {USER: "pat", GROUPS: "people"}) as proxy:
        assert proxy.get("/config").status_code == 200
        assert SECRET in ask_chat(proxy)
    with client(proxied_server, PROXY, {USER: "quinn", GROUPS: "engineering"}) as proxy:
        reply = ask_chat(proxy)
        assert "complete" in reply  # answered (with a refusal), not turned away
        assert SECRET not in reply
    forged = {USER: "pat", GROUPS: "people", "X-Forwarded-For": PROXY}
    with client(proxied_server, "127.0.0.1", forged) as stranger:
        assert stranger.get("/config").status_code == 401
        refused = ask_chat(stranger)
        assert SECRET not in refused
        assert refused.startswith("HTTP 4"), refused
    with client(proxied_server, PROXY, {USER: "not a name", GROUPS: "people"}) as bad:
        assert bad.get("/config").status_code == 401


def test_settings_name_the_proxies(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from assistant.settings import Settings

    with pytest.raises(ValidationError, match="needs trusted_proxies"):
        Settings.model_validate({"trusted_user_header": USER})
    with pytest.raises(ValidationError, match="not an address or CIDR"):
        Settings.model_validate({"trusted_user_header": USER, "trusted_proxies": ["proxy.lan"]})
    with pytest.raises(ValidationError, match="needs trusted_user_header"):
        Settings.model_validate({"trusted_groups_header": GROUPS, "trusted_proxies": [PROXY]})
    assert json.dumps(
        Settings.model_validate(
            {"trusted_user_header": USER, "trusted_proxies": "10.0.0.0/8, 127.0.0.2"}
        ).trusted_proxies
    ) == json.dumps(["10.0.0.0/8", "127.0.0.2"])
