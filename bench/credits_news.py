"""Wire credits on the news corpus: which agencies and forms the attribution rule finds, which
reuse clusters it labels syndication, and a sample of each to check by reading.

    python bench/credits_news.py [--store PATH] [--sample 15] [--seed 1]

Runs ingest and the reuse stage over the whole news corpus (37,554 articles; kept at
``--store`` when given), then the credit kernel (:func:`chorus.reuse.credit.find_credits`)
over every document, timed. Anchor in the same run: the rule chorus had before (one regex
that needed a dash after the parenthesised agency and "The" before a closing "Associated
Press"), counting the documents it called wire copy.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import NEWS, machine

_OLD_RULE = re.compile(
    r"\((?:Reuters|AP|AFP|UPI|Bloomberg)\)\s*[-—–]"
    r"|Associated Press (?:contributed|writers?|reporters?)\b"
    r"|[-—–] ?The Associated Press\b"
    r"|Agence France-Presse"
    r"|Reporting by [^\n]{0,200}Editing by"
    r"|(?:©|\(c\)|Copyright) ?\d{4} (?:The Associated Press|Reuters|AFP)",
)
_OLD_SOURCES = re.compile(r"\b(?:Reuters|Associated Press|AP|AFP|UPI)\b", re.IGNORECASE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path)
    parser.add_argument("--sample", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import chorus
    from chorus.ingest import NoLanguageDetector
    from chorus.reuse import find_reuse
    from chorus.reuse.credit import WIRE_FORMS, find_credits

    print("# wire credits on the news corpus")
    print(f"# machine: {machine()}")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.store or Path(tmp) / "news.duckdb"
        fresh = not path.exists()
        with chorus.open_store(path) as store:
            if fresh:
                chorus.ingest_paths(store, [NEWS], language_detector=NoLanguageDetector())
                find_reuse(store)
            docs = store.con.execute("SELECT doc_id, source, text FROM documents").fetchall()
            started = time.perf_counter()
            credits = {doc_id: find_credits(text, source) for doc_id, source, text in docs}
            seconds = time.perf_counter() - started
            chars = sum(len(t) for _, _, t in docs)
            forms = Counter((c.agency, c.form) for cs in credits.values() for c in cs)
            whole = {d for d, cs in credits.items() if any(c.whole for c in cs)}
            wire = {d for d, cs in credits.items() if any(c.form in WIRE_FORMS for c in cs)}
            old = {d for d, s, t in docs if _OLD_SOURCES.search(s) or _OLD_RULE.search(t or "")}
            print(
                f"{len(docs):,} documents, {chars / 1e6:.0f} M characters; credits found in "
                f"{seconds:.1f} s ({chars / 1e6 / seconds:.1f} M chars/s)"
            )
            print(
                f"documents that are an agency's copy (whole credit): {len(whole):,}; that "
                f"credit a wire for all or part: {len(wire):,}; the old rule's wire documents "
                f"(text or source): {len(old):,}"
            )
            print(f"\n{'agency':20} {'form':14} {'credits':>8}")
            for (agency, form), n in sorted(forms.items(), key=lambda kv: (-kv[1], kv[0])):
                print(f"{agency:20} {form:14} {n:8,}")
            kinds = store.con.execute(
                "SELECT kind, count(*) FROM reuse_clusters GROUP BY 1 ORDER BY 1"
            ).fetchall()
            print("\nreuse clusters by kind: " + ", ".join(f"{k} {n:,}" for k, n in kinds))
            text_of = {d: t for d, _, t in docs}
            by_form: dict[str, list[tuple[str, str]]] = {}
            for doc_id, cs in credits.items():
                for c in cs:
                    snippet = text_of[doc_id][max(0, c.start - 40) : c.end + 40]
                    by_form.setdefault(c.form, []).append((doc_id, snippet))
            print(
                f"\n## a sample of credits by form ({args.sample} at most each, seed {args.seed})"
            )
            for form in sorted(by_form):
                rows = sorted(by_form[form])
                for doc_id, snippet in rng.sample(rows, min(len(rows), args.sample // 3 or 1)):
                    flat = " ".join(snippet.split())
                    print(f"{form:13} {doc_id[:24]:24} {flat[:150]}")
            sample = store.con.execute(
                """SELECT cluster_id, n_sources, n_docs, representative FROM reuse_clusters
                   WHERE kind = 'syndication' ORDER BY cluster_id"""
            ).fetchall()
            print(f"\n## {min(args.sample, len(sample))} syndication clusters drawn at random")
            for cluster_id, n_sources, n_docs, text in rng.sample(
                sample, min(args.sample, len(sample))
            ):
                flat = " ".join(text.split())
                print(f"{cluster_id} {n_sources:>3} sources {n_docs:>3} docs  {flat[:120]}")


if __name__ == "__main__":
    main()
