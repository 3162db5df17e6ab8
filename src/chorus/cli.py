"""The ``chorus`` command. It only parses arguments, calls the library and prints results."""

from __future__ import annotations

import dataclasses
import functools
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

import click
from tqdm import tqdm

from chorus import __version__
from chorus.analyze import analyze
from chorus.coord import GRAPH_FORMATS, CoordSettings, CoordSummary, find_coordination, write_graph
from chorus.demo import DEMO_REPORT, DEMO_STORE, run_demo
from chorus.errors import BatchRefusedError, ChorusError
from chorus.ingest import FORMATS, FieldMap, IngestSummary, ingest_paths
from chorus.match import (
    DEFAULT_HIT_SCORE,
    DocumentMatches,
    Matcher,
    MatchSettings,
    add_watchlist,
    find_watch_hits,
    read_match_documents,
    read_watchlist,
    scan_store_documents,
    watch_item_hits,
    watch_source_shares,
    write_matches_jsonl,
)
from chorus.phrases import PhrasesSettings, PhrasesSummary, find_phrases
from chorus.points import PointsSettings, PointsSummary, find_points
from chorus.progress import ProgressBar, ProgressFactory, no_progress
from chorus.report import write_report
from chorus.reuse import ReuseSettings, ReuseSummary, find_reuse
from chorus.stats import CorpusStats, corpus_stats
from chorus.store import DEFAULT_STORE_PATH, EXPORT_FORMATS, STORE_ENV_VAR, Store, open_store
from chorus.views import summaries

F = TypeVar("F", bound=Callable[..., Any])


def _progress(quiet: bool) -> ProgressFactory:
    if quiet:
        return no_progress

    def factory(*, desc: str, total: int | None, unit: str) -> ProgressBar:
        return tqdm(
            desc=desc,
            total=total,
            unit=unit,
            file=sys.stderr,
            mininterval=0.5,
            leave=False,
            dynamic_ncols=True,
        )

    return factory


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=STORE_ENV_VAR,
        default=DEFAULT_STORE_PATH,
        show_default=True,
        show_envvar=True,
        help="The project store (a DuckDB file).",
    )(func)


def quiet_option(func: F) -> F:
    return click.option("--quiet", "-q", is_flag=True, help="No progress bars.")(func)


def handle_errors(func: F) -> F:
    """Turn chorus errors into a clean message and exit code 1 (2 for refused input)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BatchRefusedError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except ChorusError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chorus")
@click.option("--verbose", "-v", count=True, help="Log what happens (-vv for debug).")
def cli(verbose: int) -> None:
    """chorus finds the talking points many sources repeat: passages copied word for word,
    claims restated in other words, and the sources that push them together.

    \b
    Start with:
      chorus demo                      # the bundled seed corpus, end to end
      chorus ingest articles.jsonl     # your corpus into ./chorus.duckdb
      chorus stats
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _snippet(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat[:width] + "…" if len(flat) > width else flat


def _print_ingest(summary: IngestSummary) -> None:
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
            progress=_progress(quiet),
        )
    _print_ingest(summary)


def _print_stats(stats: CorpusStats, *, sources: int, months: int) -> None:
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
        _print_stats(corpus_stats(store), sources=sources, months=months)


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
      points, mentions, points_runs                talking points
      phrases, phrase_occurrences, phrases_runs    shared phrases
      source_edges, edge_evidence, sources,        the coordination network
      communities, credits, coord_runs
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


S = TypeVar("S")


def setting_option(settings: type, name: str, *decls: str, **kwargs: Any) -> Callable[[F], F]:
    """An option for the field ``name`` of a settings dataclass, with the dataclass's own
    default: a default lives in one place, and ``--help`` shows it."""
    field = {f.name: f for f in dataclasses.fields(settings)}[name]
    if field.default is dataclasses.MISSING:
        raise TypeError(f"{settings.__name__}.{name} has no default")
    flag = "--" + name.replace("_", "-")
    return click.option(*(decls or (flag,)), default=field.default, show_default=True, **kwargs)


