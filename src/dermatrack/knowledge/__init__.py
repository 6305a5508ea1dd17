"""The knowledge base: records in the seed format, topic articles, modality data, search.

Modules
-------
record
    Parser and writer of the pipe-delimited record format (seed 000).
article
    Boilerplate removal and sectioning of topic articles (seed 004), and stored topics.
search
    Ranked full-text search (SQLite FTS5, in memory) over records, topics and modalities.
base
    :func:`build_knowledge_base`, the facade over records, topics and modalities
    (:func:`dermatrack.services.knowledge.load_knowledge_base` adds a data directory's
    imported topics).
vocabulary, rules, matrix, modalities
    The controlled vocabulary, contraindication rules, the contraindication matrix and the
    typed modality data.
packaged
    Where the bundled data files are, and their JSON Schemas.

This package reads package data only; reading and storing imported topics is
:mod:`dermatrack.services.knowledge`'s job.
"""
