"""The Hugging Face model card of a trained model, generated from its real metrics.

``write_model_card`` fills ``framing/templates/model_card.md`` through
``huggingface_hub.ModelCard.from_template`` with ``ModelCardData`` (language list,
licence, library, pipeline tag, base model, datasets, metrics, and a
``model-index`` with one entry per evaluation set and metric).
"""

from __future__ import annotations

from pathlib import Path

from .io_utils import atomic_write_text
from .labels import LABELS
from .training_args import TrainConfig

TEMPLATE = Path(__file__).with_name("templates") / "model_card.md"
DATASET_ID = "framing-corpus"


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def eval_tables(results: dict) -> str:
    rows = []
    for name, s in results["sets"].items():
        for pname, m in [("model", s["model"]), *s.get("baselines", {}).items()]:
            ci = m.get("macro_f1_ci")
            rows.append([f"`{name}`" if pname == "model" else "", pname, str(m["n"]), _f(m["accuracy"]),
                         _f(m["macro_f1"]), f"{ci[0]:.3f}–{ci[1]:.3f}" if ci else "–"])
    table = _md_table(["set", "predictor", "passages", "accuracy", "macro-F1", "95 % CI (bootstrap)"], rows)
    desc = "\n".join(f"- `{name}`: {s['description']}" for name, s in results["sets"].items())
    return f"{desc}\n\n{table}"


def language_table(results: dict) -> str:
    sets = [(n, s) for n, s in results["sets"].items() if len(s["model"]["per_language"]) > 1]
    langs = sorted({lang for _, s in sets for lang in s["model"]["per_language"]})
    rows = []
    for lang in langs:
        row = [lang]
        for _, s in sets:
            m = s["model"]["per_language"].get(lang)
            row.append(f"{m['macro_f1']:.2f} ({m['n']})" if m else "–")
        rows.append(row)
    return _md_table(["language", *(f"`{n}`" for n, _ in sets)], rows) + "\n\nCells: macro-F1 (passages)."


def class_table(results: dict) -> str:
    rows = []
    for name, s in results["sets"].items():
        for lab in LABELS:
            c = s["model"]["per_class"][lab]
            rows.append([f"`{name}`", lab, _f(c["precision"]), _f(c["recall"]), _f(c["f1"]), str(c["support"])])
    return _md_table(["set", "label", "precision", "recall", "F1", "support"], rows)


def calibration_table(results: dict) -> str:
    rows = [[f"`{n}`", _f(s["model"].get("ece_uncalibrated")), _f(s["model"]["ece"])]
            for n, s in results["sets"].items()]
    return _md_table(["set", "ECE (T = 1)", "ECE (calibrated)"], rows)


def parallel_text(training: dict) -> str:
    """How the batch was split: "" for one process, else e.g. " (global: 2 data-parallel processes x 8)"."""
    world = training.get("world_size", 1)  # metrics of runs before data-parallel training have none
    if world <= 1:
        return ""
    return f" (global: {world} data-parallel processes x {training['per_process_batch_size']})"


def card_data(results: dict, cfg: TrainConfig):
    """``ModelCardData`` with the model-index built from every evaluation set."""
    from huggingface_hub import EvalResult, ModelCardData

    langs = results["training"]["corpus"]["languages"]
    evals = []
    for name, s in results["sets"].items():
        for metric, key, label in (("accuracy", "accuracy", "Accuracy"), ("f1", "macro_f1", "Macro-F1")):
            evals.append(EvalResult(task_type="text-classification", task_name="Framing classification",
                                    dataset_type="real-news" if name.startswith("real:") else DATASET_ID, dataset_name=f"{name}: {s['description']}",
                                    dataset_split=name, metric_type=metric, metric_name=label,
                                    metric_value=round(s["model"][key], 4),
                                    metric_config="macro" if metric == "f1" else None))
    return ModelCardData(language=langs, license=cfg.card.license, library_name="transformers",
                         pipeline_tag="text-classification", base_model=cfg.base_model, datasets=[DATASET_ID],
                         metrics=["accuracy", "f1"], tags=["framing", "news", "multilingual", "russia", "nato"],
                         model_name=cfg.card.model_name, eval_results=evals)


def render_model_card(results: dict, cfg: TrainConfig):
    """The ``huggingface_hub.ModelCard`` of a training run."""
    from huggingface_hub import ModelCard

    t, tr = cfg.training, results["training"]
    real_n = sum(s["model"]["n"] for n, s in results["sets"].items() if n.startswith("real:"))
    corpus = tr["corpus"]
    cal = results["calibration"]
    enc = tr["encoder"]
    hub_like = cfg.base_model.count("/") == 1 and not cfg.base_model.startswith((".", "/", "~"))
    link = f"[`{cfg.base_model}`](https://huggingface.co/{cfg.base_model})" if hub_like else f"`{cfg.base_model}`"
    parts = "training, evaluation and baselines"
    if "seed_holdout_run" in results:
        parts = "the seed hold-out model, " + parts
    return ModelCard.from_template(
        card_data(results, cfg), template_path=str(TEMPLATE),
        model_name=cfg.card.model_name, base_model=cfg.base_model, base_model_link=link,
        n_layers=enc["layers"], hidden_size=enc["hidden_size"], vocab_size=enc["vocab_size"],
        n_params=enc["parameters"], hardware=tr["hardware"], run_parts=parts,
        context_text=("the headline and the previous passage as a second segment (at most "
                      f"{cfg.context_tokens} tokens), pooled over the passage's own tokens only"
                      if cfg.context != "none" else "none (each passage is scored on its own)"),
        speaker_text=(f"a second head predicts who is voiced (russian / western / both / none; loss weight "
                      f"{t.speaker_loss_weight}), trained beside the label, unused at inference"
                      if t.speaker_loss_weight > 0 else "none"),
        pooling_text="mean pooling over the tokens" if cfg.pooling == "mean"
        else "the first token through a dense+tanh pooler",
        text_prefix=cfg.text_prefix, max_length=t.max_length, temperature=cal["temperature"],
        nll_before=cal["validation_nll_before"], nll_after=cal["validation_nll_after"],
        model_ref=cfg.card.repo_id or cfg.output_dir, corpus_total=corpus["passages"],
        n_languages=len(corpus["languages"]), n_seed=corpus["by_source"].get("seed", 0), split_summary=tr["split_summary"], train_passages=tr["train_passages"],
        epochs_run=tr["epochs_run"], batch_size=t.batch_size, parallel_text=parallel_text(tr),
        gpu_used="GPU" in tr["hardware"],  # "a GPU (...)", "8 GPUs (...)" (see trainer.hardware_description)
        learning_rate=t.learning_rate,
        head_learning_rate=t.head_learning_rate, warmup_ratio=t.warmup_ratio, weight_decay=t.weight_decay,
        class_weighting=t.class_weighting, freeze_word_embeddings=t.freeze_word_embeddings,
        precision=tr["precision"], best_val=_f(tr["best_validation_macro_f1"]),
        eval_tables=eval_tables(results), language_table=language_table(results),
        class_table=class_table(results), calibration_table=calibration_table(results), real_n=real_n,
        train_minutes=tr["train_seconds"] / 60, wall_minutes=tr["wall_seconds"] / 60, license=cfg.card.license,
        seed_variation=results.get("ablation", {}).get("markdown", ""),
        seed_variation_command=results.get("ablation", {}).get("command", ""))


def write_model_card(path: str | Path, results: dict, cfg: TrainConfig) -> None:
    """Render the card and write it atomically to ``path`` (a model directory's README.md)."""
    atomic_write_text(path, str(render_model_card(results, cfg)))
