"""Split a raw news article into passages and drop boilerplate (ANNOTATION.md, "Unit").

A passage is one paragraph of the body, or the headline. The segmenter works on
plain text from any source (scraped pages, machine translations, OCR): blank
lines separate blocks, and inside a block each line is a paragraph unless it is
the hard-wrapped continuation of the previous line. Boilerplate (site names and
menus, bylines, "See also ...", "Source link", "Leave a Reply", photo credits and
captions, "Previous article ...", advertisements after an end-of-article marker,
a repeated headline) is dropped and reported with the reason.

Every passage keeps its character offsets into the input string, so that
``text[p.start:p.end]`` is the passage's source span (for hard-wrapped paragraphs
the span covers the line breaks that ``p.text`` replaces by spaces).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from .blank import blank_prefix_len, blank_suffix_len

_TERMINAL = tuple('.!?…:;"”»)’\'。')

_END_MARKERS = re.compile(
    r"^(source link|source|sources|related articles?|related posts?|related stories|related|"
    r"leave a (reply|comment)|you may also like|you might also like|back to top( button)?|"
    r"share this( article| story)?|more from .{1,40}|recommended( for you)?|comments?|"
    r"weitere artikel|das könnte sie auch interessieren|kommentare|"
    r"vous aimerez aussi|articles similaires|laisser un commentaire|"
    r"te puede interesar|artículos relacionados|noticias relacionadas|deja un comentario|"
    r"articoli correlati|lascia un commento|potrebbe interessarti anche|"
    r"podobne artykuły|zostaw komentarz|"
    r"похожие статьи|оставить комментарий|похожие новости|"
    r"схожі статті|залишити коментар|"
    r"artigos relacionados|deixe um comentário|notícias relacionadas|"
    r"gerelateerde artikelen|laat een reactie achter)\s*[:.]?$",
    re.IGNORECASE,
)
_PREV_NEXT = re.compile(
    r"^(previous|next) (article|post)|^(article|artikel) (précédent|suivant|vorheriger|nächster)",
    re.IGNORECASE,
)
_SEE_ALSO = re.compile(
    r"^(see also|read also|also read|read more|more on this|lesen sie auch|mehr zum thema|siehe auch|"
    r"voir aussi|lire aussi|à lire aussi|ver también|lea también|leer también|lee también|"
    r"leggi anche|vedi anche|zobacz też|zobacz także|czytaj też|czytaj także|"
    r"читайте также|смотрите также|см\. также|читайте також|дивіться також|"
    r"veja também|leia também|leia mais|lees ook|zie ook|lees meer)\b",
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"^(photo|photos|foto|fotos|фото|світлина|zdjęcie|image|bild|picture|credit|crédit|crédito|"
    r"credito|photo credit|crédit photo)s?\b\s*(:|©|/|-|–)|^©|getty images",
    re.IGNORECASE,
)
_CAPTION_MARKER = re.compile(
    r"^(a quote from|une citation de|citation de|ein zitat von|una cita de|una citazione di|"
    r"uma citação de|cytat z|цитата)\b",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(by|von|par|por|di|door|przez|autor|author|автор|від|от)\b[:\s]", re.IGNORECASE)
_AD = re.compile(r"^(advertisement|anzeige|publicité|publicidad|pubblicità|reklama|реклама|publicidade|advertentie)$",
                 re.IGNORECASE)

MAX_SITE_NAME_WORDS = 4
MAX_BYLINE_WORDS = 6
MAX_BREADCRUMB_WORDS = 5
MAX_HEADLINE_WORDS = 30
MAX_CAPTION_WORDS = 50
MAX_TRAILER_WORDS = 12


@dataclass(frozen=True)
class Passage:
    """A kept passage: its text, its span ``[start, end)`` in the input, and its index."""

    text: str
    start: int
    end: int
    index: int


@dataclass(frozen=True)
class Dropped:
    """A boilerplate paragraph and why it was dropped."""

    text: str
    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class Segmentation:
    passages: list[Passage]
    dropped: list[Dropped]


@dataclass
class _Para:
    text: str
    start: int
    end: int
    block: int
    first_in_block: bool
    drop: str | None = None


def _words(s: str) -> int:
    return len(s.split())


def _ends_sentence(s: str) -> bool:
    return s.rstrip().endswith(_TERMINAL)


def _headline_like(s: str) -> bool:
    return 0 < _words(s) <= MAX_HEADLINE_WORDS and not s.rstrip().endswith((".", "!", "?", "…"))


def _lines(text: str) -> list[tuple[int, int]]:
    """Spans of the lines of ``text`` without their line ends (\\n, \\r\\n or \\r)."""
    spans, pos = [], 0
    for m in re.finditer(r"\r\n|\r|\n", text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return spans


def _paragraphs(text: str) -> list[_Para]:
    """Group lines into blocks (blank lines between) and blocks into paragraphs."""
    paras: list[_Para] = []
    block, prev_blank = -1, True
    for start, end in _lines(text):
        raw = text[start:end]
        lead = blank_prefix_len(raw)
        if lead == len(raw):  # blank: whitespace, zero-width or control characters only
            prev_blank = True
            continue
        trail = blank_suffix_len(raw)
        line = raw[lead:len(raw) - trail]
        s, e = start + lead, end - trail
        if prev_blank:
            block += 1
            paras.append(_Para(line, s, e, block, True))
        elif not _ends_sentence(paras[-1].text) and line[:1].islower():
            last = paras[-1]  # a hard-wrapped continuation of the previous line
            last.text, last.end = f"{last.text} {line}", e
        else:
            paras.append(_Para(line, s, e, block, False))
        prev_blank = False
    return paras


def _norm(s: str) -> str:
    return " ".join(s.split()).casefold()


def _mark(paras: list[_Para]) -> None:
    """Set ``drop`` on every boilerplate paragraph."""
    trailer = False
    for i, p in enumerate(paras):
        t = p.text
        if _END_MARKERS.match(t) or (_PREV_NEXT.match(t) and _words(t) <= MAX_HEADLINE_WORDS):
            p.drop, trailer = "end-of-article marker", True
        elif trailer and _words(t) <= MAX_TRAILER_WORDS and not _ends_sentence(t):
            p.drop = "link or advertisement after end marker"
        elif _SEE_ALSO.match(t):
            p.drop = "see-also link"
        elif _CREDIT.search(t) and _words(t) <= MAX_CAPTION_WORDS:
            p.drop = "photo credit"
        elif _CAPTION_MARKER.match(t):
            p.drop = "caption"
        elif _AD.match(t):
            p.drop = "advertisement"
        elif _BYLINE.match(t) and _words(t) <= MAX_BYLINE_WORDS and not _ends_sentence(t):
            p.drop = "byline"
        else:
            trailer = False
    for i, p in enumerate(paras):
        prev = paras[i - 1] if i else None
        nxt = paras[i + 1] if i + 1 < len(paras) else None
        # Lines glued below a caption marker in the same block describe the picture.
        if p.drop is None and prev is not None and prev.block == p.block and prev.drop == "caption":
            p.drop = "caption"
        # The paragraph right above a photo credit is its caption.
        if (p.drop is None and i > 0 and nxt is not None and nxt.drop == "photo credit"
                and _words(p.text) <= MAX_CAPTION_WORDS):
            p.drop = "caption"
    kept = [p for p in paras if p.drop is None]
    # Site or section name above the headline ("Business News", "Complete News World").
    if len(kept) >= 2:
        first, second = kept[0], kept[1]
        if (_words(first.text) <= MAX_SITE_NAME_WORDS and _headline_like(first.text)
                and _headline_like(second.text)):
            first.drop = "site name"
    # A menu or breadcrumb glued to a headline that the next paragraph repeats.
    kept = [p for p in paras if p.drop is None]
    for p, q in zip(kept, kept[1:]):
        a, b = _norm(p.text), _norm(q.text)
        if a != b and a.endswith(b) and _headline_like(q.text) and _words(a[: len(a) - len(b)]) <= MAX_BREADCRUMB_WORDS:
            p.drop = "menu and repeated headline"
    seen: set[str] = set()
    for p in paras:
        if p.drop is None:
            key = _norm(p.text)
            if key in seen:
                p.drop = "repeated paragraph"
            seen.add(key)


def segment_article(text: str) -> Segmentation:
    """Split ``text`` into passages and dropped boilerplate, both with offsets."""
    if not isinstance(text, str):
        raise TypeError(f"segment_article() takes str, not {type(text).__name__}")
    paras = _paragraphs(text)
    _mark(paras)
    passages, dropped = [], []
    for p in paras:
        if p.drop is None:
            passages.append(Passage(p.text, p.start, p.end, len(passages)))
        else:
            dropped.append(Dropped(p.text, p.start, p.end, p.drop))
    return Segmentation(passages, dropped)


def segment(text: str) -> list[Passage]:
    """The passages of an article (headline first), boilerplate removed."""
    return segment_article(text).passages


def main(argv: list[str] | None = None) -> int:
    """``python -m framing.segment FILE...``: print passages (and with -v the dropped lines)."""
    ap = argparse.ArgumentParser(prog="python -m framing.segment", description=main.__doc__)
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("-v", "--verbose", action="store_true", help="also list dropped boilerplate")
    ap.add_argument("--json", action="store_true", help="one JSON object per passage")
    args = ap.parse_args(argv)
    for path in args.files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            return 2
        seg = segment_article(text)
        for p in seg.passages:
            if args.json:
                print(json.dumps({"file": str(path), **asdict(p)}, ensure_ascii=False))
            else:
                print(f"{path.name}\t{p.index}\t{p.text}")
        if args.verbose:
            for d in seg.dropped:
                print(f"{path.name}\tDROP\t{d.reason}\t{d.text}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
