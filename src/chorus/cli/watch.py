"""Matching text against talking points and watchlists: match, watch add, watch hits,
watch run."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from chorus.cli.base import (
    cli,
    db_option,
    handle_errors,
    make_settings,
    plural,
    progress_bars,
    quiet_option,
    setting_option,
    snippet,
    updating,
)
from chorus.errors import ChorusError
from chorus.match import (
    DEFAULT_HIT_SCORE,
    DEFAULT_SENTENCE_HIT_SCORE,
    DocumentMatches,
    Matcher,
    MatchSettings,
    WatchRunSummary,
    add_watchlist,
    detect_languages,
    find_watch_hits,
    read_match_documents,
    read_watchlist,
    run_watch,
    scan_store_documents,
    watch_item_hits,
    watch_source_shares,
    write_matches_jsonl,
)
from chorus.store import open_store

log = logging.getLogger(__name__)

match_model_option = setting_option(
    MatchSettings,
    "model",
    type=click.Choice(["auto", "minilm", "multilingual", "wordllama", "hashing"]),
    help="auto: multilingual when the watchlist or the documents are not all in English, "
    "else minilm; multilingual: multilingual-e5-small, so a talking point meets its "
    "translation; minilm: all-MiniLM-L6-v2 (English).",
)


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
@match_model_option
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
    model: str,
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
    settings = make_settings(MatchSettings, top_k=top_k, min_score=min_score, model=model)
    items = read_watchlist(watchlist)
    documents = read_match_documents(input_path) if input_path is not None else None
    with open_store(db) as store:
        languages = (
            detect_languages(d.text for d in documents)
            if documents is not None
            else store.languages()
        )
        matcher = Matcher(
            items,
            settings=settings,
            store=store,
            languages=languages,
            progress=progress_bars(quiet),
        )
        source = documents if documents is not None else scan_store_documents(store)
        total = len(documents) if documents is not None else store.count("documents")
        bar = progress_bars(quiet)(desc="match", total=total, unit="doc")
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
        f"match: {n:,} documents against {len(items):,} talking points ({matcher.settings.model}); "
        f"{matched:,} with a match; wrote {output}"
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
    with updating(db) as store:
        n = add_watchlist(store, name, items)
    click.echo(f"watch: stored {n:,} talking points as '{name}'; run 'chorus watch hits {name}'")


# A document up to this long is scored whole (MatchSettings.whole_words), so the post's hit
# score applies to it.
_POST_WORDS = MatchSettings().whole_words

hit_score_option = click.option(
    "--min-score",
    type=float,
    default=None,
    help="A document pushes a talking point when it scores at least this. Default: "
    f"{DEFAULT_HIT_SCORE} for a post ({_POST_WORDS} words or fewer, scored whole), "
    f"{DEFAULT_SENTENCE_HIT_SCORE} for a longer document (scored by its best sentence: of "
    "dozens, one on the same story reaches a score more easily). A value given here holds "
    "for both.",
)


def hit_scores(min_score: float | None) -> str:
    """The hit score a run used, as a reader would want it said."""
    if min_score is not None:
        return f"score >= {min_score}"
    return (
        f"score >= {DEFAULT_HIT_SCORE}, {DEFAULT_SENTENCE_HIT_SCORE} for documents over "
        f"{_POST_WORDS} words"
    )


@watch.command(name="hits")
@db_option
@click.argument("name")
@hit_score_option
@setting_option(MatchSettings, "top_k", help="At most this many items per document.")
@match_model_option
@click.option("--top", default=10, show_default=True, help="Items and sources to list.")
@quiet_option
@handle_errors
def watch_hits(
    db: Path, name: str, min_score: float | None, top_k: int, model: str, top: int, quiet: bool
) -> None:
    """Match the corpus against the stored watchlist NAME: per talking point, the documents
    and sources that repeat it and when; per source, the share of its documents that push
    the list. Rebuilds the 'watch_hits' rows of NAME.

    \b
    Example:
      chorus watch hits campaign-2020 --min-score 0.9
    """
    settings = make_settings(MatchSettings, top_k=top_k, min_score=min_score, model=model)
    with updating(db) as store:
        summary = find_watch_hits(store, name, settings=settings, progress=progress_bars(quiet))
        click.echo(
            f"watch '{name}': {summary.n_items_hit:,} of {summary.n_items:,} talking points "
            f"found in {summary.n_docs_matched:,} documents ({summary.n_hits:,} hits, "
            f"{hit_scores(min_score)}) in {summary.seconds:.1f}s"
        )
        items = watch_item_hits(store, name).slice(0, top).to_pylist()
        for row in items:
            first = row["first_seen"].date() if row["first_seen"] else "?"
            last = row["last_seen"].date() if row["last_seen"] else "?"
            langs = f"  in {', '.join(row['languages'])}" if row["languages"] else ""
            click.echo(
                f"  {row['n_docs']:>5} docs {row['n_sources']:>4} sources  {first} to {last}  "
                f"[{row['item_id']}] {snippet(row['text'])}{langs}"
            )
        click.echo("  sources pushing the list (share of their documents):")
        for row in watch_source_shares(store, name).slice(0, top).to_pylist():
            if not row["n_docs_pushing"]:
                break
            click.echo(
                f"  {row['share']:>6.1%}  {row['n_docs_pushing']:>5} of {row['n_docs']:<5} "
                f"{row['n_items']:>3} items  {row['source']}"
            )


@watch.command(name="run")
@db_option
@click.argument("name")
@hit_score_option
@setting_option(MatchSettings, "top_k", help="At most this many items per document.")
@match_model_option
@click.option("--rebuild", is_flag=True, help="Match every document again, not only new ones.")
@click.option(
    "--jsonl", is_flag=True, help="Print the new hits as JSON Lines on stdout (for a pipe)."
)
@quiet_option
def watch_run(
    db: Path,
    name: str,
    min_score: float | None,
    top_k: int,
    model: str,
    rebuild: bool,
    jsonl: bool,
    quiet: bool,
) -> None:
    """Match the documents the stored watchlist NAME has not matched yet (new ones, and ones
    replaced since) and add their hits; print the new hits. For a daily job: exit status 0
    when there are new hits, 1 when there are none, 2 on an error.

    \b
    Examples:
      chorus watch run campaign-2020
      chorus watch run campaign-2020 --jsonl -q >> alerts.jsonl || echo "nothing new"
    """
    # Exit 1 must mean "no new hits" and nothing else: a cron job alerts on it. Any failure,
    # a reader that went away included, exits 2.
    try:
        settings = make_settings(MatchSettings, top_k=top_k, min_score=min_score, model=model)
        with updating(db) as store:
            run = run_watch(
                store, name, settings=settings, rebuild=rebuild, progress=progress_bars(quiet)
            )
        _print_run(name, run, jsonl)
    except ChorusError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except (click.ClickException, click.exceptions.Abort, click.exceptions.Exit):
        raise  # click says what was wrong (a bad option exits 2)
    except BrokenPipeError:
        # The hits are stored; the reader stopped before it had them all. Point stdout at
        # nothing so that the interpreter's flush at exit does not fail again.
        with contextlib.suppress(OSError, ValueError):  # no file behind stdout
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(2)
    except Exception:
        log.exception("watch run failed")
        click.echo("Error: watch run failed (above)", err=True)
        sys.exit(2)
    sys.exit(0 if run.n_new_hits else 1)


def _print_run(name: str, run: WatchRunSummary, jsonl: bool) -> None:
    scope = "every document" if run.rebuilt else "documents not matched before"
    click.echo(
        f"watch '{name}' run {run.run_no}: {plural(run.n_new_docs, 'document', 'documents')} "
        f"matched ({scope}; {run.n_docs:,} stored), "
        f"{plural(run.n_new_hits, 'new hit', 'new hits')} in {run.seconds:.1f}s",
        err=jsonl,
    )
    for hit in run.new_hits.to_pylist():
        if jsonl:
            published = hit["published_at"]
            record = {
                **hit,
                "watchlist": name,
                "run_no": run.run_no,
                "published_at": published.isoformat() if published else None,
                "score": round(float(hit["score"]), 4),
            }
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            day = hit["published_at"].date() if hit["published_at"] else "undated"
            click.echo(
                f"  {hit['score']:.3f}  {day}  {hit['source']}  {hit['doc_id']} ({hit['lang']})  "
                f"[{hit['item_id']}] {snippet(hit['sentence'])}"
            )
