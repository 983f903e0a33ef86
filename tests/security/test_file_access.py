"""Only files inside the configured folders are read or written: Gradio's file routes, the API,
uploads (hostile names, sizes, types, planted symlinks) and the source viewer, on a real server."""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.ui.uploads import save_uploads
from tests.conftest import SEED_FILE, make_settings
from tests.security.conftest import chat_page
from tests.servers import Server

pytestmark = pytest.mark.integration

SECRET = "file-access-canary-5b7e"  # written into files the server must never hand out
LEAKS = ("root:x:0:0", "SQLite format 3", SECRET)
FILE_ROUTES = ("/gradio_api/file=", "/file=", "/gradio_api/file/", "/file/")


def raw_get(server: Server, path: str) -> tuple[int, str]:
    """GET `path` exactly as written (no client-side normalisation of `..` or escapes)."""
    address = urllib.parse.urlparse(server.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.fixture(scope="module")
def private_files(hostile_server: Server) -> list[Path]:
    """Files the server can read but must never serve: its index, data, settings, sources."""
    root = hostile_server.index_dir.parent
    hostile_server.data_dir.mkdir(parents=True, exist_ok=True)
    feedback = hostile_server.feedback
    feedback.write_text(json.dumps({"comment": SECRET}) + "\n")
    config = root / "assistant.toml"  # in the server's working folder
    config.write_text(f'# {SECRET}\nui_title = "x"\n')
    return [
        Path("/etc/passwd"),
        hostile_server.index_dir / "catalog.sqlite3",
        feedback,
        config,
        SEED_FILE,
    ]


def test_gradio_file_routes_serve_none_of_our_files(
    hostile_server: Server, private_files: list[Path]
) -> None:
    tried = 0
    root = hostile_server.index_dir.parent
    for route in FILE_ROUTES:
        for path in private_files:
            relative = os.path.relpath(path, root)
            for spelled in (
                str(path),
                relative,
                urllib.parse.quote(str(path), safe=""),
                "/tmp/gradio/../.." + str(path),
                "/tmp/gradio/" + "..%2f" * 6 + urllib.parse.quote(str(path).lstrip("/")),
            ):
                status, body = raw_get(hostile_server, route + spelled)
                tried += 1
                assert status in (400, 403, 404), (route + spelled, status)
                assert not any(leak in body for leak in LEAKS), route + spelled
    assert tried == len(FILE_ROUTES) * len(private_files) * 5


@pytest.mark.parametrize(
    "path",
    [
        "/v1/documents/../../etc/passwd",
        "/v1/documents/..%2f..%2fetc%2fpasswd",
        "/v1/documents/%2Fetc%2Fpasswd",
        "/v1/documents?path=/etc/passwd",
        "/v1/../../../etc/passwd",
        "/gradio_api/static/../../../../etc/passwd",
        "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/favicon.ico/../../etc/passwd",
    ],
)
def test_no_other_route_reads_outside_files(hostile_server: Server, path: str) -> None:
    status, body = raw_get(hostile_server, path)
    assert not any(leak in body for leak in LEAKS), (path, status)


def test_gradio_upload_route_keeps_hostile_names_in_its_folder(hostile_server: Server) -> None:
    names = ["../../../../tmp/qa-escape.txt", "/tmp/qa-abs-escape.txt", "..\\..\\qa-win.txt"]
    files = [("files", (name, b"upload body", "text/plain")) for name in names]
    response = httpx.post(hostile_server.url + "gradio_api/upload", files=files, timeout=60)
    assert response.status_code == 200, response.text
    stored = [Path(path) for path in response.json()]
    assert len(stored) == len(names)
    for path in stored:
        assert path.resolve().is_relative_to(Path("/tmp/gradio").resolve()), path
        assert path.read_bytes() == b"upload body"
        path.unlink()
    for escaped in ("/tmp/qa-escape.txt", "/tmp/qa-abs-escape.txt"):
        assert not Path(escaped).exists()


def test_an_upload_replaces_a_planted_symlink_instead_of_writing_through_it(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("do not overwrite")
    settings = make_settings(tmp_path / "index", data_dir=tmp_path / "data")
    settings.uploads_dir.mkdir(parents=True)
    (settings.uploads_dir / "policy.md").symlink_to(outside)
    upload = tmp_path / "incoming" / "policy.md"
    upload.parent.mkdir()
    upload.write_text("# Policy\n\nStaff get 28 days of leave.\n")
    saved, rejected = save_uploads([upload], settings)
    assert not rejected
    assert outside.read_text() == "do not overwrite"
    assert not saved[0].is_symlink()
    assert saved[0].read_text() == upload.read_text()


def upload_in_browser(page: Any, files: list[dict[str, Any]], wait_for: str) -> str:
    """Choose in-memory files with the Documents tab's upload button; what the page then
    reports, once `wait_for` shows: the tab's status and Gradio's error toasts."""
    page.get_by_role("tab", name="Documents").click()
    with page.expect_file_chooser() as chooser:
        page.click("#qa-upload")
    chooser.value.set_files(files)
    page.wait_for_selector(wait_for, timeout=120_000)
    texts = page.locator("#qa-ingest-status .qa-status, .toast-body").all_inner_texts()
    return "\n".join(texts)


def test_uploads_through_the_page_stay_inside_and_respect_limits(
    browser: Any, hostile_server: Server
) -> None:
    body = b"Nebula parking permits are renewed every March at the front desk.\n"
    hostile = [
        {"name": "../../qa-escape-up.txt", "mimeType": "text/plain", "buffer": body},
        {
            "name": "..\\..\\qa-escape-win.md",
            "mimeType": "text/markdown",
            "buffer": b"# W\n" + body,
        },
        {"name": "/tmp/qa-escape-abs.txt", "mimeType": "text/plain", "buffer": b"Abs. " + body},
        {"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00"},
        {"name": "run.sh", "mimeType": "text/x-sh", "buffer": b"#!/bin/sh\nrm -rf /\n"},
        {"name": "fake.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 not a pdf"},
    ]
    too_big = [{"name": "big.txt", "mimeType": "text/plain", "buffer": b"word " * 300_000}]
    started = time.time() - 1
    with chat_page(browser, hostile_server) as page:
        status = upload_in_browser(page, hostile, "#qa-ingest-status .qa-status-ok")
        big_status = upload_in_browser(page, too_big, ".toast-body:has-text('big.txt')")
    uploads = hostile_server.data_dir / "uploads"
    saved = sorted(path.name for path in uploads.iterdir())
    assert saved == ["qa-escape-abs.txt", "qa-escape-up.txt", "qa-escape-win.md"], saved
    root = hostile_server.index_dir.parent
    for name in saved:
        assert not (root / name).exists()
        assert not (root.parent / name).exists()
        assert not (root.parent.parent / name).exists()
    assert not Path("/tmp/qa-escape-abs.txt").exists()
    assert "Invalid file types: tool.exe, run.sh." in status
    assert "fake.pdf" in status
    assert "corrupt or unreadable PDF" in status
    assert "Added 3" in status
    leftovers = [
        path
        for path in Path("/tmp/gradio").rglob("*")
        if path.is_file()
        and path.stat().st_size < 10_000
        and path.stat().st_mtime >= started
        and b"Nebula parking" in path.read_bytes()
    ]
    assert leftovers == []  # Gradio's temporary copies are gone
    assert "exceed the maximum allowed size" in big_status
    assert "big.txt" in big_status


@pytest.mark.parametrize(
    "data",
    [
        {"doc": "../../etc/passwd", "start": "0", "end": "5"},
        {"doc": "/etc/passwd", "start": "0", "end": "5"},
        {"doc": "..%2f..%2fetc%2fpasswd", "start": "0", "end": "5", "view": "document"},
        {"doc": "abcdef12", "start": "0", "end": "999999999", "view": "document"},
        {"doc": "0" * 64, "start": "0", "end": "5"},
        {"doc": {"$ne": ""}, "start": "0", "end": "5"},
    ],
)
def test_the_viewer_shows_only_indexed_text(
    browser: Any, hostile_server: Server, data: dict[str, Any]
) -> None:
    """A client sending its own reference to the source panel gets a warning, nothing else."""
    with chat_page(browser, hostile_server) as page:
        page.wait_for_function("typeof window.__qaTrigger === 'function'")
        page.evaluate("data => window.__qaTrigger('cite', data)", data)
        page.locator("#qa-viewer .qa-viewer-warning").wait_for()
        shown = str(page.locator("#qa-viewer").inner_text())
    assert any(
        reason in shown
        for reason in ("not valid", "no longer in the index", "changed since the answer")
    ), shown
    assert not any(leak in shown for leak in LEAKS)
