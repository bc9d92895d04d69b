"""Starts the C# (MedSsl) kernel with Debian's jupyter_client and prints its kernel_info reply's content (one JSON
object), for FrontEndTests.cs. The caller points JUPYTER_PATH at a temporary prefix holding the kernelspec."""
import json

from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name="medssl-csharp", startup_timeout=60)
try:
    kc.kernel_info()
    reply = kc.get_shell_msg(timeout=60)
    while reply["msg_type"] != "kernel_info_reply":
        reply = kc.get_shell_msg(timeout=60)
    print(json.dumps(reply["content"]))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
