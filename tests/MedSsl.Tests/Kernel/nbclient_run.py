"""Executes a notebook through the C# (MedSsl) kernel with Debian's nbclient for KernelTests.cs.

usage: /usr/bin/python3 nbclient_run.py NOTEBOOK OUTPUT
The kernel is the one the notebook's metadata names (nbclient reads metadata.kernelspec.name). Writes the executed
notebook to OUTPUT after nbformat validated it, and prints one JSON object: {"ok": true} or the CellExecutionError.
"""
import json
import os
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

source, output = sys.argv[1:]
notebook = nbformat.read(source, as_version=4)
client = NotebookClient(notebook, timeout=120, startup_timeout=60,
                        resources={"metadata": {"path": os.path.dirname(os.path.abspath(source))}})
result = {"ok": True, "kernel_name": None}
try:
    client.execute()
except CellExecutionError as error:
    result = {"ok": False, "error": type(error).__name__, "ename": error.ename, "evalue": error.evalue}
result["kernel_name"] = client.kernel_name
nbformat.validate(notebook)
nbformat.write(notebook, output)
print(json.dumps(result))
