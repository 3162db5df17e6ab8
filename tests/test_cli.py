from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chorus.cli import cli
from chorus.errors import ChorusError

from .conftest import SEEDS, write_jsonl


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_demo_writes_report_and_is_repeatable(runner: CliRunner, tmp_path: Path) -> None:
    db, report = tmp_path / "demo.duckdb", tmp_path / "demo.html"
    args = ["demo", "--db", str(db), "-o", str(report), "--quiet"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "5 new" in first.output and "5 documents from 5 sources" in first.output
    assert report.exists() and "<html" in report.read_text()
    again = runner.invoke(cli, args)
    assert again.exit_code == 0 and "0 new" in again.output and "5 unchanged" in again.output


def test_ingest_stats_export(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    out = runner.invoke(cli, ["ingest", str(SEEDS), "--db", str(db), "-q"])
    assert out.exit_code == 0, out.output
    stats = runner.invoke(cli, ["stats", "--db", str(db)])
    assert stats.exit_code == 0
    assert "5 documents from 5 sources" in stats.output and "80.0%" in stats.output
    assert "by month" in stats.output and "2020-10" in stats.output
    target = tmp_path / "docs.jsonl"
    exp = runner.invoke(cli, ["export", "documents", "--db", str(db), "-o", str(target)])
    assert exp.exit_code == 0, exp.output
    assert len(target.read_text().splitlines()) == 5


def test_store_path_from_environment(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "env.duckdb"
    out = runner.invoke(cli, ["ingest", str(SEEDS), "-q"], env={"CHORUS_DB": str(db)})
    assert out.exit_code == 0 and db.exists()


def test_refused_batch_exit_code_and_message(runner: CliRunner, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        ['{"id": 1, "source": "s", "text": "ok."}', '{"id": 2, "source": "s"}'],
    )
    db = tmp_path / "p.duckdb"
    out = runner.invoke(cli, ["ingest", str(path), "--db", str(db), "-q"])
    assert out.exit_code == 2
    assert "bad.jsonl:2: field 'text': missing field" in out.output
    assert "store is unchanged" in out.output
    skip = runner.invoke(cli, ["ingest", str(path), "--db", str(db), "-q", "--on-error", "skip"])
    assert skip.exit_code == 0 and "1 rejected" in skip.output
    rejects = tmp_path / "rejects.csv"
    runner.invoke(cli, ["export", "rejects", "--db", str(db), "-o", str(rejects)])
    assert "missing field" in rejects.read_text()


def test_field_options(runner: CliRunner, tmp_path: Path) -> None:
    row = {"pid": "p1", "who": "acct", "when": "2020-02-03", "body": "Hello there. Bye now."}
    path = write_jsonl(tmp_path / "posts.jsonl", [json.dumps(row)])
    db = tmp_path / "p.duckdb"
    out = runner.invoke(
        cli,
        [
            "ingest",
            str(path),
            "--db",
            str(db),
            "-q",
            "--text-field",
            "body",
            "--source-field",
            "who",
            "--date-field",
            "when",
            "--id-field",
            "pid",
        ],
    )
    assert out.exit_code == 0, out.output
    stats = runner.invoke(cli, ["stats", "--db", str(db)])
    assert "1 documents from 1 sources, 2 sentences" in stats.output


def test_errors_are_clean(runner: CliRunner, tmp_path: Path) -> None:
    out = runner.invoke(cli, ["stats", "--db", str(tmp_path / "none.duckdb")])
    assert out.exit_code == 1 and "no store" in out.output and "Traceback" not in out.output
    db = tmp_path / "p.duckdb"
    runner.invoke(cli, ["ingest", str(SEEDS), "--db", str(db), "-q"])
    bad = runner.invoke(cli, ["export", "nope", "--db", str(db), "-o", str(tmp_path / "x.csv")])
    assert bad.exit_code == 1 and "no table 'nope'" in bad.output


def test_help_has_examples(runner: CliRunner) -> None:
    for command in ["ingest", "stats", "export", "analyze", "report", "demo"]:
        out = runner.invoke(cli, [command, "--help"])
        assert out.exit_code == 0 and "Example" in out.output, command


def test_reuse_command_and_export(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    runner.invoke(cli, ["ingest", str(SEEDS), "--db", str(db), "-q"])
    out = runner.invoke(cli, ["reuse", "--db", str(db), "-q"])
    assert out.exit_code == 0, out.output
    assert "2 clusters (1 boilerplate, 1 reuse), 4 passages" in out.output
    for table in ("passages", "reuse_clusters"):
        target = tmp_path / f"{table}.csv"
        exp = runner.invoke(cli, ["export", table, "--db", str(db), "-o", str(target)])
        assert exp.exit_code == 0, exp.output
    assert len((tmp_path / "passages.csv").read_text().splitlines()) >= 5
    bad = runner.invoke(cli, ["reuse", "--db", str(db), "--min-words", "2"])
    assert bad.exit_code == 2 and "min_words" in bad.output


def test_demo_reports_reuse(runner: CliRunner, tmp_path: Path) -> None:
    out = runner.invoke(
        cli, ["demo", "--db", str(tmp_path / "d.duckdb"), "-o", str(tmp_path / "r.html"), "-q"]
    )
    assert out.exit_code == 0, out.output
    assert "boilerplate" in out.output and "MEK Iran (follow them on Twitter" in out.output


def test_export_help_lists_every_table(tmp_path: Path) -> None:
    from chorus.store import open_store

    text = CliRunner().invoke(cli, ["export", "--help"]).output
    with open_store(tmp_path / "t.duckdb") as store:
        missing = [t for t in store.table_names() if t not in text]
    assert missing == []


def test_analyze_takes_every_stage_setting(tmp_path: Path) -> None:
    text = CliRunner().invoke(cli, ["analyze", "--help"]).output
    for option in ("--min-words", "--threshold", "--model", "--window-hours", "--fdr"):
        assert option in text
    bad = CliRunner().invoke(cli, ["analyze", "--db", str(tmp_path / "x.duckdb"), "--fdr", "2"])
    assert bad.exit_code == 2 and "fdr" in bad.output


@pytest.mark.parametrize(
    ("command", "settings"),
    [
        ("reuse", "ReuseSettings"),
        ("phrases", "PhrasesSettings"),
        ("points", "PointsSettings"),
        ("coord", "CoordSettings"),
        ("match", "MatchSettings"),
        ("analyze", "ReuseSettings"),
        ("analyze", "PointsSettings"),
        ("analyze", "CoordSettings"),
    ],
)
def test_option_defaults_are_the_settings_defaults(command: str, settings: str) -> None:
    """Every option named after a settings field defaults to the field's own default (a
    default lives in the dataclass, nowhere else), and says so in --help."""
    import dataclasses

    import chorus.coord
    import chorus.match
    import chorus.phrases
    import chorus.points
    import chorus.reuse

    cls = next(
        getattr(m, settings)
        for m in (chorus.reuse, chorus.phrases, chorus.points, chorus.coord, chorus.match)
        if hasattr(m, settings)
    )
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    params = {p.name: p for p in cli.commands[command].params}
    shared = sorted(set(defaults) & set(params))
    assert shared, (command, settings)
    for name in shared:
        if (command, name) == ("analyze", "min_words") and settings != "ReuseSettings":
            continue  # analyze's --min-words is reuse's
        assert params[name].default == defaults[name], (command, name)
        if defaults[name] is not None:
            assert params[name].show_default, (command, name)


def test_a_bad_setting_is_a_usage_error_naming_it(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "x.duckdb")
    for args in (
        ["reuse", "--edit-tolerance", "2"],
        ["phrases", "--max-words", "1"],
        ["points", "--min-span", "0"],
        ["coord", "--fdr", "3"],
        ["analyze", "--fdr", "3"],
    ):
        out = runner.invoke(cli, [*args, "--db", db])
        assert out.exit_code == 2 and "Traceback" not in out.output, (args, out.output)
        assert "Invalid value" in out.output, (args, out.output)


def test_spark_run_takes_the_stage_settings(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chorus.spark
    import chorus.spark.job
    from chorus.coord import CoordSettings
    from chorus.points import PointsSettings
    from chorus.reuse import ReuseSettings

    calls: list[dict[str, Any]] = []

    def fake_run_job(spark: Any, inputs: list[str], output: str, **kwargs: Any) -> Any:
        calls.append(kwargs)
        raise ChorusError("stopped here")

    monkeypatch.setattr(chorus.spark, "run_job", fake_run_job)
    monkeypatch.setattr(chorus.spark.job, "spark_session", lambda: None)
    base = ["spark", "run", "--input", "c.jsonl", "--output", str(tmp_path / "o")]
    out = runner.invoke(
        cli, [*base, "--min-words", "12", "--threshold", "-0.1", "--window-hours", "24"]
    )
    assert out.exit_code == 1 and "stopped here" in out.output
    assert calls == [
        {
            "format": None,
            "stages": ("reuse", "points", "coord"),
            "bands": 64,
            "reuse": ReuseSettings(min_words=12),
            "points": PointsSettings(threshold=-0.1),
            "coord": CoordSettings(window_hours=24.0),
        }
    ]
    for args in (["--model", "cascade"], ["--fdr", "2"]):
        bad = runner.invoke(cli, [*base, *args])
        assert bad.exit_code == 2 and "Invalid value" in bad.output, (args, bad.output)
    assert len(calls) == 1
