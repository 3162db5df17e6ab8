"""Coordination speed (and quality) on the whole news corpus plus planted campaigns.

    python bench/coord_speed.py [--docs N] [--store PATH]

The corpus is coord_quality's at full size: every news article but the last 2,000 (which
supply the campaigns' text), six planted campaigns and the wire-copy decoys. Preparing it
(ingest, reuse, points: over an hour for the talking points alone) is not counted, and the
prepared store is kept at ``--store`` so that a second run only times the coordination stage.
Then, in a child process (wall time, peak RSS): chorus coord with its default settings; the
null model's share is printed apart. Anchor in the same run: the coordination-network-toolkit's
co-similar rule at sentence level (same sentence of 8+ words within 6 hours), pure Python,
over the same documents.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, run_child
from coord_quality import anchor_pairs, build_corpus, score

PREPARE = """
import sys, json, time, chorus
from chorus.ingest import NoLanguageDetector
from chorus.reuse import find_reuse
from chorus.points import find_points
from chorus.search import build_label_index, build_search_index
with chorus.open_store(sys.argv[2]) as store:
    t = time.perf_counter()
    chorus.ingest_paths(store, [sys.argv[1]], language_detector=NoLanguageDetector())
    find_reuse(store)
    r = time.perf_counter() - t
    p = find_points(store)
    points_seconds = time.perf_counter() - t - r
    # What chorus analyze builds for the app (bench/serve_load.py reads this store).
    build_search_index(store)
    build_label_index(store)
    print(json.dumps({"reuse_seconds": r, "points_seconds": points_seconds,
                      "n_points": p.n_points, "n_mentions": p.n_mentions}))
"""
COORD = """
import sys, json, dataclasses, chorus
from chorus.coord import find_coordination
with chorus.open_store(sys.argv[1]) as store:
    print(json.dumps(dataclasses.asdict(find_coordination(store))))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=0, help="organic articles (0: all)")
    parser.add_argument(
        "--store",
        type=Path,
        default=Path(__file__).parent / "out" / "coord_speed.duckdb",
        help="where the prepared store is kept (reused when present)",
    )
    args = parser.parse_args()
    docs, planted = build_corpus(args.docs)
    print("# coord speed: news corpus + 6 planted campaigns + wire decoys")
    print(f"# machine: {machine()}")
    print(
        f"corpus: {len(docs):,} documents, {len(planted.outlets):,} organic outlets, "
        f"{len(planted.campaign_sources):,} campaign sources"
    )
    store = args.store
    if not store.exists():
        # Prepared under another name, renamed when whole: a run killed part-way leaves the
        # partial store, and the next run resumes it (its documents are stored, unchanged,
        # and its embeddings cached) instead of taking it for a prepared one.
        partial = store.with_suffix(".partial.duckdb")
        store.parent.mkdir(parents=True, exist_ok=True)
        corpus = store.with_suffix(".jsonl")
        corpus.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
        if partial.exists():
            print(f"prepare: resuming {partial}")
        secs, rss, out = run_child(PREPARE, str(corpus), str(partial))
        corpus.unlink()
        partial.rename(store)
        prep = json.loads(out)
        print(
            f"prepare (not counted): {secs:,.0f} s wall, peak RSS {rss:,.0f} MiB; ingest + "
            f"reuse {prep['reuse_seconds']:,.0f} s, points {prep['points_seconds']:,.0f} s: "
            f"{prep['n_points']:,} points, {prep['n_mentions']:,} mentions"
        )
    else:
        print(f"prepare: reusing {store}")
    secs, rss, out = run_child(COORD, str(store))
    c = json.loads(out)
    print(
        f"chorus coord: {secs:.1f} s wall (stage {c['seconds']:.1f} s, of which the null "
        f"model {c['null_seconds']:.1f} s), peak RSS {rss:,.0f} MiB; {c['n_objects']:,} objects, "
        f"{c['n_sources']:,} sources, window {c['window_hours']} h, {c['n_edges']:,} edges, "
        f"{c['n_significant']:,} significant, {c['n_communities']:,} communities"
    )
    import chorus

    with chorus.open_store(store, read_only=True) as opened:
        rows = opened.con.execute(
            "SELECT source_a, source_b FROM source_edges WHERE q_value <= 0.05"
        ).fetchall()
        wire = sorted(planted.wire_docs)
        wire_edges = opened.con.execute(
            """SELECT count(*) FROM (
                   SELECT source_a, source_b FROM edge_evidence GROUP BY 1, 2
                   HAVING bool_and(list_contains(?, doc_a) AND list_contains(?, doc_b)))""",
            [wire, wire],
        ).fetchall()[0][0]
    found = {(min(a, b), max(a, b)) for a, b in rows}
    started = time.perf_counter()
    anchor = anchor_pairs(docs)
    anchor_secs = time.perf_counter() - started
    print(f"{'method':44} {'seconds':>8} {'P':>6} {'R':>6} {'F1':>6} {'organic flagged':>16}")
    p, r, f_chorus, flagged_chorus = score(found, planted)
    print(
        f"{'chorus coord (q <= 0.05)':44} {secs:8.1f} {p:6.3f} {r:6.3f} {f_chorus:6.3f} "
        f"{flagged_chorus:16.1%}"
    )
    p, r, f, flagged = score(anchor, planted)
    print(
        f"{'anchor: same sentence within 6 h':44} {anchor_secs:8.1f} {p:6.3f} {r:6.3f} {f:6.3f} "
        f"{flagged:16.1%}"
    )
    print(
        f"edges made by wire copy alone: {wire_edges}; ratio chorus/anchor time: "
        f"{secs / anchor_secs:.2f}; targets: under 2 min {'met' if secs < 120 else 'NOT met'}, "
        f"F1 >= 0.90 {'met' if f_chorus >= 0.9 else 'NOT met'}, organic flagged < 2% "
        f"{'met' if flagged_chorus < 0.02 else 'NOT met'}, no syndication edge "
        f"{'met' if wire_edges == 0 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
