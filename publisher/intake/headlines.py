"""Which of the headlines a page declares is the article's own, and what a title looks like
without the site's name ("Kopf | heise online", "News.de » Kopf", "标题_栏目_网站"). Pure
functions on the declared texts; `publisher.intake.htmlpage` reads them from the page."""

from __future__ import annotations

import re
from dataclasses import dataclass

# What sites put between a headline and their name: "Kopf | Site", "Site » Kopf", "Kopf: Site",
# and, on Chinese sites, "标题_栏目_网站".
_TITLE_SEPARATORS = re.compile(r"\s+[|–—·•›»«‹/:-]{1,2}\s+|\s*[|›»·•]\s*|:\s+|\s*_\s*")
# Longer "headings" are captions or teasers set in <h1> by a theme.
HEADLINE_MAX = 200


@dataclass(frozen=True)
class Declared:
    """What a page says its headline is: its titles (Open Graph, Twitter card, <title>), its h1
    headings (those of the article first, furniture left out), the schema.org Article's
    headline and name, and whether exactly one h1 stands in the <article>."""

    titles: tuple[str | None, ...]
    headings: tuple[str, ...]
    schema_headline: str | None = None
    schema_name: str | None = None
    one_article_heading: bool = False


def _key(text: str) -> str:
    return re.sub(r"\W+", "", text.casefold())


def _common_prefix(a: str, b: str) -> int:
    length = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        length += 1
    return length


def _names_site(part: str, names: list[str], *, trailing: bool = False) -> bool:
    """Whether a part of a title names the site: it is, starts with or mostly shares one of the
    site's names ("Brandenburgische Landeszentrale" on brandenburg.de), holds every word of a
    host name ("Historische Wehranlage in Horka" on wehranlage-horka.de), or, standing behind
    the headline, contains a name ("Stadt Stuttgart")."""
    part_key = _key(part)
    if len(part_key) < 2:
        return False
    words = [_key(w) for w in re.split(r"[\s\-–—.]+", part) if _key(w)]
    for name in names:
        key = _key(name)
        if len(key) < 2:
            continue
        if part_key == key or part_key.startswith(key) or key.startswith(part_key):
            return True
        if _common_prefix(part_key, key) >= max(6, 0.6 * len(key)):
            return True
        if trailing and len(key) >= 6 and key in part_key:
            return True
        tokens = [_key(t) for t in re.split(r"[-.]", name) if len(_key(t)) >= 2]
        if len(tokens) >= 2 and all(any(w.startswith(t) for w in words) for t in tokens):
            return True
    return False


def _is_site_name(text: str, names: list[str]) -> bool:
    """Whether a heading is no more than the site's name ("Archive of Our Own beta", "痞客邦
    PIXNET"), as logos set in <h1> are."""
    text_key = _key(text)
    words = [_key(w) for w in re.split(r"[\s\-–—.]+", text) if _key(w)]
    for name in names:
        key = _key(name)
        if len(key) < 2 or not text_key:
            continue
        longer, shorter = max(len(key), len(text_key)), min(len(key), len(text_key))
        if longer <= 1.6 * shorter and (key in text_key or text_key in key):
            return True
        tokens = [_key(t) for t in re.split(r"[-.]", name) if len(_key(t)) >= 2]
        if (
            len(tokens) >= 2
            and len(words) <= len(tokens) + 4
            and all(any(w.startswith(t) for w in words) for t in tokens)
        ):
            return True
    return False


def _trailing_labels(parts: list[str]) -> bool:
    """Whether a title is a headline followed by two or more short labels (section, site:
    "Kopf der Meldung - Test - CHIP", "标题很长的新闻_教育频道_中国青年网"), each a third of the
    headline's length at most and of three words at most."""
    if len(parts) < 3:
        return False
    head = len(parts[0])
    return all(len(p.split()) <= 3 and 3 * len(p) <= head for p in parts[1:])


def _without_bracketed_site(title: str, names: list[str]) -> str:
    """ "Kopf [LWN.net]", "Kopf (heise online)": a trailing bracket naming the site goes."""
    match = re.search(r"\s*[\[(]([^\[\]()]+)[\])]\s*$", title)
    if match and match.start() > 0 and _names_site(match.group(1), names):
        return title[: match.start()]
    return title


def strip_site_suffix(title: str, site_names: list[str], section: str | None = None) -> str:
    """The headline of a title that carries the site's name behind or before it ("Kopf | heise
    online", "Kopf - The Verge", "Kopf | DW | 19.01.2020", "News.de » Kopf"), and the section
    next to the name when the page names its section. Parts are only dropped when they name the
    site, so a separator inside a headline ("Merz - Scholz: Duell") stays."""
    title = _without_bracketed_site(title, site_names)
    parts = _TITLE_SEPARATORS.split(title)
    separators = _TITLE_SEPARATORS.findall(title)
    if _trailing_labels(parts):
        return parts[0]
    section_key = _key(section or "")
    first, last = 0, len(parts)
    for index in range(1, len(parts)):
        if _names_site(parts[index], site_names, trailing=True):
            last = index
            break
    if last == len(parts) and len(parts) > 1 and _names_site(parts[0], site_names):
        first = 1
        if len(parts) > 2 and section_key and _key(parts[1]) == section_key:
            first = 2
    elif last < len(parts) and last - first > 1 and section_key == _key(parts[last - 1]):
        last -= 1
    if (first, last) == (0, len(parts)):
        return title
    kept = parts[first] + "".join(
        separator + part
        for separator, part in zip(
            separators[first : last - 1], parts[first + 1 : last], strict=False
        )
    )
    return kept.strip() or title


def _untruncated(titles: list[str | None]) -> str | None:
    """The first title, or a longer one it was cut from ("… leader..." in SEO-trimmed JSON-LD)."""
    present = [t for t in titles if t]
    if not present:
        return None
    first = present[0]
    stem = re.sub(r"\s*(\.\.\.|…)$", "", first)
    if stem != first:
        longer = next((t for t in present[1:] if t.startswith(stem) and len(t) > len(stem)), None)
        return longer or first
    return first


def _shares_words(text: str, others: list[str | None]) -> bool:
    """Whether at least half of the longer words of `text` stand in one of `others`."""
    words = {_key(w) for w in text.split() if len(_key(w)) >= 3}
    if not words:
        return True
    return any(
        len(words & {_key(w) for w in other.split()}) * 2 >= len(words) for other in others if other
    )


def choose(page: Declared, site_names: list[str], section: str | None) -> str | None:
    """The article's own headline: the page's h1 where a title carries it too (two sources
    agreeing); else the schema.org headline; else the one h1 heading the <article>; else the
    first title without the site's name."""
    titles = list(page.titles)
    headings = [h for h in page.headings if not _is_site_name(h, site_names)]
    title_keys = [_key(t) for t in titles if t]
    for heading in headings:
        heading_key = _key(heading)
        if len(heading_key) >= 4 and any(heading_key in key for key in title_keys):
            return heading
    schema_headline, schema_name = page.schema_headline, page.schema_name
    # Some sites (Wikipedia) put a description in "headline" and the title in "name".
    if (
        schema_headline
        and schema_name
        and not _shares_words(schema_headline, titles)
        and _shares_words(schema_name, titles)
    ):
        schema_headline = schema_name
    if schema_headline:
        return strip_site_suffix(
            _untruncated([schema_headline, *titles]) or "", site_names, section
        )
    if page.one_article_heading and headings:
        return headings[0]
    title = _untruncated(titles)
    if title:
        return strip_site_suffix(title, site_names, section)
    return headings[0] if headings else None
