using System.Text.Json.Nodes;
using MedSsl.Tests.Runner;

namespace MedSsl.Tests.Kernel;

/// <summary>One kernel, driven by jupyter_client through many kinds of cell (kernel_client.py, scenario "session");
/// each fact below checks one part of what it saw.</summary>
public sealed class KernelSessionFixture
{
    public JupyterClients Clients { get; } = new();
    private readonly Lazy<JupyterClients.Result> session;

    public KernelSessionFixture() =>
        session = new(() => Clients.RunScript("kernel_client.py", "session", JupyterClients.LibraryDll));

    public JsonObject Step(string name) => (JsonObject)session.Value.Json[name]!;

    public string? Value(string name) => session.Value.Json[name]?.GetValue<string>();
}

public sealed class KernelTests(KernelSessionFixture fixture) : IClassFixture<KernelSessionFixture>
{
    private static JsonObject Reply(JsonObject step) => (JsonObject)step["reply"]!;

    private static List<JsonObject> Outputs(JsonObject step, string type) =>
        step["outputs"]!.AsArray().OfType<JsonObject>().Where(o => o["type"]!.GetValue<string>() == type)
            .Select(o => (JsonObject)o["content"]!).ToList();

    private static string Text(JsonNode? node) => node!.GetValue<string>();

    private static IEnumerable<string> Strings(JsonNode? array) => array!.AsArray().Select(Text);

    [Fact]
    public void Kernel_info_speaks_protocol_5_3_in_csharp()
    {
        var info = Reply(fixture.Step("kernel_info"));
        Assert.Equal("5.3", Text(info["protocol_version"]));
        Assert.Equal("C#", Text(info["language_info"]!["name"]));
        Assert.Equal(".cs", Text(info["language_info"]!["file_extension"]));
    }

    [Fact]
    public void Heartbeat_echoes()
    {
        Assert.Equal("medssl-ping", fixture.Value("heartbeat"));
    }

    [Fact]
    public void Every_request_is_framed_by_busy_then_idle()
    {
        foreach (var name in new[] { "kernel_info", "define", "compile_error", "is_complete_open", "complete_member" })
            Assert.Equal(["busy", "idle"], Strings(fixture.Step(name)["statuses"]));
    }

    [Fact]
    public void State_lives_across_cells_and_errors_with_counting_executions()
    {
        Assert.Equal(1, Reply(fixture.Step("define"))["execution_count"]!.GetValue<int>());
        var result = Outputs(fixture.Step("result"), "execute_result").Single();
        Assert.Equal(2, result["execution_count"]!.GetValue<int>());
        Assert.Equal("42", Text(result["data"]!["text/plain"]));
        var after = Outputs(fixture.Step("after_errors"), "execute_result").Single();
        Assert.Equal("20", Text(after["data"]!["text/plain"]));
        Assert.Equal(6, Reply(fixture.Step("after_errors"))["execution_count"]!.GetValue<int>());
        Assert.Equal("var x = 20;", Text(Outputs(fixture.Step("define"), "execute_input").Single()["code"]));
    }

    [Fact]
    public void Console_writes_arrive_as_stdout_and_stderr_streams()
    {
        var streams = Outputs(fixture.Step("streams"), "stream");
        Assert.Equal("to stdout\n", string.Concat(streams.Where(s => Text(s["name"]) == "stdout").Select(s => Text(s["text"]))));
        Assert.Equal("to stderr\n", string.Concat(streams.Where(s => Text(s["name"]) == "stderr").Select(s => Text(s["text"]))));
    }

    [Fact]
    public void Compile_error_names_the_cell_line_in_reply_and_error_message()
    {
        var step = fixture.Step("compile_error");
        var reply = Reply(step);
        Assert.Equal("error", Text(reply["status"]));
        Assert.Equal("CompilationError", Text(reply["ename"]));
        Assert.Contains("cell 4, line 2: CS0103", Text(reply["evalue"]));
        var error = Outputs(step, "error").Single();
        Assert.Contains(Strings(error["traceback"]), line => line.Contains("cell 4, line 2") && line.Contains("undefinedName"));
    }

    [Fact]
    public void Runtime_error_traceback_points_at_the_cell_line()
    {
        var reply = Reply(fixture.Step("runtime_error"));
        Assert.Equal("DivideByZeroException", Text(reply["ename"]));
        Assert.StartsWith("cell 5, line 2:", Text(reply["evalue"]));
        Assert.Contains(Strings(reply["traceback"]), line => line.Contains("cell 5:line 2"));
    }

