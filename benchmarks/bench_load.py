"""Load: many concurrent chat sessions against a running `assistant serve`, through both doors.

    python -m benchmarks.bench_load --url http://127.0.0.1:7860/ [--sessions 50] [--turns 10]
        [--api-key KEY] [--out benchmarks/results/load.json]

Half the sessions use the web chat's `ask` endpoint (gradio_client, through the Gradio queue),
half the HTTP API (`/v1/chat/completions`, every other one streaming). Each session asks
`turns` questions from the seed golden set: answerable ones, follow-ups sent with the session's
history, and ones the documents don't answer. Every reply is checked: a refusal, or an answer
whose every `[n]` names a citation that quotes the document exactly. `tests/api/test_load.py`
runs it in `make test`; this script prints and saves the same numbers.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from assistant.citations import REFUSAL_TEXT
from assistant.evaluation.golden import load_golden
from benchmarks.common import REPO, machine, percentile, save

SEED_GOLDEN = REPO / "tests" / "golden" / "seed_qa.jsonl"
SEED_TEXT = (REPO / "seeds" / "000_4f69a52559980107.txt").read_text(encoding="utf-8")
FOLLOW_UPS = ("And who reported it first?", "What about its central concern?")
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Reply:
    """What a session saw of one answer, in one shape for both doors."""

    text: str
    refused: bool
    citations: list[dict[str, Any]]


@dataclass
class LoadResult:
    """Latencies (seconds) by door and every problem seen."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, door: str, seconds: float, problem: str | None) -> None:
        """One request's outcome."""
        with self.lock:
            self.latencies.setdefault(door, []).append(seconds)
            if problem:
                self.errors.append(f"{door}: {problem}")

    @property
    def requests(self) -> int:
        """Requests made."""
        return sum(len(values) for values in self.latencies.values())

    def summary(self) -> dict[str, Any]:
        """p50/p95/max latency in ms (all requests and per door), throughput and errors."""

        def stats(values: list[float]) -> dict[str, float]:
            ms = [value * 1000 for value in values]
            return {
                "requests": len(ms),
                "p50_ms": round(percentile(ms, 50), 1),
                "p95_ms": round(percentile(ms, 95), 1),
                "max_ms": round(max(ms), 1) if ms else float("nan"),
            }

        everything = [value for values in self.latencies.values() for value in values]
        return {
            **stats(everything),
            "errors": len(self.errors),
            "first_errors": self.errors[:10],
            "seconds": round(self.seconds, 2),
            "throughput_per_s": round(self.requests / self.seconds, 2) if self.seconds else 0.0,
            "by_door": {door: stats(values) for door, values in sorted(self.latencies.items())},
        }


def question_mix(turns: int, session: int) -> list[tuple[str, bool]]:
    """A session's questions as (question, is a follow-up): answerable, follow-up, unanswerable."""
    items = load_golden(SEED_GOLDEN)
    answerable = [item.question for item in items if item.kind != "unanswerable"]
    unanswerable = [item.question for item in items if item.kind == "unanswerable"]
    mix: list[tuple[str, bool]] = []
    for turn in range(turns):
        slot = (session + turn) % 5
        if slot == 3 and mix:
            mix.append((FOLLOW_UPS[(session + turn) % len(FOLLOW_UPS)], True))
        elif slot == 4:
            mix.append((unanswerable[(session * 7 + turn) % len(unanswerable)], False))
        else:
            mix.append((answerable[(session * 11 + turn) % len(answerable)], False))
    return mix


def check_reply(reply: Reply) -> str | None:
    """Why a reply is malformed, or None: a refusal, or cited sentences quoting the seed."""
    if reply.refused:
        if reply.text != REFUSAL_TEXT or reply.citations:
            return f"malformed refusal: {reply.text[:80]!r}"
        return None
    if not reply.citations:
        return f"an answer without citations: {reply.text[:80]!r}"
    ids = {citation["id"] for citation in reply.citations}
    markers = {int(number) for number in _MARKER.findall(reply.text)}
    if not markers or not markers <= ids or ids - markers:
        return f"markers {sorted(markers)} do not match citations {sorted(ids)}"
    for citation in reply.citations:
        if SEED_TEXT[citation["start"] : citation["end"]] != citation["quote"]:
            return f"citation [{citation['id']}] does not quote the document"
    return None


