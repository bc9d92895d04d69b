#!/usr/bin/python3
"""Writes a Polyglot Notebooks (.NET C#) .ipynb from a percent-format text file, for drafting notebooks in an editor.

    # %% [markdown]            a markdown cell (lines may start with "// " or be plain)
    # %% tags=parameters       a C# code cell with tags (comma separated)
    # %%                       a C# code cell

The .ipynb it writes is the source of truth afterwards (edit it in VS Code); this only saves hand-writing JSON.
Usage: /usr/bin/python3 notebooks/tools/percent_to_ipynb.py DRAFT.csx OUT.ipynb
"""
import hashlib
import json
import sys


def cell_id(index, text):
    return hashlib.sha1(f"{index}:{text}".encode()).hexdigest()[:12]


def lines(text):
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def convert(text):
    cells, header, body = [], None, []

    def flush():
        if header is None:
            return
        source = "\n".join(body).strip("\n")
        kind = "markdown" if "[markdown]" in header else "code"
        tags = header.split("tags=", 1)[1].split(",") if "tags=" in header else []
        if kind == "markdown":
            cell = {"cell_type": "markdown", "id": cell_id(len(cells), source), "metadata": {}, "source": lines(source)}
        else:
            metadata = {"dotnet_interactive": {"language": "csharp"}, "polyglot_notebook": {"kernelName": "csharp"}}
            if tags:
                metadata["tags"] = [t.strip() for t in tags]
            cell = {"cell_type": "code", "execution_count": None, "id": cell_id(len(cells), source),
                    "metadata": metadata, "outputs": [], "source": lines(source)}
        cells.append(cell)

    for line in text.split("\n"):
        if line.startswith("# %%"):
            flush()
            header, body = line, []
        else:
            body.append(line)
    flush()
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "C# (MedSsl)", "language": "C#", "name": "medssl-csharp"},
            "language_info": {"name": "polyglot-notebook"},
            "polyglot_notebook": {"kernelInfo": {"defaultKernelName": "csharp",
                                                 "items": [{"aliases": [], "name": "csharp"}]}},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        notebook = convert(f.read())
    with open(sys.argv[2], "w") as f:
        json.dump(notebook, f, indent=1, ensure_ascii=False)
        f.write("\n")
