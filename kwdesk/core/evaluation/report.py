"""The report of an evaluation: a table, a bar chart (SVG, drawn here: no chart library for
six bars) and every question with its answer and verdict, as one HTML file.

All text from documents and models is escaped. The report is saved beside the model it
evaluates (or under evals/ in the workspace for a model kept elsewhere); the app renders
the SVG to PNG with Qt.
"""

from __future__ import annotations

import html
from pathlib import Path

from kwdesk.core.evaluation.results import CONFIGS, FULL_CONTEXT
from kwdesk.core.store.evals import eval_history, load_eval, newest_eval_for_model  # noqa: F401 (the report's readers)
from kwdesk.core.store.models import ModelNotRegistered, get_model
from kwdesk.core.store.workspace import Workspace

LABELS = {
    "base": "Base model",
    "base+rag": "Base + sources",
    FULL_CONTEXT: "Base + whole documents",
    "personal": "Your model",
    "personal+rag": "Your model + sources",
}
COLOURS = {"base": "#a0aec0", "base+rag": "#63b3ed", FULL_CONTEXT: "#90cdf4", "personal": "#2b6cb0",
           "personal+rag": "#2c5282", "probe_base": "#a0aec0", "probe_personal": "#2b6cb0", "kept": "#38a169"}


def configs_of(summary: dict) -> list[str]:
    """The ways the held-out questions were asked, in the order shown: the whole documents in
    the prompt only where they fitted the base model's context."""
    shown = list(CONFIGS)
    if FULL_CONTEXT in summary["heldout"]:
        shown.insert(2, FULL_CONTEXT)
    return shown


def full_context_line(summary: dict) -> str:
    """Whether the whole documents were tried in the prompt, and why not, in words."""
    full = summary.get("full_context") or {}
    if not full:
        return ""
    if full.get("fits"):
        return (f"The whole documents ({full['tokens']:,} tokens) fit the base model's context of {full['context']:,}: "
                "they were also given whole in the prompt.")
    return (f"The whole documents ({full['tokens']:,} tokens) do not fit the base model's context of "
            f"{full['context']:,} tokens, so they cannot simply be pasted into the prompt: sources or training it is.")


def summary_in_words(s: dict) -> str:
    """An evaluation in three lines for the Models page: each way of answering the held-out
    questions with its share and its seconds an answer here, facts learned, what was kept."""
    held, seconds = s["heldout"], s.get("seconds_per_answer") or {}
    words = {"base": "base", "base+rag": "base with sources", FULL_CONTEXT: "base with the whole documents",
             "personal": "your model", "personal+rag": "your model with sources"}

    def one(config: str) -> str:
        spent = f" ({seconds[config]:.1f} s an answer)" if config in seconds else ""
        return f"{words[config]} {held[config]['share']:.0%}{spent}"

    line = "Held-out questions about your documents: " + ", ".join(one(c) for c in configs_of(s)) + "."
    full = s.get("full_context") or {}
    if full and not full.get("fits"):
        line += f" (The whole documents, {full['tokens']:,} tokens, do not fit the model's context of {full['context']:,}.)"
    return (f"{line}\nFacts learned: {s['facts_learned']} of {s['facts_total']}.\n"
            f"General questions: your model keeps {s['kept']['share']:.0%} of the base model's right answers.")


def _sources_line(summary: dict) -> str:
    n = summary.get("sources_passages") or 0
    if n == 1:
        return (" With sources, each question came with the best-matching passage of the documents, as the chat asks "
                "a small model (one passage is read better than three).")
    return f" With sources, each question came with the {n} best-matching passages, as the chat asks." if n else ""


def _sample_line(summary: dict) -> str:
    asked, total = summary.get("held_out_asked") or 0, summary.get("held_out_total") or 0
    if not asked or asked >= total:
        return ""
    return (f" {asked} of the {total} held-out questions were asked: every one you chose, then kwdesk's own "
            "wordings spread evenly over the rest.")


