"""``dermatrack kb``: the knowledge base from the command line.

Commands: ``parse`` and ``format`` (the seed record format), ``import-article`` (topic
articles), ``list``, ``show``, ``search`` and ``validate``. Each command that returns data
takes ``--json``; file problems (missing, unreadable, not UTF-8, not JSON) exit 2 with the
file named.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dermatrack.cli._input import read_bytes, read_json, read_text
from dermatrack.cli.output import console, emit_json, json_option, label_grid
from dermatrack.errors import InputError

if TYPE_CHECKING:
    from dermatrack.knowledge.article import Topic
    from dermatrack.knowledge.record import Record

kb_app = typer.Typer(help="Knowledge base: records, topic articles, modalities and search.",
                     no_args_is_help=True)

JSON_OPTION = json_option()


def register(app: typer.Typer) -> None:
    """Add the ``kb`` group to the root app."""
    app.add_typer(kb_app, name="kb")


# --------------------------------------------------------------------------- helpers


def _print_record(record: Record, heading: str | None = None) -> None:
    from rich.table import Table
    from rich.text import Text

    from dermatrack.knowledge.record import FIELDS

    table = Table(title=heading or record.title, show_header=False, title_justify="left")
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")

    def add(name: str, value: str | list[str]) -> None:
        if isinstance(value, str):
            table.add_row(Text(name), Text(value))
            return
        # Numbered items hang under their own text, not under the number.
        items = Table.grid(padding=(0, 1))
        items.add_column(justify="right", no_wrap=True)
        items.add_column(overflow="fold")
        for number, item in enumerate(value, start=1):
            items.add_row(f"{number}.", Text(item))
        table.add_row(Text(name), items)

    for name in FIELDS:
        value = record.get(name)
        if value is not None:
            add(name, value)
    for name, extra in record.extra.items():
        add(f"{name} (extra)", extra.value)
    console.print(table)


def _print_topic(topic: Topic) -> None:
    from rich.markdown import Markdown

    lines = [f"# {topic.title}", "", topic.summary]
    for section in topic.sections:
        lines += ["", f"## {section.title}", "", section.text]
    console.print(Markdown("\n".join(lines)))
    if topic.source:
        console.print(f"topic {topic.code}, from {topic.source}", style="dim", markup=False)


def _print_modality(code: str, data: dict[str, Any]) -> None:
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    console.print(Text.assemble((str(data.get("name", code)), "bold"),
                                f" ({code}): {data.get('category', '?')}, depth "
                                f"{data.get('depth', '?')}, PIH risk {data.get('pih_risk', '?')}"))
    concerns = data.get("concerns") or []
    if concerns:
        table = Table(title="Concerns", title_justify="left")
        for column in ("concern", "efficacy (1-3)", "evidence", "source"):
            table.add_column(column)
        for concern in concerns:
            table.add_row(*(Text(str(concern.get(key, ""))) for key in
                            ("code", "efficacy", "evidence", "source")))
        console.print(table)
    rules = data.get("contraindications") or []
    if rules:
        # One entry per rule rather than a table: rule ids and texts are too long for
        # columns at 80 characters.
        console.print(Text("Contraindications", style="italic"))
        for rule in rules:
            style = "bold red" if rule.get("kind") == "absolute" else "yellow"
            console.print(Padding(Text.assemble((str(rule.get("id", "")), style),
                                                f" ({rule.get('kind', '?')})"), (0, 0, 0, 2)))
            rows = [("why", str(rule.get("text") or ""))]
            if rule.get("mitigation"):
                rows.append(("mitigation", str(rule["mitigation"])))
            console.print(label_grid(rows, indent=4, label_width=len("mitigation")))
    protocol = data.get("protocol") or {}
    sessions = protocol.get("sessions") or {}
    interval = protocol.get("interval_days") or {}
    if sessions:
        console.print(f"Sessions {sessions.get('min')}-{sessions.get('max')}, every "
                      f"{interval.get('min', '?')}-{interval.get('max', '?')} days", markup=False)


# --------------------------------------------------------------------------- commands


@kb_app.command("parse")
def parse_command(
    file: Path = typer.Argument(..., help="A record file in the seed format."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Parse a record file; one record gives a JSON object, several an array."""
    from dermatrack.knowledge.record import parse_records

    records = parse_records(read_bytes(file), source=str(file))
    if as_json:
        data = [r.to_json() for r in records]
        emit_json(data[0] if len(data) == 1 else data)
        return
    for record in records:
        _print_record(record)