def _api_reply(client: httpx.Client, messages: list[dict[str, str]], stream: bool) -> Reply:
    body = {"model": "default", "messages": messages, "stream": stream}
    if not stream:
        response = client.post("v1/chat/completions", json=body)
        response.raise_for_status()
        data = response.json()
        return Reply(data["choices"][0]["message"]["content"], data["refused"], data["citations"])
    text, final = "", None
    with client.stream("POST", "v1/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            if "error" in event:
                raise RuntimeError(f"stream error: {event['error']['message']}")
            choice = event["choices"][0]
            text += choice["delta"].get("content", "")
            if choice["finish_reason"]:
                final = event
    if final is None:
        raise RuntimeError("the stream ended without a final chunk")
    return Reply(text, final["refused"], final["citations"])


def api_session(
    url: str, api_key: str | None, session: int, turns: int, result: LoadResult
) -> None:
    """One chat through /v1/chat/completions, keeping its own history."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    stream = session % 2 == 1
    door = "api_stream" if stream else "api"
    history: list[dict[str, str]] = []
    with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
        for question, follow_up in question_mix(turns, session):
            messages = [*(history if follow_up else []), {"role": "user", "content": question}]
            ask = lambda m=messages: _api_reply(client, m, stream)  # noqa: E731
            _timed(result, door, ask, history, question)


def gradio_session(url: str, session: int, turns: int, result: LoadResult) -> None:
    """One chat through the web chat's `ask` endpoint (the Gradio queue)."""
    from gradio_client import Client

    # The API sessions' timeout: gradio_client's default timeouts cut a session off before
    # its first question when 25 of them connect at once to a loaded server.
    client = Client(url, verbose=False, httpx_kwargs={"timeout": 300})
    history: list[dict[str, str]] = []
    try:
        for question, follow_up in question_mix(turns, session):
            past = list(history) if follow_up else None

            def ask(q: str = question, h: list[dict[str, str]] | None = past) -> Reply:
                data = client.predict(q, h, api_name="/ask")
                return Reply(data["answer"], data["refused"], data["citations"])

            _timed(result, "gradio", ask, history, question)
    finally:
        client.close()


def _timed(
    result: LoadResult,
    door: str,
    ask: Callable[[], Reply],
    history: list[dict[str, str]],
    question: str,
) -> None:
    started = time.perf_counter()
    problem: str | None = None
    try:
        reply = ask()
        problem = check_reply(reply)
    except Exception as exc:  # every failure is counted, none stops the run
        problem = f"{type(exc).__name__}: {str(exc)[:200]}"
        reply = None
    result.record(door, time.perf_counter() - started, problem)
    if reply is not None:
        history[:] = [
            {"role": "user", "content": question},
            {"role": "assistant", "content": reply.text},
        ]


def run_load(url: str, sessions: int, turns: int, api_key: str | None = None) -> LoadResult:
    """`sessions` concurrent chats of `turns` questions, half per door; blocks until all end."""
    result = LoadResult()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        futures = [
            pool.submit(gradio_session, url, n, turns, result)
            if n % 2 == 0
            else pool.submit(api_session, url, api_key, n // 2, turns, result)
            for n in range(sessions)
        ]
        for future in futures:
            try:
                future.result()
            except Exception as exc:  # a session that could not even start
                result.errors.append(f"session: {type(exc).__name__}: {exc}")
    result.seconds = time.perf_counter() - started
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load against a server and save benchmarks/results/load.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the server's base URL, ending with /")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--api-key", help="an API key when the server requires one")
    parser.add_argument("--out", type=Path, help="write the JSON here instead of results/")
    args = parser.parse_args(argv)
    summary = run_load(args.url, args.sessions, args.turns, args.api_key).summary()
    data = {"sessions": args.sessions, "turns": args.turns, **summary}
    print(json.dumps(data, indent=2))
    if args.out:
        args.out.write_text(json.dumps({**data, "machine": machine()}, indent=2) + "\n", "utf-8")
    else:
        save("load", data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