def make_settings(settings: type[S], **values: Any) -> S:
    """The settings object, or a usage error that says which value is wrong."""
    try:
        return settings(**values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


# Options several commands share.
model_option = setting_option(
    PointsSettings,
    "model",
    type=click.Choice(["cascade", "minilm", "wordllama", "hashing"]),
    help="minilm: all-MiniLM-L6-v2 on every sentence; cascade: WordLlama first, MiniLM only "
    "on sentences with a near match elsewhere (faster on corpora of mostly unrelated text).",
)
threshold_option = setting_option(
    PointsSettings,
    "threshold",
    type=float,
    help="How alike a talking point's sentences must be (corpus-relative; higher, stricter).",
)
device_option = setting_option(
    PointsSettings,
    "device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    help="Where all-MiniLM-L6-v2 runs: auto takes a GPU when torch sees one.",
)
window_option = click.option(
    "--window-hours",
    type=float,
    default=None,
    help="Co-acting means sharing within this many hours [default: from the data].",
)
min_objects_option = setting_option(
    CoordSettings,
    "min_objects",
    type=int,
    help="Objects a coordination edge needs.",
)
fdr_option = setting_option(
    CoordSettings,
    "fdr",
    type=float,
    help="False discovery rate for coordination edges.",
)


def reuse_options(func: F) -> F:
    for option in reversed(
        [
            setting_option(
                ReuseSettings,
                "min_words",
                type=int,
                help="Shortest passage to report, in words.",
            ),
            setting_option(
                ReuseSettings,
                "edit_tolerance",
                type=float,
                help="Share of words that may differ between copies (changed, added "
                "or dropped); punctuation and case never count.",
            ),
            setting_option(
                ReuseSettings,
                "max_copies",
                type=int,
                help="Word sequences found in more places are stock phrases.",
            ),
        ]
    ):
        func = option(func)
    return func


def _reuse_settings(min_words: int, edit_tolerance: float, max_copies: int) -> ReuseSettings:
    return make_settings(
        ReuseSettings, min_words=min_words, edit_tolerance=edit_tolerance, max_copies=max_copies
    )


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _print_reuse(summary: ReuseSummary, store: Store, *, top: int) -> None:
    kinds = ", ".join(f"{v:,} {k}" for k, v in sorted(summary.kinds.items()))
    click.echo(
        f"reuse: {summary.n_clusters:,} clusters ({kinds or 'none'}), "
        f"{summary.n_passages:,} passages in {summary.seconds:.1f}s"
    )
    for c in summaries.top_clusters(store, limit=top):
        click.echo(
            f"  {c['kind']:<11} {c['n_docs']:>4} docs {c['n_sources']:>3} sources  "
            f"from {c['origin_source']}: {_snippet(c['representative'])}"
        )


@cli.command()
@db_option
@reuse_options
@click.option("--top", default=10, show_default=True, help="Clusters to list.")
@quiet_option
@handle_errors
def reuse(
    db: Path, min_words: int, edit_tolerance: float, max_copies: int, top: int, quiet: bool
) -> None:
    """Find passages that documents share word for word or nearly so.

    Replaces the 'passages' and 'reuse_clusters' tables. Clusters are labelled boilerplate
    (one outlet's template, or page furniture), syndication (credited wire copy) or reuse.

    \b
    Examples:
      chorus reuse
      chorus reuse --min-words 40 --edit-tolerance 0.1
      chorus export passages -o passages.parquet
    """
    settings = _reuse_settings(min_words, edit_tolerance, max_copies)
    with open_store(db) as store:
        summary = find_reuse(store, settings=settings, progress=_progress(quiet))
        _print_reuse(summary, store, top=top)


def _print_points(summary: PointsSummary, store: Store, *, top: int) -> None:
    tight = summaries.n_tight_points(store)
    click.echo(
        f"points: {summary.n_points:,} talking points ({tight:,} tight), "
        f"{summary.n_mentions:,} mentions from "
        f"{summary.n_units:,} distinct sentences ({summary.n_screened:,} through the accurate "
        f"model) in {summary.seconds:.1f}s"
    )
    if summary.note:
        click.echo(f"  {summary.note}")
    if summary.masked_names:
        click.echo(f"  names every document repeats, masked: {', '.join(summary.masked_names)}")
    lines = summaries.top_points(store, limit=top)
    if lines:
        click.echo("  score cohesion  (score 0: a loose point, its least alike sentences differ)")
    for p in lines:
        click.echo(
            f"  {p['score']:5.2f} {p['cohesion']:8.2f} {p['n_docs']:>4} docs "
            f"{p['n_sources']:>3} sources  from {p['origin_source']}: {_snippet(p['label'])}"
        )


def _print_phrases(summary: PhrasesSummary, store: Store, *, top: int) -> None:
    click.echo(
        f"phrases: {summary.n_phrases:,} shared phrases, {summary.n_occurrences:,} occurrences "
        f"in {summary.seconds:.1f}s"
    )
    for f in summaries.top_phrases(store, limit=top):
        click.echo(
            f"  {f['n_occurrences']:>5}x {f['n_docs']:>4} docs {f['n_sources']:>3} sources  "
            f"{_snippet(f['phrase'])}"
        )


@cli.command()
@db_option
@setting_option(PhrasesSettings, "min_words", type=int, help="Shortest phrase, in words.")
@setting_option(PhrasesSettings, "max_words", type=int, help="Longest phrase, in words.")
@setting_option(PhrasesSettings, "min_sources", type=int, help="Sources that must use it.")
@setting_option(
    PhrasesSettings,
    "max_doc_share",
    type=float,
    help="A phrase in more of the documents is common language (from 200 documents on).",
)
@click.option("--top", default=10, show_default=True, help="Phrases to list.")
@quiet_option
@handle_errors
def phrases(
    db: Path,
    min_words: int,
    max_words: int,
    min_sources: int,
    max_doc_share: float,
    top: int,
    quiet: bool,
) -> None:
    """Find short phrases several sources share (a tagline, a slogan): too short to be a
    copied passage or a claim. Punctuation and case never count.

    Replaces the 'phrases' and 'phrase_occurrences' tables. Run 'chorus reuse' first: a
    phrase inside a copied passage is part of the copy and is not counted.

    \b
    Examples:
      chorus phrases
      chorus phrases --min-sources 3 --top 30
      chorus export phrase_occurrences -o phrases.csv
    """
    settings = make_settings(
        PhrasesSettings,
        min_words=min_words,
        max_words=max_words,
        min_sources=min_sources,
        max_doc_share=max_doc_share,
    )
    with open_store(db) as store:
        summary = find_phrases(store, settings=settings, progress=_progress(quiet))
        _print_phrases(summary, store, top=top)


@cli.command()
@db_option
@model_option
@setting_option(PointsSettings, "min_words", type=int, help="Shorter sentences carry no claim.")
@setting_option(
    PointsSettings,
    "min_span",
    type=int,
    help="A point needs mentions in at least this many documents (or sources).",
)
@setting_option(
    PointsSettings,
    "span",
    type=click.Choice(["documents", "sources"]),
    help="What --min-span counts.",
)
@threshold_option
@device_option
@click.option("--top", default=10, show_default=True, help="Points to list.")
@quiet_option
@handle_errors
def points(
    db: Path,
    model: str,
    min_words: int,
    min_span: int,
    span: str,
    threshold: float,
    device: str,
    top: int,
    quiet: bool,
) -> None:
    """Group sentences that make the same claim, in the same or other words, into talking
    points that recur across documents.

    Replaces the 'points' and 'mentions' tables. Run 'chorus reuse' first so boilerplate is
    skipped. Embeddings are cached in the store: a second run embeds nothing new.

    \b
    Examples:
      chorus points
      chorus points --span sources --min-span 3
      chorus points --device cuda
      chorus export mentions -o mentions.csv
    """
    settings = make_settings(
        PointsSettings,
        model=model,
        min_words=min_words,
        min_span=min_span,
        span=span,
        threshold=threshold,
        device=device,
    )
    with open_store(db) as store:
        summary = find_points(store, settings=settings, progress=_progress(quiet))
        _print_points(summary, store, top=top)


@cli.command()
@db_option
@click.option(
    "--watchlist",
    "-w",
    "watchlist",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Known talking points: JSON Lines with id and text, or .txt with one a line.",
)
@setting_option(
    MatchSettings, "top_k", "--top-k", "-k", help="At most this many matches per document."
)
@click.option("--min-score", type=float, default=None, help="Drop matches scoring below this.")
@click.option("--corpus", is_flag=True, help="Match the documents in the store, not INPUT.")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the matches (JSON Lines).",
)
@click.argument(
    "input_path",
    metavar="INPUT",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@quiet_option
@handle_errors
def match(
    db: Path,
    watchlist: Path,
    top_k: int,
    min_score: float | None,
    corpus: bool,
    output: Path,
    input_path: Path | None,
    quiet: bool,
) -> None:
    """Find which documents restate a known talking point, even in other words.

    Writes one JSON line per document, in input order: {"id": ..., "matches": [{"id":
    <watchlist id>, "score": ..., "sentence": ..., "start": ..., "end": ...}]}, best first;
    sentence/start/end point at the part of the document that matched best. The watchlist's
    embeddings are cached in the store, so a second run against it is fast.

    \b
    Examples:
      chorus match --watchlist claims.jsonl --top-k 5 posts.jsonl -o matches.jsonl
      chorus match -w lines.txt -k 3 --min-score 0.8 --corpus -o corpus_matches.jsonl
    """
    if corpus == (input_path is not None):
        raise click.UsageError("give either INPUT or --corpus (one of them)")
    settings = make_settings(MatchSettings, top_k=top_k, min_score=min_score)
    items = read_watchlist(watchlist)
    documents = read_match_documents(input_path) if input_path is not None else None
    with open_store(db) as store:
        matcher = Matcher(items, settings=settings, store=store, progress=_progress(quiet))
        source = documents if documents is not None else scan_store_documents(store)
        total = len(documents) if documents is not None else store.count("documents")
        bar = _progress(quiet)(desc="match", total=total, unit="doc")
        matched = 0

        def counted(results: Iterable[DocumentMatches]) -> Iterator[DocumentMatches]:
            nonlocal matched
            for result in results:
                matched += bool(result.matches)
                bar.update(1)
                yield result

        try:
            n = write_matches_jsonl(counted(matcher.match(source)), output)
        finally:
            bar.close()
    click.echo(
        f"match: {n:,} documents against {len(items):,} talking points; {matched:,} with a "
        f"match; wrote {output}"
    )


@cli.group()
def watch() -> None:
    """Stored watchlists: which documents and sources of the corpus push known talking
    points.

    \b
    Examples:
      chorus watch add claims.jsonl --name fact-checked
      chorus watch hits fact-checked
      chorus export watch_hits -o hits.csv
    """


@watch.command(name="add")
@db_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="The watchlist's name (replaces a list so named).")
@handle_errors
def watch_add(db: Path, path: Path, name: str) -> None:
    """Store the watchlist in PATH (JSON Lines with id and text, or .txt) under NAME.

    \b
    Example:
      chorus watch add known_lines.txt --name campaign-2020
    """
    items = read_watchlist(path)
    with open_store(db) as store:
        n = add_watchlist(store, name, items)
    click.echo(f"watch: stored {n:,} talking points as '{name}'; run 'chorus watch hits {name}'")