    [Fact]
    public void Display_then_update_share_one_display_id()
    {
        var step = fixture.Step("display");
        var shown = Outputs(step, "display_data").Single();
        var updated = Outputs(step, "update_display_data").Single();
        Assert.Equal("first", Text(shown["data"]!["text/plain"]));
        Assert.Equal("second", Text(updated["data"]!["text/plain"]));
        var id = Text(shown["transient"]!["display_id"]);
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal(id, Text(updated["transient"]!["display_id"]));
    }

    [Fact]
    public void A_figure_is_shown_as_plotly_json_and_a_results_table_as_html()
    {
        var figure = Outputs(fixture.Step("chart"), "execute_result").Single()["data"]!;
        var plotly = figure["application/vnd.plotly.v1+json"]!;
        Assert.Equal("scatter", Text(plotly["data"]![0]!["type"]));
        Assert.Equal("toy", Text(plotly["layout"]!["title"]!["text"]));
        var table = Outputs(fixture.Step("table"), "execute_result").Single()["data"]!;
        Assert.Contains("<table class=\"medssl-results\">", Text(table["text/html"]));
    }

    [Fact]
    public void Referenced_dlls_load_into_the_default_context_and_share_the_cells_cancellation()
    {
        Assert.Equal("True", Text(Outputs(fixture.Step("default_context"), "execute_result").Single()["data"]!["text/plain"]));
        Assert.Equal("True", Text(Outputs(fixture.Step("ambient_token"), "execute_result").Single()["data"]!["text/plain"]));
    }

    [Fact]
    public void Console_read_line_asks_the_front_end_on_stdin()
    {
        Assert.Equal("input_request", Text(fixture.Step("input_request")["type"]));
        Assert.True(fixture.Step("input_request")["parent"]!.GetValue<bool>());
        var streams = Outputs(fixture.Step("input"), "stream");
        Assert.Equal("hello medssl\n", string.Concat(streams.Select(s => Text(s["text"]))));
    }

    [Fact]
    public void Is_complete_and_completion_come_from_roslyn()
    {
        Assert.Equal("incomplete", Text(Reply(fixture.Step("is_complete_open"))["status"]));
        Assert.Equal("complete", Text(Reply(fixture.Step("is_complete_done"))["status"]));
        var member = Reply(fixture.Step("complete_member"));
        Assert.Contains("WriteLine", Strings(member["matches"]));
        Assert.Equal(("Console.".Length, "Console.WriteL".Length),
            (member["cursor_start"]!.GetValue<int>(), member["cursor_end"]!.GetValue<int>()));
        // A variable of an earlier cell completes: completion sees the session's state.
        Assert.Contains("Columns", Strings(Reply(fixture.Step("complete_state"))["matches"]));
    }
}

/// <summary>Kernel behaviours that need a kernel of their own: interrupt, signatures, restart, shutdown, SIGINT.</summary>
public sealed class KernelLifecycleTests(KernelSessionFixture fixture) : IClassFixture<KernelSessionFixture>
{
    private static string Text(JsonNode? node) => node!.GetValue<string>();

    [Fact]
    public void Interrupt_stops_a_waiting_cell_and_a_library_loop_within_a_second_and_keeps_the_state()
    {
        var seen = fixture.Clients.RunScript("kernel_client.py", "interrupt", JupyterClients.LibraryDll).Json;
        foreach (var name in new[] { "delay", "ambient" })
        {
            var reply = seen[name]!["reply"]!;
            Assert.Equal("error", Text(reply["status"]));
            Assert.Equal("Interrupted", Text(reply["ename"]));
            // The line the cell was at (line 2 of each, after the defining cell 1).
            Assert.Equal(name == "delay" ? "cell 2, line 2: interrupted" : "cell 3, line 2: interrupted", Text(reply["evalue"]));
            var seconds = seen[name]!["seconds"]!.GetValue<double>();
            Assert.True(seconds < 1.0, $"{name}: the interrupted cell answered after {seconds:0.00} s");
        }
        Assert.Equal("still here", Text(seen["after"]!["outputs"]!.AsArray().Last()!["content"]!["data"]!["text/plain"]));
    }

    [Fact]
    public void Cells_queued_behind_a_failing_one_are_aborted_not_run()
    {
        var seen = fixture.Clients.RunScript("kernel_client.py", "run-all").Json;
        var cells = seen["cells"]!.AsArray();
        Assert.Equal(["ok", "error", "aborted"], cells.Select(c => Text(c!["reply"]!["status"])));
        Assert.DoesNotContain(cells[2]!["outputs"]!.AsArray(), o => Text(o!["type"]) == "stream");
        Assert.Equal("first", Text(seen["after"]!["outputs"]!.AsArray().Last()!["content"]!["data"]!["text/plain"]));
    }

