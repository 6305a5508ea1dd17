"""Topic articles: site boilerplate removal, sectioning, and the stored topic form.

An imported article (plain text such as seed 004, or an HTML page) becomes a
:class:`Topic`: a title, a lead paragraph and titled sections, with the text judged to be
site boilerplate (cookie banners, consent notices, navigation, newsletter prompts) set
aside in ``removed`` so that a person can check what was dropped.

HTML goes through trafilatura's main-content extraction (Barbaresi 2021), which drops
navigation, footers and most banners and keeps the headings. Plain text has no markup, so
a general detector scores each paragraph for boilerplate signals and trims the leading and
trailing runs of boilerplate; the same detector then runs on the HTML extraction, because
consent text inside the main content survives extraction.

References
----------
Barbaresi A. "Trafilatura: A Web Scraping Library and Command-Line Tool for Text Discovery
and Extraction." ACL 2021 System Demonstrations, 122-131.
Kohlschütter C, Fankhauser P, Nejdl W. "Boilerplate detection using shallow text features."
WSDM 2010 (short lines, link-like text and position as boilerplate signals).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dermatrack.errors import InputError
from dermatrack.knowledge.record import snake_case


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that belong to a site's own machinery (consent, tracking, accounts, navigation)
# rather than to clinical prose. Exact words, not prefixes, so that clinical words such as
# "signs" or "significant" never count.
_SITE_WORDS = _word_set("""
    cookie cookies consent consents consenting privacy preference preferences newsletter
    newsletters subscribe subscribed subscribing subscription subscriptions unsubscribe
    marketing analytics analytic tracking tracker trackers advertising advertisement
    advertisements advertisers ads personalize personalized personalizing personalise
    personalised personalization personalisation customize customise customized website
    websites webpage webpages homepage visitors visitor browser browsers browsing traffic
    promotions promotional sponsored login logins signup sign-up sign-in signin copyright
    inbox unsubscribe disclaimer navigation menu skip
""")
# Words that often occur in site text but also in clinical prose: they count half, and only
# beside at least one site word.
_WEAK_SITE_WORDS = _word_set("""
    accept accepted reject decline manage settings policy policies terms reserved rights
    share follow click clicking email emails account partners third-party free resources
    content experience features offers deals
""")
# First and second person: a site talks to its reader ("we use", "your preferences");
# reference prose about a procedure rarely does.
_READER_WORDS = _word_set("we us our ours you your yours")

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
_DEFINITION = re.compile(
    r"^(?:(?:The|An?)\s+)?([A-Z][A-Za-z0-9'’-]*(?:\s+[A-Za-z0-9'’-]+){0,5})\s+"
    r"(?:refers? to|is|are|describes?|denotes?|means)\s")
_HTML_HINT = re.compile(r"<(?:!doctype|html|body|head|p|div|h[1-6]|article|main)\b", re.I)

BOILERPLATE_THRESHOLD = 0.15
"""Score (site-vocabulary weight per word) from which a paragraph counts as boilerplate.

