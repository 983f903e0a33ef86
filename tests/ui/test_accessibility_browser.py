"""Accessibility of the chat and the source panel in headless Chromium against a real server:
axe-core (from npm, `make axe`; injected into the page) finds no serious or critical WCAG 2.1 A/AA
violation; messages are labelled with plain text, the question box has a label, chips and
placeholders reach AA contrast, Esc closes the source panel, and Tab visits only visible,
named controls in a sensible order. The login page passes axe-core too, before and after a
wrong password (tests/ui/test_chat_users.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from assistant.ui import ASSETS
from tests.conftest import REPO
from tests.ui.conftest import PageLog, Server, chat_page, click_until, open_citation
from tests.ui.test_browser import QUESTION, ask

pytestmark = pytest.mark.browser

AXE = REPO / "tests" / "ui" / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
REFUSED = "What is the boiling point of mercury on Mars?"


def axe(page: Any) -> list[dict[str, Any]]:
    """The serious and critical WCAG 2.1 A/AA violations axe-core finds on the page now."""
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `make axe` (npm, once)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    # Colours are measured once fades (Gradio fades updated HTML in) have ended.
    page.wait_for_function(
        """() => document.getAnimations().every((a) => a.playState !== 'running'
          || a.effect.getComputedTiming().iterations === Infinity)"""
    )
    found = page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then((r) =>
          r.violations.map((v) => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary)})))""",
        WCAG,
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def contrast(page: Any, selector: str, pseudo: str | None = None) -> float:
    """The WCAG contrast ratio of an element's text colour on its own background colour."""
    return float(
        page.evaluate(
            """([selector, pseudo]) => {
              const el = document.querySelector(selector);
              const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
              const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255;
                return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
              let back = el;
              while (back && getComputedStyle(back).backgroundColor.match(/rgba\\(.*, 0\\)$/))
                back = back.parentElement;
              const fg = lum(rgb(getComputedStyle(el, pseudo).color));
              const bg = lum(rgb(getComputedStyle(back || document.body).backgroundColor));
              return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
            }""",
            [selector, pseudo],
        )
    )


def test_axe_finds_no_serious_violation_in_the_chat_and_source_panel(page: Any) -> None:
    page.locator("#qa-chat .example").first.wait_for()
    assert axe(page) == []  # the empty chat with its example questions
    answer = ask(page, QUESTION)
    ask(page, REFUSED)
    page.fill("#qa-question textarea", "x" * 2100)  # the counter's over-limit message
    expect(page.locator("#qa-counter .qa-over")).to_be_visible()
    page.locator("#qa-chat button[aria-label='Like']").first.click()  # the comment box
    expect(page.locator("#qa-comment-note")).to_have_text("Thanks: recorded as helpful.")
    assert axe(page) == []
    open_citation(page, answer.locator(".qa-text a.qa-cite").first)
    assert axe(page) == []  # with the source panel open
    page.locator("#qa-viewer a.qa-open").click()
    page.wait_for_selector("#qa-viewer .qa-viewer[data-view=document]")
    assert axe(page) == []  # the whole document
    page.get_by_role("tab", name="Documents").click()
    page.locator("#qa-documents").wait_for()
    assert axe(page) == []


def test_axe_finds_no_serious_violation_in_the_dark_theme(
    browser: Any, ui_server: Server, page_log: PageLog
) -> None:
    size = {"width": 1280, "height": 800}
    with chat_page(browser, ui_server, page_log, size, "?__theme=dark") as page:
        answer = ask(page, QUESTION)
        open_citation(page, answer.locator(".qa-text a.qa-cite").first)
        assert page.evaluate("document.body.classList.contains('dark')")
        assert axe(page) == []


# The characters of a message that its label holds (LABEL_CHARS in assistant/ui/assets/a11y.js).
_LIMIT = re.search(r"LABEL_CHARS = (\d+);", (ASSETS / "a11y.js").read_text("utf-8"))
assert _LIMIT is not None
LABEL_CHARS = int(_LIMIT.group(1))


