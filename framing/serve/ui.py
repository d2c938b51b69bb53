"""The analysts' page (Gradio Blocks), mounted at ``/`` of the FastAPI app.

One article: paste it (or pick a seed-article example), press the button, read
the passages in place coloured by label, the evidence and the summary. Many
articles: upload ``.txt`` / ``.jsonl`` / ``.csv`` files (read as ``framing
predict`` reads them), watch the progress bar, get a table with one row per
article and the results as CSV and JSONL in the CLI's format. Everything is
served locally: no analytics, system fonts, nothing fetched from the internet.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from ..cli import InputError, Writer, iter_items  # noqa: E402
from ..io_utils import AtomicWriter  # noqa: E402
from ..labels import LABELS  # noqa: E402
from .batching import QueueFull  # noqa: E402
from .render import CSS, LABEL_NAMES, article_html, legend_html, summary_html  # noqa: E402
from .service import Service  # noqa: E402

TITLE = "framing: how does this news frame the Russia / NATO crisis?"
THEME = gr.themes.Base(primary_hue="blue", neutral_hue="slate", font=["system-ui", "Segoe UI", "Roboto", "sans-serif"],
                       font_mono=["ui-monospace", "Consolas", "monospace"])
TABLE_HEADERS = ["file", "record", "dominant frame", "passages",
                 *[f"{LABEL_NAMES[lab]} (% of text)" for lab in LABELS]]
CACHE_CLEANUP_S = (3600, 3600)  # every hour, Gradio deletes its cached result files older than an hour
READ_AS_CLI = argparse.Namespace(errors="replace", input_format=None, text_field="text", text_column="text",
                                 prefix="pred_")
INTRO = """# How does this news frame the Russia / NATO crisis?
Paste a news article in any language, or upload files. Every passage is coloured by the side it voices,
according to a model trained on annotated coverage of December 2021 to February 2022. **Hover over or click
a passage** to see its scores; with evidence on, the **underlined sentence** is the one that drove its label
(hover over a sentence to see by how much)."""


def seed_examples(languages: list[str]) -> list[tuple[str, str]]:
    """(label, article text) for the seed articles of the bundled corpus, the i-th in ``languages[i]``."""
    corpus = resources.files("framing") / "corpus"
    articles: dict[tuple[str, str], list[dict]] = {}
    for name in ["seed.jsonl", *(f"translation-{lang}.jsonl" for lang in languages if lang != "en")]:
        f = corpus / name
        if not f.is_file():
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                articles.setdefault((r["article_id"], r["lang"]), []).append(r)
    ids = sorted({aid for aid, _ in articles})
    out = []
    for aid, lang in zip(ids, languages):
        recs = sorted(articles.get((aid, lang), []), key=lambda r: r["para"])
        if recs:
            out.append((f"{lang}: {recs[0]['text'][:60]}", "\n\n".join(r["text"] for r in recs)))
    return out


ARTICLE_FIELDS = ("dominant_frame", "n_passages", "label_share", "length_weighted_share", "passages", "empty")
PREFIX = "pred_"  # the CLI's prefix of the fields it adds (framing predict --prefix)


def _write_downloads(rows: list[dict], folder: Path) -> list[str]:
    """articles.csv / articles.jsonl (``framing predict --level article``) and passages.csv (``--level passage``),
    in the CLI's format: input fields as they came, the fields scoring adds prefixed with ``pred_``."""
    def inputs(r: dict) -> dict:
        return {k: v for k, v in r.items() if k not in (*ARTICLE_FIELDS, "dropped")}

    cli_rows = [{**inputs(r), **{PREFIX + k: r[k] for k in ARTICLE_FIELDS if k in r}} for r in rows]
    passages = [{**inputs(r), **{PREFIX + k: v for k, v in (
                    ("passage", p["index"]), ("start", p["start"]), ("end", p["end"]), ("text", p["text"]),
                    ("label", p["label"]), ("scores", p["scores"]),
                    *((("explanation", p["explanation"]),) if "explanation" in p else ()))}}
                for r in rows for p in r["passages"]]
    out = []
    for name, level, fmt, data in (("articles.csv", "article", "csv", cli_rows),
                                   ("articles.jsonl", "article", "jsonl", cli_rows),
                                   ("passages.csv", "passage", "csv", passages)):
        with AtomicWriter(folder / name, newline="" if fmt == "csv" else None) as fh:
            writer = Writer(fh, fmt, level, PREFIX)
            writer.write(data, [r.get(PREFIX + "text", "") for r in data])
            writer.close()
        out.append(str(folder / name))
    return out


def _table(rows: list[dict]) -> list[list]:
    return [[r.get(PREFIX + "source", ""), r.get(PREFIX + "line", ""), LABEL_NAMES.get(r["dominant_frame"], "(nothing to score)"),
             r["n_passages"], *[f"{r['length_weighted_share'].get(lab, 0.0):.0%}" if r["n_passages"] else ""
                                for lab in LABELS]] for r in rows]


