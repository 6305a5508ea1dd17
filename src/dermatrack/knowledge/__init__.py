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
    :func:`load_knowledge_base`, the facade the CLI, the planner and the web app use.
vocabulary, modalities
    The controlled vocabulary and the typed modality data.

This package reads package data only; storing imported topics is the CLI's job.
"""