@watch.command(name="hits")
@db_option
@click.argument("name")
@click.option(
    "--min-score",
    type=float,
    default=DEFAULT_HIT_SCORE,
    show_default=True,
    help="A document pushes a talking point when it scores at least this.",
)
@setting_option(MatchSettings, "top_k", help="At most this many items per document.")
@click.option("--top", default=10, show_default=True, help="Items and sources to list.")
@quiet_option
@handle_errors
def watch_hits(db: Path, name: str, min_score: float, top_k: int, top: int, quiet: bool) -> None:
    """Match the corpus against the stored watchlist NAME: per talking point, the documents
    and sources that repeat it and when; per source, the share of its documents that push
    the list. Rebuilds the 'watch_hits' rows of NAME.

    \b
    Example:
      chorus watch hits campaign-2020 --min-score 0.9
    """
    settings = make_settings(MatchSettings, top_k=top_k, min_score=min_score)
    with open_store(db) as store:
        summary = find_watch_hits(store, name, settings=settings, progress=_progress(quiet))
        click.echo(
            f"watch '{name}': {summary.n_items_hit:,} of {summary.n_items:,} talking points "
            f"found in {summary.n_docs_matched:,} documents ({summary.n_hits:,} hits, score >= "
            f"{min_score}) in {summary.seconds:.1f}s"
        )
        items = watch_item_hits(store, name).slice(0, top).to_pylist()
        for row in items:
            first = row["first_seen"].date() if row["first_seen"] else "?"
            last = row["last_seen"].date() if row["last_seen"] else "?"
            click.echo(
                f"  {row['n_docs']:>5} docs {row['n_sources']:>4} sources  {first} to {last}  "
                f"[{row['item_id']}] {_snippet(row['text'])}"
            )
        click.echo("  sources pushing the list (share of their documents):")
        for row in watch_source_shares(store, name).slice(0, top).to_pylist():
            if not row["n_docs_pushing"]:
                break
            click.echo(
                f"  {row['share']:>6.1%}  {row['n_docs_pushing']:>5} of {row['n_docs']:<5} "
                f"{row['n_items']:>3} items  {row['source']}"
            )


