"""The data of the page's custom events, as handlers read it."""

from __future__ import annotations

from assistant.ui.events import PageEvent


def test_fields_are_the_data_sent_and_nothing_else() -> None:
    event = PageEvent(None, {"doc": "0123456789abcdef0123", "start": 4, "q": None})
    assert event.fields == {"doc": "0123456789abcdef0123", "start": 4, "q": None}
    assert event.text("doc") == "0123456789abcdef0123"
    assert event.text("start") == "4"
    assert event.text("q") == ""  # sent as null
    assert event.text("sort") == ""  # not sent
    for odd in (None, "doc", ["doc"], 7):  # a hand-made request may send anything
        assert PageEvent(None, odd).fields == {}
        assert PageEvent(None, odd).text("doc") == ""