@kb_app.command("format")
def format_command(
    file: Path = typer.Argument(..., help="JSON as printed by 'kb parse --json': an object "
                                "or an array of objects."),
) -> None:
    """Write records in the seed format (exactly the text, with no final newline added)."""
    from dermatrack.knowledge.record import Record, format_records

    data = read_json(file)
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InputError(f"{file}: an empty array holds no record")
    records = []
    for index, item in enumerate(items):
        try:
            records.append(Record.from_json(item))
        except InputError as exc:
            where = f"[{index}] " if isinstance(data, list) else ""
            raise InputError(f"{file}: {where}{exc.message}", field=exc.field) from None
    try:
        output = format_records(records)
    except InputError as exc:
        raise InputError(f"{file}: {exc.message}", field=exc.field) from None
    sys.stdout.write(output)
    sys.stdout.flush()


@kb_app.command("import-article")
def import_article_command(
    file: Path = typer.Argument(..., help="A plain-text or HTML article."),
    code: str | None = typer.Option(None, "--code", help="Topic code (default: from the "
                                    "article's title)."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a topic of this code."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Clean an article of boilerplate, split it into sections and store it as a topic."""
    from dermatrack.config import load_settings
    from dermatrack.knowledge.article import Topic, clean_article
    from dermatrack.services.knowledge import save_topic

    text = read_text(file)
    is_html = True if file.suffix.lower() in (".html", ".htm") else None
    try:
        article = clean_article(text, is_html=is_html)
    except InputError as exc:
        raise InputError(f"{file}: {exc.message}", field=exc.field) from None
    fallback = file.stem.replace("_", " ").replace("-", " ").strip() or None
    topic = Topic.from_article(article, code=code, source=file.name, fallback_title=fallback)
    path = save_topic(topic, load_settings().data_dir, replace=replace)
    if as_json:
        emit_json({**topic.to_json(), "path": str(path)})
        return
    _print_topic(topic)
    if topic.removed:
        console.print(f"[dim]removed as boilerplate: {len(topic.removed)} "
                      f"paragraph(s) or sentence(s)[/dim]")
    console.print(f"stored as {path}", markup=False)


@kb_app.command("list")
def list_command(as_json: bool = JSON_OPTION) -> None:
    """Every record, topic and modality, with its kind and code."""
    from dermatrack.services.knowledge import load_knowledge_base

    kb = load_knowledge_base()
    items: list[dict[str, Any]] = ([{"kind": "record", "code": code, "title": r.title or code}
              for code, r in kb.records.items()]
             + [{"kind": "topic", "code": code, "title": t.title,
                 "imported": code in kb.imported_topic_codes}
                for code, t in kb.topics.items()]
             + [{"kind": "modality", "code": code, "title": str(d.get("name") or code)}
                for code, d in kb.modality_data.items()])
    if as_json:
        emit_json(items)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(items)} knowledge items", title_justify="left")
    for column in ("kind", "code", "title"):
        table.add_column(column)
    for item in items:
        table.add_row(Text(item["kind"]), Text(item["code"]), Text(item["title"]))
    console.print(table)


@kb_app.command("show")
def show_command(
    code: str = typer.Argument(..., help="Code of a record, topic or modality."),
    kind: str | None = typer.Option(None, "--kind", help="record, topic or modality, when "
                                    "several kinds share the code (default: in that order)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a record, topic or modality."""
    from dermatrack.services.knowledge import load_knowledge_base

    kb = load_knowledge_base()
    found, item = kb.find(code, kind)
    also = [k for k in kb.kinds_of(code) if k != found]
    if found == "modality":
        title, data = str(item.get("name") or code), item
    else:
        title, data = item.title or code, item.to_json()
    if as_json:
        emit_json({"kind": found, "code": code, "title": title, "data": data, "also": also})
        return
    if found == "record":
        _print_record(item, heading=f"{title} (record {code})")
    elif found == "topic":
        _print_topic(item)
    else:
        _print_modality(code, item)
    if also:
        console.print(f"also a {' and a '.join(also)}: "
                      f"dermatrack kb show {code} --kind {also[0]}", style="dim", markup=False)


@kb_app.command("search")
def search_command(
    query: str = typer.Argument(..., help="Words to look for."),
    limit: int = typer.Option(20, "--limit", min=1, help="Most results to show."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Ranked full-text search over records, topics and modalities."""
    from dermatrack.services.knowledge import load_knowledge_base

    hits = load_knowledge_base().search(query, limit=limit)
    if as_json:
        emit_json([hit.to_json() for hit in hits])
        return
    if not hits:
        console.print("no matches")
        return
    from rich.table import Table
    from rich.text import Text

    # Best first; the snippet goes on its own line under each hit so that it is not
    # squeezed into a narrow column.
    console.print(Text(f"{len(hits)} result(s) for {query!r}", style="italic"))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(overflow="fold")
    for rank, hit in enumerate(hits, start=1):
        grid.add_row(f"{rank}.", Text.assemble((hit.title, "bold"), f"  {hit.kind} {hit.code}",
                                               (f"  score {hit.score:.2f}", "dim")))
        grid.add_row("", Text(hit.snippet, style="dim"))
    console.print(grid)


@kb_app.command("validate")
def validate_command(as_json: bool = JSON_OPTION) -> None:
    """Check every bundled record, topic, modality and the vocabulary; exit 1 on a fault."""
    from dermatrack.services.knowledge import validate_knowledge

    report = validate_knowledge()
    if as_json:
        emit_json(report.to_json())
    elif report.ok:
        console.print(f"knowledge base valid: {report.records} records, {report.topics} "
                      f"topics, {report.modalities} modality files")
    else:
        console.print(f"[bold red]{len(report.problems)} problem(s)[/bold red]")
        for problem in report.problems:
            console.print(f"- {problem}", markup=False)
    if not report.ok:
        raise typer.Exit(1)


@kb_app.command("matrix")
def matrix_command(
    modality: str | None = typer.Option(None, "--modality",
                                        help="Show only this modality's column, with reasons."),
    output_format: str = typer.Option("table", "--format",
                                      help="table (for people), csv or json."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The contraindication matrix: every factor's verdict for every modality, with sources."""
    from dermatrack.knowledge.matrix import load_matrix, matrix_csv, matrix_json
    from dermatrack.knowledge.vocabulary import load_vocabulary

    if output_format not in ("table", "csv", "json"):
        raise InputError(f"unknown format {output_format!r}; expected table, csv or json",
                         field="--format")
    matrix = load_matrix(load_vocabulary())
    if modality is not None and modality not in matrix.modalities:
        import difflib

        close = difflib.get_close_matches(modality, list(matrix.modalities), n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise InputError(f"unknown modality {modality!r}{hint}; known: "
                         f"{', '.join(matrix.modalities)}", field="--modality")
    if as_json or output_format == "json":
        emit_json(matrix_json(matrix, modality))
    elif output_format == "csv":
        sys.stdout.write(matrix_csv(matrix, modality))
        sys.stdout.flush()
    elif modality is None:
        _print_matrix_grid(matrix)
    else:
        _print_matrix_column(matrix, modality)


_VERDICT_STYLE = {"contraindicated": "bold red", "caution": "yellow", "no_effect": "dim"}


def _print_matrix_grid(matrix: Any) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from dermatrack.knowledge.matrix import VERDICT_MARK

    counts = matrix.counts()
    table = Table(title=f"Contraindication matrix: {len(matrix.factors)} factors x "
                        f"{len(matrix.modalities)} modalities", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("factor", no_wrap=True)
    for code in matrix.modalities:
        table.add_column(matrix.short_codes[code], justify="center", no_wrap=True)
    kind = None
    for factor in matrix.factors:
        if factor.kind != kind:  # one heading row per kind of factor
            kind = factor.kind
            plural = {"allergy": "allergies", "sex": "sex", "skin_type": "Fitzpatrick types",
                      "age_band": "age bands"}.get(kind, kind + "s")
            table.add_row(Text(plural, style="italic dim"))
        cells = [matrix.cell(factor.key, code) for code in matrix.modalities]
        table.add_row(Text(" " + factor.code),
                      *(Text(VERDICT_MARK[c.verdict], style=_VERDICT_STYLE[c.verdict])
                        for c in cells))
    console.print(table)
    console.print(f"X contraindicated ({counts['contraindicated']}), ! caution "
                  f"({counts['caution']}), . no effect ({counts['no_effect']}). Columns: "
                  + ", ".join(f"{matrix.short_codes[c]} {c}" for c in matrix.modalities)
                  + ". Reasons: dermatrack kb matrix --modality CODE.", markup=False)


def _print_matrix_column(matrix: Any, modality: str) -> None:
    from rich.padding import Padding
    from rich.text import Text

    console.print(Text.assemble(("Contraindication matrix for ", "bold"), (modality, "bold")))
    for cell in matrix.rows(modality):
        head = Text.assemble((f"{cell.factor.code}", "bold"),
                             f" ({cell.factor.kind.replace('_', ' ')}): ",
                             (cell.verdict, _VERDICT_STYLE[cell.verdict]))
        if cell.rule:
            head.append(f"  {cell.rule}")
        if cell.exposure:
            head.append(f"  exposure {cell.exposure}")
        console.print(Padding(head, (0, 0, 0, 2)))
        rows = [("why", cell.rationale)]
        if cell.mitigation:
            rows.append(("mitigation", cell.mitigation))
        rows.append(("source", f"{cell.source.id} ({cell.source.kind}, basis {cell.basis}): "
                               f"{cell.source.citation}"))
        console.print(label_grid(rows, indent=4, label_width=len("mitigation")))
