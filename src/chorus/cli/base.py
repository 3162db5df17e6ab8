"""The command group and what its commands share: the store and quiet options, errors turned
into messages and exit codes, progress bars on stderr, and options made from the settings
dataclasses so that a default lives in one place."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
from tqdm import tqdm

from chorus import __version__
from chorus.coord import CoordSettings
from chorus.errors import BatchRefusedError, ChorusError
from chorus.points import PointsSettings
from chorus.progress import ProgressBar, ProgressFactory, no_progress
from chorus.reuse import ReuseSettings
from chorus.store import DEFAULT_STORE_PATH, STORE_ENV_VAR, Store, open_store
from chorus.store.snapshots import publish

F = TypeVar("F", bound=Callable[..., Any])


def progress_bars(quiet: bool) -> ProgressFactory:
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


def snippet(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat[:width] + "…" if len(flat) > width else flat


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
    type=click.Choice(["auto", "cascade", "minilm", "multilingual", "wordllama", "hashing"]),
    help="auto: multilingual when 2% or more of the documents are not in English, else "
    "minilm; minilm: all-MiniLM-L6-v2 on every sentence; cascade: WordLlama first, MiniLM only "
    "on sentences with a near match elsewhere (faster on corpora of mostly unrelated text); "
    "multilingual: multilingual-e5-small, so a claim meets its translation.",
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


rebuild_option = click.option(
    "--rebuild",
    is_flag=True,
    help="Find the talking points (and, with analyze, the shared phrases) from scratch, each "
    "point with the id its content gives it, as in a new store (by default stored results are "
    "updated with the new documents and a point that continues one from before keeps its id).",
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


def reuse_settings(min_words: int, edit_tolerance: float, max_copies: int) -> ReuseSettings:
    return make_settings(
        ReuseSettings, min_words=min_words, edit_tolerance=edit_tolerance, max_copies=max_copies
    )


def plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


@contextlib.contextmanager
def updating(db: Path) -> Iterator[Store]:
    """The store opened for a command that updates its results; once it is closed, a
    running ``chorus serve`` gets a snapshot of it (:func:`chorus.store.snapshots.publish`)
    and moves to it."""
    with open_store(db) as store:
        yield store
    snapshot = publish(db)
    if snapshot is not None:
        click.echo(
            f"the app serving {db} moves to this update (snapshot {snapshot.number})", err=True
        )
