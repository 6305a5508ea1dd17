"""Topic articles: boilerplate removal and sectioning, for plain text and HTML."""

from __future__ import annotations

import re

import pytest

from dermatrack.errors import InputError
from dermatrack.knowledge.article import Article, Topic, boilerplate_score, clean_article

CONSENT_WORDS = re.compile(r"cookie|consent|privacy|analytics|newsletter|subscribe|"
                           r"personaliz|marketing|preferences", re.I)

SEED_SECTIONS = ["Context", "Significance", "Mechanism", "Application", "Metric", "Risk"]


def all_text(article: Article) -> str:
    return "\n".join([article.title or "", article.summary]
                     + [f"{s.title}\n{s.text}" for s in article.sections])


# ----------------------------------------------------------------------------- seed 004


def test_seed_article_keeps_every_section_and_drops_the_consent_text(seed_article_path):
    text = seed_article_path.read_text(encoding="utf-8")
    article = clean_article(text)
    assert [s.title for s in article.sections] == SEED_SECTIONS
    assert article.title == "Dermal rejuvenation"
    assert article.summary.startswith("Dermal rejuvenation refers to a collection")
    assert not CONSENT_WORDS.search(all_text(article))
    # every sentence of the seed is either kept or reported as removed, none is lost
    kept = all_text(article)
    for line in filter(None, (line.strip() for line in text.splitlines())):
        assert line in kept or line in article.removed
    assert len(article.removed) == 5
    assert article.sections[-1].text.endswith("ensure patient safety.")


def test_each_seed_section_keeps_its_full_paragraph(seed_article_path):
    lines = seed_article_path.read_text(encoding="utf-8").splitlines()
    article = clean_article("\n".join(lines))
    by_title = {s.title: s.text for s in article.sections}
    for title in SEED_SECTIONS:
        assert by_title[title] == lines[lines.index(title) + 1]


# ----------------------------------------------------------------------------- plain text


BLOG_POST = """\
Skip to main content
Home
Treatments

Chemical Peel Aftercare

A chemical peel leaves the treated skin raw for several days, and the way it is cared
for decides how quickly the new epidermis forms.

First Week

Keep the face clean with lukewarm water and a bland cleanser. Apply a thin layer of
petrolatum four times a day so that the crust stays soft.

Sun Protection

New epidermis burns easily. A broad-spectrum sunscreen of SPF 50 is needed for at least
eight weeks, reapplied every two hours outdoors.

Sign up for our newsletter and get 10% off your first order! Enter your email to subscribe.
Share this article
Follow us on Instagram
Copyright 2025 GlowClinic. All rights reserved. Privacy Policy | Terms of Use
"""


def test_a_different_plain_text_page_is_cleaned_too():
    article = clean_article(BLOG_POST)
    assert article.title == "Chemical Peel Aftercare"
    assert article.summary.startswith("A chemical peel leaves the treated skin raw")
    # wrapped lines are joined into one paragraph
    assert "\n" not in article.summary
    assert [s.title for s in article.sections] == ["First Week", "Sun Protection"]
    assert article.sections[1].text.endswith("reapplied every two hours outdoors.")
    assert not CONSENT_WORDS.search(all_text(article))
    assert not re.search(r"Skip to|Home|Share this|Instagram|Copyright", all_text(article))
    assert "Skip to main content" in article.removed
    assert any("newsletter" in removed for removed in article.removed)


def test_a_consent_sentence_glued_to_the_last_paragraph_is_removed():
    text = ("Retinoids\nTretinoin speeds epidermal turnover and thickens the dermis over "
            "months. We use cookies and similar tracking technologies to improve your "
            "browsing experience on our website.")
    article = clean_article(text)
    assert article.sections[0].text == ("Tretinoin speeds epidermal turnover and thickens "
                                        "the dermis over months.")
    assert article.removed == ["We use cookies and similar tracking technologies to improve "
                               "your browsing experience on our website."]


def test_clinical_prose_scores_zero_and_consent_text_scores_high():
    assert boilerplate_score("Deeper peels carry a higher risk of post-inflammatory "
                             "hyperpigmentation in Fitzpatrick IV-VI, and signs of "
                             "infection should be managed promptly.") == 0.0
    assert boilerplate_score("By clicking Accept you consent to our use of cookies for "
                             "analytics and advertising.") > 0.3
    # a long clinical paragraph mentioning a website once stays well below the threshold
    long_text = ("Patients can read the leaflet on the clinic website before the visit. "
                 + "The peel is neutralised after three minutes and the skin is cooled. " * 4)
    assert boilerplate_score(long_text) < 0.1


