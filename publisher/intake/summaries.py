"""The teaser bullets an article page gives itself: the list (`ul`/`ol`) under a heading such as
"Das Wichtigste in Kürze", "Auf einen Blick", "The essentials" or "Key points", or the list in a
summary box (a class or an `aside` named so), as a text dump's list under "Das Wichtigste:" is."""

from __future__ import annotations

import re
from typing import Any

from publisher.articles import MAX_BULLET, MAX_BULLETS, normalise_text

# What newsrooms call the summary above or beside an article (German and English).
_LABEL = re.compile(
    r"^(das wichtigste( in kürze| im überblick| zusammengefasst)?|auf einen blick|kurz und knapp"
    r"|in kürze|zusammenfassung|the essentials|key (points|facts|takeaways)|at a glance"
    r"|in short|in brief|the key points|what you need to know)\s*:?$",
    re.IGNORECASE,
)
_BOX = re.compile(r"(summary|key-?points|keypoints|tl-?dr|highlights|essentials|kurzgefasst)", re.I)
_LABELLING = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "strong", "b", "div", "span", "header")
# A summary list holds a few points; a longer one is a table of contents or a link list.
_MOST_ITEMS = 8


def summary_bullets(tree: Any) -> list[str]:
    """The points of the page's own summary, in order (empty when it has none)."""
    for element in tree.iter(*_LABELLING):
        if element.getparent() is None or not _LABEL.match(_text(element)):
            continue
        found = _list_after(element)
        if found:
            return found
    for element in tree.iter("aside", "div", "section", "ul", "ol"):
        names = f"{element.get('class', '')} {element.get('id', '')}"
        if _BOX.search(names):
            found = _items(element if element.tag in ("ul", "ol") else _first_list(element))
            if found:
                return found
    return []


def _text(element: Any) -> str:
    return normalise_text(element.text_content())


def _list_after(label: Any) -> list[str]:
    """The list that follows a label: its next sibling (or that sibling's first list), or the
    next list within the label's own container."""
    sibling = label.getnext()
    for _ in range(3):  # a figure or an empty element may stand between
        if sibling is None:
            break
        if sibling.tag in ("ul", "ol"):
            return _items(sibling)
        inner = _first_list(sibling)
        if inner is not None:
            return _items(inner)
        if _text(sibling):
            break
        sibling = sibling.getnext()
    parent = label.getparent()
    if parent is not None and parent.tag not in ("body", "html", "main", "article"):
        return _items(_first_list(parent))
    return []


def _first_list(element: Any) -> Any:
    return next(element.iter("ul", "ol"), None)


def _items(listing: Any) -> list[str]:
    if listing is None:
        return []
    items = [_text(item) for item in listing.iter("li")]
    items = [item for item in items if item]
    if not items or len(items) > _MOST_ITEMS:
        return []
    return [item for item in items if len(item) <= MAX_BULLET][:MAX_BULLETS]
