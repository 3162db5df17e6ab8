"""``chorus changes``: what the last analysis (or every analysis since one, or since a date)
changed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from chorus.changes import Changes, read_changes, records
from chorus.cli.base import cli, db_option, handle_errors, plural, snippet
from chorus.errors import ChorusError
from chorus.ingest.dates import parse_date
from chorus.store import open_store


def parse_since(value: str | None) -> int | dt.datetime | None:
    """An analysis number or a date (any form ingest reads)."""
    if value is None:
        return None
    if value.strip().isdigit():
        return int(value)
    parsed = parse_date(value).value
    if parsed is None:
        raise ChorusError(
            f"--since {value!r}: not an analysis number or a date (e.g. 3 or 2020-06-01)"
        )
    return parsed


def print_jsonl(changes: Changes) -> None:
    for name, rows in changes.kinds().items():
        for record in records(rows):
            # "points" -> "point": one kind per line.
            click.echo(json.dumps({"kind": name[:-1], **record}, ensure_ascii=False))


def print_text(changes: Changes, top: int) -> None:
    origin = (
        f"analysis {changes.since_run}"
        if changes.since_run is not None
        else ("the first analysis" if changes.since.year == 1 else changes.since.isoformat(" "))
    )
    click.echo(f"changes since {origin}:")
    new = [p for p in changes.points if p.change == "new"]
    grew = [p for p in changes.points if p.change == "grew"]
    regrouped = [p for p in changes.points if p.change == "regrouped"]
    click.echo(f"  {plural(len(new), 'new talking point', 'new talking points')}:")
    for p in new[:top]:
        click.echo(
            f"    {plural(p.n_sources, 'source', 'sources'):>11} "
            f"{plural(p.n_docs, 'doc', 'docs'):>10}  {p.point_id}  {snippet(p.label)}"
        )
    growing = plural(len(grew), "talking point", "talking points")
    click.echo(f"  {growing} reaching more sources or documents:")
    for p in grew[:top]:
        click.echo(
            f"    sources {p.n_sources_before} -> {p.n_sources}, docs {p.n_docs_before} -> "
            f"{p.n_docs}  {p.point_id}  {snippet(p.label)}"
        )
    if regrouped:
        # Not news: the update split or merged sentences it had analysed before.
        click.echo(
            f"  {plural(len(regrouped), 'talking point', 'talking points')} regrouped from "
            "sentences analysed before (no new document in them):"
        )
        for p in regrouped[:top]:
            if p.split_from:
                how = f"split from {p.split_from}"
            elif p.n_sources_before is not None:
                how = (
                    f"sources {p.n_sources_before} -> {p.n_sources}, "
                    f"docs {p.n_docs_before} -> {p.n_docs}"
                )
            else:
                how = "new id"
            click.echo(f"    {how}  {p.point_id}  {snippet(p.label)}")
    click.echo(f"  {plural(len(changes.passages), 'new copied passage', 'new copied passages')}:")
    for c in changes.passages[:top]:
        click.echo(
            f"    {c.cluster_kind:<11} {plural(c.n_sources, 'source', 'sources'):>11}  "
            f"{c.doc_id} [{c.start}:{c.end}] "
            f"{c.source}  {snippet(c.text, 60)}"
        )
    click.echo(f"  {plural(len(changes.edges), 'new or stronger edge', 'new or stronger edges')}:")
    for e in changes.edges[:top]:
        before = "new" if e.weight_before is None else f"{e.weight_before:.3f} ->"
        q = "" if e.q_value is None else f" q={e.q_value:.3g}"
        click.echo(f"    {before} {e.weight:.3f}{q}  {e.source_a} -- {e.source_b}")
    click.echo(f"  {plural(len(changes.hits), 'new watchlist hit', 'new watchlist hits')}:")
    for h in changes.hits[:top]:
        click.echo(
            f"    {h.score:.3f}  {h.watchlist}/{h.item_id}  {h.source}  {h.doc_id}  "
            f"{snippet(h.sentence, 60)}"
        )


@cli.command()
@db_option
@click.option(
    "--since",
    metavar="RUN|DATE",
    default=None,
    help="Count from the end of analysis RUN (numbered from 1; 'chorus analyze' prints "
    "each one's number) or from a date; default: what the last analysis changed.",
)
@click.option("--jsonl", is_flag=True, help="Every change as JSON Lines (a 'kind' field each).")
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="List at most this many of each kind (text output).",
)
@handle_errors
def changes(db: Path, since: str | None, jsonl: bool, top: int) -> None:
    """What changed: new talking points, points reaching more sources, new copied passages,
    new or stronger coordination edges, new watchlist hits.

    \b
    Examples:
      chorus changes
      chorus changes --since 3
      chorus changes --since 2020-06-01 --jsonl > changes.jsonl
    """
    with open_store(db, read_only=True) as store:
        found = read_changes(store, since=parse_since(since))
    if jsonl:
        print_jsonl(found)
    else:
        print_text(found, top)
