"""The analysis stages' commands: reuse, phrases, points, coord, and analyze (all of them)."""

from __future__ import annotations

from pathlib import Path

import click

from chorus.analyze import analyze
from chorus.cli.base import (
    cli,
    db_option,
    device_option,
    fdr_option,
    handle_errors,
    make_settings,
    min_objects_option,
    model_option,
    plural,
    progress_bars,
    quiet_option,
    rebuild_option,
    reuse_options,
    reuse_settings,
    setting_option,
    snippet,
    threshold_option,
    updating,
    window_option,
)
from chorus.coord import CoordSettings, CoordSummary, find_coordination
from chorus.phrases import PhrasesSettings, PhrasesSummary, find_phrases
from chorus.points import PointsSettings, PointsSummary, find_points
from chorus.reuse import ReuseSummary, find_reuse
from chorus.store import Store
from chorus.views import summaries


def print_reuse(summary: ReuseSummary, store: Store, *, top: int) -> None:
    kinds = ", ".join(f"{v:,} {k}" for k, v in sorted(summary.kinds.items()))
    click.echo(
        f"reuse: {summary.n_clusters:,} clusters ({kinds or 'none'}), "
        f"{summary.n_passages:,} passages in {summary.seconds:.1f}s"
    )
    for c in summaries.top_clusters(store, limit=top):
        click.echo(
            f"  {c['kind']:<11} {c['n_docs']:>4} docs {c['n_sources']:>3} sources  "
            f"from {c['origin_source']}: {snippet(c['representative'])}"
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
    A cluster that continues one from before keeps its id; 'reuse_lineage' records the ids
    no cluster keeps (merged, split, gone).

    \b
    Examples:
      chorus reuse
      chorus reuse --min-words 40 --edit-tolerance 0.1
      chorus export passages -o passages.parquet
    """
    settings = reuse_settings(min_words, edit_tolerance, max_copies)
    with updating(db) as store:
        summary = find_reuse(store, settings=settings, progress=progress_bars(quiet))
        print_reuse(summary, store, top=top)


def print_points(summary: PointsSummary, store: Store, *, top: int) -> None:
    tight = summaries.n_tight_points(store)
    update = summary.update
    how = (
        f"updated with {update.n_added_sentences:,} sentences added and "
        f"{update.n_removed_sentences:,} removed ({update.n_new_units:,} new claims embedded; "
        f"{update.n_changed_points:,} points built again)"
        if update is not None
        else f"{summary.n_screened:,} through the accurate model"
    )
    click.echo(
        f"points: {summary.n_points:,} talking points ({tight:,} tight), "
        f"{summary.n_mentions:,} mentions from "
        f"{summary.n_units:,} distinct sentences ({how}) in {summary.seconds:.1f}s"
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
            f"{p['n_sources']:>3} sources  from {p['origin_source']}: {snippet(p['label'])}"
        )


def print_phrases(summary: PhrasesSummary, store: Store, *, top: int) -> None:
    click.echo(
        f"phrases: {summary.n_phrases:,} shared phrases, {summary.n_occurrences:,} occurrences "
        f"in {summary.seconds:.1f}s"
    )
    for f in summaries.top_phrases(store, limit=top):
        click.echo(
            f"  {f['n_occurrences']:>5}x {f['n_docs']:>4} docs {f['n_sources']:>3} sources  "
            f"{snippet(f['phrase'])}"
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
@click.option(
    "--rebuild",
    is_flag=True,
    help="Find the phrases from scratch (by default stored phrases are updated with the "
    "documents added, replaced or newly copied since).",
)
@quiet_option
@handle_errors
def phrases(
    db: Path,
    min_words: int,
    max_words: int,
    min_sources: int,
    max_doc_share: float,
    top: int,
    rebuild: bool,
    quiet: bool,
) -> None:
    """Find short phrases several sources share (a tagline, a slogan): too short to be a
    copied passage or a claim. Punctuation and case never count.

    Writes the 'phrases' and 'phrase_occurrences' tables; on a store that has them, only
    the phrases of documents added, replaced or newly copied since change. Run 'chorus reuse'
    first: a phrase inside a copied passage is part of the copy and is not counted.

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
    with updating(db) as store:
        summary = find_phrases(
            store, settings=settings, rebuild=rebuild, progress=progress_bars(quiet)
        )
        print_phrases(summary, store, top=top)


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
@rebuild_option
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
    rebuild: bool,
    top: int,
    quiet: bool,
) -> None:
    """Group sentences that make the same claim, in the same or other words, into talking
    points that recur across documents.

    On a store with points, adds the documents ingested (or replaced, or deleted) since to
    them instead of starting over, until the corpus has grown by a quarter since the last run
    from scratch; --rebuild (or other settings) starts over. A point that continues one from
    before keeps its id, and 'point_lineage' records the ids no point keeps (merged, split,
    dissolved, boilerplate, gone). Run 'chorus reuse' first so boilerplate is skipped.
    Embeddings are cached in the store: a second run embeds nothing new.

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
    with updating(db) as store:
        summary = find_points(
            store, settings=settings, rebuild=rebuild, progress=progress_bars(quiet)
        )
        print_points(summary, store, top=top)


def print_coord(summary: CoordSummary, store: Store, *, top: int) -> None:
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
        f"{test}; {plural(summary.n_communities, 'community', 'communities')}; {window}; "
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
    with updating(db) as store:
        summary = find_coordination(store, settings=settings, progress=progress_bars(quiet))
        print_coord(summary, store, top=top)


@cli.command(name="analyze")
@db_option
@reuse_options
@model_option
@threshold_option
@device_option
@window_option
@min_objects_option
@fdr_option
@rebuild_option
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
    rebuild: bool,
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
    settings = reuse_settings(min_words, edit_tolerance, max_copies)
    points_settings = make_settings(PointsSettings, model=model, threshold=threshold, device=device)
    coord_settings = make_settings(
        CoordSettings, window_hours=window_hours, min_objects=min_objects, fdr=fdr
    )
    with updating(db) as store:
        summary = analyze(
            store,
            reuse=settings,
            points=points_settings,
            coord=coord_settings,
            rebuild=rebuild,
            progress=progress_bars(quiet),
        )
        # Ingest segments as it goes: the segment stage only catches up on documents an
        # older chorus ingested, so its count is said only when it did something.
        segmented = (
            f"; {summary.n_sentences_added:,} sentences segmented that ingest had left"
            if summary.n_sentences_added
            else ""
        )
        click.echo(
            f"analysis {summary.run_no} ran {', '.join(summary.stages)}{segmented} "
            "('chorus changes' lists what it changed)"
        )
        index = summary.search
        click.echo(
            f"word index: {plural(index.n_sentences, 'sentence', 'sentences')} of "
            f"{plural(index.n_documents, 'document', 'documents')} "
            + (f"indexed in {index.seconds:.1f} s" if index.built else "already up to date")
        )
        print_reuse(summary.reuse, store, top=10)
        print_points(summary.points, store, top=10)
        labels = summary.labels
        click.echo(
            f"'like this' index: {plural(labels.n_points, 'label', 'labels')} "
            + (
                f"in {plural(labels.n_cells, 'cell', 'cells')}, filed in {labels.seconds:.1f} s"
                if labels.built and labels.n_points
                else "already up to date"
                if not labels.built
                else "(no talking points)"
            )
        )
        print_phrases(summary.phrases, store, top=10)
        print_coord(summary.coord, store, top=10)
