"""Jupyter's own kernel conformance suite (jupyter_kernel_test, Debian python3-jupyter-kernel-test) against the
C# (MedSsl) kernel: every reply and iopub message is validated against the messaging protocol's schema.

usage: /usr/bin/python3 -m unittest kernel_conformance  (from this folder)
The caller (KernelConformanceTests.cs) points JUPYTER_PATH at a temporary prefix holding the kernelspec of the build
under test, so the user's installed kernelspec is never used.
"""
import unittest

import jupyter_kernel_test
from jupyter_kernel_test.msgspec_v5 import validate_message

# Replies wait 15 s by default; the first cells compile under load on a shared machine.
TIMEOUT = 120


class MedSslKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "medssl-csharp"
    language_name = "C#"
    file_extension = ".cs"

    code_hello_world = 'Console.WriteLine("hello, world");'
    code_stderr = 'Console.Error.WriteLine("oops");'

    completion_samples = [
        {"text": "Console.WriteL", "matches": {"WriteLine"}},
        {"text": "Math.Sqr", "matches": {"Sqrt"}},
    ]

    complete_code_samples = ["1 + 1", "var x = 1;", "if (true) { }", "#!time\nConsole.WriteLine(1);"]
    incomplete_code_samples = ["if (true) {", "Console.WriteLine(", "var y = new[] { 1,"]
    invalid_code_samples = ["int 3x = 1;", "1 + ;", "#!fsharp\nprintfn \"no\""]

    code_generate_error = 'throw new InvalidOperationException("boom");'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"medssl" + "!"', "result": "medssl!"},
    ]

    code_display_data = [
        {"code": 'display(HTML("<b>bold</b>"));', "mime": "text/html"},
        {"code": '"shown".Display();', "mime": "text/plain"},
    ]

    code_history_pattern = "6*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Console.WriteLine"

    def execute_helper(self, code, timeout=TIMEOUT, silent=False, store_history=True, stop_on_error=True):
        """jupyter_kernel_test's own execute_helper (same checks and schema validation) with two changes for a loaded
        2-core machine: it waited 0.1 s for each iopub message after the reply, here up to TIMEOUT for the idle status
        that ends the request; and iopub messages of earlier requests (the busy/idle of a history request that
        flush_channels' 0.1 s did not catch) are validated and skipped instead of being taken for this request's."""
        msg_id = self.kc.execute(code=code, silent=silent, store_history=store_history, stop_on_error=stop_on_error)
        reply = self.get_non_kernel_info_reply(timeout=timeout)
        validate_message(reply, "execute_reply", msg_id)

        def next_iopub():
            while True:
                msg = self.kc.get_iopub_msg(timeout=timeout)
                validate_message(msg, msg["msg_type"], msg_id)
                if msg["parent_header"].get("msg_id") == msg_id:
                    return msg

        busy_msg = next_iopub()
        validate_message(busy_msg, "status", msg_id)
        self.assertEqual(busy_msg["content"]["execution_state"], "busy")
        output_msgs = []
        while True:
            msg = next_iopub()
            if msg["msg_type"] == "status":
                self.assertEqual(msg["content"]["execution_state"], "idle")
                break
            elif msg["msg_type"] == "execute_input":
                self.assertEqual(msg["content"]["code"], code)
                continue
            output_msgs.append(msg)
        return reply, output_msgs

    def get_non_kernel_info_reply(self, timeout=None):
        return super().get_non_kernel_info_reply(timeout=timeout or TIMEOUT)

    def history_helper(self, execute_first, timeout=TIMEOUT, **histargs):
        return super().history_helper(execute_first, timeout, **histargs)


if __name__ == "__main__":
    unittest.main()
