"""Check the bundled corpus (schema, counts, label shares, near-duplicates, translations); exit 1 on problems.

    python scripts/check_corpus.py [FILES...] [--lang xx] [--no-totals]
"""

from framing.corpus_check import main

if __name__ == "__main__":
    raise SystemExit(main())
