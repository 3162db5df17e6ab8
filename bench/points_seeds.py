"""The seed corpus against its sentence-level key (``tests/seedkey.py``, from EXPECTED.md):
each restated item must come out as one point holding at least 80% of its key sentences and
spanning every listed document; no point may mix two items; at most 3 points may hold no key
sentence; the tagline must be a shared phrase of 001, 003 and 004.

    python bench/points_seeds.py

Also printed, for the design question behind the failures: how well the similarity chorus
clusters on separates the key's sentence pairs that state one item from pairs that state
different items (the AUC: the chance that a same-item pair scores above a different-item
pair; 1 separates perfectly, 0.5 not at all), for the raw all-MiniLM-L6-v2 cosine, the
corpus-centred cosine, and centred plus the lexical score.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).parent))
from _common import machine
from seedkey import TAGLINE_DOCS, check_seed_points, key_items

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "seeds" / "seeds.jsonl"


def main() -> None:
    import chorus
    from chorus.ingest import NoLanguageDetector
    from chorus.phrases import find_phrases
    from chorus.points import find_points, load_embedder
    from chorus.points.neighbours import centre, lexical_matrix
    from chorus.points.text import claim_text, mask_names, shared_names
    from chorus.reuse import find_reuse

    print("# points seeds: the five seed articles against their sentence-level key")
    print(f"# machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp, chorus.open_store(Path(tmp) / "s.duckdb") as store:
        chorus.ingest_paths(store, [SEEDS], language_detector=NoLanguageDetector())
        find_reuse(store)
        summary = find_points(store)
        find_phrases(store)
        points: dict[str, set[tuple[str, int]]] = {}
        for point_id, doc_id, sent_no in store.con.sql(
            "SELECT point_id, doc_id, sent_no FROM mentions"
        ).fetchall():
            points.setdefault(point_id, set()).add((doc_id[:3], sent_no))
        check = check_seed_points(points)
        print(f"{summary.n_points} points, {summary.n_mentions} mentions")
        print(f"{'item':5} {'coverage':>8} {'spans':>6}  verdict")
        for item in check.items:
            verdict = "met" if item.ok else "NOT met"
            print(f"{item.item:5} {item.coverage:8.2f} {item.spans!s:>6}  {verdict}")
        print(f"points mixing two items: {len(check.mixed)} (target 0)")
        print(f"points holding no key sentence: {len(check.unkeyed)} (target <= 3)")
        tagline = {
            doc[:3]
            for (doc,) in store.con.sql(
                "SELECT o.doc_id FROM phrase_occurrences o JOIN phrases p USING (phrase_id) "
                "WHERE trim(lower(regexp_replace(p.phrase, '[^A-Za-z]+', ' ', 'g'))) "
                "= 'pmoi mek iran'"
            ).fetchall()
        }
        print(
            f"tagline (PMOI / MEK Iran) as a shared phrase in {sorted(tagline)}: "
            f"{'met' if tagline == TAGLINE_DOCS else 'NOT met'}"
        )
        met = sum(i.ok for i in check.items)
        whole = "met" if check.ok else "NOT met"
        print(f"items met: {met} of {len(check.items)}; whole key: {whole}")

        rows = store.con.sql(
            "SELECT doc_id, sent_no, text FROM sentences ORDER BY doc_id, sent_no"
        ).fetchall()
    by_doc: dict[str, list[str]] = {}
    for doc, _, text in rows:
        by_doc.setdefault(doc, []).append(text)
    names = shared_names(by_doc.values())
    items = key_items()
    texts = [mask_names(claim_text(t), names) for _, _, t in rows]
    keyed = [i for i, (d, s, _) in enumerate(rows) if (d[:3], s) in items]
    vectors = load_embedder("minilm").embed(texts)
    centred = centre(vectors)
    lexical = lexical_matrix([texts[i] for i in keyed])
    raw = vectors[keyed] @ vectors[keyed].T
    cen = centred[keyed] @ centred[keyed].T
    lex = cen + (lexical @ lexical.T).toarray()
    print("separability of same-item from different-item pairs (pairs across documents):")
    for name, sims in (("MiniLM cosine", raw), ("centred", cen), ("centred + lexical", lex)):
        same, other = [], []
        for a, b in itertools.combinations(range(len(keyed)), 2):
            (da, sa, _), (db, sb, _) = rows[keyed[a]], rows[keyed[b]]
            if da == db:
                continue
            (same if items[(da[:3], sa)] & items[(db[:3], sb)] else other).append(sims[a, b])
        s, o = np.asarray(same), np.asarray(other)
        auc = float((s[:, None] > o[None, :]).mean())
        print(
            f"  {name:18} AUC {auc:.3f}; same-item median {np.median(s):.2f}, "
            f"different-item 90th percentile {np.percentile(o, 90):.2f}"
        )


if __name__ == "__main__":
    main()