def _print_coord(summary: CoordSummary, store: Store, *, top: int) -> None:
    window = (
        f"window {summary.window_hours:.1f} h"
        if summary.window_hours is not None
        else "no window (too few dates: sharing at any time counts)"
    )
    test = (
        f"{summary.n_significant:,} significant (null model {summary.null_seconds:.1f}s)"
        if summary.tested
        else "not tested (the time null needs dates)"
    )
    test += f"; communities from {summary.communities_from}"
    click.echo(
        f"coord: {summary.n_edges:,} source edges over {summary.n_objects:,} shared objects, "
        f"{test}; {_plural(summary.n_communities, 'community', 'communities')}; {window}; "
        f"{summary.seconds:.1f}s"
    )
    if summary.tested and summary.n_edges and not summary.n_significant:
        click.echo(
            "  no edge is significant: these sources share objects, but no more than chance "
            "would give sources this active"
        )
    if summary.n_wire_docs:
        click.echo(
            f"  {summary.n_wire_docs:,} documents are credited wire copy and share nothing "
            "(chorus export credits)"
        )
    for e in summaries.top_edges(store, limit=top):
        q = e["q_value"]
        q_text = f"q {q:.3f}" if q is not None else "q -"
        click.echo(
            f"  {e['weight']:7.2f} {e['n_objects']:>4} objects  {q_text}  "
            f"{e['source_a']} — {e['source_b']}"
        )


