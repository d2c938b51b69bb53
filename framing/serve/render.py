"""HTML for the page: an article's passages in place, its summary, and the legend (no JavaScript).

Each passage is a block coloured by its label; hovering it (or selecting it with
a click or Tab) shows its calibrated scores. With evidence, every sentence or
clause carries a tooltip with the drop in the label's probability when it is left
out, and those whose removal lowers it by at least ``min_drop`` are highlighted
(the strongest underlined). Dropped boilerplate is shown greyed, with the reason.
"""

from __future__ import annotations

from html import escape

from ..labels import LABELS

LABEL_NAMES = {"russian_position": "Russian position", "western_response": "Western response",
               "neutral_report": "Neutral report"}
LABEL_HINTS = {"russian_position": "voices the Russian state's demands, claims or narrative",
               "western_response": "voices the US, NATO, the EU, their governments or Ukraine's government",
               "neutral_report": "facts, background, schedules: neither side voiced"}
# (strong, light) colour per label: red / blue / sand, told apart also without colour vision by the labels.
COLORS = {"russian_position": ("#b3261e", "#fde4e1"), "western_response": ("#1d5bbf", "#e0eafc"),
          "neutral_report": ("#7d6608", "#f6efcf")}
MAX_ALPHA = 0.4  # strongest evidence highlight (opacity of the label colour behind the text)

CSS = """
.fr-legend, .fr-article, .fr-summary {color: #1b1b1b; background: #ffffff; font-size: 15px; line-height: 1.5;
  border-radius: 8px}
.fr-legend {display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: center; padding: 6px 8px}
.fr-summary {padding: 10px 12px; border: 1px solid #e3e3e3}
.fr-chip {display: inline-block; padding: 1px 8px; border-radius: 4px; border-left: 6px solid var(--c);
  background: var(--bg); color: #1b1b1b}
.fr-block {margin: 8px 0; padding: 8px 12px; border-radius: 6px}
.fr-passage {background: var(--bg); border-left: 6px solid var(--c); outline: none; cursor: default}
.fr-passage:hover, .fr-passage:focus {box-shadow: 0 0 0 2px var(--c)}
.fr-head {font-size: 13px; display: flex; gap: 10px; align-items: baseline; margin-bottom: 2px}
.fr-badge {font-weight: 600; color: var(--c)}
.fr-num {color: #666}
.fr-scores {display: none; font-size: 13px; margin-top: 4px; color: #333}
.fr-passage:hover .fr-scores, .fr-passage:focus .fr-scores {display: block}
.fr-span {border-radius: 3px}
.fr-ev {background: rgba(var(--rgb), var(--a)); color: #111}
.fr-top {text-decoration: underline; text-decoration-thickness: 2px; text-underline-offset: 3px}
.fr-dropped {color: #8a8a8a; background: #f3f3f3; border-left: 6px dashed #c8c8c8; font-style: italic}
.fr-reason {font-style: normal; font-size: 12px; color: #777; margin-right: 6px}
.fr-dominant {font-size: 18px; margin-bottom: 8px}
.fr-bars {border-collapse: collapse; width: 100%; border: 0 !important; margin: 0}
.fr-bars tr {border: 0 !important; background: transparent !important}
.fr-bars td, .fr-bars th {padding: 3px 6px !important; text-align: left; font-size: 14px; font-weight: normal;
  border: 0 !important; background: transparent !important; color: #1b1b1b}
.fr-bars th {color: #555; font-size: 13px}
.fr-track {background: #eee; border-radius: 3px; height: 16px; width: 100%; min-width: 80px}
.fr-fill {background: var(--c); height: 16px; border-radius: 3px}
.fr-note {color: #555; font-size: 13px; margin-top: 6px}
"""


def _style(label: str | None) -> str:
    strong, light = COLORS.get(label, ("#888888", "#f3f3f3"))
    rgb = ", ".join(str(int(strong[i:i + 2], 16)) for i in (1, 3, 5))
    return f"--c:{strong};--bg:{light};--rgb:{rgb}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def scores_line(scores: dict[str, float]) -> str:
    """``Russian position 82 % · Western response 10 % · ...`` in label order."""
    return " · ".join(f"{LABEL_NAMES[lab]} {_pct(scores.get(lab))}" for lab in LABELS if lab in scores)


def legend_html() -> str:
    chips = [f'<span class="fr-chip" style="{_style(lab)}" title="{escape(LABEL_HINTS[lab])}">'
             f'<b>{LABEL_NAMES[lab]}</b>: {escape(LABEL_HINTS[lab])}</span>' for lab in LABELS]
    chips.append('<span class="fr-chip fr-dropped" style="margin:0">boilerplate: dropped, not scored</span>')
    chips.append(f'<span class="fr-chip" style="{_style("russian_position")}"><span class="fr-span fr-ev fr-top" '
                 f'style="--a:0.5">underlined</span>: the sentence that drove the label</span>')
    return f'<div class="fr-legend">{"".join(chips)}</div>'


