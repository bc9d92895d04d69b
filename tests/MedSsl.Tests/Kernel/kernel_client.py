"""Drives the C# (MedSsl) kernel with Debian's jupyter_client for KernelTests.cs.

usage: /usr/bin/python3 kernel_client.py SCENARIO [ARG]
Prints one JSON object of observations on stdout; the C# test asserts on it. Every wait is bounded (TIMEOUT).
The caller points JUPYTER_PATH (and the other JUPYTER_* folders) at a temporary prefix holding the kernelspec.
"""
import json
import os
import signal
import sys
import time
import uuid

import zmq
from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session

KERNEL = "medssl-csharp"
TIMEOUT = 60


def start():
    return start_new_kernel(kernel_name=KERNEL, startup_timeout=TIMEOUT)


# A shell that starts a job in the background (without job control) leaves SIGINT ignored, and an ignored signal stays
# ignored across exec into the kernel, which then never sees the SIGINT the lifecycle scenario sends. Front ends run
# kernels with SIGINT at its default: give the kernels we launch the same.
signal.signal(signal.SIGINT, signal.default_int_handler)


def collect(kc, msg_id, timeout=TIMEOUT):
    """iopub messages answering msg_id up to its idle status, then its shell reply."""
    deadline = time.monotonic() + timeout
    outputs, statuses = [], []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no idle status for {msg_id} within {timeout} s")
        msg = kc.get_iopub_msg(timeout=remaining)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "status":
            statuses.append(msg["content"]["execution_state"])
            if msg["content"]["execution_state"] == "idle":
                break
        else:
            outputs.append({"type": kind, "content": msg["content"]})
    # jupyter_client's wait_for_ready re-sends kernel_info_request every second until one is answered, so on a
    # loaded machine a late kernel_info_reply can still be queued here: skip replies to kernel_info only.
    while True:
        reply = kc.get_shell_msg(timeout=max(1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            break
        assert reply["msg_type"] == "kernel_info_reply", f"shell reply to another request: {reply['msg_type']}"
    return {"reply": reply["content"], "outputs": outputs, "statuses": statuses}


def execute(kc, code, timeout=TIMEOUT):
    return collect(kc, kc.execute(code), timeout)


def heartbeat(km):
    """The bytes the heartbeat socket echoes to a ping, or None when it stays silent for 5 s."""
    info = km.get_connection_info(session=False)
    socket = zmq.Context.instance().socket(zmq.REQ)
    socket.linger = 0
    socket.connect(f"tcp://{info['ip']}:{info['hb_port']}")
    socket.send(b"medssl-ping")
    echoed = socket.recv().decode() if socket.poll(timeout=5000) else None
    socket.close()
    return echoed


def scenario_session(lib_dll):
    km, kc = start()
    try:
        seen = {}
        info_id = kc.kernel_info()
        seen["kernel_info"] = collect(kc, info_id)
        cells = {
            "define": "var x = 20;",
            "result": "x + 22",
            "streams": 'Console.WriteLine("to stdout");\nConsole.Error.WriteLine("to stderr");',
            "compile_error": "var fine = 1;\nvar y = undefinedName;",
            "runtime_error": "int zero = 0;\nvar z = 1 / zero;",
            "after_errors": "x",
            "display": 'var shown = display("first");\nshown.Update("second");',
            "chart": f'#r "{lib_dll}"\nusing MedSsl.Reports;\n'
                     'Charts.Scatter(new double[] { 1, 2 }, new double[] { 3, 4 }, new[] { "a", "a" }, "toy")',
            "table": 'var runs = new Microsoft.Data.Analysis.DataFrame(new Microsoft.Data.Analysis.DoubleDataFrameColumn("Accuracy", new[] { 0.5 }));\nruns',
            "default_context": "System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(Charts).Assembly) == "
                               "System.Runtime.Loader.AssemblyLoadContext.Default",
            "ambient_token": "MedSsl.Training.RunCancellation.Current == Cancellation",
        }
        for name, code in cells.items():
            seen[name] = execute(kc, code)
        # Console.ReadLine in a cell asks the front end on the stdin channel.
        msg_id = kc.execute('var name = Console.ReadLine();\nConsole.WriteLine($"hello {name}");', allow_stdin=True)
        request = kc.get_stdin_msg(timeout=TIMEOUT)
        seen["input_request"] = {"type": request["msg_type"], "parent": request["parent_header"]["msg_id"] == msg_id}
        kc.input("medssl")
        seen["input"] = collect(kc, msg_id)
        seen["heartbeat"] = heartbeat(km)
        seen["is_complete_open"] = collect(kc, kc.is_complete("if (x > 1) {"))
        seen["is_complete_done"] = collect(kc, kc.is_complete("x + 1"))
        seen["complete_member"] = collect(kc, kc.complete("Console.WriteL"))
        seen["complete_state"] = collect(kc, kc.complete("var other = runs.Colu"))
        return seen
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def inspect(kc, code, cursor_pos=None):
    return collect(kc, kc.inspect(code, cursor_pos=len(code) if cursor_pos is None else cursor_pos))


def scenario_conventions(lib_dll, folder):
    """.NET notebook habits: #r "nuget:" (from the NuGet.config in FOLDER, the kernel's working folder), #!time,
    #!lsmagic, x.Display(), a top-level using var, and Shift+Tab help (inspect) on a library symbol."""
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=TIMEOUT, cwd=folder)
    try:
        seen = {}
        cells = {
            "nuget": '#r "nuget: MedSslNugetProbe, 1.0.0"\nMedSslNugetProbe.Probe.Hello("medssl")',
            "nuget_later_cell": 'MedSslNugetProbe.Probe.Hello("again")',
            "nuget_missing": '// a package no source has\n#r "nuget: MedSsl.No.Such.Package, 9.9.9"',
            "time": '#!time\nawait Task.Delay(300);\nConsole.WriteLine("timed");',
            "lsmagic": "#!lsmagic",
            "unknown_magic": '#!fsharp\nprintfn "no"',
            "display_extension": 'var handle = "shown".Display();\nhandle.Update("updated");\n"again".Display()',
            "using_declare": 'class Probe : IDisposable { public bool Disposed; public void Dispose() => Disposed = true; }',
            "using_var": 'using var probe = new Probe(); using Probe second = new Probe();\nprobe.Disposed',
            "using_after": 'probe.Disposed && second.Disposed',
            "using_in_block": 'var inner = new Probe();\n{ using var scoped = inner; }\ninner.Disposed',
            "define_lib": f'#r "{lib_dll}"\nvar plan = MedSsl.Experiments.SeedPlan.Evaluation(5);',
        }
        for name, code in cells.items():
            seen[name] = execute(kc, code, timeout=300)
        seen["inspect_lib"] = inspect(kc, "MedSsl.Experiments.SeedPlan.Evaluation")
        seen["inspect_call"] = inspect(kc, "MedSsl.Experiments.SeedPlan.Evaluation(3", len("MedSsl.Experiments.SeedPlan.Evaluation("))
        seen["inspect_variable"] = inspect(kc, "plan")
        seen["inspect_nothing"] = inspect(kc, "  ")
        return seen
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def scenario_interrupt(lib_dll):
    km, kc = start()
    try:
        seen = {"define": execute(kc, f'#r "{lib_dll}"\nvar kept = "still here";')}
        for name, code in [
            ("delay", 'Console.WriteLine("running");\nawait Task.Delay(60_000, Cancellation);'),
            # A library loop watches the ambient token rather than the global.
            ("ambient", 'Console.WriteLine("running");\n'
                        "while (true) { MedSsl.Training.RunCancellation.Current.ThrowIfCancellationRequested(); System.Threading.Thread.Sleep(5); }"),
        ]:
            msg_id = kc.execute(code)
            # The cell is running (compiled, its first line done) once it has written to stdout.
            deadline = time.monotonic() + TIMEOUT
            while True:
                msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                    break
            started = time.monotonic()
            km.interrupt_kernel()
            reply = kc.get_shell_msg(timeout=TIMEOUT)
            seen[name] = {"reply": reply["content"], "seconds": time.monotonic() - started}
        seen["after"] = execute(kc, "kept")
        return seen
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def scenario_run_all():
    """Three cells sent at once, as JupyterLab's Run All does; the second fails."""
    km, kc = start()
    try:
        ids = [kc.execute(code) for code in
               ['var ran = "first";', 'throw new InvalidOperationException("stop here");', 'Console.WriteLine("must not run");']]
        return {"cells": [collect(kc, msg_id) for msg_id in ids], "after": execute(kc, "ran")}
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def scenario_bad_signature():
    km, kc = start()
    try:
        info = km.get_connection_info(session=False)
        forged = Session(key=b"not-the-key", signature_scheme="hmac-sha256")
        context = zmq.Context.instance()
        socket = context.socket(zmq.DEALER)
        socket.linger = 0
        socket.connect(f"tcp://{info['ip']}:{info['shell_port']}")
        forged.send(socket, "execute_request", {"code": "var forged = 1;", "silent": False, "store_history": True,
                                                "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        # A good request sent after the forged one is answered, and the forged cell never ran.
        seen = {"good": execute(kc, "forged")}
        seen["forged_answered"] = socket.poll(timeout=500) != 0
        socket.close()
        return seen
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def scenario_malformed():
    """Correctly signed requests with fields of the wrong JSON type: each gets an error reply (or, without a usable
    header, is dropped) and the kernel answers the next good request."""
    km, kc = start()
    try:
        info = km.get_connection_info(session=False)
        socket = zmq.Context.instance().socket(zmq.DEALER)
        socket.linger = 0
        socket.connect(f"tcp://{info['ip']}:{info['shell_port']}")
        session = kc.session

        def send_raw(header, content):
            parts = [json.dumps(header).encode(), b"{}", b"{}", json.dumps(content).encode()]
            socket.send_multipart([b"<IDS|MSG>", session.sign(parts)] + parts)
            if socket.poll(timeout=TIMEOUT * 1000) == 0:
                return None
            frames = socket.recv_multipart()
            at = frames.index(b"<IDS|MSG>")
            return {"type": json.loads(frames[at + 2])["msg_type"], "content": json.loads(frames[at + 5])}

        def header(msg_type, **changes):
            h = {"msg_id": uuid.uuid4().hex, "session": session.session, "username": "test", "date": "2026-01-01T00:00:00Z",
                 "msg_type": msg_type, "version": "5.3"}
            h.update(changes)
            return h

        seen = {
            "numeric_username": send_raw(header("execute_request", username=7), {"code": "1"}),
            "numeric_code": send_raw(header("execute_request"), {"code": 5, "silent": False}),
            "string_silent": send_raw(header("execute_request"), {"code": "1", "silent": "no"}),
            "numeric_restart": send_raw(header("shutdown_request"), {"restart": 3}),
            "object_cursor": send_raw(header("complete_request"), {"code": "Con", "cursor_pos": {"a": 1}}),
            "unknown_request": send_raw(header("bogus_request"), {}),
        }
        # A numeric msg_type has no reply type: it is dropped, and the kernel lives on.
        parts = [json.dumps(header(5)).encode(), b"{}", b"{}", b"{}"]
        socket.send_multipart([b"<IDS|MSG>", session.sign(parts)] + parts)
        seen["numeric_type_answered"] = socket.poll(timeout=1000) != 0
        socket.close()
        seen["after"] = execute(kc, "40 + 2")
        return seen
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def scenario_lifecycle():
    km, kc = start()
    seen = {"define": execute(kc, "var before = 1;")}
    process = km.provisioner.process
    # SIGINT (which jupyter_client sends around shutdowns) must not end the kernel.
    os.kill(process.pid, signal.SIGINT)
    # .NET runs signal handlers on another thread, some time after delivery: give the handler (and, had it not
    # cancelled, the default termination) time to happen before asking whether the kernel lived through it.
    time.sleep(1.0)
    seen["after_sigint"] = execute(kc, "before + 1")
    started = time.monotonic()
    km.restart_kernel(now=False)
    seen["restart_seconds"] = time.monotonic() - started
    seen["old_exit_code"] = process.wait(timeout=TIMEOUT)
    kc.wait_for_ready(timeout=TIMEOUT)
    seen["after_restart"] = execute(kc, "before")
    process = km.provisioner.process
    # A cell that never looks at Cancellation is running: shutdown is answered on the control channel anyway.
    hang_id = kc.execute("Thread.Sleep(600_000);")
    deadline = time.monotonic() + TIMEOUT
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == hang_id and msg["msg_type"] == "execute_input":
            break
    started = time.monotonic()
    km.shutdown_kernel(now=False)
    seen["shutdown_seconds"] = time.monotonic() - started
    seen["exit_code"] = process.wait(timeout=TIMEOUT)
    kc.stop_channels()
    return seen


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    result = globals()["scenario_" + name.replace("-", "_")](*args)
    print(json.dumps(result))
