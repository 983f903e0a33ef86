"""Markup from documents and questions stays text in the real browser: script tags, event
handlers, javascript: links, iframes, markdown links and an HTML file with inline handlers, in
answers, the source panel and the whole-document view."""

from __future__ import annotations

from typing import Any

import pytest

from tests.servers import Server

pytestmark = [pytest.mark.browser, pytest.mark.integration]

FINAL = ".qa-answer:not(.qa-streaming), .qa-refusal, .qa-error"
# Questions whose answers quote the payload sentences of tests/corpus/hostile/.
QUOTING = {
    "Where is the Zephyr vault code kept?": "<script>window.__pwned",
    "Where does the Zephyr alarm panel sit?": "onerror=",
    "How are Zephyr vault incidents reported?": "javascript:",
    "When does the Zephyr badge office open?": "<iframe",
    "Where do Zephyr visitors sign?": "onclick=",
    "What do Zephyr night guards carry?": "<svg onload",
    "How are vegetarian dishes marked on the Quasar menu?": "<img src=x onerror=",
    "When is the Quasar coffee machine cleaned?": "<script>",
}
HOSTILE_QUESTION = (
    "<script>window.__pwned='question'</script><img src=\"http://pwned.invalid/q.png\" "
    "onerror=\"window.__pwned='q-img'\"> [x](javascript:window.__pwned='q-link') "
    "When does the Quasar cafeteria serve lunch?"
)
# Anything the payloads could have left in the page.
FOOTPRINTS = """() => {
  const all = [...document.querySelectorAll('*')];
  return {
    pwned: typeof window.__pwned === 'undefined' ? null : String(window.__pwned),
    handlers: all.flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on'))
      .map(a => `${e.tagName} ${a.name}=${a.value}`)),
    scripts: [...document.scripts].filter(s => s.text.includes('__pwned')).length,
    javascript_links: all.filter(e => ['href', 'src', 'action', 'formaction'].some(
      n => (e.getAttribute(n) || '').trim().toLowerCase().startsWith('javascript:'))).length,
    frames: document.querySelectorAll('iframe, object, embed').length,
    payload_media: document.querySelectorAll(
      '.qa-msg [src*=pwned], #qa-viewer [src*=pwned], .qa-msg img, #qa-viewer img').length,
    svg_in_messages: document.querySelectorAll('#qa-chat svg[onload], .qa-viewer svg').length,
  };
}"""


class Requests:
    """The page's requests, and which of them the browser blocked before sending (CSP)."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        self.blocked: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("requestfailed", self._failed)

    def _failed(self, request: Any) -> None:
        if request.failure in ("csp", "net::ERR_BLOCKED_BY_CSP"):
            self.blocked.append(request.url)

    def sent(self, needle: str) -> list[str]:
        """Requests containing `needle` that left the browser."""
        blocked = list(self.blocked)
        return [url for url in self.urls if needle in url and not _take(blocked, url)]


def _take(items: list[str], item: str) -> bool:
    if item in items:
        items.remove(item)
        return True
    return False


def ask(page: Any, question: str) -> Any:
    before = page.locator(FINAL).count()
    page.fill("#qa-question textarea", question)
    page.press("#qa-question textarea", "Enter")
    page.wait_for_function(f"document.querySelectorAll({FINAL!r}).length > {before}")
    return page.locator(FINAL).nth(before)


def test_payloads_stay_text_everywhere(browser: Any, hostile_server: Server) -> None:
    dialogs: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        requests = Requests(page)
        page.goto(hostile_server.url)
        page.wait_for_selector("#qa-chat")
        shown: dict[str, str] = {}
        for question, payload in QUOTING.items():
            message = ask(page, question)
            text = message.locator(".qa-text").inner_text()
            assert payload in text, (question, text)  # shown as text, not dropped or run
            shown[question] = text
            message.hover()
            message.locator(".qa-text a.qa-cite").first.click()
            viewer = page.locator("#qa-viewer")
            # The panel still shows the previous citation until the click's update lands.
            passage = viewer.locator("[data-view='passage']", has_text=payload)
            passage.locator("mark.qa-quote").wait_for()
            assert payload in viewer.inner_text()
            viewer.locator("a.qa-open").click()  # the whole document
            page.wait_for_selector("#qa-viewer [data-view='document'] mark.qa-quote")
            viewer.hover()
        answer = ask(page, HOSTILE_QUESTION)
        # Answered (from the passages its markup words retrieve) or refused, never an error.
        assert "error" not in (answer.get_attribute("class") or "")
        assert "Quasar" in answer.inner_text() or "don't answer" in answer.inner_text()
        user_bubbles = page.locator("#qa-chat .message.user, #qa-chat [data-testid='user']")
        user_bubbles.last.hover()
        page.wait_for_timeout(1000)  # give any stray handler or image load its chance
        footprints = page.evaluate(FOOTPRINTS)
    finally:
        context.close()
    assert dialogs == []
    assert footprints == {
        "pwned": None,
        "handlers": [],
        "scripts": 0,
        "javascript_links": 0,
        "frames": 0,
        "payload_media": 0,
        "svg_in_messages": 0,
    }
    assert requests.sent("pwned") == []
    assert len(shown) == len(QUOTING)


def test_the_page_cannot_load_from_other_hosts(browser: Any, hostile_server: Server) -> None:
    """Content-Security-Policy: even markup that did reach the page could not call out."""
    context = browser.new_context()
    try:
        page = context.new_page()
        requests = Requests(page)
        response = page.goto(hostile_server.url)
        assert response is not None
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "frame-src 'none'" in policy
        page.wait_for_selector("#qa-chat")
        blocked = page.evaluate(
            """() => new Promise(done => {
              const seen = [];
              document.addEventListener('securitypolicyviolation',
                e => seen.push(e.violatedDirective));
              const img = document.createElement('img');
              img.src = 'http://pwned.invalid/pixel.png';
              document.body.appendChild(img);
              const frame = document.createElement('iframe');
              frame.src = 'http://pwned.invalid/frame';
              document.body.appendChild(frame);
              fetch('http://pwned.invalid/beacon').catch(() => {});
              setTimeout(() => done(seen.sort()), 1500);
            })"""
        )
    finally:
        context.close()
    assert blocked == ["connect-src", "frame-src", "img-src"]
    assert requests.sent("pwned") == []
