"""The bundled corpus passes its quality checks, and the checks catch what they must."""

from __future__ import annotations

from framing.corpus_check import CheckConfig, check_records, find_near_duplicates, shingles
from framing.data import load_corpus

from .conftest import make_records


def test_bundled_corpus_passes_the_check():
    res = check_records(load_corpus())
    assert res.ok, "\n".join(res.problems[:20])


def test_quoted_runs_are_exempt_and_unquoted_runs_are_not():
    quote = "“we must have guarantees right now and not in ten years”"
    a = {"id": "a", "lang": "en", "article_id": "x", "source": "authored",
         "text": f"Putin said {quote} at the press conference."}
    b = {"id": "b", "lang": "en", "article_id": "y", "source": "authored",
         "text": f"In Moscow the president repeated {quote} to reporters."}
    assert find_near_duplicates([a, b]) == []
    c = {**b, "id": "c", "text": "He repeated that we must have guarantees right now and not in ten years."}
    d = {**b, "id": "d", "text": "Again: we must have guarantees right now and not in ten years, he said."}
    assert [(x["id"], y["id"]) for x, y, _ in find_near_duplicates([c, d])] == [("c", "d")]
    assert shingles("one two three", 9) == set()


def test_check_catches_each_problem():
    recs = make_records(12, langs=("en",), per_article=6)
    cfg = CheckConfig(min_authored_per_language=100, min_total_passages=10, min_authored_articles=1,
                      languages=("en",))
    recs[0] = {**recs[0], "text": recs[1]["text"]}  # exact duplicate
    recs.append({**recs[2], "id": "extra", "article_id": "long", "para": 0})
    recs += [{**recs[3], "id": f"long-{i}", "article_id": "long", "para": i + 1, "text": f"x {i}"}
             for i in range(12)]  # 13 passages in one article
    recs.append({**recs[4], "id": "tr", "lang": "de", "source": "translation", "translated_from": recs[4]["id"],
                 "label": "neutral_report" if recs[4]["label"] != "neutral_report" else "russian_position",
                 "text": "anders"})
    problems = "\n".join(check_records(recs, cfg).problems)
    assert "en: 85 authored passages (minimum 100)" in problems
    assert "near-duplicate" in problems
    assert "article long: 13 passages" in problems
    assert "tr: label" in problems and "differs from its original" in problems


def test_label_share_check():
    recs = [r for r in make_records(30, langs=("en",)) if r["label"] != "neutral_report"][:100]
    recs += [r for r in make_records(30, langs=("en",), seed=1) if r["label"] == "neutral_report"][:10]
    for i, r in enumerate(recs):
        r["id"] = f"r{i}"
    problems = check_records(recs, CheckConfig(languages=("en",)), totals=False).problems
    assert any("label neutral_report is" in p for p in problems)


def test_eval_overlap_check_names_the_passage_but_not_the_text():
    from framing.corpus_check import eval_overlaps

    ev = [{"text": "one two three four five six seven eight nine ten eleven twelve thirteen"}]
    mine = [{"id": "copy", "text": "Intro: one two three four five six seven eight nine ten eleven twelve."},
            {"id": "short", "text": "one two three four five six seven eight nine ten eleven"},
            {"id": "quoted", "text": "He said “one two three four five six seven eight nine ten eleven twelve”."}]
    assert eval_overlaps(mine, ev) == ["copy"]


def test_v2_checks_size_balance_and_speaker_tags():
    recs = make_records(60, langs=("en",), per_article=6)
    for r in recs:
        r["source"], r["speaker"] = "authored-v2", "none"
    recs[0]["speaker"] = ""
    cfg = CheckConfig(languages=("en",), min_v2_per_language=400)
    problems = "\n".join(check_records(recs, cfg, totals=False).problems)
    assert "en: 360 v2 passages (minimum 400)" in problems
    assert f"{recs[0]['id']}: v2 passage without a speaker tag" in problems
    skew = [r for r in recs if r["label"] != "neutral_report"] + [r for r in recs if r["label"] == "neutral_report"][:20]
    problems = "\n".join(check_records(skew, CheckConfig(languages=("en",), min_v2_per_language=10),
                                       totals=False).problems)
    assert "en v2: label neutral_report is" in problems and "allowed 25% to 45%" in problems


def test_stand_off_annotations_agree_with_the_corpus():
    from framing.annotations import load_all

    by_lang = load_all()
    v2 = {r["id"]: r for r in load_corpus() if r["source"] == "authored-v2"}
    rows = {row["id"]: row for rows in by_lang.values() for row in rows}
    assert set(rows) == set(v2)  # every v2 passage has its two (or three) annotations, and nothing else
    for rid, r in v2.items():
        assert (r["label"], r["speaker"]) == (rows[rid]["final_label"], rows[rid]["final_speaker"])
