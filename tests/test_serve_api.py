"""The REST API of `framing serve` on the tiny model: every endpoint, every limit, malformed bodies."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="framing serve needs the app extra")  # installed by the dev extra
from fastapi.testclient import TestClient  # noqa: E402

from framing import predict, score_article  # noqa: E402
from framing.cli import main  # noqa: E402
from framing.labels import LABELS  # noqa: E402
from framing.serve.app import create_app  # noqa: E402
from framing.serve.batching import BatchQueue, QueueFull  # noqa: E402
from framing.serve.config import REPO_CONFIG, ServeConfig, load_serve_config  # noqa: E402
from framing.training_args import ConfigError  # noqa: E402

ARTICLE = ("Business News\n\nPutin demands guarantees from NATO\n\nPutin said NATO had deceived Russia. He wants "
           "guarantees.\n\nThe talks will take place in Geneva.\n\nSource link\n")
MAX_TEXTS, MAX_BODY = 8, 4000


@pytest.fixture(scope="module")
def model(trained_tiny) -> str:
    return str(trained_tiny[0])


@pytest.fixture(scope="module")
def client(model):
    cfg = load_serve_config(None, [f"limits.max_texts={MAX_TEXTS}", f"limits.max_body_bytes={MAX_BODY}"])
    with TestClient(create_app(model, cfg, ui=False)) as c:
        yield c


def healthy(client) -> bool:
    r = client.post("/v1/predict", json={"texts": ["Blinken warned of severe costs."]})
    return r.status_code == 200 and r.json()["predictions"][0]["label"] in LABELS


def test_predict_labels_scores_and_blanks(client, model):
    texts = ["Putin said NATO had deceived Russia.", "", "Die Gespräche finden in Genf statt."]
    r = client.post("/v1/predict", json={"texts": texts})
    assert r.status_code == 200
    got = r.json()["predictions"]
    want = predict(texts, model)
    assert [p["label"] for p in got] == [w.label for w in want]
    assert got[1] == {"text": "", "label": None, "scores": {}, "empty": True}
    assert got[0]["scores"] == pytest.approx(want[0].scores, abs=1e-4) and "explanation" not in got[0]
    r = client.post("/v1/predict", json={"texts": ["Putin spoke in Moscow. He said NATO had lied to Russia."],
                                         "explain": True, "lang": "en"})
    exp = r.json()["predictions"][0]["explanation"]
    text = "Putin spoke in Moscow. He said NATO had lied to Russia."
    assert exp["unit"] == "sentence" and [text[s["start"]:s["end"]] for s in exp["spans"]] == [
        "Putin spoke in Moscow.", "He said NATO had lied to Russia."]
    assert client.post("/v1/predict", json={"texts": []}).json() == {"predictions": []}


def test_articles_match_score_article(client, model):
    r = client.post("/v1/articles", json={"texts": [ARTICLE, "   "]})
    assert r.status_code == 200
    art, blank = r.json()["articles"]
    ref = score_article(ARTICLE, model)
    assert [(p["start"], p["end"], p["label"]) for p in art["passages"]] == [
        (p.start, p.end, p.label) for p in ref.passages]
    assert art["dominant_frame"] == ref.dominant_frame and art["n_passages"] == 3
    assert art["label_share"] == pytest.approx(ref.label_share)
    assert art["length_weighted_share"] == pytest.approx(ref.length_weighted_share)
    assert {d["text"]: d["reason"] for d in art["dropped"]} == {"Business News": "site name",
                                                              "Source link": "end-of-article marker"}
    assert blank["empty"] is True and blank["passages"] == [] and blank["dominant_frame"] is None
    r = client.post("/v1/articles", json={"texts": [ARTICLE], "explain": True})
    passages = r.json()["articles"][0]["passages"]
    assert all(p["explanation"]["spans"] for p in passages)
    assert [s["text"] for s in passages[1]["explanation"]["spans"]] == [
        "Putin said NATO had deceived Russia.", "He wants guarantees."]


def test_model_health_and_offline_docs(client, trained_tiny):
    info = client.get("/v1/model").json()
    metrics = json.loads((Path(trained_tiny[0]) / "metrics.json").read_text())
    assert info["labels"] == list(LABELS) and info["request_merging"] is True
    assert info["temperature"] == pytest.approx(metrics["calibration"]["temperature"])
    assert info["base_model"] == metrics["training"]["base_model"]
    assert info["metrics"]["test"]["macro_f1"] == pytest.approx(metrics["sets"]["test"]["model"]["macro_f1"])
    assert info["limits"]["max_texts"] == MAX_TEXTS
    assert client.get("/healthz").json() == {"status": "ok", "queue_pending": 0, "queue_capacity": 64}
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/predict", "/v1/articles", "/v1/model", "/healthz"} <= set(paths)


def test_body_too_large_is_413(client):
    big = {"texts": ["x" * (MAX_BODY + 10)]}
    r = client.post("/v1/predict", json=big)
    assert r.status_code == 413 and f"limit is {MAX_BODY}" in r.json()["detail"]
    chunks = (b'{"texts": ["' + b"y" * 1000 + b'"]}' if i == 0 else b" " * 1000 for i in range(6))
    r = client.post("/v1/articles", content=chunks, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limits.max_body_bytes" in r.json()["detail"]  # no Content-Length: counted
    assert healthy(client)


def test_too_many_texts_is_413(client):
    for path in ("/v1/predict", "/v1/articles"):
        r = client.post(path, json={"texts": ["a b c"] * (MAX_TEXTS + 1)})
        assert r.status_code == 413 and f"{MAX_TEXTS + 1} texts" in r.json()["detail"]
    assert client.post("/v1/predict", json={"texts": ["a b c"] * MAX_TEXTS}).status_code == 200
    assert healthy(client)


@pytest.mark.parametrize("body, field", [
    ('{"texts": "one string"}', "texts"),
    ('{"texts": ["ok", 3]}', "texts[1]"),
    ('{"texts": ["ok"], "explain": "maybe"}', "explain"),
    ('{"text": ["ok"]}', "texts"),
    ('{"texts": ["ok"], "lang": "English"}', "lang"),
    ('{"texts": ["ok",', "invalid JSON"),
    ('[1, 2]', "body"),
])
def test_malformed_bodies_are_422_naming_the_field(client, body, field):
    for path in ("/v1/predict", "/v1/articles"):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
        assert r.json()["error"].startswith(field) or f"body: {field}" in r.json()["error"], r.json()["error"]
        assert isinstance(r.json()["detail"], list)
    assert healthy(client)


def test_full_queue_is_503_then_serves_again(model):
    cfg = load_serve_config(None, ["batching.queue_size=2"])
    app = create_app(model, cfg, ui=False)
    with TestClient(app) as c:
        q = app.state.service.queue
        gate = threading.Event()
        real = q.handlers["predict"]
        q.handlers["predict"] = lambda texts: (gate.wait(30), real(texts))[1]
        futures = [q.submit("predict", [("first", "")])]  # items: (passage, context)
        deadline = time.monotonic() + 10
        while q.pending and time.monotonic() < deadline:  # the worker has taken it and is blocked
            time.sleep(0.01)
        futures += [q.submit("predict", [(f"waiting {i}", "")]) for i in range(2)]
        r = c.post("/v1/predict", json={"texts": ["one too many"]})
        assert r.status_code == 503 and r.headers["retry-after"] == "1" and "busy" in r.json()["detail"]
        assert c.post("/v1/articles", json={"texts": [ARTICLE]}).status_code == 503
        gate.set()
        assert [f.result(30)[0].text for f in futures] == ["first", "waiting 0", "waiting 1"]
        assert healthy(c)


def test_batch_queue_merges_concurrent_requests():
    gate, calls = threading.Event(), []

    def upper(texts, suffix=""):
        gate.wait(10)
        calls.append(list(texts))
        return [t.upper() + suffix for t in texts]

    q = BatchQueue({"up": upper}, merge=True, merge_window_ms=0, max_batch_texts=100, queue_size=10)
    first = q.submit("up", ["a"])
    time.sleep(0.05)  # the worker holds "a" (blocked); the next ones wait together
    rest = [q.submit("up", [c, c]) for c in "bcde"] + [q.submit("up", ["f"], suffix="!")]
    gate.set()
    assert first.result(10) == ["A"] and [f.result(10) for f in rest] == [
        ["B", "B"], ["C", "C"], ["D", "D"], ["E", "E"], ["F!"]]
    assert calls == [["a"], ["b", "b", "c", "c", "d", "d", "e", "e"], ["f"]]  # options never mixed
    q.close()

    calls.clear()  # an idle worker waits merge_window_ms for company
    q = BatchQueue({"up": upper}, merge=True, merge_window_ms=500, max_batch_texts=100, queue_size=10)
    pair = [q.submit("up", ["p"]), q.submit("up", ["q"])]
    assert [f.result(10) for f in pair] == [["P"], ["Q"]] and calls == [["p", "q"]]
    q.close()

    calls.clear()
    q = BatchQueue({"up": upper}, merge=False, queue_size=10)
    futures = [q.submit("up", [c]) for c in "xyz"]
    assert [f.result(10) for f in futures] == [["X"], ["Y"], ["Z"]] and calls == [["x"], ["y"], ["z"]]
    q.close()


def test_batch_queue_bounds_and_failures():
    gate = threading.Event()

    def flaky(texts):
        gate.wait(10)
        if "boom" in texts:
            raise ValueError("boom")
        return texts

    q = BatchQueue({"f": flaky}, merge=False, queue_size=1)
    held = q.submit("f", ["boom"])
    while q.pending:
        time.sleep(0.01)
    waiting = q.submit("f", ["fine"])
    with pytest.raises(QueueFull):
        q.submit("f", ["too many"])
    gate.set()
    with pytest.raises(ValueError, match="boom"):
        held.result(10)
    assert waiting.result(10) == ["fine"] and q.submit("f", ["again"]).result(10) == ["again"]
    q.close()


def test_serve_config_file_lists_the_defaults():
    assert load_serve_config(REPO_CONFIG) == ServeConfig()
    with pytest.raises(ConfigError, match="limits.max_textz"):
        load_serve_config(None, ["limits.max_textz=3"])
    with pytest.raises(ConfigError, match="batching.queue_size"):
        load_serve_config(None, ["batching.queue_size=0"])


def test_serve_command_errors_are_one_line(capsys, tmp_path):
    assert main(["serve", "--model", str(tmp_path / "missing")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["serve", "--set", "limits.max_texts=0"]) == 2
    assert "limits.max_texts must be at least 1" in capsys.readouterr().err


def _spy_contexts(monkeypatch) -> list:
    from framing.inference import Predictor

    seen, real = [], Predictor.probabilities

    def spy(self, texts, batch_size=32, temperature=None, contexts=None):
        seen.append((list(texts), contexts))
        return real(self, texts, batch_size, temperature, contexts)

    monkeypatch.setattr(Predictor, "probabilities", spy)
    return seen


def test_article_passages_and_their_evidence_get_the_article_context(client, monkeypatch):
    from framing.context import contexts_in_order

    seen = _spy_contexts(monkeypatch)
    r = client.post("/v1/articles", json={"texts": [ARTICLE], "explain": True})
    passages = r.json()["articles"][0]["passages"]
    texts = [p["text"] for p in passages]
    want = contexts_in_order(texts)
    (t1, c1), (t2, c2) = seen
    assert t1 == texts and c1 == want and any(want)  # as score_article() scores them
    assert c2 == [c for p, c in zip(passages, want) for _ in range(1 + len(p["explanation"]["spans"]))]
    seen.clear()
    client.post("/v1/predict", json={"texts": texts})
    assert seen[0][1] in (None, ["", "", ""])  # passages on their own have no context
