"""The options of an archive run: which columns hold what, how inputs are cut, and how they are scored.

A column given as ``None`` is looked up under its usual name (``id``,
``article_id``, ``para``, ``lang``) and used when the file has it; a column
named explicitly must be there (an error names the file otherwise). The text
column is always required.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..backends.base import check_name
from ..errors import UsageError

LEVELS = ("passage", "article")
DEFAULT_PARTITION_ROWS = 10_000  # input rows per output file: a rerun redoes at most this many per worker
DEFAULT_BATCH_SIZE = 32  # windows per forward pass, as predict()
AUTO_COLUMNS = {"id_column": "id", "article_column": "article_id", "para_column": "para", "lang_column": "lang"}


@dataclass(frozen=True)
class ArchiveOptions:
    """What decides the output (recorded in the manifest: a rerun must use the same)."""

    level: str = "passage"  # "passage": a row is a passage; "article": a row is a whole article, segmented
    text_column: str = "text"
    id_column: str | None = None  # None: "id" when present, else "FILE:LINE" (JSONL) or "FILE:ROW" (parquet)
    article_column: str | None = None  # None: "article_id" when present
    para_column: str | None = None  # None: "para" when present (passage order inside an article)
    lang_column: str | None = None  # None: "lang" when present (a translation is an article of its own)
    partition_rows: int = DEFAULT_PARTITION_ROWS
    keep_text: bool = False  # also write each passage's text
    precision: str = "auto"
    backend: str = "auto"  # see framing.backends; "auto": each worker's fastest faithful one

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise UsageError(f"level must be one of {', '.join(LEVELS)}, got {self.level!r}")
        if self.partition_rows < 1:
            raise UsageError(f"--partition-rows must be at least 1, got {self.partition_rows}")
        if not self.text_column:
            raise UsageError("--text-column must name a column")
        check_name(self.backend)

    def to_dict(self) -> dict:
        return asdict(self)

    def column(self, name: str) -> tuple[str, bool]:
        """``(column name, required)`` of the optional column ``name`` (e.g. ``"id_column"``)."""
        given = getattr(self, name)
        return (given, True) if given else (AUTO_COLUMNS[name], False)
