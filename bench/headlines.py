"""Headline recovery on real news and blog pages: how often `publisher` finds the article's own
headline (not the site's name, not the SEO title) in pages as sites served them.

The pages are two public test collections that are not part of this repository: the cache of
trafilatura (github.com/adbar/trafilatura, tests/cache: 109 pages, mostly German news and blogs)
and the test pages of Mozilla's Readability (github.com/mozilla/readability, test/test-pages:
the 75 from real sites). `headline-labels.json` holds, for each page, the headline as the page
shows its readers (read off the page by a person), the address it was fetched from, and whether
it is an article (news or blog post) or another kind of page (a category, a product, a manual).
Headlines are compared without case, spaces and punctuation (typographic quotes and dashes
differ between a page's title and its heading).

    python bench/headlines.py TRAFILATURA_CHECKOUT READABILITY_CHECKOUT

prints the share found among articles and among all pages, and each page missed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from publisher.articles import ArticleError  # noqa: E402
from publisher.intake.htmlpage import article_from_html, decode_html  # noqa: E402

LABELS = Path(__file__).with_name("headline-labels.json")


def key(text: str) -> str:
    return re.sub(r"\W+", "", text.casefold())


def main(checkouts: list[str]) -> None:
    sources = json.loads(LABELS.read_text(encoding="utf-8"))["sources"]
    found = {"article": [0, 0], "other": [0, 0]}
    for (name, source), checkout in zip(sources.items(), checkouts, strict=True):
        folder = Path(checkout) / source["folder"]
        for page, label in source["pages"].items():
            raw = (folder / page).read_bytes()
            try:
                got = article_from_html(
                    decode_html(raw), source=page, base_url=label["address"]
                ).headline
            except ArticleError as exc:
                got = f"(refused: {exc})"
            hit = key(got) == key(label["headline"])
            found[label["kind"]][0] += hit
            found[label["kind"]][1] += 1
            if not hit:
                print(f"missed {name}/{page}: {got!r}, is {label['headline']!r}")
    articles, others = found["article"], found["other"]
    print(f"articles: {articles[0]}/{articles[1]} = {articles[0] / articles[1]:.1%}")
    every = articles[0] + others[0], articles[1] + others[1]
    print(f"all pages: {every[0]}/{every[1]} = {every[0] / every[1]:.1%}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1:])
