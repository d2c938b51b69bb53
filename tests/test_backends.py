"""Inference backends on a tiny framing model: ONNX / OpenVINO logits match torch fp32, the export
cache, the auto choice and the faithfulness gate, clear errors, and the CLI with --backend onnx."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from framing.backends import BackendError, resolve_name
from framing.backends import export as export_mod
from framing.backends import select
from framing.backends.bench import compare, gate, table
from framing.backends.bench_args import GATE_PASSAGES
from framing.labels import LABELS

LONG = "Moscow insists on security guarantees from NATO and Washington warns of sanctions. " * 6
TEXTS = ["Moscow insists on guarantees.", "Washington warns: troops at the border.", LONG,
         "Reporters note talks in Geneva.", "да, переговоры в Женеве"]
CONTEXTS = ["Headline / the passage before", "", "ctx for a long one", "Geneva talks", "Женева"]


@pytest.fixture(scope="module")
def framing_dir(tmp_path_factory, tiny_model_dir) -> Path:
    """A random framing model with article context and a short window (long passages get windows)."""
    import torch
    from transformers import AutoTokenizer

    from framing.modeling import FramingConfig, FramingForSequenceClassification

    out = tmp_path_factory.mktemp("backends") / "model"
    cfg = FramingConfig.from_encoder(str(tiny_model_dir), num_labels=3, context="previous", context_tokens=8,
                                     max_seq_length=24, text_prefix="query: ",
                                     id2label=dict(enumerate(LABELS)), label2id={x: i for i, x in enumerate(LABELS)})
    torch.manual_seed(3)
    model = FramingForSequenceClassification(cfg).eval()
    with torch.no_grad():  # logits far enough apart that labels are not decided by rounding
        model.classifier.weight.mul_(40.0)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(out)
    return out


def _logits(model_dir: Path, backend: str, contexts=CONTEXTS):
    from framing.inference import load_predictor

    return load_predictor(model_dir, backend=backend).logits(TEXTS, batch_size=2, contexts=contexts)


@pytest.mark.parametrize("backend", ["onnx", "openvino"])  # fp32: must match torch fp32
def test_exported_fp32_logits_match_torch_with_context_and_windows(framing_dir, backend):
    ref, ref_windows = _logits(framing_dir, "torch-fp32")
    got, windows = _logits(framing_dir, backend)
    assert windows == ref_windows and max(windows) > 1  # the long passage was cut into windows
    assert np.abs(got - ref).max() < 1e-4
    plain_ref, _ = _logits(framing_dir, "torch-fp32", contexts=None)
    plain, _ = _logits(framing_dir, backend, contexts=None)
    assert np.abs(plain - plain_ref).max() < 1e-4
    assert np.abs(plain - got).max() > 1e-4  # the context reached the exported graph too


def test_openvino_bf16_is_near_fp32_or_refused_without_native_bf16(framing_dir):
    from framing.backends import BackendError
    from framing.hardware import has_native_bf16

    if not has_native_bf16():
        with pytest.raises(BackendError, match="native bf16"):
            _logits(framing_dir, "openvino-bf16")
        return
    ref, _ = _logits(framing_dir, "torch-fp32")
    got, _ = _logits(framing_dir, "openvino-bf16")
    assert 0 < np.abs(got - ref).max() < 0.5  # bf16 arithmetic: not identical, but near


@pytest.mark.parametrize("backend", ["onnx-int8", "openvino-int8"])
def test_int8_gives_labels_close_to_fp32(framing_dir, backend):
    from framing import predict

    preds = predict(TEXTS, model=framing_dir, backend=backend, context=CONTEXTS)
    assert all(p.label in LABELS and abs(sum(p.scores.values()) - 1) < 1e-6 for p in preds)
    ref, _ = _logits(framing_dir, "torch-fp32")
    got, _ = _logits(framing_dir, backend)
    assert 0 < np.abs(got - ref).max() < 0.5  # quantized: not identical, but near


def test_export_is_cached_reused_and_rebuilt_when_the_weights_change(framing_dir, monkeypatch):
    from framing.inference import Predictor

    _logits(framing_dir, "onnx-int8")  # both exports exist now
    for kind in ("onnx", "onnx-int8"):
        assert export_mod.cached_export(framing_dir, kind) == framing_dir / kind
    assert not [p for p in framing_dir.iterdir() if p.name.endswith((".tmp", ".old"))]

    def boom(*a, **k):
        raise AssertionError("exported again")

    monkeypatch.setattr(export_mod, "export_onnx", boom)
    monkeypatch.setattr("framing.backends.onnx_backend.export_onnx", boom)
    monkeypatch.setattr("framing.backends.onnx_backend.quantize_int8", boom)
    p = Predictor(str(framing_dir), backend="onnx-int8")  # a fresh load: the cached export, no torch model
    assert p.model is None and p.backend == "onnx-int8"
    weights = framing_dir / "model.safetensors"
    st = weights.stat()
    try:
        os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # "retrained": the key changes
        assert export_mod.cached_export(framing_dir, "onnx") is None
        with pytest.raises(AssertionError, match="exported again"):
            Predictor(str(framing_dir), backend="onnx")
    finally:
        os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert export_mod.cached_export(framing_dir, "onnx") == framing_dir / "onnx"  # the old export survived


def test_ensure_export_is_atomic_and_falls_back_to_the_cache_for_read_only_dirs(tmp_path, monkeypatch):
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"x")

    def failing(tmp: Path):
        (tmp / "model.onnx").write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        export_mod.ensure_export(model, "onnx", failing)
    assert sorted(p.name for p in model.iterdir() if not p.name.endswith(".lock")) == ["config.json",
                                                                                      "model.safetensors"]
    monkeypatch.setattr(export_mod, "_writable", lambda folder: False)
    monkeypatch.setenv("FRAMING_CACHE", str(tmp_path / "cache"))
    built = export_mod.ensure_export(model, "onnx", lambda tmp: (tmp / "model.onnx").write_bytes(b"ok"))
    assert built.is_relative_to(tmp_path / "cache" / "exports") and (built / "model.onnx").read_bytes() == b"ok"
    assert built.stat().st_mode & 0o777 == 0o755  # readable like the model, not private like a mkdtemp
    assert export_mod.ensure_export(model, "onnx", failing) == built  # up to date: not built again


def _entry(**rows) -> dict:
    return {"results": {name: {"passages_per_s": rate, "passed": ok} for name, (rate, ok) in rows.items()}}


def test_auto_picks_the_fastest_backend_that_passed_the_gate(framing_dir, tmp_path, monkeypatch):
    from transformers import AutoConfig

    monkeypatch.setenv("FRAMING_CACHE", str(tmp_path))
    cfg = AutoConfig.from_pretrained(framing_dir)
    select.save_measurement(select.machine_key(cfg), _entry(**{"torch-fp32": (50, True), "onnx": (120, True),
                                                               "onnx-int8": (400, False)}))
    c = select.choose(cfg)
    assert c.backend == "onnx" and "measured on this machine" in c.reason  # int8 was faster but failed
    assert select.choose(cfg, installed=lambda n: n != "onnx").backend == "torch-fp32"
    assert resolve_name("auto", "auto", cfg)[0] == "onnx"
    assert resolve_name("auto", "fp32", cfg)[0] == "torch-fp32"  # a forced precision means torch
    select.save_measurement(select.machine_key(cfg), _entry(**{"onnx-int8": (400, False)}))
    assert select.choose(cfg, flags=()).backend == "torch"  # nothing passed: the fallback


def test_auto_without_a_measurement_uses_the_shipped_table_then_torch(framing_dir, tmp_path, monkeypatch):
    from transformers import AutoConfig

    import copy

    monkeypatch.setenv("FRAMING_CACHE", str(tmp_path))
    tiny = AutoConfig.from_pretrained(framing_dir)
    amx = ("amx_bf16", "amx_tile", "avx512f")
    assert select.choose(tiny, flags=amx).backend == "torch"  # rows name the model shape they measured
    cfg = copy.deepcopy(tiny)
    cfg.num_hidden_layers, cfg.hidden_size = 12, 384  # multilingual-e5-small's shape
    assert select.choose(cfg, flags=amx).backend == "torch-bf16"
    none = select.choose(cfg, flags=("avx2",))
    assert none.backend == "torch" and "nothing measured" in none.reason
    zen5 = {"vendor_id": "AuthenticAMD", "cpu family": "26"}
    bf16_flags = ("avx512_bf16", "avx512_vnni", "avx512f")
    assert select.choose(cfg, flags=bf16_flags, cpu=zen5).backend == "openvino-bf16"
    assert select.choose(cfg, flags=bf16_flags, cpu=zen5,
                         installed=lambda n: not n.startswith("openvino")).backend == "torch-bf16"
    # the same flags on another vendor were not measured (bf16 was slower there): the fallback
    other = select.choose(cfg, flags=bf16_flags, cpu={"vendor_id": "GenuineIntel", "cpu family": "6"})
    assert other.backend == "torch"
    assert all(r["backend"] in select.MEASURED for r in select.shipped_classes())


def test_gate_needs_agreement_f1_enough_passages_and_real_data():
    n = GATE_PASSAGES
    gold = [LABELS[i % 3] for i in range(n)]
    sets = {"corpus": {"texts": ["t"] * n, "gold": gold}, "real:dev": {"texts": ["t"] * 100, "gold": gold[:100]}}
    flip = lambda labels, k: [LABELS[(LABELS.index(x) + 1) % 3] if i < k else x for i, x in enumerate(labels)]
    results = {"torch-fp32": {"seconds": 10.0, "peak_rss_mb": 900, "labels": {"corpus": gold, "real:dev": gold[:100]}},
               "onnx": {"seconds": 5.0, "peak_rss_mb": 500, "labels": {"corpus": flip(gold, 4), "real:dev": gold[:100]}},
               "onnx-int8": {"seconds": 2.0, "peak_rss_mb": 300,
                             "labels": {"corpus": flip(gold, 30), "real:dev": gold[:100]}},
               "openvino": {"error": "boom"}}
    compare(results, sets)
    assert results["torch-fp32"]["passed"] and results["onnx"]["passed"]  # 99.7 % agreement
    assert not results["onnx-int8"]["passed"] and "< 99%" in results["onnx-int8"]["why"]
    assert not results["openvino"]["passed"]
    assert results["onnx"]["passages_per_s"] == pytest.approx(n / 5.0)
    small = {"corpus": {"texts": ["t"] * 10, "gold": gold[:10]}, "real:dev": sets["real:dev"]}
    assert "needs" in gate({"agreement": {}, "macro_f1_loss": {}}, small)[1]
    assert "real dev" in gate({"agreement": {}, "macro_f1_loss": {}}, {"corpus": sets["corpus"]})[1]
    report = {"cpu": "test CPU; flags: avx2", "threads": 1, "sets": {"corpus": n, "real:dev": 100}, "results": results}
    text = table(report)
    assert "test CPU" in text and "onnx-int8" in text and "failed: boom" in text


def test_unknown_backend_and_missing_extra_are_clear_errors(framing_dir, monkeypatch):
    import importlib.util

    from framing import predict

    with pytest.raises(BackendError, match="unknown backend 'tensorrt'.*onnx-int8"):
        predict("text", model=framing_dir, backend="tensorrt")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    from framing.inference import Predictor

    with pytest.raises(BackendError, match=r'pip install "framing\[onnx\]"'):
        Predictor(str(framing_dir), backend="onnx")


def test_cli_backend_onnx_end_to_end(framing_dir, tmp_path, capsys):
    from framing.cli import main

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(TEXTS)), encoding="utf-8")
    assert main(["predict", str(src), "--model", str(framing_dir), "--backend", "onnx", "-q"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == list(range(len(TEXTS))) and all(r["pred_label"] in LABELS for r in rows)
    from framing import predict

    assert [r["pred_label"] for r in rows] == [p.label for p in predict(TEXTS, model=framing_dir, backend="torch-fp32")]
    with pytest.raises(SystemExit):  # argparse refuses an unknown backend before anything loads
        main(["predict", str(src), "--model", str(framing_dir), "--backend", "nope"])


def test_framing_bench_measures_in_subprocesses_and_prints_the_table(framing_dir, tmp_path, monkeypatch, capsys):
    from framing.cli import main

    from .conftest import ROOT

    monkeypatch.setenv("FRAMING_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    out = tmp_path / "bench.json"
    rc = main(["bench", "--model", str(framing_dir), "--passages", "12", "--backends", "torch-fp32,onnx",
               "--real-data", str(tmp_path / "absent"), "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "CPU:" in text and "onnx" in text and "backend='auto' here: " in text
    assert "measured on this machine" not in text.split("backend='auto' here: ")[1]  # not from this quick run
    report = json.loads(out.read_text())
    assert report["results"]["onnx"]["agreement"]["corpus"] == 1.0
    assert report["results"]["onnx"]["peak_rss_mb"] > 0 and not report["results"]["onnx"]["passed"]
    assert not (tmp_path / "cache" / "backends.json").exists()  # 12 passages: never cached for auto


def test_bench_worker_runs_the_pipeline_baseline_in_process(framing_dir, tmp_path):
    from framing.backends.bench_worker import main

    texts = TEXTS * 4
    (tmp_path / "in.json").write_text(json.dumps({"corpus": {"texts": texts, "contexts": [""] * len(texts)},
                                                  "_batch_size": 8}), encoding="utf-8")
    assert main(["pipeline", str(framing_dir), str(tmp_path / "in.json"), str(tmp_path / "out.json")]) == 0
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["resolved"] == "pipeline" and out["seconds"] > 0 and out["peak_rss_mb"] > 0
    assert len(out["labels"]["corpus"]) == len(texts) and set(out["labels"]["corpus"]) <= set(LABELS)
