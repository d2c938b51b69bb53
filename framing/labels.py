"""The label scheme of ANNOTATION.md: three framing labels, in a fixed order."""

from __future__ import annotations

LABELS: tuple[str, ...] = ("russian_position", "western_response", "neutral_report")
"""Label names, in class-index order (the order of the ``ClassLabel`` feature)."""

LABEL2ID: dict[str, int] = {name: i for i, name in enumerate(LABELS)}
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "pl", "ru", "uk", "pt", "nl")
"""The ten languages the bundled corpus covers (ISO 639-1)."""

SOURCES_BUILTIN: tuple[str, ...] = ("seed", "translation", "authored", "authored-v2")
"""Record sources with a fixed meaning; any other value names a public data set."""

SPEAKERS: tuple[str, ...] = ("russian", "western", "none", "both")
"""Who is voiced in a passage, whatever its topic (corpus v2's ``speaker`` field; the auxiliary target)."""
