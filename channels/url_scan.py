"""Finding the links in a text as twitter-text finds them (X, and with Mastodon's own path, query
and protocol rules, a Mastodon server), in time linear in the text.

twitter-text's pattern lets a domain's label run as long as the text; tried at every place a link
could start, a long word of letters and hyphens ("-a-a-a…") took time growing with its square
(40,000 characters: 40 s). No label of a link is longer than 63 characters (a longer one fails
the IDNA check that twitter-text makes afterwards), so here a label is read up to 63, a word of
dozens of dots is no link, and inside a word only the try that can match is made (`_matches`);
everything else is the library's own pattern and its check, and tests/test_url_scan.py holds
the two to the same answers."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from twitter_text.regexp.invalid_url_without_protocol_preceding_chars import (
    invalid_url_without_protocol_preceding_chars,
)
from twitter_text.regexp.valid_ascii_domain import valid_ascii_domain
from twitter_text.regexp.valid_cctld import valid_cctld
from twitter_text.regexp.valid_domain_chars import valid_domain_chars
from twitter_text.regexp.valid_gtld import valid_gtld
from twitter_text.regexp.valid_punycode import valid_punycode
from twitter_text.regexp.valid_tco_url import valid_tco_url
from twitter_text.regexp.valid_url_path import valid_url_path
from twitter_text.regexp.valid_url_preceding_chars import valid_url_preceding_chars
from twitter_text.regexp.valid_url_query_chars import valid_url_query_chars
from twitter_text.regexp.valid_url_query_ending_chars import valid_url_query_ending_chars

# The longest label a domain name has (RFC 1035), and the longest link twitter-text takes.
LONGEST_LABEL = 63
LONGEST_URL = 4096
_TCO_SLUG = 40
_DVC = valid_domain_chars.pattern
_MIDDLE = LONGEST_LABEL - 2
_SUBDOMAIN = rf"(?:(?:{_DVC}(?:[_-]|{_DVC}){{0,{_MIDDLE}}})?{_DVC}\.)"
_DOMAIN_NAME = rf"(?:(?:{_DVC}(?:-|{_DVC}){{0,{_MIDDLE}}})?{_DVC}\.)"
_DOMAIN = (
    rf"(?:{_SUBDOMAIN}*{_DOMAIN_NAME}"
    rf"(?:{valid_gtld.pattern}|{valid_cctld.pattern}|{valid_punycode.pattern}))"
)
# A word: a run of the letters a domain's labels are made of.
_WORD = re.compile(f"{_DVC}+")
# Characters after which twitter-text starts no link: of a domain's letters, A-Z, digits and
# the full-width @ and #; of the others, @, $, # and the characters no text should hold.
_NO_LINK_AFTER_LETTER = frozenset(string.ascii_letters + string.digits + "\uff20\uff03")
_NO_LINK_AFTER = frozenset("@$#\ufffe\ufeff\uffff")
# A run of dotted labels ("a.a.a.…") is still tried label by label from each dot; no address
# has this many dots (a host has at most 127 labels, and real paths a handful).
_DOTS = 40
_DOTTY = re.compile(rf"(?<!\S)[^\s.]*(?:\.[^\s.]*){{{_DOTS},}}")
# What a link tried from a domain's letter must hold before its first space: a dot and a letter
# of the top-level domain after it. Tries that fail this need no pattern of every domain.
_MAY_LINK = re.compile(rf"(?:{_DVC}|[-_.:/])*?\.{_DVC}")
_DOMAIN_LETTER = re.compile(_DVC)
_NEVER_BEFORE_A_LINK = _NO_LINK_AFTER_LETTER | _NO_LINK_AFTER


@dataclass(frozen=True)
class Rules:
    """How a platform's link pattern differs from twitter-text's: the protocols it links, the
    pattern of a path and of a query, and whether a link's length counts its protocol (the
    JavaScript library, which X follows) or not (the Ruby one, which Mastodon runs)."""

    protocols: str
    path: str
    query: str
    protocol_counts: bool

    def pattern(self, *, inside_words: bool) -> re.Pattern[str]:
        """The link pattern; only `inside_words` (or with its protocol written) may a link start
        right after a letter of a domain's (which twitter-text allows after any letter but
        A-Z)."""
        after = "" if inside_words else f"(?:(?<!{_DVC})|(?=(?:{self.protocols})://))"
        return re.compile(
            rf"({valid_url_preceding_chars.pattern}){after}"
            rf"(((?:{self.protocols})://)?({_DOMAIN})(?::[0-9]+)?(/(?:{self.path})*)?"
            rf"(?:\?{self.query})?)",
            re.IGNORECASE,
        )


TWITTER = Rules(
    protocols="https?",
    path=valid_url_path.pattern,
    query=f"{valid_url_query_chars.pattern}*{valid_url_query_ending_chars.pattern}",
    protocol_counts=True,
)


class Scanner:
    """Finds links by one platform's `Rules`."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules

    # Compiled when first needed, not at import: each is a pattern of every top-level domain,
    # and most texts never need the one for links inside words (after a @, $ or #).
    @cached_property
    def _anywhere(self) -> re.Pattern[str]:
        return self.rules.pattern(inside_words=True)

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        return self.rules.pattern(inside_words=False)

    @cached_property
    def _protocol(self) -> re.Pattern[str]:
        return re.compile(f"(?:{self.rules.protocols})://", re.IGNORECASE)

    def spans(self, text: str, *, without_protocol: bool) -> list[tuple[int, int]]:
        """Start and end of every link in `text`, as twitter-text's
        `extract_urls_with_indices` gives them; a link without a protocol only
        `without_protocol`."""
        if ("." if without_protocol else ":") not in text:
            return []
        masked = (
            _DOTTY.sub(lambda m: "_" * len(m.group(0)), text) if text.count(".") >= _DOTS else text
        )
        found: list[tuple[int, int]] = []
        for match in self._matches(masked):
            before, url, protocol, domain, path = match.group(1, 2, 3, 4, 5)
            start, end = match.span(2)
            if not self._fits(url, protocol, domain):
                continue
            if protocol:
                tco = valid_tco_url.match(url)
                if tco:
                    if tco.group(1) and len(tco.group(1)) > _TCO_SLUG:
                        continue
                    end = start + len(tco.group(0))
                found.append((start, end))
            elif without_protocol and not invalid_url_without_protocol_preceding_chars.search(
                before
            ):
                found += _ascii_domains(domain, start, end if path else None)
        return found

    def _matches(self, text: str) -> Iterator[re.Match[str]]:
        """What twitter-text's scan matches. It tries a link after every character but a letter
        A-Z, a digit, `@`, `$` or `#`; inside a word (a run of a domain's letters) only the first
        such try can match, as a later one sees the same word from further in (trying them all
        is what took time growing with the square of the word). So the pattern itself starts no
        link inside a word, and here the first try of each word is made: after a `@`, `$` or
        `#` (`_inside_words`) and where the last match ended (`_inside_word`)."""
        inside = _inside_words(text)
        position, next_inside = 0, 0
        while True:
            match = self._pattern.search(text, position)
            # The library's own try where the pattern matched may match otherwise (taking the
            # letter before a word's start, not the text's start, as the one before the link).
            before = match.start() if match else len(text)
            tries = [position, before, *_inside_word(text, position)]
            while next_inside < len(inside) and inside[next_inside] < before:
                tries.append(inside[next_inside])
                next_inside += 1
            for start in sorted(t for t in tries if position <= t <= before):
                tried = self._try(text, start)
                if tried:
                    match = tried
                    break
            if match is None:
                return
            yield match
            position = match.end()

    def _try(self, text: str, start: int) -> re.Match[str] | None:
        """twitter-text's try of a link at `start`. The two patterns differ only where the
        link would follow a domain's letter (one a link may follow) without a protocol, so
        elsewhere the one already compiled answers; and a try that cannot hold a domain
        compiles nothing (most texts then never need `_anywhere`)."""
        if (
            start >= len(text)
            or text[start] in _NEVER_BEFORE_A_LINK
            or not _DOMAIN_LETTER.match(text, start)
            or self._protocol.match(text, start + 1)
        ):
            return self._pattern.match(text, start)
        if not _MAY_LINK.match(text, start):
            return None
        return self._anywhere.match(text, start)

    def _fits(self, url: str, protocol: str | None, domain: str) -> bool:
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return False
        grown = len(ascii_domain) - len(domain)
        if self.rules.protocol_counts:
            return len(protocol or "https://") + len(url) + grown <= LONGEST_URL
        return len(url) + max(grown, 0) + (0 if protocol else len("https://")) <= LONGEST_URL