A cookie notice scores 0.25-0.7 (a third of its words are site words); clinical prose
scores 0 and stays below 0.1 even when it mentions a website once in a long paragraph."""

MAX_HEADING_WORDS = 6
MAX_HEADING_CHARS = 70


@dataclass(frozen=True)
class Section:
    """A titled part of an article; ``text`` holds its paragraphs separated by a blank line."""

    title: str
    text: str


@dataclass
class Article:
    """An article after cleaning.

    Attributes
    ----------
    title:
        The article's title, or ``None`` when neither a title line nor a defining lead
        sentence names it.
    summary:
        The lead: the paragraphs before the first heading.
    sections:
        Titled sections in order.
    removed:
        Paragraphs and sentences removed as boilerplate, in document order.
    """

    title: str | None
    summary: str
    sections: list[Section] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class Topic:
    """A stored topic: an article with a code and the name of the file it came from."""

    code: str
    title: str
    summary: str
    sections: list[Section] = field(default_factory=list)
    source: str | None = None
    removed: list[str] = field(default_factory=list)

    @classmethod
    def from_article(cls, article: Article, *, code: str | None = None,
                     source: str | None = None, fallback_title: str | None = None) -> Topic:
        """Make a topic from a cleaned article.

        ``code`` defaults to the snake_case title; ``fallback_title`` is used when the
        article names no title (the CLI passes the file name).

        Raises
        ------
        InputError
            When no code can be derived or the code is not ``[a-z0-9_]+``.
        """
        title = article.title or fallback_title
        if not title:
            raise InputError("the article names no title; give a code", field="code")
        code = code if code is not None else snake_case(title)
        check_topic_code(code)
        return cls(code=code, title=title, summary=article.summary,
                   sections=list(article.sections), source=source,
                   removed=list(article.removed))

    def to_json(self) -> dict[str, Any]:
        """The stored form (``knowledge/data/topics/<code>.json``)."""
        return {
            "code": self.code,
            "title": self.title,
            "summary": self.summary,
            "sections": [{"title": s.title, "text": s.text} for s in self.sections],
            "source": self.source,
            "removed": list(self.removed),
        }

    @classmethod
    def from_json(cls, data: Any) -> Topic:
        """Read the stored form.

        Raises
        ------
        InputError
            Naming the key whose value has the wrong shape.
        """
        if not isinstance(data, Mapping):
            raise InputError("a topic must be a JSON object")
        for key in ("code", "title", "summary"):
            if not isinstance(data.get(key), str):
                raise InputError("expected a string", field=key)
        check_topic_code(data["code"])
        if data.get("source") is not None and not isinstance(data["source"], str):
            raise InputError("expected a string or null", field="source")
        sections = data.get("sections")
        if not isinstance(sections, list):
            raise InputError("expected a list of {title, text}", field="sections")
        parsed = []
        for index, item in enumerate(sections):
            if not (isinstance(item, Mapping) and isinstance(item.get("title"), str)
                    and isinstance(item.get("text"), str)):
                raise InputError("expected {\"title\": string, \"text\": string}",
                                 field=f"sections[{index}]")
            parsed.append(Section(item["title"], item["text"]))
        removed = data.get("removed", [])
        if not (isinstance(removed, list) and all(isinstance(r, str) for r in removed)):
            raise InputError("expected a list of strings", field="removed")
        return cls(code=data["code"], title=data["title"], summary=data["summary"],
                   sections=parsed, source=data.get("source"), removed=list(removed))

    @property
    def text(self) -> str:
        """Lead and sections as plain text (for search)."""
        parts = [self.summary] + [f"{s.title}\n{s.text}" for s in self.sections]
        return "\n\n".join(part for part in parts if part)


def check_topic_code(code: str) -> None:
    """Refuse codes that are not ``[a-z0-9_]+`` (codes become file names)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", code or ""):
        raise InputError(f"topic code {code!r} must be lower-case letters, digits and "
                         "underscores", field="code")


# --------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True)
class _Unit:
    """A paragraph or heading of the article being cleaned."""

    text: str
    heading: bool
    top_level: bool = False  # an <h1> or a "# " line: the article's title when it leads


def boilerplate_score(text: str) -> float:
    """How much ``text`` reads like a site's own text rather than article prose.

    The score is site-vocabulary weight per word: site words (cookie, consent, newsletter,
    analytics, website, ...) count 1, ambiguous ones (accept, manage, policy, ...) 0.5, and
    first- or second-person words (we, our, you, ...) 0.5; the last two count only when at
    least one site word is present, so clinical prose addressed to a patient scores 0.

    Parameters
    ----------
    text:
        A paragraph, heading or sentence.

    Returns
    -------
    float
        0 for text with no site word; about 0.25-0.7 for a typical consent notice.
    """
    words = [w.lower().strip("'’-") for w in _WORD.findall(text)]
    if not words:
        return 0.0
    site = sum(w in _SITE_WORDS for w in words)
    if site == 0:
        return 0.0
    weak = sum(w in _WEAK_SITE_WORDS for w in words)
    reader = sum(w in _READER_WORDS for w in words)
    return (site + 0.5 * weak + 0.5 * reader) / len(words)


def _is_boilerplate(text: str) -> bool:
    return boilerplate_score(text) >= BOILERPLATE_THRESHOLD


def _is_fragment(text: str) -> bool:
    """A short line that is not a sentence: a link, a button, a menu entry."""
    return len(text.split()) <= 4 and not text.rstrip().endswith((".", "!", "?"))


def _looks_like_heading(line: str) -> bool:
    """A short line in Title Case without closing punctuation."""
    words = line.split()
    if not words or len(words) > MAX_HEADING_WORDS or len(line) > MAX_HEADING_CHARS:
        return False
    if line.rstrip().endswith((".", ",", ";", ":", "!")) or not line[0].isupper():
        return False
    if len(words) <= 3:
        return True
    significant = [w for w in words[1:] if len(w) >= 4 and w[0].isalpha()]
    return all(w[0].isupper() for w in significant)