@pytest.mark.parametrize("text", ["", "   \n\n", "We use cookies. Accept all cookies."])
def test_empty_or_all_boilerplate_articles_are_refused(text):
    with pytest.raises(InputError):
        clean_article(text)


# ----------------------------------------------------------------------------- HTML

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Fractional Lasers | DermaNews</title>
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/lasers">Lasers</a></li>
<li><a href="/contact">Contact us</a></li></ul></nav></header>
<div class="cookie-banner" id="consent"><p>We use cookies to personalise content and
analyse our traffic. By clicking Accept all you consent to our use of cookies.</p>
<button>Accept all</button><button>Manage preferences</button></div>
<main><article>
<h1>Fractional Lasers</h1>
<p>Fractional lasers treat a grid of microscopic columns of skin and leave the tissue
between them intact, so that healing starts from the untreated bridges.</p>
<h2>Mechanism</h2>
<p>Each microthermal zone is a column of coagulated or vaporised tissue about 100 to 400
micrometres wide; keratinocytes from the surrounding skin close it within a day or two and
fibroblasts lay down new collagen over the following months.</p>
<h2>Risk</h2>
<p>Post-inflammatory hyperpigmentation is the commonest complication in darker skin
types; lower densities and longer intervals between sessions reduce it.</p>
<p>Herpes simplex can reactivate after full-face treatment, so antiviral prophylaxis is
usual for patients with a history of cold sores.</p>
</article></main>
<aside><h3>Related articles</h3><ul><li><a href="/a">Peels compared</a></li></ul></aside>
<footer><p>Subscribe to our newsletter for the latest skin news.</p>
<p>Copyright 2025 DermaNews. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"""


def test_html_page_keeps_the_article_and_drops_navigation_banner_and_footer():
    article = clean_article(HTML_PAGE)
    assert article.title == "Fractional Lasers"
    assert article.summary.startswith("Fractional lasers treat a grid")
    assert [s.title for s in article.sections] == ["Mechanism", "Risk"]
    risk = article.sections[1].text
    assert risk.count("\n\n") == 1 and risk.endswith("history of cold sores.")
    text = all_text(article)
    assert not CONSENT_WORDS.search(text)
    assert not re.search(r"Contact us|Accept all|Related articles|Copyright|Peels compared",
                         text)


def test_html_is_detected_or_forced():
    page = HTML_PAGE.replace("<!DOCTYPE html>\n<html", "<html")
    assert clean_article(page).title == "Fractional Lasers"
    as_text = clean_article(HTML_PAGE, is_html=False)
    assert "<h2>Mechanism</h2>" in all_text(as_text)


# ----------------------------------------------------------------------------- topics


def test_topic_json_round_trip(seed_article_path):
    article = clean_article(seed_article_path.read_text(encoding="utf-8"))
    topic = Topic.from_article(article, source="seed.txt")
    assert topic.code == "dermal_rejuvenation"
    assert Topic.from_json(topic.to_json()) == topic


@pytest.mark.parametrize("data", [
    [], {"code": "x"}, {"code": "Bad Code", "title": "t", "summary": "", "sections": []},
    {"code": "x", "title": "t", "summary": "", "sections": [{"title": "a"}]},
    {"code": "x", "title": "t", "summary": "", "sections": [], "removed": "no"},
])
def test_topic_from_json_rejects_bad_shapes(data):
    with pytest.raises(InputError):
        Topic.from_json(data)


def test_topic_needs_a_title_or_a_fallback():
    article = Article(title=None, summary="Some text.")
    with pytest.raises(InputError):
        Topic.from_article(article)
    assert Topic.from_article(article, fallback_title="peel notes").code == "peel_notes"


def test_html_page_drops_navigation_and_finds_marked_and_bold_headings():
    """A clinic's page: header navigation, a menu bar and a footer go; the sections are
    found from <h2>/<h3> and from a bold-only section title."""
    from pathlib import Path

    from dermatrack.knowledge.article import clean_article

    html = (Path(__file__).parent / "pages" / "clinic_page_with_navigation.html").read_text(
        encoding="utf-8")
    article = clean_article(html)
    assert article.title == "Microneedling for acne scars"
    titles = [section.title for section in article.sections]
    assert titles == ["How it works", "Who should avoid it", "Aftercare"]
    everything = article.summary + " ".join(s.text for s in article.sections)
    for navigation in ("Home", "About us", "Contact", "Fillers", "All rights reserved"):
        assert navigation not in everything
