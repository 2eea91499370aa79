"""Figures files: flat JSON objects under .bench/ that bench and reliability runs merge into."""

import json
import os

from host.mpy import ROOT

BENCH_DIR = os.path.join(ROOT, ".bench")


def merge(name, figures):
    """Merge a dict of figures into .bench/<name> (results.json or reliability.json)."""
    os.makedirs(BENCH_DIR, exist_ok=True)
    path = os.path.join(BENCH_DIR, name)
    data = {}
    if os.path.exists(path):
        try:
            with open(path) as f:
                data = json.load(f)
        except ValueError:
            data = {}
    data.update(figures)
    with open(path, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    return path


def table(rows, columns):
    """Render rows (dicts) as a Markdown table with the given column keys."""
    head = "| " + " | ".join(columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    lines = [head, sep]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)
