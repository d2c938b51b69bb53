"""One meaning of "blank" for predict(), score_article(), segmentation, the CLI and the corpus reader
(issue 11, case 7)."""

from __future__ import annotations

import json

import pytest

from framing import predict, score_article, segment
from framing.blank import is_blank, strip_blank
from framing.records import CorpusError, read_jsonl

BLANK = ["", "  \n\t", "\u200b", "\u200b\u200c\u200d\u2060\ufeff", " \u00ad ", "\u202e\u200f", "\x00\x07",
         "\u3164", "\u2028\u3000"]
VISIBLE = ["x", "\u200bx", "·", "\ufffd", "🙂", "\u0301"]


def test_is_blank():
    assert all(is_blank(t) for t in BLANK)
    assert not any(is_blank(t) for t in VISIBLE)
    assert strip_blank("\u200b Putin spoke.\u00ad\u2060 ") == "Putin spoke."


@pytest.mark.parametrize("text", [t for t in BLANK if t])
def test_blank_is_the_same_for_every_entry_point(small_trained, capsys, tmp_path, text):
    model = str(small_trained)
    with pytest.raises(ValueError, match="blank"):
        predict(text, model=model)
    assert predict([text, "Putin spoke."], model=model)[0].empty
    with pytest.raises(ValueError, match="blank"):
        score_article(text, model=model)
    assert segment(text) == []
    assert [s.text for s in segment(f"Headline\n\n{text}\n\nBody.")] == ["Headline", "Body."]
    rec = {"id": "a-p00", "article_id": "a", "para": 0, "lang": "en", "text": text, "label": "neutral_report",
           "source": "authored"}
    p = tmp_path / "blank.jsonl"
    p.write_text(json.dumps(rec) + "\n")
    with pytest.raises(CorpusError, match="empty text"):
        read_jsonl(p)

    from framing.cli import main

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": text}) + "\n")
    for level, key in (("passage", "pred_label"), ("article", "pred_dominant_frame")):
        assert main(["predict", str(src), "--model", model, "--level", level, "-q"]) == 0
        row = json.loads(capsys.readouterr().out)
        assert row[key] is None and row["pred_empty"] is True


def test_visible_text_with_invisible_characters_is_labelled(small_trained):
    p = predict("\u200bPutin spoke.\u2060", model=str(small_trained))
    assert p.label is not None and not p.empty
    art = score_article("\ufeffPutin spoke.", model=str(small_trained))
    assert [x.text for x in art.passages] == ["Putin spoke."]