    [Fact]
    public void A_message_with_a_wrong_signature_is_dropped_and_logged_and_the_next_good_one_is_answered()
    {
        var (seen, stderr) = fixture.Clients.RunScript("kernel_client.py", "bad-signature");
        Assert.False(seen["forged_answered"]!.GetValue<bool>());
        // The forged cell declared 'forged'; the good cell finding no such name proves the forged one never ran.
        var good = seen["good"]!["reply"]!;
        Assert.Equal("CompilationError", Text(good["ename"]));
        Assert.Contains("'forged' does not exist", Text(good["evalue"]));
        Assert.Equal(1, good["execution_count"]!.GetValue<int>());
        Assert.Contains("shell: dropped a message: invalid signature", stderr);
    }

    [Fact]
    public void Signed_requests_with_fields_of_the_wrong_type_get_error_replies_and_the_kernel_lives_on()
    {
        var (seen, stderr) = fixture.Clients.RunScript("kernel_client.py", "malformed");
        foreach (var (name, reply, field) in new[]
        {
            ("numeric_username", "execute_reply", "header field 'username' is Number"),
            ("numeric_code", "execute_reply", "content field 'code' is Number"),
            ("string_silent", "execute_reply", "content field 'silent' is String"),
            ("numeric_restart", "shutdown_reply", "content field 'restart' is Number"),
            ("object_cursor", "complete_reply", "content field 'cursor_pos'"),
            ("unknown_request", "bogus_reply", "bogus_request is not handled"),
        })
        {
            Assert.True(seen[name] is not null, $"{name}: no reply");
            Assert.Equal(reply, Text(seen[name]!["type"]));
            Assert.Equal("error", Text(seen[name]!["content"]!["status"]));
            Assert.Contains(field, Text(seen[name]!["content"]!["evalue"]));
        }
        Assert.False(seen["numeric_type_answered"]!.GetValue<bool>());
        Assert.Contains("dropped a message: header field 'msg_type' is Number", stderr);
        Assert.Equal("ok", Text(seen["after"]!["reply"]!["status"]));
        Assert.Equal("42", Text(seen["after"]!["outputs"]!.AsArray().Last()!["content"]!["data"]!["text/plain"]));
    }

    [Fact]
    public void Sigint_is_survived_restart_starts_fresh_and_shutdown_ends_the_process_during_a_long_cell()
    {
        var (seen, stderr) = fixture.Clients.RunScript("kernel_client.py", "lifecycle");
        Assert.Equal("2", Text(seen["after_sigint"]!["outputs"]!.AsArray().Last()!["content"]!["data"]!["text/plain"]));
        Assert.Contains("SIGINT ignored", stderr);
        // Exit code 0, not a kill by jupyter_client after its 5 s grace: the kernel ended itself when asked.
        Assert.Equal(0, seen["old_exit_code"]!.GetValue<int>());
        Assert.Equal(0, seen["exit_code"]!.GetValue<int>());
        Assert.True(seen["shutdown_seconds"]!.GetValue<double>() < 3, $"shutdown took {seen["shutdown_seconds"]} s");
        var restarted = seen["after_restart"]!["reply"]!;
        Assert.Equal(1, restarted["execution_count"]!.GetValue<int>());
        Assert.Contains("'before' does not exist", Text(restarted["evalue"]));
    }
}

/// <summary>nbclient executes notebooks through the kernel the notebook's metadata names.</summary>
public sealed class NbclientTests(KernelSessionFixture fixture) : IClassFixture<KernelSessionFixture>
{
    /// <summary>nbformat stores multi-line text as a list of lines.</summary>
    private static string Text(JsonNode? node) =>
        node is JsonArray lines ? string.Concat(lines.Select(l => l!.GetValue<string>())) : node!.GetValue<string>();

    private (JsonObject Result, JsonObject Notebook, string Path) Execute(string notebook)
    {
        var output = Path.Combine(fixture.Clients.Root, Path.GetFileNameWithoutExtension(notebook) + ".executed.ipynb");
        var result = fixture.Clients.RunScript("nbclient_run.py", notebook, output).Json;
        return (result, (JsonObject)JsonNode.Parse(File.ReadAllText(output))!, output);
    }

    private static List<JsonObject> CodeCells(JsonObject notebook) =>
        notebook["cells"]!.AsArray().OfType<JsonObject>().Where(c => Text(c["cell_type"]) == "code").ToList();