def test_messages_and_boxes_are_labelled_in_plain_text(page: Any) -> None:
    answer = ask(page, QUESTION)
    refusal = ask(page, REFUSED)
    shown = " ".join(answer.locator(".qa-text").inner_text().split())
    if len(shown) > LABEL_CHARS:  # a long answer's label is its beginning (assets/a11y.js)
        shown = shown[: LABEL_CHARS - 1] + "…"
    bot = page.locator("#qa-chat [data-testid=bot]")
    expect(bot.first).to_have_attribute("aria-label", f"Answer: {shown}")
    label = bot.nth(1).get_attribute("aria-label")
    # The label is the message without its folded lists (sources, closest passages found).
    folded = refusal.locator("details.qa-related summary").inner_text()
    said = refusal.inner_text().replace(folded, "")
    assert label == "Answer (not found in the documents): " + " ".join(said.split())
    for message in page.locator("#qa-chat [data-testid]").all():
        assert "<" not in (message.get_attribute("aria-label") or "")
    user = page.locator("#qa-chat [data-testid=user]").first
    expect(user).to_have_attribute("aria-label", f"Question: {QUESTION}")
    # Named by its label alone: the label also holds the Ask button ("Question Ask" before).
    expect(page.get_by_role("textbox", name="Question", exact=True)).to_have_attribute(
        "placeholder", "Ask a question about the documents…"
    )
    page.locator("#qa-chat button[aria-label='Like']").first.click()
    expect(page.get_by_role("textbox", name="Comment on this answer")).to_be_focused()


def test_chips_and_placeholders_reach_aa_contrast(page: Any) -> None:
    assert contrast(page, "#qa-question textarea", "::placeholder") >= 4.5
    assert contrast(page, "#qa-search textarea", "::placeholder") >= 4.5
    answer = ask(page, QUESTION)
    assert contrast(page, "#qa-chat .qa-text a.qa-cite") >= 4.5
    # The active chip is drawn inverted.
    click_until(answer.locator(".qa-text a.qa-cite").first, answer.locator("a.qa-cite.qa-active"))
    expect(answer.locator("a.qa-cite.qa-active")).to_have_count(1)
    assert contrast(page, "#qa-chat a.qa-cite.qa-active") >= 4.5


def test_escape_closes_the_source_panel_and_returns_to_the_citation(page: Any) -> None:
    answer = ask(page, QUESTION)
    chip = answer.locator(".qa-text a.qa-cite").first
    panel = page.locator("#qa-sidebar")
    click_until(chip, page.locator("#qa-sidebar.open"))
    expect(page.get_by_role("button", name="Close source panel")).to_have_attribute(
        "aria-expanded", "true"
    )
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Open source panel")).to_be_visible()
    assert "open" not in (panel.get_attribute("class") or "").split()
    expect(chip).to_be_focused()


def focused(page: Any) -> str:
    """What has the focus: its accessible name, or "-" for the page itself."""
    return str(
        page.evaluate(
            """() => { const el = document.activeElement;
              if (!el || el === document.body) return '-';
              const r = el.getBoundingClientRect();
              const shown = r.width > 0 && r.height > 0 && getComputedStyle(el).visibility
                !== 'hidden' && !el.closest('[hidden], [aria-hidden=true]');
              const name = el.getAttribute('aria-label') || el.placeholder
                || el.innerText.trim();
              return shown ? name : 'INVISIBLE ' + el.outerHTML.slice(0, 120); }"""
        )
    )


def test_tab_visits_visible_named_controls_in_reading_order(page: Any) -> None:
    page.locator("#qa-chat .example").first.wait_for()
    expect(page.locator("#qa-question textarea")).to_be_focused()  # the page starts here
    seen = []
    for _ in range(14):
        page.keyboard.press("Tab")
        seen.append(focused(page))
    examples = [name for name in seen if name.startswith("Select example")]
    assert examples
    start = seen.index("Close conversations")
    assert seen[:start] == ["Ask", "-"]  # the question's button, then out of the page
    assert seen[start : start + 6] == [
        "Close conversations",
        "New chat",
        "Search titles and text",
        "Open source panel",
        "Chat",
        "Documents",
    ]
    after = seen[start + 6 + len(examples) :]
    assert after[:2] == ["Question", "Ask"]
    assert not any(name.startswith("INVISIBLE") for name in seen)
