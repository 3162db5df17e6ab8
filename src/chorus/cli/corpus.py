"""Commands on the corpus itself: ingest, stats, export."""

from __future__ import annotations

from pathlib import Path

import click

from chorus.cli.base import (
    cli,
    db_option,
    handle_errors,
    progress_bars,
    quiet_option,
)
from chorus.coord import GRAPH_FORMATS, write_graph
from chorus.ingest import FORMATS, FieldMap, IngestSummary, ingest_paths
from chorus.stats import CorpusStats, corpus_stats
from chorus.store import EXPORT_FORMATS, open_store


def print_ingest(summary: IngestSummary) -> None:
    click.echo(
        f"batch {summary.batch_id}: read {summary.n_read:,} records in {summary.seconds:.1f}s: "
        f"{summary.n_new:,} new, {summary.n_replaced:,} replaced, "
        f"{summary.n_unchanged:,} unchanged, {summary.n_rejected:,} rejected; "
        f"{summary.n_sentences:,} sentences"
    )
    dates = summary.dates
    click.echo(
        f"dates: {dates.get('ok', 0):,} parsed, {dates.get('missing', 0):,} missing, "
        f"{dates.get('impossible', 0):,} impossible and {dates.get('unparseable', 0):,} "
        "unparseable (stored as NULL)"
    )
    if summary.n_rejected:
        click.echo("rejects kept in the 'rejects' table (chorus export rejects); first ones:")
        for problem in summary.problems[:5]:
            click.echo(f"  {problem}")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Input format; by default from each path's extension (.gz looked through).",
)
@click.option("--text-field", default="text", show_default=True)
@click.option("--source-field", default="source", show_default=True)
@click.option("--date-field", default=None, help="[default: published_at, else date]")
@click.option("--id-field", default="id", show_default=True)
@click.option("--url-field", default="url", show_default=True)
@click.option("--title-field", default="title", show_default=True)
@click.option("--source", "source", default=None, help="Source name for records that have none.")
@click.option(
    "--encoding",
    default=None,
    help="Force a text encoding (default: UTF-8, else detected, for text files).",
)
@click.option(
    "--on-error",
    type=click.Choice(["raise", "skip"]),
    default="raise",
    show_default=True,
    help="raise: refuse the whole batch on any bad record. "
    "skip: land good records, keep bad ones in the 'rejects' table.",
)
@click.option(
    "--replace", is_flag=True, help="Replace stored documents whose id comes again with other text."
)
@click.option(
    "--max-chars",
    type=int,
    default=20_000_000,
    show_default=True,
    help="Refuse documents longer than this.",
)
@quiet_option
@handle_errors
def ingest(
    paths: tuple[Path, ...],
    db: Path,
    fmt: str | None,
    text_field: str,
    source_field: str,
    date_field: str | None,
    id_field: str,
    url_field: str,
    title_field: str,
    source: str | None,
    encoding: str | None,
    on_error: str,
    replace: bool,
    max_chars: int,
    quiet: bool,
) -> None:
    """Add documents to the store, split into sentences.

    PATHS are JSON Lines (.jsonl, .jsonl.gz), CSV/TSV, Parquet, WARC (.warc, .warc.gz), HTML,
    text or Markdown files, or folders of .txt/.md/.html files. Ingesting the same input twice
    adds nothing.

    \b
    Examples:
      chorus ingest articles.jsonl.gz
      chorus ingest posts.csv --text-field body --source-field account --date-field created
      chorus ingest crawl.warc.gz --on-error skip
      chorus ingest pages/ --source "Example Daily"
    """
    fields = FieldMap(
        text=text_field,
        source=source_field,
        date=date_field,
        id=id_field,
        url=url_field,
        title=title_field,
    )
    with open_store(db) as store:
        summary = ingest_paths(
            store,
            list(paths),
            fields=fields,
            format=fmt,  # type: ignore[arg-type]
            encoding=encoding,
            on_error=on_error,  # type: ignore[arg-type]
            replace=replace,
            source=source,
            max_chars=max_chars,
            progress=progress_bars(quiet),
        )
    print_ingest(summary)


