"""Shared fixtures: synthetic annotated data, the tiny model, and one tiny trained model."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from framing.labels import LABELS

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

_WORDS = {
    "en": "talks treaty guarantees border troops sanctions minister statement Geneva alliance gas winter".split(),
    "de": "Gespräche Vertrag Garantien Grenze Truppen Sanktionen Minister Erklärung Genf Bündnis Gas Winter".split(),
    "ru": "переговоры договор гарантии граница войска санкции министр заявление Женева альянс газ зима".split(),
}
_CUE = {"russian_position": "Moscow insists", "western_response": "Washington warns", "neutral_report": "Reporters note"}


def make_records(n_articles: int = 30, langs: tuple[str, ...] = ("en", "de", "ru"), per_article: int = 6,
                 seed: int = 0, with_seed_articles: bool = False) -> list[dict]:
    """Synthetic annotated passages (test data only): articles of one language each, all labels."""
    rng = random.Random(seed)
    out = []
    for a in range(n_articles):
        lang = langs[a % len(langs)]
        aid = f"au-{lang}-{a:03d}"
        for p in range(per_article):
            label = LABELS[(a + p) % len(LABELS)]
            words = " ".join(rng.choice(_WORDS[lang]) for _ in range(rng.randint(5, 25)))
            out.append({"id": f"{aid}-p{p:02d}", "article_id": aid, "para": p, "lang": lang,
                        "text": f"{_CUE[label]}: {words} ({a}.{p})", "label": label, "source": "authored"})
    if with_seed_articles:
        for a in range(2):
            aid = f"seed-{a:03d}"
            for p in range(5):
                label = LABELS[p % 3]
                base = {"id": f"{aid}-p{p:02d}", "article_id": aid, "para": p, "lang": "en",
                        "text": f"{_CUE[label]} seed {a} {p}", "label": label, "source": "seed"}
                out.append(base)
                out.append({**base, "id": base["id"] + "-de", "lang": "de", "source": "translation",
                            "translated_from": base["id"], "text": f"{_CUE[label]} Saat {a} {p}"})
    return out


def script_env() -> dict:
    """The environment for running scripts/*.py in a subprocess: they import this checkout's framing
    (a script's own folder, not the working directory, starts sys.path)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """The tiny random BERT with E5's tokenizer (built once into the framing cache)."""
    from framing.base_model import build_tiny_model

    return build_tiny_model()


@pytest.fixture(scope="session")
def synthetic_corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("corpus")
    return write_jsonl(d / "synthetic.jsonl", make_records(with_seed_articles=True))


def tiny_config(tiny_model_dir: Path, corpus: Path, out: Path, *extra: str):
    from framing.training_args import load_config

    root = Path(__file__).resolve().parents[1]
    return load_config(root / "configs" / "tiny.yaml", [
        f"base_model={tiny_model_dir}", f"data.files=[{corpus}]", f"output_dir={out}", "split.folds=5",
        f"evaluation.real_data=[{corpus.parent / 'real'}]", *extra])


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory, tiny_model_dir, synthetic_corpus) -> tuple[Path, dict]:
    """One tiny end-to-end training run (seconds): the model directory and its metrics."""
    from framing.trainer import run_training

    real_dir = synthetic_corpus.parent / "real"
    real_dir.mkdir(exist_ok=True)
    recs = make_records(6, seed=7)
    for r in recs:
        r["id"] = "real-" + r["id"]
    write_jsonl(real_dir / "real_synthetic.jsonl", recs)
    out = tmp_path_factory.mktemp("run") / "model"
    cfg = tiny_config(tiny_model_dir, synthetic_corpus, out, "seed_evaluation=separate_run")
    metrics = run_training(cfg)
    return out, metrics


SMALL_WORDS = sorted({w.lower() for ws in _WORDS.values() for w in ws} | {w.lower() for c in _CUE.values()
                                                                          for w in c.split()}
                     | set("query seed saat putin nato said spoke the a of in and".split()))
SMALL_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_small_base_model(target: Path) -> Path:
    """A random 2-layer, 16-wide BERT with a ~100-token WordPiece vocabulary (loads in milliseconds)."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    pieces = [*SMALL_SPECIALS, *SMALL_WORDS, *"abcdefghijklmnopqrstuvwxyz0123456789.,:()"]
    vocab = {w: i for i, w in enumerate(dict.fromkeys(pieces))}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                            sep_token="[SEP]", mask_token="[MASK]").save_pretrained(target)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=128, pad_token_id=0)
    config.architectures = ["BertModel"]
    BertModel(config, add_pooling_layer=False).save_pretrained(target, safe_serialization=True)
    return target


@pytest.fixture(scope="session")
def small_base_model(tmp_path_factory) -> Path:
    """A base encoder small enough that a training run in a subprocess takes seconds."""
    return build_small_base_model(tmp_path_factory.mktemp("small-base") / "model")


def small_config(base: Path, corpus: Path, out: Path, *extra: str):
    """The fastest training config: the small encoder, 2 steps, no baselines, no extra evaluation sets."""
    return tiny_config(base, corpus, out, "seed_evaluation=none", "evaluation.baselines=false",
                       "training.max_steps=2", "training.max_length=32", *extra)


@pytest.fixture(scope="session")
def small_trained(tmp_path_factory, small_base_model, synthetic_corpus) -> Path:
    """A complete framing model directory trained in-process with the small encoder (a few seconds)."""
    from framing.trainer import run_training

    out = tmp_path_factory.mktemp("small-run") / "model"
    run_training(small_config(small_base_model, synthetic_corpus, out, "evaluation.real_data=[]"))
    return out


def interrupted_run(cfg) -> None:
    """A run killed right after its first checkpoint."""
    from transformers import Trainer

    from framing.trainer import run_training

    original = Trainer._save_checkpoint

    def interrupt(self, *a, **k):
        original(self, *a, **k)
        raise KeyboardInterrupt("simulated crash after the first checkpoint")

    Trainer._save_checkpoint = interrupt
    try:
        with pytest.raises(KeyboardInterrupt):
            run_training(cfg)
    finally:
        Trainer._save_checkpoint = original