def build_page(service: Service) -> gr.Blocks:
    """The Blocks of the page; scoring goes through ``service`` (the API's queue)."""
    cfg = service.cfg
    downloads_root = Path(tempfile.mkdtemp(prefix="framing-serve-"))  # Gradio serves copies from its cache
    atexit.register(shutil.rmtree, downloads_root, ignore_errors=True)
    min_drop = cfg.page.evidence_min_drop

    async def score(texts: list[str], evidence: bool, metas: list[dict] | None = None) -> list[dict]:
        try:
            return await service.article_rows(texts, evidence, metas=metas)
        except QueueFull:
            raise gr.Error("The server is busy with other requests; please try again in a moment.") from None

    async def analyse(text: str, evidence: bool):
        if not text or not text.strip():
            raise gr.Error("Paste an article (or pick an example) first.")
        row = (await score([text], evidence, [{PREFIX + "source": "pasted article"}]))[0]
        files = _write_downloads([row], Path(tempfile.mkdtemp(dir=downloads_root)))
        return summary_html(row), article_html(row, min_drop), files

    async def score_files(paths: list[str] | None, evidence: bool, progress=gr.Progress()):
        if not paths:
            raise gr.Error("Upload one or more .txt, .jsonl or .csv files first.")
        items = []
        for p in paths:
            try:
                for it in iter_items(p, READ_AS_CLI):
                    it.fields.update({PREFIX + "source": Path(p).name,
                                      **({PREFIX + "line": it.line} if it.line is not None else {})})
                    items.append(it)
            except InputError as exc:  # e.g. "rows.jsonl:3: malformed JSON: ..."
                raise gr.Error(str(exc).replace(str(p), Path(p).name)) from None
        if len(items) > cfg.limits.max_page_articles:
            raise gr.Error(f"{len(items)} articles: the page scores at most {cfg.limits.max_page_articles} at once "
                           f"(use `framing predict` for more).")
        rows: list[dict] = []
        step = cfg.page.chunk_articles
        for start in range(0, len(items), step):
            progress((start, len(items)), desc="Scoring articles", unit="articles")
            chunk = items[start:start + step]
            rows += await score([it.text for it in chunk], evidence, [it.fields for it in chunk])
        files = _write_downloads(rows, Path(tempfile.mkdtemp(dir=downloads_root)))
        status = (f"**{len(rows)} article{'s' * (len(rows) != 1)}** from {len(paths)} file"
                  f"{'s' * (len(paths) != 1)} scored. Select a row to read that article.")
        return status, _table(rows), files, rows, ""

    def show_row(rows: list[dict], evt: gr.SelectData):
        if not rows or evt.index is None:
            return ""
        row = rows[evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index]
        return summary_html(row) + article_html(row, min_drop)

    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=CACHE_CLEANUP_S) as page:
        gr.Markdown(INTRO)
        gr.HTML(legend_html(), elem_id="legend")
        with gr.Tabs():
            with gr.Tab("One article", id="one"):
                text = gr.Textbox(label="Article text (headline first; paragraphs separated by line breaks)",
                                  lines=8, max_lines=14, elem_id="article-input",
                                  placeholder="Paste a news article here, in any language ...")
                with gr.Row():
                    evidence = gr.Checkbox(True, label="Show which sentence drove each label", scale=2)
                    go = gr.Button("Analyse the article", variant="primary", elem_id="analyse", scale=1)
                examples = seed_examples(cfg.page.examples)
                if examples:
                    gr.Examples([[t] for _, t in examples], inputs=[text], example_labels=[lab for lab, _ in examples],
                                label="Examples: a seed article of the corpus in each of several languages")
                summary = gr.HTML(elem_id="summary")
                passages = gr.HTML(elem_id="passages")
                one_files = gr.File(label="Download this result (CSV / JSONL as framing predict writes them)",
                                    file_count="multiple", interactive=False, elem_id="article-downloads")
            with gr.Tab("Many articles (files)", id="many"):
                uploads = gr.File(label="Upload .txt files (one article each), .jsonl (one article per line, field "
                                        "\"text\") or .csv (column \"text\")", file_count="multiple",
                                  file_types=[".txt", ".jsonl", ".csv"], elem_id="upload")
                with gr.Row():
                    evidence_f = gr.Checkbox(False, label="Also find the evidence in each passage (slower)", scale=2)
                    go_f = gr.Button("Score the files", variant="primary", elem_id="score-files", scale=1)
                status = gr.Markdown(elem_id="files-status")
                table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, wrap=True, elem_id="articles-table")
                files_out = gr.File(label="Download the results (articles.csv / articles.jsonl as `framing predict "
                                          "--level article` writes them, passages.csv one row per passage)",
                                    file_count="multiple", interactive=False, elem_id="downloads")
                picked = gr.HTML(elem_id="picked-article")
                rows_state = gr.State([])
        gr.Markdown(_footer(service.model_info()))
        limit = cfg.page.concurrency  # page events scored at once (their requests merge in the queue)
        go.click(analyse, [text, evidence], [summary, passages, one_files], api_visibility="private",
                 concurrency_limit=limit)
        go_f.click(score_files, [uploads, evidence_f], [status, table, files_out, rows_state, picked],
                   api_visibility="private", concurrency_limit=limit)
        table.select(show_row, [rows_state], [picked], api_visibility="private")
    return page


def _footer(info: dict) -> str:
    sets = info.get("metrics") or {}
    scores = " · ".join(f"{name} {m['macro_f1']:.2f}" for name, m in sets.items()
                        if name != "validation" and m.get("macro_f1") is not None)
    quality = f" Macro-F1 on its evaluation sets: {scores}." if scores else ""
    return (f"<small>Model `{info['model']}` (base `{info['base_model']}`), calibrated scores "
            f"(temperature {info['temperature']:.2f}).{quality} Scores are probabilities calibrated on the "
            f"annotated corpus: a guide for reading, not a verdict. Developers: the same as a REST API, documented at "
            f"[/docs](/docs).</small>")


def mount_page(app, service: Service):
    """Mount the page at ``/`` of ``app`` (after the API routes, which keep precedence)."""
    return gr.mount_gradio_app(app, build_page(service), path="/", theme=THEME, css=CSS, ssr_mode=False,
                               footer_links=[], run_history=False, mcp_server=False,
                               max_file_size=service.cfg.limits.max_upload_bytes)