def _text_with_evidence(text: str, label: str | None, explanation: dict | None, min_drop: float) -> str:
    if not explanation or not explanation.get("spans"):
        return escape(text)
    spans = sorted(explanation["spans"], key=lambda s: s["start"])
    best = max(s["contribution"] for s in spans)
    name = LABEL_NAMES.get(label, label)
    out, pos = [], 0
    for s in spans:
        out.append(escape(text[pos:s["start"]]))
        drop, without = s["contribution"], s["score_without"]
        tip = (f"Left out, {name} goes from {_pct(without + drop)} to {_pct(without)} "
               f"({'-' if drop >= 0 else '+'}{abs(drop) * 100:.1f} points)")
        cls, style = "fr-span", ""
        if drop >= min_drop and best > 0:
            cls += " fr-ev" + (" fr-top" if drop == best else "")
            style = f' style="--a:{MAX_ALPHA * drop / best:.2f}"'
        out.append(f'<span class="{cls}"{style} title="{escape(tip)}">{escape(text[s["start"]:s["end"]])}</span>')
        pos = s["end"]
    out.append(escape(text[pos:]))
    return "".join(out)


def article_html(row: dict, min_drop: float = 0.01) -> str:
    """An article row of the API (passages, ``dropped``) as blocks in reading order."""
    blocks = [(p["start"], "p", p) for p in row.get("passages", [])]
    blocks += [(d["start"], "d", d) for d in row.get("dropped", [])]
    parts = []
    for _, kind, b in sorted(blocks, key=lambda t: t[0]):
        if kind == "d":
            parts.append(f'<div class="fr-block fr-dropped" title="Not scored: {escape(b["reason"])}">'
                         f'<span class="fr-reason">not scored ({escape(b["reason"])})</span>{escape(b["text"])}</div>')
            continue
        label, scores = b["label"], b["scores"]
        line = scores_line(scores)
        parts.append(
            f'<div class="fr-block fr-passage" data-label="{label}" style="{_style(label)}" tabindex="0" '
            f'title="{escape(line)}"><div class="fr-head"><span class="fr-badge">{LABEL_NAMES.get(label, label)} '
            f'{_pct(scores.get(label))}</span><span class="fr-num">passage {b["index"] + 1}</span></div>'
            f'<div class="fr-text">{_text_with_evidence(b["text"], label, b.get("explanation"), min_drop)}</div>'
            f'<div class="fr-scores">Scores: {escape(line)}</div></div>')
    if not parts:
        parts.append('<div class="fr-note">Nothing to score: the text is empty or all boilerplate.</div>')
    return f'<div class="fr-article">{"".join(parts)}</div>'


def summary_html(row: dict) -> str:
    """Dominant frame, and label shares by passages and by length as bars."""
    n, dropped = row.get("n_passages", 0), len(row.get("dropped", []))
    dom = row.get("dominant_frame")
    if dom is None:
        return '<div class="fr-summary"><div class="fr-dominant">No passage to score.</div></div>'
    counts = {lab: sum(p["label"] == lab for p in row["passages"]) for lab in LABELS}
    share, weighted = row["label_share"], row["length_weighted_share"]
    rows = []
    for lab in LABELS:
        cells = "".join(f'<td style="width:32%"><div class="fr-track"><div class="fr-fill" '
                        f'style="width:{v * 100:.1f}%"></div></div></td><td>{_pct(v)}</td>'
                        for v in (share.get(lab, 0.0), weighted.get(lab, 0.0)))
        rows.append(f'<tr class="fr-share" data-label="{lab}" style="{_style(lab)}"><td><span class="fr-badge">'
                    f'{LABEL_NAMES[lab]}</span></td>{cells}<td>{counts[lab]} of {n}</td></tr>')
    return (f'<div class="fr-summary"><div class="fr-dominant">Dominant frame: <span class="fr-badge" '
            f'style="{_style(dom)}">{LABEL_NAMES[dom]}</span> ({_pct(weighted.get(dom))} of the text)</div>'
            f'<table class="fr-bars"><tr><th>label</th><th colspan="2">share of passages</th>'
            f'<th colspan="2">share of text (length-weighted)</th><th>passages</th></tr>{"".join(rows)}</table>'
            f'<div class="fr-note">{n} passage{"s" * (n != 1)} scored; {dropped} paragraph{"s" * (dropped != 1)} '
            f'dropped as boilerplate (grey). The dominant frame is the label that covers the most text.</div></div>')