def chart_bars(summary: dict) -> list[tuple[str, str, float, str]]:
    """(group, label, share 0..1, colour) for each bar of the chart."""
    bars = [("Your documents (held-out questions)", LABELS[c], summary["heldout"][c]["share"], COLOURS[c])
            for c in configs_of(summary)]
    bars.append(("General questions", "Base model", summary["probe_base"]["share"], COLOURS["probe_base"]))
    bars.append(("General questions", "Your model", summary["probe_personal"]["share"], COLOURS["probe_personal"]))
    bars.append(("General questions", "Kept of the base's right answers", summary["kept"]["share"], COLOURS["kept"]))
    return bars


def _by_prompt_table(s: dict) -> str:
    """Forgetting under each system prompt a user's tool asks with (evaluations from before
    it was measured have none)."""
    by = s.get("kept_by_prompt") or {}
    if not by:
        return ""
    rows = "".join(f"<tr><td>{html.escape(label)}</td><td>{v['kept']['share']:.0%} ({v['kept']['correct']} / "
                   f"{v['kept']['total']})</td><td>{v['replay_kept']['correct']} / {v['replay_kept']['total']}</td></tr>"
                   for label, v in by.items())
    return ("<p>Asked under each system prompt a tool may use (kwdesk's chat, none as in other tools):</p>"
            f"<table><tr><th>System prompt</th><th>General answers kept</th><th>Replay answers kept</th></tr>{rows}</table>")


def report_svg(summary: dict, width: int = 720, height: int = 300) -> str:
    bars = chart_bars(summary)
    left, top, bottom, gap = 40, 30, 70, 10
    plot_h = height - top - bottom
    groups: list[str] = []
    for group, *_ in bars:
        if group not in groups:
            groups.append(group)
    bar_w = (width - left - 20 - gap * (len(bars) + len(groups))) / len(bars)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#4a5568">{int(tick * 100)}%</text>')
    x = left + gap
    previous_group = bars[0][0]
    group_start = x
    for index, (group, label, share, colour) in enumerate(bars):
        if group != previous_group:
            parts.append(_group_label(previous_group, group_start, x - gap, height))
            x += gap
            group_start = x
            previous_group = group
        h = plot_h * max(0.0, min(1.0, share))
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle">{share:.0%}</text>')
        # Two short lines under each bar: with the whole documents asked too, one line each ran
        # into its neighbours.
        for line_no, line in enumerate(_two_lines(_short(label))):
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14 + 12 * line_no:.1f}" '
                         f'text-anchor="middle" font-size="10">{html.escape(line)}</text>')
        x += bar_w + gap
    parts.append(_group_label(previous_group, group_start, x - gap, height))
    parts.append("</svg>")
    return "\n".join(parts)


def _short(label: str) -> str:
    return {"Kept of the base's right answers": "Kept", "Your model + sources": "Yours + sources",
            "Base + whole documents": "Base + whole docs"}.get(label, label)


def _two_lines(label: str) -> list[str]:
    """LABEL in one line, or two of about equal length when it has several words."""
    words = label.split()
    if len(words) < 2 or len(label) <= 10:
        return [label]
    cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
    return [" ".join(words[:cut]), " ".join(words[cut:])]


def _group_label(group: str, x0: float, x1: float, height: int) -> str:
    return (f'<text x="{(x0 + x1) / 2:.1f}" y="{height - 30}" text-anchor="middle" font-weight="bold">'
            f'{html.escape(group)}</text>')