def print_stats(stats: CorpusStats, *, sources: int, months: int) -> None:
    first = stats.first.date().isoformat() if stats.first else "—"
    last = stats.last.date().isoformat() if stats.last else "—"
    click.echo(
        f"{stats.n_documents:,} documents from {stats.n_sources:,} sources, "
        f"{stats.n_sentences:,} sentences, {stats.n_characters:,} characters"
    )
    click.echo(
        f"dates {first} to {last}; {stats.n_undated:,} documents "
        f"({stats.share_undated:.1%}) have no date"
    )
    langs = ", ".join(f"{k} {v:,}" for k, v in list(stats.languages.items())[:6])
    click.echo(f"languages: {langs}")
    if stats.n_rejects:
        click.echo(f"rejects kept: {stats.n_rejects:,}")
    if sources:
        click.echo("\nby source (documents, undated):")
        for s in stats.by_source[:sources]:
            click.echo(f"  {s.n_documents:>8,}  {s.n_undated:>6,}  {s.source}")
        if len(stats.by_source) > sources:
            click.echo(f"  ... {len(stats.by_source) - sources:,} more (--sources N)")
    if months and stats.by_month:
        click.echo("\nby month (documents):")
        for m in stats.by_month[-months:]:
            click.echo(f"  {m.month}  {m.n_documents:>8,}")
        if len(stats.by_month) > months:
            click.echo(f"  ... {len(stats.by_month) - months:,} earlier months (--months N)")


@cli.command()
@db_option
@click.option("--sources", default=20, show_default=True, help="How many sources to list.")
@click.option("--months", default=24, show_default=True, help="How many recent months to list.")
@handle_errors
def stats(db: Path, sources: int, months: int) -> None:
    """Counts by source and by month, and the share of documents with no date.

    \b
    Example:
      chorus stats --sources 50
    """
    with open_store(db, read_only=True) as store:
        print_stats(corpus_stats(store), sources=sources, months=months)


@cli.command()
@click.argument("table")
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=None,
    help="[default: from the output file's extension]",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@handle_errors
def export(table: str, db: Path, fmt: str | None, output: Path) -> None:
    """Write a table of the store to a file (JSON Lines, CSV or Parquet); or the
    coordination network, TABLE 'graph', as GEXF or GraphML for Gephi.

    \b
    Tables:
      documents, sentences, rejects, batches       what was ingested
      passages, reuse_clusters, reuse_runs         copied passages
      reuse_lineage                                ids no cluster keeps (merged, split, gone)
      points, mentions, points_runs                talking points
      point_lineage                                ids no point keeps, and why
      point_changes, edge_changes, analysis_runs   what each analysis changed
      phrases, phrase_occurrences, phrases_runs    shared phrases
      source_edges, edge_evidence, sources,        the coordination network
      communities, credits, coord_runs
      community_lineage                            numbers no community keeps
      watchlists, watch_hits, watch_runs           watchlists and their matches

    \b
    Examples:
      chorus export sentences -o sentences.parquet
      chorus export rejects --format csv -o rejects.csv
      chorus export graph -o network.gexf
    """
    if table == "graph":
        kind = output.suffix.lower().lstrip(".")
        if kind not in GRAPH_FORMATS:
            raise click.UsageError("the graph is written as .gexf or .graphml")
        with open_store(db, read_only=True) as store:
            n = write_graph(store, output, format=kind)
        click.echo(f"wrote the coordination network ({n:,} edges) to {output}")
        return
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".")
        fmt = {
            "jsonl": "jsonl",
            "ndjson": "jsonl",
            "json": "jsonl",
            "csv": "csv",
            "parquet": "parquet",
            "pq": "parquet",
        }.get(suffix)
        if fmt is None:
            raise click.UsageError(f"cannot tell the format of {output}; pass --format")
    with open_store(db, read_only=True) as store:
        n = store.write_table(table, output, format=fmt)  # type: ignore[arg-type]
    click.echo(f"wrote {n:,} rows of {table} to {output}")