def _inside_words(text: str) -> list[int]:
    """Where the first link inside each word after a `@`, `$` or `#` could start (the place of
    the letter before it), in order."""
    tries: list[int] = []
    if _NO_LINK_AFTER.isdisjoint(text):
        return tries
    for word in _WORD.finditer(text):
        start, end = word.span()
        if start > 0 and text[start - 1] in _NO_LINK_AFTER:
            tries += _inside_word(text, start, end)
    return tries


def _inside_word(text: str, start: int, end: int | None = None) -> list[int]:
    """The place of the first letter of the word at `start` after which a link may start."""
    if end is None:
        word = _WORD.match(text, start)
        end = word.end() if word else start
    for place in range(start, end - 1):
        if text[place] not in _NO_LINK_AFTER_LETTER:
            return [place]
    return []


def _ascii_domains(domain: str, start: int, path_end: int | None) -> list[tuple[int, int]]:
    """A link written without a protocol: its ASCII-only domains (twitter-text reads no other
    without a protocol), the last up to the end of the path when it has one."""
    spans = [(start + m.start(), start + m.end()) for m in valid_ascii_domain.finditer(domain)]
    if spans and path_end is not None:
        spans[-1] = (spans[-1][0], path_end)
    return spans


X_LINKS = Scanner(TWITTER)