def report_html(report: dict) -> str:
    s = report["summary"]
    seconds = s.get("seconds_per_answer") or {}
    rows = "".join(
        f"<tr><td>{html.escape(LABELS[c])}</td><td>{s['heldout'][c]['correct']} / {s['heldout'][c]['total']}</td>"
        f"<td>{s['heldout'][c]['share']:.0%}</td><td>{f'{seconds[c]:.1f} s' if c in seconds else ''}</td></tr>"
        for c in configs_of(s)
    )
    gap = "" if s.get("gap_closed") is None else (
        f"<p>Your model closes <b>{s['gap_closed']:.0%}</b> of the gap between the base model and the base model "
        f"with sources (closed-book).</p>")
    items = "".join(
        f"<tr class='{'right' if item['correct'] else 'wrong'}'><td>{html.escape(item['item_set'])}</td>"
        f"<td>{html.escape(LABELS.get(item['config'], item['config']))}</td><td>{html.escape(item['question'])}</td>"
        f"<td>{html.escape(item['reference'])}</td><td>{html.escape(item['answer'])}</td>"
        f"<td>{'right' if item['correct'] else 'wrong'}"
        + (f"<br><small>missing: {html.escape(', '.join(item['missing']))}</small>" if item["missing"] and not item["correct"] else "")
        + "</td></tr>"
        for item in report["items"]
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kwdesk evaluation {report['id']}: {html.escape(report['model_name'])}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #1a202c; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #cbd5e0; padding: 4px 8px; vertical-align: top; text-align: left; }}
tr.right td:last-child {{ color: #276749; }} tr.wrong td:last-child {{ color: #9b2c2c; }}
</style></head><body>
<h1>What {html.escape(report['model_name'])} learned</h1>
<p>Evaluation {report['id']}, {html.escape(report['created_at'][:16].replace('T', ' '))}. Base model:
{html.escape(report['base_name'])}. Held-out questions ask for trained facts in words the model never saw.</p>
{report_svg(s)}
<h2>Your documents</h2>
<table><tr><th>Model</th><th>Right</th><th>Share</th><th>Seconds an answer (this machine)</th></tr>{rows}</table>
<p>{html.escape(full_context_line(s))}{_sources_line(s)}{_sample_line(s)}</p>
{gap}
<p>Facts learned: <b>{s['facts_learned']} of {s['facts_total']}</b>.</p>
<h2>General questions (forgetting)</h2>
<p>Base model {s['probe_base']['correct']} / {s['probe_base']['total']}, your model
{s['probe_personal']['correct']} / {s['probe_personal']['total']}. Your model keeps
<b>{s['kept']['share']:.0%}</b> of the base model's right answers ({s['kept']['correct']} / {s['kept']['total']}).
On the general requests the model was trained to keep answering (replay prompts), it still gives the key points
of the base model's answer in {s['replay_kept']['correct']} of {s['replay_kept']['total']}.</p>
{_by_prompt_table(s)}
<h2>Every question</h2>
<table><tr><th>Set</th><th>Model</th><th>Question</th><th>Reference</th><th>Answer</th><th>Verdict</th></tr>{items}</table>
</body></html>
"""


def save_report(workspace: Workspace, db, eval_id: int) -> Path:
    """Write report.html and chart.svg beside the evaluated model; returns the HTML file."""
    report = load_eval(db, eval_id)
    if report is None:
        raise ValueError(f"There is no evaluation {eval_id}.")
    folder = workspace.root / "evals" / f"eval-{eval_id}"
    if report["model_id"] is not None:
        try:
            model_path = Path(get_model(db, report["model_id"]).path).resolve()
        except ModelNotRegistered:  # deleted since
            model_path = None
        if model_path is not None and workspace.root in model_path.parents:
            folder = model_path.parent / f"eval-{eval_id}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "chart.svg").write_text(report_svg(report["summary"]), encoding="utf-8")
    target = folder / "report.html"
    partial = folder / "report.html.part"
    partial.write_text(report_html(report), encoding="utf-8")
    partial.replace(target)
    return target


REPORT_SUFFIXES = (".html", ".svg", ".png")


def write_report(report: dict, path: Path, png_writer=None) -> Path:
    """An evaluation's report in the format PATH's suffix names: .html (the page), .svg (the
    chart) or .png (the chart as an image, drawn by PNG_WRITER(svg, path): Qt's renderer,
    which the core does not import). One place for the window's and the CLI's export."""
    from kwdesk.core.evaluation.results import EvaluationError

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise EvaluationError(f"A report is written as {', '.join(REPORT_SUFFIXES)}; {path.name} is none of them.")
    if suffix == ".png":
        if png_writer is None:
            raise EvaluationError("Writing the chart as PNG needs the app's image renderer.")
        png_writer(report_svg(report["summary"]), path)
    elif suffix == ".svg":
        path.write_text(report_svg(report["summary"]), encoding="utf-8")
    else:
        path.write_text(report_html(report), encoding="utf-8")
    return path