def _is_prose(unit: _Unit) -> bool:
    return not unit.heading and not _is_fragment(unit.text)


# --------------------------------------------------------------------------------------
# Plain text


def _plain_units(text: str) -> list[_Unit]:
    """Split plain text into headings and paragraphs.

    Text with blank lines is read as blank-line-separated paragraphs whose lines may be
    wrapped; text without any is read one paragraph per line (as seed 004). A line is a
    heading when it is marked with ``#`` or looks like one and a paragraph follows it.
    """
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n")
             .split("\n")]
    wrapped = any(not line for line in lines) and any(line for line in lines)
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    # (text, heading? None = decide from what follows, top-level "# " heading?)
    candidates: list[tuple[str, bool | None, bool]] = []
    for block in blocks:
        paragraph: list[str] = []
        for line in block:
            marked = _MARKDOWN_HEADING.match(line)
            if marked or _looks_like_heading(line):
                if paragraph:
                    candidates.append((" ".join(paragraph), False, False))
                    paragraph = []
                if marked:
                    candidates.append((marked.group(2), True, len(marked.group(1)) == 1))
                else:
                    candidates.append((line, None, False))
            elif wrapped:
                paragraph.append(line)
            else:
                candidates.append((line, False, False))
        if paragraph:
            candidates.append((" ".join(paragraph), False, False))

    units = []
    for index, (content, heading, top_level) in enumerate(candidates):
        if heading is None:
            following = candidates[index + 1] if index + 1 < len(candidates) else None
            heading = (following is not None and following[1] is False
                       and not _is_fragment(following[0]))
        units.append(_Unit(content, heading, top_level))
    return units


# --------------------------------------------------------------------------------------
# HTML


_HTML_BLOCKS = frozenset({"head", "p", "list", "quote", "table", "code"})


def _html_units(html: str) -> tuple[list[_Unit], str | None]:
    """Main content of an HTML page as headings and paragraphs, and the page title."""
    import trafilatura
    from lxml import etree

    # Default settings first (they favour precision); a short page can come back empty
    # from them, and then the recall-oriented settings get a second try.
    extracted = None
    for favor_recall in (False, True):
        extracted = trafilatura.extract(html, output_format="xml", include_formatting=True,
                                        include_comments=False, include_tables=True,
                                        with_metadata=True, favor_recall=favor_recall)
        if extracted:
            break
    if not extracted:
        return [], None
    try:
        root = etree.fromstring(extracted.encode("utf-8"))
    except etree.XMLSyntaxError as exc:  # trafilatura's own output: not expected
        raise InputError(f"could not read the extracted page content: {exc}") from None

    units: list[_Unit] = []

    def collect(element: Any) -> None:
        for child in element:
            if child.tag in _HTML_BLOCKS:
                text = " ".join(" ".join(child.itertext()).split())
                if text:
                    units.append(_Unit(text, child.tag == "head" or _bold_heading(child, text),
                                       top_level=child.get("rend") == "h1"))
            elif child.tag != "comments":
                collect(child)  # <div> and other wrappers

    main = root.find("main")
    collect(main if main is not None else root)
    return units, root.get("title") or None


#: Longest text a bold-only paragraph may have to be read as a heading (characters).
BOLD_HEADING_CHARS = 80


def _bold_heading(element: Any, text: str) -> bool:
    """A paragraph that is nothing but bold text, short and not a sentence: the heading
    of a page that styles its section titles instead of marking them up (``<div
    class="title"><strong>How it works</strong></div>``)."""
    if element.tag != "p" or len(text) > BOLD_HEADING_CHARS or text.endswith((".", ",", ";")):
        return False
    if (element.text or "").strip():
        return False
    children = list(element)
    return bool(children) and all(
        child.tag == "hi" and "b" in (child.get("rend") or "") and not (child.tail or "").strip()
        for child in children)


def _looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT.search(text[:4096]))


# --------------------------------------------------------------------------------------
# Cleaning


def _is_boilerplate_block(text: str, *, at_tail: bool) -> bool:
    """Whether a whole paragraph at an edge of the article is boilerplate.

    The paragraph must score as boilerplate and so must its inner end (its first sentence
    at the tail, its last at the head): a paragraph of article prose with a consent
    sentence glued to its outer end is kept, and loses that sentence afterwards.
    """
    if not _is_boilerplate(text):
        return False
    sentences = _SENTENCE_END.split(text)
    return _is_boilerplate(sentences[0] if at_tail else sentences[-1])


