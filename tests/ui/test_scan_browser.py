"""A scanned PDF in the chat, in headless Chromium against a real server: the citation of a
scanned page opens the recognised text with the quote marked and, under it, the picture of the
page; a page with a text layer has no picture."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from assistant.core import Assistant
from tests.conftest import make_settings
from tests.servers import Server, start_server, stop_server
from tests.test_ocr import CLAIMS, TRAVEL, mixed_pdf, scanned_pdf
from tests.ui.conftest import PageLog, chat_page, open_citation, screenshot
from tests.ui.test_browser import ask

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture(scope="module")
def scan_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("scans")
    (folder / "policy-scan.pdf").write_bytes(scanned_pdf(TRAVEL, CLAIMS))
    (folder / "fire-safety.pdf").write_bytes(mixed_pdf())
    index = tmp_path_factory.mktemp("scan-index") / "index"
    assistant = Assistant(make_settings(index))
    assert assistant.ingest([folder]).added == 2
    assistant.close()
    server = start_server(tmp_path_factory.mktemp("scan-serve"), index, sources=str(folder))
    yield server
    stop_server(server)


def open_first_citation(page: Any, question: str) -> Any:
    answer = ask(page, question)
    open_citation(page, answer.locator("a.qa-cite").first)
    return answer


def test_a_scanned_page_is_shown_beside_its_recognised_text(
    browser: Any, scan_server: Server
) -> None:
    viewport = {"width": 1280, "height": 900}
    with chat_page(browser, scan_server, PageLog(), viewport) as page:
        answer = open_first_citation(page, "How much do we get back for a hotel night in a city?")
        assert "140 euros" in answer.inner_text()
        figure = page.locator("#qa-viewer .qa-scan")
        expect(figure).to_contain_text("Page 1 as scanned")
        image = figure.locator("img")
        expect(image).to_have_attribute(
            "alt", re.compile(r"Page 1 of \S*policy-scan\.pdf, as scanned")
        )
        source = image.get_attribute("src")
        assert source is not None
        assert source.startswith("data:image/png;base64,")
        picture = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
        assert picture.size[1] > picture.size[0] > 500  # a portrait page, big enough to read
        assert (
            page.evaluate("() => document.querySelector('#qa-viewer .qa-scan img').naturalWidth")
            == picture.size[0]
        )  # the browser decoded it
        screenshot(page.locator("#qa-viewer"), "scanned-page")

        open_first_citation(page, "How often are the fire exits checked?")
        expect(page.locator("#qa-viewer")).to_contain_text("QX-7731/b")
        expect(page.locator("#qa-viewer .qa-scan")).to_have_count(0)  # a text layer: no picture
