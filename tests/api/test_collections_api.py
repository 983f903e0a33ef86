"""Collections over HTTP: listing, restricting /v1/ask and /v1/chat/completions, bad names."""

from __future__ import annotations

import httpx

from tests.api.conftest import QUESTION, error_of


def test_collections_are_listed(http: httpx.Client) -> None:
    response = http.get("/v1/collections")
    assert response.status_code == 200
    (only,) = response.json()["collections"]
    assert only["name"] == "default"
    assert only["documents"] == 1
    assert only["chunks"] > 0
    listed = http.get("/v1/documents").json()["documents"]
    assert {d["collection"] for d in listed} == {"default"}


def test_ask_and_chat_take_collections(http: httpx.Client) -> None:
    open_answer = http.post("/v1/ask", json={"question": QUESTION}).json()
    limited = http.post("/v1/ask", json={"question": QUESTION, "collections": ["default"]})
    assert limited.status_code == 200
    assert limited.json()["answer"] == open_answer["answer"]
    chat = http.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": QUESTION}], "collections": ["default"]},
    )
    assert chat.status_code == 200
    assert chat.json()["choices"][0]["message"]["content"] == open_answer["answer"]


def test_unknown_or_malformed_collections_are_a_400_naming_the_field(http: httpx.Client) -> None:
    for body, message in (
        ({"question": QUESTION, "collections": ["hr"]}, "unknown collection 'hr'"),
        ({"question": QUESTION, "collections": ["A B"]}, "bad collection name 'A B'"),
        ({"question": QUESTION, "collections": []}, "at least one collection"),
    ):
        response = http.post("/v1/ask", json=body)
        assert response.status_code == 400, response.text
        error = error_of(response)
        assert error["code"] == "invalid_collection"
        assert error["param"] == "collections"
        assert message in error["message"]
    streamed = http.post(
        "/v1/chat/completions",
        json={
            "messages": [{"role": "user", "content": QUESTION}],
            "collections": ["hr"],
            "stream": True,
        },
    )
    assert streamed.status_code == 400  # before the stream starts
    assert error_of(streamed)["code"] == "invalid_collection"
