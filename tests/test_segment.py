"""Passage segmentation and boilerplate removal (ANNOTATION.md, "Unit")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framing.segment import segment, segment_article

from .conftest import FIXTURES

SEEDS = sorted((FIXTURES / "seeds").glob("*.txt"))
CORPUS_SEED = Path(__file__).resolve().parents[1] / "framing" / "corpus" / "seed.jsonl"

# Per seed article: passages kept, and every dropped line with the reason.
EXPECTED = {
    "000": (7, {"Complete News World": "site name",
                "Putin announces talks with the United States on security guarantees": "repeated paragraph",
                "See also\u00a0 Severe storms in many areas Tuesday night": "see-also link"}),
    "001": (18, {"Business News": "site name", "Source link": "end-of-article marker",
                 "Related Articles": "end-of-article marker", "Leave a Reply": "end-of-article marker",
                 "Back to top button": "end-of-article marker"}),
    "002": (21, {"You may also like": "end-of-article marker",
                 "Immediate Access Pro": "link or advertisement after end marker"}),
    "003": (17, {"Home LATEST NEWS Putin considers the American reaction to his security demands \u201cpositive\u201d":
                 "menu and repeated headline",
                 "A quote from Vladimir Putin, President of Russia": "caption",
                 "Vladimir Putin, seated at a desk, near a giant screen.  Hundreds of journalists are seated in front "
                 "of him, but at a safe distance.": "caption",
                 "Journalists, many of whom attend this annual exercise, are kept at a safe distance from the Russian "
                 "president.": "caption",
                 "Photo: Getty Images / Sputnik / AFP / MIKHAIL METZEL": "photo credit",
                 "Previous articleHong Kong: a statue in memory of Tiananmen unbolted": "end-of-article marker",
                 "Next articleNo imminent asteroid threat to Earth, but we prepare for it": "end-of-article marker"}),
    "004": (5, {"by time news": "byline", "You may also like": "end-of-article marker",
                "Leave a Comment": "end-of-article marker"}),
}


def test_five_seed_fixtures_present():
    assert [p.name[:3] for p in SEEDS] == sorted(EXPECTED)


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_seed_articles(path):
    text = path.read_text(encoding="utf-8")
    seg = segment_article(text)
    n, dropped = EXPECTED[path.name[:3]]
    assert len(seg.passages) == n
    got = {d.text: d.reason for d in seg.dropped}
    assert got == dropped
    for p in seg.passages:  # offsets point at the passage in the input
        assert text[p.start:p.end] == p.text
        assert p.text == p.text.strip() and p.text
    assert [p.index for p in seg.passages] == list(range(n))


def test_seed_corpus_is_the_segmentation_of_the_seeds():
    """Every passage of the seeds is in the corpus, verbatim and in order."""
    records = [json.loads(line) for line in CORPUS_SEED.read_text(encoding="utf-8").splitlines()]
    expected = []
    for path in SEEDS:
        key = path.name[:3]
        for p in segment(path.read_text(encoding="utf-8")):
            expected.append((f"seed-{key}", p.index, p.text))
    assert [(r["article_id"], r["para"], r["text"]) for r in records] == expected
    assert all(r["source"] == "seed" and r["lang"] == "en" for r in records)


def test_hard_calls_have_notes():
    records = [json.loads(line) for line in CORPUS_SEED.read_text(encoding="utf-8").splitlines()]
    mixed = [r for r in records if "mixed" in r.get("note", "")]
    assert len(mixed) >= 2
    assert sum(1 for r in records if r.get("note")) >= 30


def test_cyrillic_and_windows_line_ends():
    text = ("Новости мира\r\n\r\nПутин потребовал гарантий безопасности\r\n\r\n"
            "Президент России заявил, что НАТО обмануло Москву.\r\n\r\nЧитайте также: Погода в Москве\r\n\r\n"
            "Фото: ТАСС\r\n")
    seg = segment_article(text)
    assert [p.text for p in seg.passages] == ["Путин потребовал гарантий безопасности",
                                              "Президент России заявил, что НАТО обмануло Москву."]
    reasons = {d.text: d.reason for d in seg.dropped}
    assert reasons["Новости мира"] == "site name"
    assert reasons["Читайте также: Погода в Москве"] == "see-also link"
    assert reasons["Фото: ТАСС"] == "photo credit"
    for p in seg.passages:
        assert text[p.start:p.end] == p.text


def test_latin_diacritics_and_no_blank_lines():
    text = ("Moskau fordert Sicherheitsgarantien\n"
            "Außenministerin Baerbock äußerte sich besorgt über die Truppenbewegungen.\n"
            "Lesen Sie auch: Gaspreise steigen\n"
            "Die Gespräche beginnen am 10. Januar in Genf.\n"
            "Zobacz także: Inne wiadomości\n")
    seg = segment_article(text)
    assert [p.text for p in seg.passages] == [
        "Moskau fordert Sicherheitsgarantien",
        "Außenministerin Baerbock äußerte sich besorgt über die Truppenbewegungen.",
        "Die Gespräche beginnen am 10. Januar in Genf."]
    assert len(seg.dropped) == 2


def test_hard_wrapped_paragraph_is_joined():
    text = "Headline here\n\nThe minister said the talks\nwould continue next week in Vienna.\n\nSecond paragraph."
    ps = segment(text)
    assert [p.text for p in ps] == ["Headline here",
                                    "The minister said the talks would continue next week in Vienna.",
                                    "Second paragraph."]
    assert text[ps[1].start:ps[1].end] == "The minister said the talks\nwould continue next week in Vienna."


def test_empty_and_boilerplate_only_inputs():
    assert segment("") == []
    assert segment(" \n\u00a0\n\ufeff") == []
    assert segment("Source link\n\nLeave a Reply") == []
    with pytest.raises(TypeError, match="str"):
        segment(None)  # type: ignore[arg-type]


def test_body_after_end_marker_survives():
    """A real paragraph after a related-links box is kept; the short link titles are not."""
    text = ("Headline of the day\n\nFirst paragraph of the body.\n\nRelated Articles\n\nSome other story\n\n"
            "The body goes on after the box, with a full sentence.")
    assert [p.text for p in segment(text)] == ["Headline of the day", "First paragraph of the body.",
                                               "The body goes on after the box, with a full sentence."]
