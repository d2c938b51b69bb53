"""Archive scoring on Ray Data: JSONL/parquet in, one parquet file per partition out, resumable.

>>> from framing.archive import score_archive
>>> score_archive("s3://bucket/passages/", "s3://bucket/labels/", model="outputs/framing-e5-small",
...               num_workers=8)                                          # doctest: +SKIP

``framing predict --engine ray INPUT... --output DIR`` is the same from the
command line. Modules: :mod:`.sources` (input discovery and reading through
pyarrow filesystems), :mod:`.partitions` (the deterministic plan, atomic
partition files), :mod:`.manifest` (what a rerun must match), :mod:`.scoring`
(rows -> labelled table, as ``predict()``/``score_article()``),
:mod:`.ray_engine` (the Ray Data pipeline), :mod:`.cli` (the command's options).
Ray is an optional dependency: ``pip install "framing[ray]"``.
"""

from .job import ArchiveSummary, score_archive
from .options import ArchiveOptions

__all__ = ["ArchiveOptions", "ArchiveSummary", "score_archive"]
