"""A status's length as a Mastodon server counts it (StatusLengthValidator): grapheme clusters,
each link the server links as `characters_reserved_per_url`, each remote mention as its local
part.

The server finds links with twitter-text's pattern under its own rules
(config/initializers/twitter_regex.rb: the protocols dat, dweb, ipfs, ipns, ssb, gopher and
gemini beside http(s); any character but space, `<>()?` in a path; Unicode in a query) and only
where a protocol is written; it finds mentions with Account::MENTION_RE (a name of letters,
digits and `_`, with `.` or `-` between them; a domain of Unicode word characters), none right
after a letter, `=` or `/`, none followed by `@`, an accented letter or `://`, and none whose
domain is longer than 253 characters (app/lib/extractor.rb). Where a link and a mention overlap,
the one that starts first counts."""

from __future__ import annotations

import regex
from twitter_text.regexp.valid_url_balanced_parens import valid_url_balanced_parens

from publisher.channels.text import graphemes
from publisher.channels.url_scan import Rules, Scanner

_PATH_CHAR = r"[^\s<>()?]"
# Ruby's pattern takes twitter-text's own balanced parentheses as a path's ending (it is
# interpolated before Mastodon redefines them).
_PATH_END = rf"""(?:[^\s()?!*"'「」<>;:=,.$%\[\]~&|@]|{valid_url_balanced_parens.pattern})"""
_PARENS = rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)"
_UCHARS = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    "\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    "\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
    "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
MASTODON = Rules(
    protocols="https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini",
    path=(rf"{_PATH_CHAR}*(?:{_PARENS}{_PATH_CHAR}*)*{_PATH_END}|{_PATH_CHAR}+/"),
    query=rf"[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]*[a-z0-9_&=#/\-{_UCHARS}]",
    protocol_counts=False,
)
_LINKS = Scanner(MASTODON)

# Ruby's [[:word:]]: letters, marks, decimal digits and connectors such as `_`.
_WORD = r"[\p{L}\p{M}\p{Nd}\p{Pc}]"
_MENTION = regex.compile(
    r"(?<![=/\p{L}\p{M}\p{Nd}\p{Pc}])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)"
    rf"(?:@({_WORD}+(?:[.-]+{_WORD}+)*))?",
    regex.IGNORECASE,
)
# twitter-text's end of a mention: what may not follow one (an @, an accented Latin letter, ://).
_NOT_AFTER = regex.compile(
    "[@\uff20\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257"
    "\u0259\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff]|://"
)
LONGEST_DOMAIN = 253


def _mentions(text: str) -> list[tuple[int, int, str]]:
    """Start, end and what counts (`@name`) of each remote or local mention the server finds."""
    found = []
    for match in _MENTION.finditer(text):
        name, domain = match.group(1, 2)
        if _NOT_AFTER.match(text, match.end()) or (domain and len(domain) > LONGEST_DOMAIN):
            continue
        found.append((match.start(), match.end(), f"@{name}"))
    return found


def mastodon_length(text: str, url_characters: int = 23) -> int:
    """`text`'s length as a Mastodon server counts it."""
    if not text.strip():
        return 0
    links = [
        (start, end, "x" * url_characters)
        for start, end in _LINKS.spans(text, without_protocol=False)
    ]
    entities = sorted(links + _mentions(text) if "@" in text else links)
    counted, position = [], 0
    for start, end, stands_for in entities:
        if start < position:
            continue
        counted += [text[position:start], stands_for]
        position = end
    counted.append(text[position:])
    return len(graphemes("".join(counted)))
