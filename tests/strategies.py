"""Hypothesis strategies for article text: any Unicode, plus the hard cases on purpose."""

from __future__ import annotations

from hypothesis import strategies as st

from publisher.articles import MAX_BULLET, MAX_SHORT, Article, normalise_text

HARD_PIECES = [
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # family ZWJ sequence
    "\U0001f1e9\U0001f1ea",  # flag
    "\U0001f44d\U0001f3fd",  # skin tone
    "e\u0301",  # combining accent
    "1\ufe0f\u20e3",  # keycap
    "日本語",
    "©",
    "news.de",
    "https://example.com/x",
    "<b>&amp;</b>",
    "*",
    "_",
    " ",
    "\n",
    "\u00ad",
]

article_text = (
    st.lists(st.one_of(st.text(min_size=1, max_size=30), st.sampled_from(HARD_PIECES)), max_size=40)
    .map("".join)
    .map(lambda text: text[:MAX_BULLET])
)


@st.composite
def articles(draw: st.DrawFn) -> Article:
    headline = draw(article_text.filter(normalise_text))
    return Article.model_validate(
        {
            "url": draw(st.sampled_from(["https://e.de/a", "https://www.news.de/p/1?ref=x#top"])),
            "headline": headline,
            "kicker": draw(st.one_of(st.none(), article_text.map(lambda k: k[:MAX_SHORT]))),
            "lead": draw(st.one_of(st.none(), article_text)),
            "bullets": draw(st.lists(article_text, max_size=6)),
            "image": draw(st.one_of(st.none(), st.just({"url": "https://e.de/i.jpg"}))),
        }
    )
