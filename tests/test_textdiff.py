"""What changed in a post's text since its approval, word by word: the pieces hold both texts
whole, whatever the texts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from publisher.web.desk.textdiff import MOST_PAIRS, word_changes

texts = st.text(alphabet=st.sampled_from("ab c\n"), max_size=80)


@given(texts, texts)
def test_the_pieces_hold_the_new_text_and_the_old_whole(old: str, new: str) -> None:
    pieces = word_changes(old, new)
    assert "".join(text for kind, text in pieces if kind != "gone") == new
    assert "".join(text for kind, text in pieces if kind != "new") == old


def test_a_changed_word_is_shown_gone_and_new_and_the_rest_as_it_was() -> None:
    assert word_changes("7 Tipps für dich", "8 Tipps für dich") == [
        ("gone", "7"),
        ("new", "8"),
        ("same", " Tipps für dich"),
    ]


def test_two_very_long_texts_are_shown_whole_instead_of_weighed_word_by_word() -> None:
    words = int(MOST_PAIRS**0.5) + 10
    old, new = "a " * words, "b " * words
    assert word_changes(old, new) == [("gone", old), ("new", new)]