@cli.command()
@db_option
@window_option
@min_objects_option
@setting_option(CoordSettings, "permutations", type=int, help="Null model draws.")
@fdr_option
@click.option("--top", default=10, show_default=True, help="Edges to list.")
@quiet_option
@handle_errors
def coord(
    db: Path,
    window_hours: float | None,
    min_objects: int,
    permutations: int,
    fdr: float,
    top: int,
    quiet: bool,
) -> None:
    """Find the sources that push the same talking points, copied passages and links
    together: a network with the evidence for every edge and a significance test.

    Run 'chorus analyze' (or reuse and points) first. Sharing is not proof of coordination:
    outlets covering the same story share objects too; the weights discount what everyone
    shares and the test asks whether the timing is closer than chance.

    \b
    Examples:
      chorus coord
      chorus coord --window-hours 6 --fdr 0.01
      chorus export edge_evidence -o evidence.csv
      chorus export graph -o network.gexf
    """
    settings = make_settings(
        CoordSettings,
        window_hours=window_hours,
        min_objects=min_objects,
        permutations=permutations,
        fdr=fdr,
    )
    with open_store(db) as store:
        summary = find_coordination(store, settings=settings, progress=_progress(quiet))
        _print_coord(summary, store, top=top)


@cli.command(name="analyze")
@db_option
@reuse_options
@model_option
@threshold_option
@device_option
@window_option
@min_objects_option
@fdr_option
@quiet_option
@handle_errors
def analyze_cmd(
    db: Path,
    min_words: int,
    edit_tolerance: float,
    max_copies: int,
    model: str,
    threshold: float,
    device: str,
    window_hours: float | None,
    min_objects: int,
    fdr: float,
    quiet: bool,
) -> None:
    """Run every analysis stage over the store, in order (segment and its word index, reuse,
    points and the index of their labels, phrases, coord), with the settings of reuse,
    talking points and coordination.

    \b
    Examples:
      chorus analyze --db project.duckdb
      chorus analyze --threshold -0.1 --window-hours 24 --fdr 0.01
    """
    settings = _reuse_settings(min_words, edit_tolerance, max_copies)
    points_settings = make_settings(PointsSettings, model=model, threshold=threshold, device=device)
    coord_settings = make_settings(
        CoordSettings, window_hours=window_hours, min_objects=min_objects, fdr=fdr
    )
    with open_store(db) as store:
        summary = analyze(
            store,
            reuse=settings,
            points=points_settings,
            coord=coord_settings,
            progress=_progress(quiet),
        )
        click.echo(
            f"ran {', '.join(summary.stages)}: {summary.n_sentences_added:,} sentences added"
        )
        index = summary.search
        click.echo(
            f"word index: {_plural(index.n_sentences, 'sentence', 'sentences')} of "
            f"{_plural(index.n_documents, 'document', 'documents')} "
            + (f"indexed in {index.seconds:.1f} s" if index.built else "already up to date")
        )
        _print_reuse(summary.reuse, store, top=10)
        _print_points(summary.points, store, top=10)
        labels = summary.labels
        click.echo(
            f"'like this' index: {_plural(labels.n_points, 'label', 'labels')} "
            + (
                f"in {_plural(labels.n_cells, 'cell', 'cells')}, filed in {labels.seconds:.1f} s"
                if labels.built and labels.n_points
                else "already up to date"
                if not labels.built
                else "(no talking points)"
            )
        )
        _print_phrases(summary.phrases, store, top=10)
        _print_coord(summary.coord, store, top=10)