def _trim_sentences(text: str, *, from_end: bool) -> tuple[str, list[str]]:
    """Remove boilerplate sentences from one end of a paragraph."""
    sentences = _SENTENCE_END.split(text)
    removed: list[str] = []
    while len(sentences) > 1:
        candidate = sentences[-1] if from_end else sentences[0]
        if not _is_boilerplate(candidate):
            break
        removed.insert(0, candidate) if from_end else removed.append(candidate)
        sentences = sentences[:-1] if from_end else sentences[1:]
    return " ".join(sentences), removed


def _trim(units: list[_Unit]) -> tuple[list[_Unit], list[str], list[str]]:
    """Drop the leading and trailing runs of boilerplate.

    At the tail, boilerplate paragraphs and fragments (links, buttons, headings of a
    boilerplate block) are dropped until the first real paragraph; at the head, the same
    until the title or first paragraph. The paragraph at each edge then loses boilerplate
    sentences at its outer end.

    Returns
    -------
    kept, removed_at_head, removed_at_tail
    """
    start, end = 0, len(units)
    while end > start and (_is_boilerplate_block(units[end - 1].text, at_tail=True)
                           or _is_fragment(units[end - 1].text)
                           or units[end - 1].heading):
        end -= 1
    while start < end:
        unit = units[start]
        nxt = units[start + 1] if start + 1 < end else None
        opens_article = unit.heading and nxt is not None and _is_prose(nxt)
        if (_is_boilerplate_block(unit.text, at_tail=False)
                or (_is_fragment(unit.text) and not opens_article)):
            start += 1
        else:
            break
    head = [u.text for u in units[:start]]
    tail = [u.text for u in units[end:]]
    kept = list(units[start:end])
    if kept and not kept[-1].heading:
        text, dropped = _trim_sentences(kept[-1].text, from_end=True)
        kept[-1] = _Unit(text, heading=False)
        tail = dropped + tail
    if kept and not kept[0].heading:
        text, dropped = _trim_sentences(kept[0].text, from_end=False)
        kept[0] = _Unit(text, heading=False)
        head = head + dropped
    return kept, head, tail


def _definition_subject(paragraph: str) -> str | None:
    """``"Dermal rejuvenation"`` from ``"Dermal rejuvenation refers to ..."``."""
    match = _DEFINITION.match(paragraph)
    return match.group(1) if match else None


def clean_article(text_or_html: str, *, is_html: bool | None = None) -> Article:
    """Remove site boilerplate from an article and split it into titled sections.

    Parameters
    ----------
    text_or_html:
        The article as plain text or as an HTML page.
    is_html:
        ``True`` or ``False`` to say which; ``None`` guesses from the first tags.

    Returns
    -------
    Article
        The title (a leading heading, the page title, or the subject of a defining first
        sentence such as "Dermal rejuvenation refers to ..."), the lead paragraphs, the
        sections and what was removed.

    Raises
    ------
    InputError
        When the input is empty, binary, or nothing but boilerplate.
    """
    if "\x00" in text_or_html:
        raise InputError("binary data (NUL character); expected text or HTML")
    if not text_or_html.strip():
        raise InputError("empty article")
    html = _looks_like_html(text_or_html) if is_html is None else is_html
    page_title = None
    if html:
        units, page_title = _html_units(text_or_html)
    else:
        units = _plain_units(text_or_html)
    kept, head, tail = _trim(units)
    if not any(not unit.heading and unit.text for unit in kept):
        raise InputError("the article has no content left after removing boilerplate")

    title = None
    # A heading opening the article is its title when it is top-level (<h1>, "# ") or
    # other headings follow; a lone leading sub-heading names a section.
    if (kept[0].heading and (len(kept) == 1 or not kept[1].heading)
            and (kept[0].top_level or any(unit.heading for unit in kept[1:]))):
        title = kept.pop(0).text
    lead: list[str] = []
    while kept and not kept[0].heading:
        lead.append(kept.pop(0).text)
    sections: list[Section] = []
    for unit in kept:
        if unit.heading:
            sections.append(Section(unit.text, ""))
        elif sections:
            previous = sections[-1]
            joined = f"{previous.text}\n\n{unit.text}" if previous.text else unit.text
            sections[-1] = Section(previous.title, joined)
    sections = [s for s in sections if s.text]
    if title is None:
        title = page_title or (_definition_subject(lead[0]) if lead else None)
    return Article(title=title, summary="\n\n".join(lead), sections=sections,
                   removed=head + tail)
