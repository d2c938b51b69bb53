"""framing.explain: occlusion spans, one batched forward pass, and `framing predict --explain`."""

from __future__ import annotations

import csv
import io
import json

import pytest

from framing import explain, predict
from framing.cli import main
from framing.explain import clause_spans, leave_out, occlusion_spans, sentence_spans
from framing.inference import load_predictor
from framing.labels import LABELS

PASSAGE = ("Putin said NATO had deceived Russia by expanding eastwards. The talks will take place in Geneva. "
           "Blinken warned of severe costs. Lavrov called the Western answer a disappointment.")


@pytest.fixture(scope="module")
def model(trained_tiny) -> str:
    return str(trained_tiny[0])


def test_sentences_with_offsets_and_merged_fragments():
    spans = sentence_spans(PASSAGE)
    assert [PASSAGE[s:e] for s, e in spans] == [
        "Putin said NATO had deceived Russia by expanding eastwards.", "The talks will take place in Geneva.",
        "Blinken warned of severe costs.", "Lavrov called the Western answer a disappointment."]
    fr = "M. Lavrov a déclaré que l’OTAN « trompe » la Russie. Les pourparlers auront lieu le 10 janvier."
    assert [fr[s:e] for s, e in sentence_spans(fr, "fr")][0].startswith("M. Lavrov")  # "M." is not a sentence
    ru = "Путин заявил, что НАТО обмануло Россию. Переговоры пройдут в Женеве в январе."
    assert len(sentence_spans(ru)) == 2


def test_one_sentence_passage_is_cut_into_clauses():
    text = "Putin said, however, that NATO had deceived Russia; the West – he added – must now listen to Moscow."
    unit, spans = occlusion_spans(text)
    parts = [text[s:e] for s, e in spans]
    assert unit == "clause" and parts[0] == "Putin said, however," and len(parts) >= 3
    assert clause_spans("Putin spoke") == [(0, 11)]
    assert leave_out(text, *spans[0]) == text[spans[0][1]:].strip()


def test_explain_is_one_forward_pass_and_matches_the_occluded_scores(model):
    predictor = load_predictor(model, None, "fp32")
    calls = []
    handle = predictor.model.register_forward_hook(lambda *a: calls.append(1))
    try:
        e = explain(PASSAGE, model, precision="fp32")
    finally:
        handle.remove()
    assert len(calls) == 1 and e.unit == "sentence" and len(e.spans) == 4
    assert e.label in LABELS and e.label == max(e.scores, key=e.scores.get)
    full = predict(PASSAGE, model, precision="fp32")
    assert e.scores == pytest.approx(full.scores, abs=1e-6)
    for s in e.spans:
        assert PASSAGE[s.start:s.end] == s.text
        without = predict(leave_out(PASSAGE, s.start, s.end), model, precision="fp32").scores[e.label]
        assert s.score_without == pytest.approx(without, abs=1e-6)
        assert s.contribution == pytest.approx(e.scores[e.label] - without, abs=1e-9)
    assert e.top is max(e.spans, key=lambda s: s.contribution)


def test_explain_lists_blanks_and_bad_input(model):
    out = explain([PASSAGE, "  ", "Biden spoke"], model)
    assert [x.empty for x in out] == [False, True, False] and out[1].label is None and out[1].spans == []
    assert out[2].unit == "clause" and len(out[2].spans) == 1  # compared with the empty passage
    with pytest.raises(ValueError, match="empty"):
        explain("   ", model)
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        explain(["ok", 3], model)


def test_cli_predict_explain(capsys, model, tmp_path):
    jl = tmp_path / "p.jsonl"
    jl.write_text(json.dumps({"id": 7, "text": PASSAGE}) + "\n" + json.dumps({"id": 8, "text": ""}) + "\n")
    assert main(["predict", str(jl), "--model", model, "--explain"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    spans = rows[0]["pred_explanation"]["spans"]
    assert len(spans) == 4 and all(PASSAGE[s["start"]:s["end"]] == s["text"] for s in spans)
    assert rows[0]["pred_explanation"]["label"] == rows[0]["pred_label"] and "pred_explanation" not in rows[1]
    assert main(["predict", str(jl), "--model", model, "--explain", "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert json.loads(table[0]["pred_explanation"])["spans"] == spans  # nested values are JSON text in CSV
    assert main(["predict", str(jl), "--model", model, "--level", "article"]) == 0
    assert "explanation" not in capsys.readouterr().out


def test_cli_txt_passages_get_the_article_context(capsys, model, tmp_path, monkeypatch):
    from framing.context import contexts_in_order
    from framing.inference import Predictor

    seen, real = [], Predictor.probabilities
    monkeypatch.setattr(Predictor, "probabilities",
                        lambda self, texts, batch_size=32, temperature=None, contexts=None:
                        seen.append(contexts) or real(self, texts, batch_size, temperature, contexts))
    txt = tmp_path / "a.txt"
    txt.write_text("Putin demands guarantees\n\nPutin said NATO had lied.\n\nBlinken warned of costs.\n")
    assert main(["predict", str(txt), "--model", model, "--explain"]) == 0
    texts = [json.loads(line)["pred_text"] for line in capsys.readouterr().out.splitlines()]
    want = contexts_in_order(texts)
    assert seen[0] == want and set(seen[1]) == set(want)
