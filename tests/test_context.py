"""Article context, the passage/context token layout, the auxiliary speaker head and the v2 validation split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from framing.context import article_contexts, contexts_in_order, pair_ids
from framing.data import SplitConfig, grouped_split
from framing.evaluation import bootstrap_macro_f1, classification_metrics
from framing.features import IGNORE_INDEX, Collator, speaker_ids
from framing.labels import SPEAKERS

from .conftest import make_records


def test_contexts_in_order_are_headline_and_previous_passage():
    texts = ["Headline", "First body", "Second body", "Third body"]
    assert contexts_in_order(texts) == ["", "Headline", "Headline / First body", "Headline / Second body"]


def test_article_contexts_match_score_article_order_and_ignore_other_articles():
    recs = [{"article_id": "a", "lang": "en", "para": p, "text": f"a{p}"} for p in (2, 0, 1)]
    recs += [{"article_id": "a", "lang": "de", "para": 0, "text": "de0"},
             {"article_id": "a", "lang": "de", "para": 1, "text": "de1"},
             {"article_id": "b", "lang": "en", "para": 1, "text": "b1"}]
    got = article_contexts(recs)
    assert got[:3] == ["a0 / a1", "", "a0"]  # same as contexts_in_order(["a0", "a1", "a2"]) by para
    assert got[3:] == ["", "de0", ""]  # a translation has its own context; b's lowest para is its headline
    assert contexts_in_order(["a0", "a1", "a2"]) == ["", "a0", "a0 / a1"]


def test_pair_ids_pools_the_passage_only_and_caps_the_context():
    ids, pool = pair_ids([5, 6, 7], [8, 9, 10, 11], max_len=12, context_tokens=2, cls_id=0, sep_id=2)
    assert ids == [0, 5, 6, 7, 2, 2, 8, 9, 2]
    assert pool == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0][:len(ids)]
    ids, pool = pair_ids([5] * 20, [8, 9], max_len=12, context_tokens=8, cls_id=0, sep_id=2)
    assert len(ids) == 12 and sum(pool) == 12  # no room left: the context is dropped, never the passage
    ids, pool = pair_ids([5, 6], None, max_len=12, context_tokens=8, cls_id=0, sep_id=2)
    assert ids == [0, 5, 6, 2] and pool == [1, 1, 1, 1]


def test_speaker_ids_and_collator_padding():
    recs = [{"speaker": "western"}, {"speaker": ""}, {}, {"speaker": "both"}]
    assert speaker_ids(recs) == [SPEAKERS.index("western"), IGNORE_INDEX, IGNORE_INDEX, SPEAKERS.index("both")]
    batch = Collator(pad_id=1, pad_to_multiple_of=4)([
        {"input_ids": [0, 5, 2], "attention_mask": [1, 1, 1], "pool_mask": [1, 1, 1], "labels": 0,
         "speaker_labels": -100},
        {"input_ids": [0, 5, 6, 2, 2, 9], "attention_mask": [1] * 6, "pool_mask": [1, 1, 1, 1, 0, 0], "labels": 2,
         "speaker_labels": 1}])
    assert batch["input_ids"].shape == (2, 8)
    assert batch["input_ids"][0].tolist() == [0, 5, 2, 1, 1, 1, 1, 1]
    assert batch["pool_mask"][1].tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    assert batch["speaker_labels"].tolist() == [-100, 1]


def test_pool_mask_changes_the_pooled_vector_only_through_attention(tiny_model_dir):
    from framing.modeling import FramingConfig, FramingForSequenceClassification

    cfg = FramingConfig.from_encoder(str(tiny_model_dir), num_labels=3, speaker_labels=list(SPEAKERS))
    model = FramingForSequenceClassification(cfg).eval()
    ids = torch.tensor([[0, 50, 60, 2, 2, 70, 80, 2]])
    full = torch.ones_like(ids)
    passage = torch.tensor([[1, 1, 1, 1, 0, 0, 0, 0]])
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=full, pool_mask=passage)
        alone = model(input_ids=ids[:, :4], attention_mask=full[:, :4])
        ctx_pooled = model.pool(ids, full, None, passage)
        all_pooled = model.pool(ids, full)
    assert out.speaker_logits.shape == (1, len(SPEAKERS)) and out.logits.shape == (1, 3)
    assert not torch.allclose(ctx_pooled, all_pooled)  # pooling skips the context tokens
    assert not torch.allclose(out.logits, alone.logits)  # ...but attention saw them


def test_validation_source_split_draws_validation_from_that_source_only():
    recs = make_records(n_articles=40)
    for r in recs:
        if int(r["article_id"].split("-")[-1]) % 2:
            r["source"] = "authored-v2"
    s = grouped_split(recs, SplitConfig(folds=5, validation_source="authored-v2"))
    assert s["validation"] and all(r["source"] == "authored-v2" for r in s["validation"])
    ids = [r["id"] for part in s.values() for r in part]
    assert sorted(ids) == sorted(r["id"] for r in recs)  # nothing lost or duplicated
    arts = [{r["article_id"] for r in part} for part in s.values()]
    assert all(not (a & b) for i, a in enumerate(arts) for b in arts[i + 1:])  # never cuts an article
    with pytest.raises(ValueError, match="no records of source"):
        grouped_split(recs, SplitConfig(folds=5, validation_source="nope"))


def test_bootstrap_interval_brackets_the_point_estimate_and_narrows_with_n():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 400)
    pred = np.where(rng.random(400) < 0.8, y, rng.integers(0, 3, 400))
    point = classification_metrics(y, pred)["macro_f1"]
    lo, hi = bootstrap_macro_f1(y, pred)
    lo_s, hi_s = bootstrap_macro_f1(y[:50], pred[:50])
    assert lo < point < hi
    assert (hi - lo) < (hi_s - lo_s)
    assert bootstrap_macro_f1(y, y) == (1.0, 1.0)


def test_context_and_speaker_head_train_save_and_predict_end_to_end(tmp_path, tiny_model_dir):
    """A tiny run with both options: the saved config carries them, and predict() uses the context."""
    import json

    from framing import predict, score_article
    from framing.inference import load_predictor
    from framing.trainer import run_training

    from .conftest import tiny_config, write_jsonl

    recs = make_records(n_articles=20)
    for i, r in enumerate(recs):
        r["source"] = "authored-v2" if int(r["article_id"][-3:]) % 2 else "authored"
        if r["source"] == "authored-v2":
            r["speaker"] = SPEAKERS[i % len(SPEAKERS)]
    corpus = write_jsonl(tmp_path / "c.jsonl", recs)
    out = tmp_path / "model"
    cfg = tiny_config(tiny_model_dir, corpus, out, "context=previous", "context_tokens=16",
                      "training.speaker_loss_weight=0.5", "split.validation_source=authored-v2",
                      "evaluation.baselines=false")
    metrics = run_training(cfg)
    saved = json.loads((out / "config.json").read_text())
    assert saved["context"] == "previous" and saved["context_tokens"] == 16
    assert saved["speaker_labels"] == list(SPEAKERS)
    assert metrics["training"]["validation_passages"] > 0
    pred = load_predictor(out)
    assert pred.context == "previous"
    text = "Moscow insists on guarantees"
    alone = predict(text, model=out)
    with_ctx = predict(text, model=out, context="Washington warns: a headline / and a previous passage")
    assert alone.scores != with_ctx.scores  # the context reaches the model
    assert predict([text], model=out, context=[""])[0].scores == pytest.approx(alone.scores, abs=1e-6)
    with pytest.raises(TypeError, match="one per passage"):
        predict([text, text], model=out, context=["only one"])
    art = score_article("Headline here\n\nMoscow insists on guarantees.\n\nWashington warns of costs.", model=out)
    assert len(art.passages) == 3 and art.dominant_frame is not None