    [Fact]
    public void Nbclient_runs_the_fixture_notebook_and_nbformat_accepts_the_result()
    {
        var (result, notebook, path) = Execute(JupyterClients.Fixture("kernel-basics.ipynb"));
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Equal("medssl-csharp", Text(result["kernel_name"]));
        Medssl.AssertValidNotebook(path);
        var cells = CodeCells(notebook);
        Assert.Equal([1, 2, 3], cells.Select(c => c["execution_count"]!.GetValue<int>()));
        Assert.Equal("hello from the kernel\n", Text(cells[0]["outputs"]![0]!["text"]));
        Assert.Equal("42", Text(cells[1]["outputs"]![0]!["data"]!["text/plain"]));
        var rich = cells[2]["outputs"]!.AsArray();
        Assert.NotNull(rich[0]!["data"]!["application/vnd.plotly.v1+json"]);
        Assert.Contains("<table class=\"medssl-results\">", Text(rich[1]!["data"]!["text/html"]));
        Assert.Equal("C#", Text(notebook["metadata"]!["language_info"]!["name"]));
    }

    [Fact]
    public void A_failing_cell_raises_cell_execution_error_naming_the_cell_line()
    {
        var (result, notebook, _) = Execute(JupyterClients.Fixture("kernel-failing.ipynb"));
        Assert.False(result["ok"]!.GetValue<bool>());
        Assert.Equal("CellExecutionError", Text(result["error"]));
        Assert.Equal("InvalidOperationException", Text(result["ename"]));
        Assert.Contains("cell 2, line 2: boom in the second cell", Text(result["evalue"]));
        Assert.Empty(CodeCells(notebook)[2]["outputs"]!.AsArray());
    }

    [Fact]
    public void Nbclient_runs_the_getting_started_notebook()
    {
        var (result, _, path) = Execute(Path.Combine(Medssl.RepoRoot, "notebooks", "00-getting-started.ipynb"));
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Medssl.AssertValidNotebook(path);
    }
}

/// <summary><c>medssl kernel install / uninstall</c>, checked with jupyter_client's own kernelspec lookup.</summary>
public sealed class KernelSpecTests
{
    [Fact]
    public void Install_writes_a_kernelspec_jupyter_finds_and_uninstall_removes_it()
    {
        var prefix = Medssl.TemporaryFolder();
        var install = Medssl.Run("kernel", "install", "--prefix", prefix);
        Assert.True(install.ExitCode == 0, install.Stdout + install.Stderr);
        var folder = Path.Combine(prefix, "share", "jupyter", "kernels", "medssl-csharp");
        var spec = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "kernel.json")))!;
        Assert.Equal("C# (MedSsl)", spec["display_name"]!.GetValue<string>());
        Assert.Equal("C#", spec["language"]!.GetValue<string>());
        Assert.Equal("message", spec["interrupt_mode"]!.GetValue<string>());
        var argv = spec["argv"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        Assert.True(Path.IsPathRooted(argv[0]) && File.Exists(argv[0]) && Path.GetFileName(argv[0]) == "dotnet", argv[0]);
        Assert.True(File.Exists(argv[1]), argv[1]);
        Assert.Equal(["kernel", "start", "--connection-file", "{connection_file}"], argv[2..]);
        Assert.Equal("PASSIVE", spec["env"]!["OMP_WAIT_POLICY"]!.GetValue<string>());

        var (code, output) = Medssl.Exec(JupyterClients.Python, "-c",
            "import sys; from jupyter_client.kernelspec import KernelSpecManager as M; m = M(kernel_dirs=[sys.argv[1]]); " +
            "s = m.get_kernel_spec('medssl-csharp'); print(s.display_name, s.interrupt_mode, sep='|')",
            Path.Combine(prefix, "share", "jupyter", "kernels"));
        Assert.True(code == 0, output);
        Assert.Equal("C# (MedSsl)|message", output.Trim());

        var uninstall = Medssl.Run("kernel", "uninstall", "--prefix", prefix);
        Assert.Equal(0, uninstall.ExitCode);
        Assert.False(Directory.Exists(folder));
        Assert.Contains("no kernelspec", Medssl.Run("kernel", "uninstall", "--prefix", prefix).Stdout);
    }

    [Fact]
    public void User_and_prefix_together_are_refused()
    {
        var run = Medssl.Run("kernel", "install", "--user", "--prefix", Medssl.TemporaryFolder());
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("not both", run.Stderr);
    }
}