@cli.command()
@db_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("chorus-report.html"),
    show_default=True,
)
@quiet_option
@handle_errors
def report(db: Path, output: Path, quiet: bool) -> None:
    """Write a self-contained HTML report of the store: overview, talking points with
    their mentions in context, copied passages side by side, the coordination network
    (click an edge for its evidence), sources and watchlists. One file: no network, no
    CDN; it opens from disk.

    \b
    Example:
      chorus report -o report.html
    """
    with open_store(db, read_only=True) as store:
        path = write_report(store, output, progress=_progress(quiet))
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@cli.group()
def spark() -> None:
    """Run the stages on Apache Spark: the same results as on one machine, for corpora past
    one machine."""


@spark.command("run")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    required=True,
    help="JSON Lines file(s) (.gz too), Parquet file(s) or folder(s) of Parquet files.",
)
@click.option(
    "--format",
    "input_format",
    type=click.Choice(["jsonl", "parquet"]),
    default=None,
    help="What the inputs hold [default: Parquet for .parquet/.pq names and folders of them, "
    "else JSON Lines].",
)
@click.option("--output", required=True, help="Folder for the Parquet tables (any Spark path).")
@click.option(
    "--stages",
    default="reuse,points,coord",
    show_default=True,
    help="Comma-separated: reuse, points (needs reuse), coord (needs both). Ingest and "
    "sentences always run.",
)
@click.option("--bands", default=64, show_default=True, type=click.IntRange(1, 100_000))
@handle_errors
def spark_run(
    inputs: tuple[str, ...],
    output: str,
    input_format: Literal["jsonl", "parquet"] | None,
    stages: str,
    bands: int,
) -> None:
    """Run chorus as a Spark job: under spark-submit it uses the cluster it is given, else
    Spark in local mode on every core. Writes every table the stages make (documents,
    rejects, sentences, passages, reuse_clusters, points, mentions, the embedding cache,
    source_edges, edge_evidence, sources, communities) as Parquet folders; `chorus load`
    brings them into a store for report, serve, match and export.

    \b
    Examples:
      chorus spark run --input corpus.jsonl.gz --output out/
      chorus spark run --input corpus.jsonl.gz --output out/ --stages reuse
      chorus spark run --input crawl/2026/ --format parquet --output out/
      spark-submit --master yarn "$(chorus spark entry)" spark run --input hdfs:///c --output hdfs:///o
    """
    from chorus.spark import run_job
    from chorus.spark.job import spark_session

    chosen = tuple(s.strip() for s in stages.split(",") if s.strip())
    summary = run_job(
        spark_session(), list(inputs), output, format=input_format, stages=chosen, bands=bands
    )
    click.echo(
        f"spark ({summary.master}): {summary.n_documents:,} documents "
        f"({summary.n_rejects:,} rejected), "
        f"{summary.n_sentences:,} sentences, {summary.n_clusters:,} reuse clusters, "
        f"{summary.n_passages:,} passages, {summary.n_points:,} talking points, "
        f"{summary.n_edges:,} source edges; tables in {output}"
    )


