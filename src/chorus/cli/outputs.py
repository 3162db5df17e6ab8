"""What a reader opens: the report, the app, the Spark job and its loading, the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from chorus.cli.base import (
    cli,
    db_option,
    fdr_option,
    handle_errors,
    make_settings,
    min_objects_option,
    model_option,
    progress_bars,
    quiet_option,
    reuse_options,
    reuse_settings,
    threshold_option,
    updating,
    window_option,
)
from chorus.cli.corpus import print_ingest, print_stats
from chorus.cli.stages import (
    print_coord,
    print_phrases,
    print_points,
    print_reuse,
)
from chorus.coord import CoordSettings
from chorus.demo import DEMO_REPORT, DEMO_STORE, run_demo
from chorus.points import PointsSettings
from chorus.report import write_report
from chorus.store import open_store


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
        path = write_report(store, output, progress=progress_bars(quiet))
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
@reuse_options
@model_option
@threshold_option
@window_option
@min_objects_option
@fdr_option
@handle_errors
def spark_run(
    inputs: tuple[str, ...],
    output: str,
    input_format: Literal["jsonl", "parquet"] | None,
    stages: str,
    bands: int,
    min_words: int,
    edit_tolerance: float,
    max_copies: int,
    model: str,
    threshold: float,
    window_hours: float | None,
    min_objects: int,
    fdr: float,
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
      chorus spark run --input corpus.jsonl.gz --output out/ --threshold -0.1 --window-hours 24
      spark-submit --master yarn "$(chorus spark entry)" spark run --input hdfs:///c --output hdfs:///o
    """
    from chorus.spark import run_job
    from chorus.spark.job import spark_session

    if model == "cascade":
        raise click.BadParameter(
            "the cascade runs on one machine only; on Spark use minilm, wordllama or hashing",
            param_hint="--model",
        )
    chosen = tuple(s.strip() for s in stages.split(",") if s.strip())
    summary = run_job(
        spark_session(),
        list(inputs),
        output,
        format=input_format,
        stages=chosen,
        bands=bands,
        reuse=reuse_settings(min_words, edit_tolerance, max_copies),
        points=make_settings(PointsSettings, model=model, threshold=threshold),
        coord=make_settings(
            CoordSettings, window_hours=window_hours, min_objects=min_objects, fdr=fdr
        ),
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

    with updating(db) as store:
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
    otherwise. The app reads a copy of the store (STORE.served/), so ingest and analyze
    work while it runs; it shows their results once they have finished.

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
    # Open the store before saying anything: a store another process is writing, with no
    # snapshot to serve yet, fails here.
    app = create_app(
        db,
        allowed_hosts=allowed_hosts_for(host, hostnames),
        warm_similar=True,
        follow_updates=True,
    )
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
    result = run_demo(db=db, report=output, progress=progress_bars(quiet))
    click.echo(
        f"chorus demo: the seed corpus ({result.stats.n_documents} articles) in {result.store_path}"
    )
    print_ingest(result.ingest)
    click.echo()
    print_stats(result.stats, sources=10, months=12)
    click.echo()
    with open_store(result.store_path, read_only=True) as store:
        print_reuse(result.analysis.reuse, store, top=10)
        click.echo()
        print_points(result.analysis.points, store, top=10)
        print_phrases(result.analysis.phrases, store, top=10)
        click.echo()
        print_coord(result.analysis.coord, store, top=5)
    click.echo(f"\nreport: {result.report_path}")
