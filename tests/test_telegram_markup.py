"""Telegram texts edited as **bold**, __italic__ and [text](url): what an editor types becomes
the HTML the Bot API is sent, and a stored post comes back to the editor as they would type it."""

from __future__ import annotations

import time
from html import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.channels.telegram_markup import to_html, to_markup

words = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
urls = st.from_regex(r"https://e\.de/[a-z_()&=?]{0,12}", fullmatch=True)


@st.composite
def telegram_html(draw: st.DrawFn) -> str:
    """HTML as compose writes it: escaped text, bold and italic runs, links."""
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        text = escape(draw(words), quote=False)
        kind = draw(st.sampled_from(["plain", "b", "i", "a"]))
        if kind == "plain":
            parts.append(text)
        elif kind == "a":
            parts.append(f'<a href="{escape(draw(urls))}">{text}</a>')
        else:
            parts.append(f"<{kind}>{text}</{kind}>")
        parts.append(" ")
    return "".join(parts)


@given(telegram_html())
def test_a_post_edited_without_change_is_the_same_html(html: str) -> None:
    assert to_html(to_markup(html)) == html


def test_bold_italic_and_links_become_telegram_html() -> None:
    typed = "**Eilmeldung** __jetzt__ [Weiterlesen](https://e.de/a?x=1&y=2)"
    assert to_html(typed) == (
        '<b>Eilmeldung</b> <i>jetzt</i> <a href="https://e.de/a?x=1&amp;y=2">Weiterlesen</a>'
    )


def test_everything_else_an_editor_types_is_text() -> None:
    assert to_html("a < b & <b>c</b> *d*") == "a &lt; b &amp; &lt;b&gt;c&lt;/b&gt; *d*"


def test_a_stored_post_reads_as_an_editor_writes_it() -> None:
    stored = '<b>Schlagzeile</b>\n\n• Punkt\n\n<a href="https://e.de/a?x=1&amp;y=2">Mehr</a>'
    assert to_markup(stored) == "**Schlagzeile**\n\n• Punkt\n\n[Mehr](https://e.de/a?x=1&y=2)"


@pytest.mark.parametrize("text", ["[" * 30_000, "[a" * 20_000])
def test_thousands_of_unmatched_brackets_are_read_in_one_pass(text: str) -> None:
    started = time.process_time()
    assert to_html(text) == text
    # Before the fix each bracket was tried to the end of the text: 30,000 took 25 s.
    assert time.process_time() - started < 2


def test_a_bracket_in_a_link_text_is_written_escaped() -> None:
    assert to_html(r"[a \[b\] c](https://e.de)") == '<a href="https://e.de">a [b] c</a>'
