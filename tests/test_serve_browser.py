"""`framing serve` in a real browser: headless Chromium (Debian package) driven by Playwright.

Starts the server as a user would (``python -m framing.cli serve``) on 127.0.0.1
with the tiny model, pastes an article, reads the coloured passages and the
summary, uploads a JSONL file, downloads the CSV and checks it against
``framing predict``. Every request the page makes outside the server is blocked
and recorded: the page must work with none. ``FRAMING_SCREENSHOT_MODEL=DIR``
serves that model instead and copies the screenshot to docs/serve-screenshot.png
(the README's).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from framing import score_article
from framing.cli import main
from framing.labels import LABELS
from framing.serve.render import LABEL_NAMES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[1]
STARTUP_S = 300  # generous: a loaded 2-core machine needs minutes to import torch and gradio
WAIT_MS = 120_000
PRECISION = "fp32"  # the same labels whatever the batch composition (the tiny model's scores are near ties)
ARTICLE = ("Putin said NATO had deceived Russia by expanding eastwards. He demanded legal guarantees at once.\n\n"
           "The first round of talks will take place in Geneva on 10 January, the foreign ministry said.\n\n"
           "Blinken warned of severe costs if Russian troops crossed the border, and NATO allies agreed.\n\n"
           "Source link\n")
RECORDS = [{"id": "a1", "outlet": "x", "text": "Talks in Geneva\n\nLavrov said the West ignored Russia."},
           {"id": "a2", "outlet": "y", "text": "Biden warned Moscow. The EU prepared sanctions."},
           {"id": "a3", "outlet": "z", "text": "Reporters noted a quiet day at the border."}]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"{CHROMIUM} is missing: apt-get install chromium chromium-driver")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_model(request) -> str:
    """The tiny trained model, or ``$FRAMING_SCREENSHOT_MODEL`` (then the README's screenshot is updated)."""
    return os.environ.get("FRAMING_SCREENSHOT_MODEL") or str(request.getfixturevalue("trained_tiny")[0])


@pytest.fixture(scope="module")
def server(served_model, tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "TOKENIZERS_PARALLELISM": "false"}
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "framing.cli", "serve", "--model", served_model, "--host",
                                 "127.0.0.1", "--port", str(port), "--precision", PRECISION],
                                cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"framing serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                    if json.load(r)["status"] == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"framing serve did not answer within {STARTUP_S} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    outside: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()

    def only_local(route):
        if route.request.url.startswith((server, "data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    pg.route("**/*", only_local)
    pg.outside = outside
    yield pg
    context.close()
    assert outside == [], f"the page asked for resources outside the server: {outside}"


def test_paste_an_article_and_read_it(page, server, served_model, tmp_path):
    page.goto(server + "/")
    page.fill("#article-input textarea", ARTICLE, timeout=WAIT_MS)
    page.click("#analyse")
    page.wait_for_selector("#summary .fr-dominant", timeout=WAIT_MS)
    passages = page.locator("#passages .fr-passage")
    assert passages.count() == 3
    ref = score_article(ARTICLE, served_model, precision=PRECISION)
    assert [passages.nth(i).get_attribute("data-label") for i in range(3)] == [p.label for p in ref.passages]
    dropped = page.locator("#passages .fr-dropped")
    assert dropped.count() == 1 and "Source link" in dropped.inner_text()
    summary = page.locator("#summary").inner_text()
    assert f"Dominant frame: {LABEL_NAMES[ref.dominant_frame]}" in summary
    for lab in LABELS:
        row = page.locator(f"#summary .fr-share[data-label='{lab}']").inner_text()
        assert f"{ref.label_share[lab]:.0%}" in row and f"{ref.length_weighted_share[lab]:.0%}" in row
    first = passages.nth(0)
    assert not first.locator(".fr-scores").is_visible()
    first.hover()
    scores = first.locator(".fr-scores").inner_text()
    assert all(LABEL_NAMES[lab] in scores for lab in LABELS)
    assert first.locator(".fr-span").count() == 2  # evidence: each sentence carries its own tooltip
    assert "Left out" in first.locator(".fr-span").nth(0).get_attribute("title")
    shot = tmp_path / "serve-one-article.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("FRAMING_SCREENSHOT_MODEL"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(shot, ROOT / "docs" / "serve-screenshot.png")


def test_upload_files_and_download_the_cli_csv(page, server, served_model, tmp_path, capsys):
    jl = tmp_path / "articles.jsonl"
    jl.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    page.goto(server + "/")
    page.get_by_role("tab", name="Many articles (files)").click(timeout=WAIT_MS)
    page.locator("#upload input[type=file]").set_input_files(str(jl))
    page.wait_for_selector("#upload :text('articles.jsonl')", timeout=WAIT_MS)
    page.click("#score-files")
    page.wait_for_selector("#files-status :text('3 articles')", timeout=WAIT_MS)
    link = page.locator("#downloads a[download='articles.csv']")
    link.wait_for(timeout=WAIT_MS)
    with page.expect_download() as download:
        link.click()
    got = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert main(["predict", str(jl), "--level", "article", "--format", "csv", "--model", served_model,
                 "--precision", PRECISION]) == 0
    want = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(got[0]) == list(want[0]) and [g["pred_source"] for g in got] == ["articles.jsonl"] * 3
    def norm(row: dict) -> dict:  # scores to 5 decimals: oneDNN's float rounding depends on the batch shape
        out = {k: v for k, v in row.items() if k != "pred_source"}
        out["pred_passages"] = [{**p, "scores": {lab: round(x, 5) for lab, x in p["scores"].items()}}
                                for p in json.loads(out["pred_passages"])]
        return out

    for g, w in zip(got, want):  # the same rows as the CLI's, but for the uploaded file's name
        assert norm(g) == norm(w)
    page.locator("#articles-table [data-testid='cell-1-0']").click()
    page.wait_for_selector("#picked-article .fr-passage", timeout=WAIT_MS)
    assert "Biden warned Moscow." in page.locator("#picked-article").inner_text()
    page.screenshot(path=str(tmp_path / "serve-files.png"), full_page=True)


def test_api_docs_render_offline(page, server):
    page.goto(server + "/docs")
    page.wait_for_selector(".swagger-ui [data-path='/v1/articles']", timeout=WAIT_MS)
    assert page.locator(".swagger-ui .opblock").count() >= 4
