"""Markdown table and derived numbers (the nq=1 ceiling) for benchmark results."""

from __future__ import annotations

import math
from typing import Any

# (header, key, format)
COLUMNS: list[tuple[str, str, str]] = [
    ("dataset", "dataset", "s"),
    ("target", "target", "s"),
    ("rows", "rows", "d"),
    ("insert rows/s (+flush)", "insert_rows_s", ",.0f"),
    ("insert-only rows/s", "insert_only_rows_s", ",.0f"),
    ("build s (index+load)", "build_s", ".1f"),
    ("nq=1 QPS", "nq1_qps", ",.0f"),
    ("nq=1 p50 ms", "nq1_p50_ms", ".3g"),
    ("nq=1 p99 ms", "nq1_p99_ms", ".3g"),
    ("nq=100 q/s", "nq100_qps", ",.0f"),
    ("recall@10", "recall", ".3f"),
    ("filtered p50 ms", "filtered_p50_ms", ".3g"),
    ("filtered recall@10", "filtered_recall", ".3f"),
    ("query p50 ms", "query_p50_ms", ".3g"),
    ("query p99 ms", "query_p99_ms", ".3g"),
    ("count(*) p50 ms", "count_p50_ms", ".3g"),
    ("RSS MiB", "rss_after_load_mib", ",.0f"),
    ("nq=1 ceiling QPS (p50)", "ceiling_qps", ",.0f"),
    ("% of ceiling (p50)", "pct_of_ceiling", ".1f"),
]


def add_ceiling(results: list[dict[str, Any]]) -> None:
    """nq=1 ceiling = 1 / (t_floor + t_faiss), from MEDIAN nq=1 latencies of `floor` and `faiss`.

    pct_of_ceiling = (1 / target's median nq=1 latency) / ceiling. Medians, because on a small shared
    machine a short burst of other work moves the mean of the brief floor run a lot; the JSON also
    has the mean-based variant (ceiling_mean_qps: t = mean latency, vs the target's nq=1 QPS).
    """
    by_key = {(r["dataset"], r["target"]): r for r in results}
    for r in results:
        floor = by_key.get((r["dataset"], "floor"), {})
        fa = by_key.get((r["dataset"], "faiss"), {})
        if r["target"] in ("floor", "faiss") or "nq1_p50_ms" not in r:
            continue
        if "nq1_p50_ms" not in floor or "nq1_p50_ms" not in fa:
            continue
        r["t_floor_p50_ms"], r["t_faiss_p50_ms"] = floor["nq1_p50_ms"], fa["nq1_p50_ms"]
        r["ceiling_qps"] = 1e3 / (floor["nq1_p50_ms"] + fa["nq1_p50_ms"])
        r["pct_of_ceiling"] = 100.0 * (1e3 / r["nq1_p50_ms"]) / r["ceiling_qps"]
        r["ceiling_mean_qps"] = 1e3 / (floor["nq1_mean_ms"] + fa["nq1_mean_ms"])
        r["pct_of_ceiling_mean"] = 100.0 * r["nq1_qps"] / r["ceiling_mean_qps"]


def _fmt(value: Any, spec: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def markdown_table(results: list[dict[str, Any]]) -> str:
    head = "| " + " | ".join(h for h, _, _ in COLUMNS) + " |"
    sep = "| " + " | ".join("---" if f == "s" else "---:" for _, _, f in COLUMNS) + " |"
    lines = [head, sep]
    for r in results:
        cells = []
        for _, key, spec in COLUMNS:
            v = r.get(key)
            if key == "target" and r.get("status") not in (None, "ok"):
                v = f"{r['target']} ({r['status']})"
            cells.append(_fmt(v, spec))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes(results: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    busy = [r for r in results if max(r.get("loadavg_1m_before", 0), r.get("loadavg_1m_after", 0)) > 1.5]
    if busy:
        out.append("- WARNING: the machine was busy with other work (1-min load average > 1.5) during "
                   + ", ".join(f"{r['dataset']}/{r['target']}" for r in busy) + ": numbers are noisy")
    for r in results:
        tag = f"{r['dataset']}/{r['target']}"
        if r.get("error"):
            out.append(f"- {tag}: FAILED: {r['error']}")
        for step, err in (r.get("errors") or {}).items():
            out.append(f"- {tag}: step {step} failed: {err}")
        if r.get("count_ok") is False:
            out.append(f"- {tag}: count(*) returned {r.get('count_value')}, expected {r.get('rows')}")
        if r.get("query_wrong_results"):
            out.append(f"- {tag}: {r['query_wrong_results']} query-by-expression answers were wrong")
        if r.get("inserted") not in (None, r.get("rows")):
            out.append(f"- {tag}: insert_count {r.get('inserted')} != rows {r.get('rows')}")
    return out