@spark.command("entry")
def spark_entry() -> None:
    """Print the Python file spark-submit runs for chorus (spark-submit takes a .py file,
    not the `chorus` command). Everything after it is chorus's own arguments.

    \b
    Example:
      spark-submit --master yarn "$(chorus spark entry)" spark run --input hdfs:///c --output hdfs:///o
    """
    import chorus

    click.echo(str(Path(chorus.__file__).with_name("__main__.py")))


@cli.command()
@db_option
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@handle_errors
def load(db: Path, folder: Path) -> None:
    """Load the Parquet tables a Spark job wrote into a new store, so report, serve, match
    and export work on them.

    \b
    Example:
      chorus load out/ --db cluster.duckdb
    """
    from chorus.store.load import load_tables

    with open_store(db) as store:
        s = load_tables(store, folder)
    click.echo(
        f"loaded {s.n_documents:,} documents, {s.n_sentences:,} sentences, "
        f"{s.n_clusters:,} reuse clusters, {s.n_passages:,} passages, "
        f"{s.n_points:,} talking points, {s.n_edges:,} source edges, "
        f"{s.n_embeddings:,} cached embeddings into {db}"
    )


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow binding an address other machines can reach (the app has no login).",
)
@click.option(
    "--hostname",
    "hostnames",
    multiple=True,
    help="Another name the app answers to in the Host header (repeatable); by default "
    "only the loopback names and --host.",
)
@handle_errors
def serve(db: Path, host: str, port: int, allow_remote: bool, hostnames: tuple[str, ...]) -> None:
    """Browse the store in a web app: the report's views over the live store, search
    (words, or talking points like a sentence), filters by source and date, and a JSON
    API (OpenAPI description at /openapi.json). Read-only; binds 127.0.0.1 unless told
    otherwise.

    \b
    Examples:
      chorus serve                          # http://127.0.0.1:8000
      chorus serve --port 8080
      chorus serve --host 0.0.0.0 --allow-remote --hostname chorus.example.org
    """
    from chorus.serve import LOOPBACK_NAMES, allowed_hosts_for, create_app, run_app

    if host not in LOOPBACK_NAMES:
        if not allow_remote:
            raise click.UsageError(
                f"--host {host} exposes the store beyond this machine, with no login; "
                "add --allow-remote if that is what you want"
            )
        click.echo(
            f"warning: serving on {host}:{port}: anyone who can reach it can read the store",
            err=True,
        )
    # Open the store before saying anything: a store another process writes fails here.
    app = create_app(db, allowed_hosts=allowed_hosts_for(host, hostnames), warm_similar=True)
    click.echo(f"chorus: serving {db} on http://{host}:{port} (Ctrl-C to stop)")
    run_app(app, host=host, port=port)


@cli.command()
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEMO_STORE,
    show_default=True,
    help="Where to keep the demo's store.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(DEMO_REPORT),
    show_default=True,
)
@quiet_option
@handle_errors
def demo(db: Path, output: Path, quiet: bool) -> None:
    """Run chorus end to end on the bundled seed corpus and write its report.

    \b
    Example:
      chorus demo -o seeds.html
    """
    result = run_demo(db=db, report=output, progress=_progress(quiet))
    click.echo(
        f"chorus demo: the seed corpus ({result.stats.n_documents} articles) in {result.store_path}"
    )
    _print_ingest(result.ingest)
    click.echo()
    _print_stats(result.stats, sources=10, months=12)
    click.echo()
    with open_store(result.store_path, read_only=True) as store:
        _print_reuse(result.analysis.reuse, store, top=10)
        click.echo()
        _print_points(result.analysis.points, store, top=10)
        _print_phrases(result.analysis.phrases, store, top=10)
        click.echo()
        _print_coord(result.analysis.coord, store, top=5)
    click.echo(f"\nreport: {result.report_path}")


def main() -> None:
    cli(prog_name="chorus")


if __name__ == "__main__":
    main()
