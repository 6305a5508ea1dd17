"""Full-text search and the knowledge base facade."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dermatrack.errors import InputError, NotFoundError
from dermatrack.knowledge.article import Section, Topic
from dermatrack.knowledge.search import Document, SearchIndex, data_text, match_expression
from dermatrack.services.knowledge import load_knowledge_base, save_topic

DOCUMENTS = [
    Document("record", "acne_scarring", "Acne scarring",
             "Atrophic scars (icepick, boxcar and rolling) follow inflammatory acne. Skin "
             "needling, fractional lasers and subcision improve acne scars."),
    Document("record", "melasma", "Melasma",
             "Symmetric brown patches of the face; the skin darkens with sun and hormones."),
    Document("record", "laxity", "Skin laxity",
             "Loss of skin firmness from elastin and collagen decline; skin sags at the jaw."),
    Document("modality", "ipl", "Intense pulsed light",
             "Broadband light for erythema and lentigines of photoaged skin; not for acne "
             "scars."),
    Document("topic", "sunscreen", "Sun protection",
             "Broad-spectrum sunscreen protects the skin after every procedure."),
]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(DOCUMENTS)


def test_acne_scars_ranks_the_acne_scarring_record_first(index):
    hits = index.search("acne scars")
    assert [h.code for h in hits[:2]] == ["acne_scarring", "ipl"]
    assert hits[0].score > hits[1].score > 0
    assert "[acne]" in hits[0].snippet.lower() or "[scar" in hits[0].snippet.lower()
    assert {h.code for h in hits} == {"acne_scarring", "ipl"}


def test_stemming_finds_other_word_forms(index):
    assert index.search("scarring")[0].code == "acne_scarring"
    assert index.search("darkening")[0].code == "melasma"


def test_a_word_in_most_documents_still_ranks(index):
    # "skin" is in every document: BM25 with FTS5's clamped IDF would score all about 0;
    # here the rarer word decides and the common one still counts
    hits = index.search("skin laxity")
    assert hits[0].code == "laxity"
    assert len(hits) == len(DOCUMENTS)
    assert all(h.score > 0 for h in hits)


def test_title_matches_weigh_more(index):
    # "sun" is in the body of melasma and the title of the sun protection topic
    assert [h.code for h in index.search("sun")] == ["sunscreen", "melasma"]
    # a match in the title alone shows the title as the snippet
    assert index.search("intense")[0].snippet == "[Intense] pulsed light"


@pytest.mark.parametrize("query", ['AND OR NOT', '"unbalanced', 'acne*', 'title:acne',
                                   'NEAR(acne scars)', '(acne', 'acne -scars', "^acne", "it's"])
def test_fts_syntax_in_queries_never_crashes(index, query):
    index.search(query)  # no sqlite3.OperationalError


def test_queries_without_words_and_bad_limits_are_refused(index):
    with pytest.raises(InputError):
        index.search("  *** ")
    with pytest.raises(InputError):
        index.search("acne", limit=0)
    assert len(index.search("skin", limit=2)) == 2


def test_match_expression_quotes_every_word():
    assert match_expression('acne "scars" OR') == '"acne" OR "scars" OR "OR"'


def test_data_text_keeps_prose_and_skips_codes_and_sources():
    data = {"code": "ipl", "name": "IPL", "contraindications": [
        {"id": "ipl.tan", "kind": "absolute", "when": {"condition": "recent_tan"},
         "text": "Tanned skin absorbs the light.", "source": "ref1"}]}
    assert data_text(data).split("\n") == ["IPL", "Tanned skin absorbs the light."]


# ----------------------------------------------------------------------------- facade


def test_bundled_knowledge_base(tmp_path):
    kb = load_knowledge_base(tmp_path)
    assert kb.records["microneedling"].code == "microneedling"
    topic = kb.topics["dermal_rejuvenation"]
    assert [s.title for s in topic.sections] == ["Context", "Significance", "Mechanism",
                                                 "Application", "Metric", "Risk"]
    assert kb.kinds_of("dermal_rejuvenation") == ["topic"]
    assert kb.find("microneedling")[0] == "record"
    with pytest.raises(NotFoundError):
        kb.find("no_such_code")
    # the bundled part is read once and shared
    assert load_knowledge_base(tmp_path).records["microneedling"] is kb.records["microneedling"]


def test_search_over_the_bundled_knowledge_base(tmp_path):
    kb = load_knowledge_base(tmp_path)
    first = kb.search("acne scars")[0]
    # the condition record about acne scarring (the one the vocabulary's acne_scars
    # concern points to) ranks above every modality that merely treats it
    from dermatrack.knowledge.vocabulary import load_vocabulary

    assert (first.kind, first.code) == ("record",
                                        load_vocabulary().terms("concerns")["acne_scars"].record)
    assert "[acne]" in first.snippet.lower()
    assert kb.search("fibroblasts neocollagenesis")[0].code == "dermal_rejuvenation"


def test_modalities_come_from_the_typed_loader(tmp_path):
    kb = load_knowledge_base(tmp_path)
    modalities = kb.modalities
    assert "microneedling" in modalities
    assert modalities["microneedling"].code == "microneedling"
    assert set(modalities) == set(kb.modality_data)


def test_imported_topics_join_the_knowledge_base_and_its_search(tmp_path):
    topic = Topic(code="peel_aftercare", title="Peel aftercare",
                  summary="Care of the skin after a chemical peel.",
                  sections=[Section("First week", "Petrolatum keeps the crust soft.")])
    path = save_topic(topic, tmp_path)
    assert path == tmp_path / "knowledge" / "topics" / "peel_aftercare.json"
    kb = load_knowledge_base(tmp_path)
    assert kb.topics["peel_aftercare"] == topic
    assert kb.imported_topic_codes == {"peel_aftercare"}
    assert kb.search("petrolatum crust")[0].code == "peel_aftercare"
    with pytest.raises(InputError, match="--replace"):
        save_topic(topic, tmp_path)
    with pytest.raises(InputError, match="--replace"):
        save_topic(Topic("dermal_rejuvenation", "Bundled", "x"), tmp_path)
    save_topic(topic, tmp_path, replace=True)


def test_a_topic_is_saved_whole_and_a_stale_partial_file_removed(tmp_path, monkeypatch):
    """save_topic writes through store/partial_files.replacing: a failure mid-write keeps
    the previous topic and leaves no partial file, and a partial file of the topic left by
    a killed import is removed by the next save of it."""
    topic = Topic(code="peel_aftercare", title="Peel aftercare", summary="The first one.")
    path = save_topic(topic, tmp_path)
    before = path.read_bytes()
    changed = Topic(code="peel_aftercare", title="Peel aftercare", summary="The second one.")
    write_text = Path.write_text

    def disk_full_for_partials(self, *args, **kwargs):
        if self.name.endswith(".part"):
            write_text(self, '{"code": "peel_aftercare", "ti')
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return write_text(self, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(Path, "write_text", disk_full_for_partials)
        with pytest.raises(OSError) as failed:
            save_topic(changed, tmp_path, replace=True)
    assert failed.value.errno == errno.ENOSPC
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]

    abandoned = path.parent / f".{path.name}.0123abcd.part"  # no process holds its lock
    abandoned.write_text('{"code": "peel_aftercare", "title": "Pe')
    assert load_knowledge_base(tmp_path).topics["peel_aftercare"] == topic
    assert save_topic(changed, tmp_path, replace=True) == path
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert load_knowledge_base(tmp_path).topics["peel_aftercare"] == changed


def test_a_broken_imported_topic_is_named(tmp_path):
    folder = tmp_path / "knowledge" / "topics"
    folder.mkdir(parents=True)
    (folder / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="bad.json"):
        load_knowledge_base(tmp_path)
