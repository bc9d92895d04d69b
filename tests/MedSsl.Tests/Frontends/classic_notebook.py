"""Runs a two-chart C# notebook through Debian's classic Jupyter Notebook server and looks at it in headless
Chromium, for FrontEndTests.cs.

usage: /usr/bin/python3 classic_notebook.py LIB_DLL WORK_DIR
The caller points JUPYTER_PATH (and the other JUPYTER_* folders) at a temporary prefix holding the kernelspec, so the
server starts the C# (MedSsl) kernel from this checkout and writes nothing into the user's Jupyter folders.
Steps: start `python3 -m notebook` (token, no browser, WORK_DIR as its root); open a session on the notebook (the
server starts the kernel); execute each code cell over the server's kernel websocket (tornado's client, as the page
does); save the outputs through the contents API with the cells marked trusted, so the server signs the notebook as
its own page would; open /notebooks/<name> in headless Chromium and dump the DOM the page built; convert the saved
notebook with nbconvert to HTML and dump that too; open an unsigned copy (untrusted) as well. Prints one JSON object.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import nbformat
from nbformat.sign import NotebookNotary
from nbformat import v4
from tornado import ioloop, websocket

TIMEOUT = 120
CHROMIUM = "/usr/bin/chromium"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_notebook(lib_dll):
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "C# (MedSsl)", "language": "C#", "name": "medssl-csharp"}
    nb.cells = [
        v4.new_markdown_cell("# Two charts\nThe first chart of a session carries plotly.js; the second waits for it."),
        v4.new_code_cell(f'#r "{lib_dll}"\nusing MedSsl.Reports;\n'
                         'Charts.Scatter(new double[] { 0, 1 }, new double[] { 1, 0 }, new[] { "a", "b" }, "first chart")'),
        v4.new_code_cell('display(Charts.Scatter(new double[] { 0, 1, 2 }, new double[] { 2, 1, 0 }, new[] { "a", "a", "b" }, "second chart"));'),
    ]
    return nb


def api(base, token, method, path, body=None):
    request = urllib.request.Request(f"{base}{path}?token={token}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        text = response.read()
        return json.loads(text) if text else None


def wait_for_server(base, token, server):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the notebook server exited with {server.returncode}")
        try:
            return api(base, token, "GET", "/api/status")
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("the notebook server did not answer")


async def execute_cells(ws_url, cells):
    """Each code cell as an execute_request over the kernel's websocket; its outputs from iopub until idle."""
    connection = await websocket.websocket_connect(ws_url)
    session = uuid.uuid4().hex
    for cell in cells:
        msg_id = uuid.uuid4().hex
        connection.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": session, "msg_type": "execute_request",
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": cell.source, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
        cell.outputs, replied, idle = [], False, False
        while not (replied and idle):
            text = await connection.read_message()
            if text is None:
                raise RuntimeError("the kernel websocket closed")
            msg = json.loads(text)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "execute_reply":
                replied = True
                cell.execution_count = msg["content"].get("execution_count")
                if msg["content"]["status"] != "ok":
                    raise RuntimeError(f"cell failed: {msg['content']}")
            elif kind == "status":
                idle = msg["content"]["execution_state"] == "idle"
            elif kind in ("stream", "display_data", "execute_result", "error"):
                cell.outputs.append(v4.output_from_msg(msg))
        cell.metadata["trusted"] = True
    connection.close()


def dump_dom(url, profile):
    result = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             f"--user-data-dir={profile}", "--window-size=1400,1000", "--virtual-time-budget=30000", "--dump-dom", url],
                            capture_output=True, text=True, timeout=TIMEOUT)
    return result.stdout


def look(dom):
    """What a page shows (the DOM as the page's scripts left it; script sources are not counted): chart divs drawn by
    plotly.js (it adds the class js-plotly-plot), their drawn widths, and chart divs showing a message instead."""
    tags = re.findall(r"<div[^>]*data-medssl-plotly[^>]*>", dom)
    return {
        "chart_divs": len(tags),
        "drawn": sum("js-plotly-plot" in tag for tag in tags),
        "widths": [float(w) for w in re.findall(r'<svg class="main-svg"[^>]*? width="([0-9.]+)"', dom)[::2]],
        "not_arrived": dom.count(">plotly.js did not arrive"),
        "fallbacks": len(re.findall(r'>chart "[^"<]*" with \d+ traces? \(not drawn', dom)),
        "titles": sorted(set(re.findall(r"(first chart|second chart)", dom))),
    }


def main():
    lib_dll, work = sys.argv[1:]
    root = os.path.join(work, "notebooks")
    os.makedirs(root, exist_ok=True)
    nbformat.write(make_notebook(lib_dll), os.path.join(root, "charts.ipynb"))
    port, token = free_port(), uuid.uuid4().hex
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([sys.executable, "-m", "notebook", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
                               f"--NotebookApp.token={token}", f"--notebook-dir={root}", "--NotebookApp.open_browser=False"]
                              + (["--allow-root"] if os.geteuid() == 0 else []),
                              stdout=log, stderr=subprocess.STDOUT, cwd=root)
    seen = {}
    try:
        seen["server"] = wait_for_server(base, token, server) is not None
        session = api(base, token, "POST", "/api/sessions",
                      {"path": "charts.ipynb", "type": "notebook", "kernel": {"name": "medssl-csharp"}})
        kernel = session["kernel"]["id"]
        nb = nbformat.read(os.path.join(root, "charts.ipynb"), as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        ioloop.IOLoop.current().run_sync(
            lambda: execute_cells(f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels?token={token}", code),
            timeout=TIMEOUT)
        seen["outputs"] = [[sorted(o.get("data", {}).keys()) for o in c.outputs] for c in code]
        seen["plotly_inlined"] = [sum(o.get("data", {}).get("text/html", "").count("* plotly.js v") for o in c.outputs) for c in code]
        api(base, token, "PUT", "/api/contents/charts.ipynb", {"type": "notebook", "format": "json", "content": nb})
        saved = nbformat.read(os.path.join(root, "charts.ipynb"), as_version=4)
        seen["signed"] = NotebookNotary().check_signature(saved)
        profile = os.path.join(work, "chromium")
        seen["classic"] = look(dump_dom(f"{base}/notebooks/charts.ipynb?token={token}", profile))
        # The same outputs in a copy the notary has not seen: the page runs none of its scripts.
        shutil.copy(os.path.join(root, "charts.ipynb"), os.path.join(root, "untrusted.ipynb"))
        untrusted = nbformat.read(os.path.join(root, "untrusted.ipynb"), as_version=4)
        untrusted.metadata["copy"] = True  # a different signature
        nbformat.write(untrusted, os.path.join(root, "untrusted.ipynb"))
        seen["untrusted"] = look(dump_dom(f"{base}/notebooks/untrusted.ipynb?token={token}", profile))
        # nbconvert's HTML of the executed notebook, opened from disk with networking off.
        subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", "--output-dir", work,
                        os.path.join(root, "charts.ipynb")], check=True, capture_output=True, timeout=TIMEOUT)
        seen["nbconvert"] = look(dump_dom("file://" + os.path.join(work, "charts.html"), profile))
        api(base, token, "DELETE", f"/api/sessions/{session['id']}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    print(json.dumps(seen))


main()
