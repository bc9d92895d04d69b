using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace MedSsl.Tests.Runner;

public sealed class RunCommandTests
{
    private static JsonObject ReadNotebook(string path) => (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;

    private static List<JsonObject> CodeCells(JsonObject notebook) =>
        notebook["cells"]!.AsArray().OfType<JsonObject>().Where(c => c["cell_type"]!.GetValue<string>() == "code").ToList();

    private static List<JsonObject> Outputs(JsonObject cell) => cell["outputs"]!.AsArray().OfType<JsonObject>().ToList();

    private static string Status(JsonObject cell) => cell["metadata"]!["medssl"]!["status"]!.GetValue<string>();

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    [Theory]
    [InlineData("", "PASSIVE")]
    [InlineData("ACTIVE", "ACTIVE")]
    public void The_notebook_process_gets_a_passive_OpenMP_wait_policy_unless_one_was_set(string set, string expected)
    {
        var output = Medssl.TemporaryFolder();
        var run = Medssl.RunWith(new Dictionary<string, string> { ["OMP_WAIT_POLICY"] = set }, "run", Medssl.Fixture("omp-wait-policy.ipynb"), "--out", output);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var cell = CodeCells(ReadNotebook(Path.Combine(output, "omp-wait-policy.ipynb"))).Single();
        Assert.Equal($"policy={expected}\n", Outputs(cell).Single()["text"]!.GetValue<string>());
    }

    [Fact]
    public void Notebooks_share_the_cores_by_default_each_child_with_cores_over_jobs_libtorch_threads()
    {
        var output = Medssl.TemporaryFolder();
        var run = Medssl.RunWith(new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "" }, "run", Medssl.Fixture("threads"), "--out", output);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var jobs = Math.Min(2, Environment.ProcessorCount);
        var expected = jobs > 1 ? $"env={Environment.ProcessorCount / jobs} torch={Environment.ProcessorCount / jobs}\n" : null;
        foreach (var name in new[] { "a", "b" })
        {
            var text = Outputs(CodeCells(ReadNotebook(Path.Combine(output, name + ".ipynb"))).Single()).Single()["text"]!.GetValue<string>();
            if (expected is null) Assert.StartsWith("env= ", text);   // one core: one job, libtorch's own default
            else Assert.Equal(expected, text);
        }

        // An explicit --jobs 1 leaves the thread count to libtorch (and to the user's OMP_NUM_THREADS).
        var serial = Medssl.RunWith(new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "" }, "run", Medssl.Fixture("threads"), "--out", output, "--jobs", "1");
        Assert.True(serial.ExitCode == 0, serial.Stdout + serial.Stderr);
        Assert.StartsWith("env= ", Outputs(CodeCells(ReadNotebook(Path.Combine(output, "a.ipynb"))).Single()).Single()["text"]!.GetValue<string>());
    }

    [Fact]
    public void Success_writes_valid_executed_notebook_report_and_results_and_leaves_the_source_alone()
    {
        var source = Medssl.Fixture("success.ipynb");
        var before = Hash(source);
        var output = Medssl.TemporaryFolder();

        var run = Medssl.Run("run", source, "--out", output);

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Equal(before, Hash(source));
        Assert.Equal(["success.html", "success.ipynb", "success.results.json", "success.runs.csv"], Directory.GetFiles(output).Select(Path.GetFileName).Order());
        var executed = Path.Combine(output, "success.ipynb");
        Medssl.AssertValidNotebook(executed);

        var cells = CodeCells(ReadNotebook(executed));
        Assert.All(cells, c => Assert.Equal("ok", Status(c)));
        Assert.Equal([1, 2, 3, 4, 5], cells.Select(c => c["execution_count"]!.GetValue<int>()));
        var first = Outputs(cells[0]);
        Assert.Equal(("stdout", "hello from stdout\n"), (first[0]["name"]!.GetValue<string>(), first[0]["text"]!.GetValue<string>()));
        Assert.Equal(("stderr", "careful: stderr\n"), (first[1]["name"]!.GetValue<string>(), first[1]["text"]!.GetValue<string>()));
        // display(...) then handle.Update(...) leaves one display output holding the new value; HTML(...) is text/html.
        var second = Outputs(cells[1]);
        Assert.Equal("display_data", second[0]["output_type"]!.GetValue<string>());
        Assert.Equal("second", second[0]["data"]!["text/plain"]!.GetValue<string>());
        Assert.Equal("<b id=\"bold\">bold</b>", second[1]["data"]!["text/html"]!.GetValue<string>());
        var third = Outputs(cells[2]).Single();
        Assert.Equal("execute_result", third["output_type"]!.GetValue<string>());
        Assert.Equal("42", third["data"]!["text/plain"]!.GetValue<string>());
        var chart = Outputs(cells[3]).Single()["data"]!;
        Assert.Equal(["a", "b"], chart["application/vnd.plotly.v1+json"]!["data"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
        Assert.Contains("Plotly.newPlot", chart["text/html"]!.GetValue<string>());
        Assert.Contains("<table class=\"medssl-results\">", Outputs(cells[4]).Single()["data"]!["text/html"]!.GetValue<string>());

        // Accuracy 0.5 and 0.7 over two seeds: mean 0.6, half-width t(0.975, 1) * 0.1414 / sqrt(2) = 12.7062 * 0.1.
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "success.results.json")))!;
        Assert.Equal(0.6, results["accuracy_mean"]!.GetValue<double>(), 12);
        Assert.Equal(1.2706204736, results["accuracy_half_width"]!.GetValue<double>(), 8);
        Assert.Equal(["Method,Seed,Accuracy", "A,0,0.5", "A,1,0.7"], File.ReadAllLines(Path.Combine(output, "success.runs.csv")));

        // The report inlines plotly.js exactly once (its licence header appears once) and renders markdown.
        var html = File.ReadAllText(Path.Combine(output, "success.html"));
        Assert.Equal(1, Count(html, "* plotly.js v"));
        Assert.Equal(1, Count(html, "data-medssl-plotly"));   // the chart, drawn from its plotly JSON
        Assert.DoesNotContain("<script src=", html);
        // Outside the inlined bundles (MathJax's names CDNs it never uses offline), nothing points at a CDN.
        Assert.DoesNotContain("cdn", html[html.IndexOf("</head>", StringComparison.Ordinal)..], StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<h1 id=\"success-fixture\">Success fixture</h1>", html);
        Assert.Contains("hello from stdout", html);
    }

    [Fact]
    public void Failing_cell_exits_1_names_cell_and_line_and_marks_later_cells_not_run()
    {
        var output = Medssl.TemporaryFolder();
        var run = Medssl.Run("run", Medssl.Fixture("failing.ipynb"), "--out", output);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("cell 2, line 3: Attempted to divide by zero.", run.Stderr);
        var executed = Path.Combine(output, "failing.ipynb");
        Medssl.AssertValidNotebook(executed);
        var cells = CodeCells(ReadNotebook(executed));
        Assert.Equal(["ok", "failed", "not-run"], cells.Select(Status));
        var error = Outputs(cells[1]).Single();
        Assert.Equal("DivideByZeroException", error["ename"]!.GetValue<string>());
        Assert.Contains(error["traceback"]!.AsArray(), line => line!.GetValue<string>().Contains("cell 2:line 3"));
        Assert.Empty(Outputs(cells[2]));
        Assert.Null(cells[2]["execution_count"]);
        Assert.Contains("not run", File.ReadAllText(Path.Combine(output, "failing.html")));
    }

    [Fact]
    public void Keep_going_runs_the_cells_after_a_failure_and_still_exits_1()
    {
        var output = Medssl.TemporaryFolder();
        var run = Medssl.Run("run", Medssl.Fixture("failing.ipynb"), "--out", output, "--keep-going");

        Assert.Equal(1, run.ExitCode);
        var cells = CodeCells(ReadNotebook(Path.Combine(output, "failing.ipynb")));
        Assert.Equal(["ok", "failed", "ok"], cells.Select(Status));
        Assert.Equal("after the failure\n", Outputs(cells[2]).Single()["text"]!.GetValue<string>());
    }

    [Fact]
    public void Compile_error_reports_the_cells_line_and_the_compiler_message()
    {
        var output = Medssl.TemporaryFolder();
        var run = Medssl.Run("run", Medssl.Fixture("compile-error.ipynb"), "--out", output);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("cell 1, line 2: CS0029", run.Stderr);
    }

    [Fact]
    public void Parameters_are_injected_after_the_parameters_cell_with_the_declared_types()
    {
        var output = Medssl.TemporaryFolder();
        var run = Medssl.Run("run", Medssl.Fixture("parameters.ipynb"), "--out", output,
            "--param", "Seed=7", "--param", "Rate=0.25", "--param", "Verbose=true", "--profile", "full");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var executed = Path.Combine(output, "parameters.ipynb");
        Medssl.AssertValidNotebook(executed);
        var cells = CodeCells(ReadNotebook(executed));
        Assert.Contains("parameters", cells[0]["metadata"]!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Contains("injected-parameters", cells[1]["metadata"]!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal("Profile=full Seed=7 Rate=0.25 Verbose=True SeedType=Int32\n", Outputs(cells[2]).Single()["text"]!.GetValue<string>());
    }

    [Fact]
    public void Parameters_keep_their_defaults_without_overrides()
    {
        var output = Medssl.TemporaryFolder();
        var run = Medssl.Run("run", Medssl.Fixture("parameters.ipynb"), "--out", output);

        Assert.Equal(0, run.ExitCode);
        var cells = CodeCells(ReadNotebook(Path.Combine(output, "parameters.ipynb")));
        Assert.Equal(2, cells.Count);
        Assert.Equal("Profile=quick Seed=0 Rate=0.5 Verbose=False SeedType=Int32\n", Outputs(cells[1]).Single()["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Nope=1", "declares no 'Nope'")]
    [InlineData("Seed=seven", "not a valid int")]
    [InlineData("Seed", "expected NAME=VALUE")]
    public void Bad_parameters_are_bad_input_and_write_nothing(string parameter, string message)
    {
        var output = Path.Combine(Medssl.TemporaryFolder(), "out");
        var run = Medssl.Run("run", Medssl.Fixture("parameters.ipynb"), "--out", output, "--param", parameter);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
    }

    [Fact]
    public void Unsupported_magics_fail_their_cell_with_what_to_do_instead_and_time_runs()
    {
        var output = Medssl.TemporaryFolder();
        var run = Medssl.Run("run", Medssl.Fixture("magic.ipynb"), "--out", output, "--keep-going");

        Assert.Equal(1, run.ExitCode);
        var cells = CodeCells(ReadNotebook(Path.Combine(output, "magic.ipynb")));
        Assert.Equal(["ok", "failed", "ok"], cells.Select(Status));
        var fsharp = Outputs(cells[1]).Single()["evalue"]!.GetValue<string>();
        Assert.Contains("line 1: the magic command '#!fsharp' is not supported", fsharp);
        Assert.Contains("Only C# code cells run", fsharp);
        var text = Outputs(cells[2]).Single()["text"]!;
        var time = text is JsonArray lines ? string.Concat(lines.Select(l => l!.GetValue<string>())) : text.GetValue<string>();
        Assert.Matches(@"^timed\nWall time: [0-9.]+ms\n$", time);
    }

    [Theory]
    [InlineData("not-a-notebook.ipynb", "not valid JSON")]
    [InlineData("python.ipynb", "C# notebooks only")]
    [InlineData("missing.ipynb", "no such file")]
    [InlineData("drafts/success.csx", "not valid JSON")]
    public void Non_notebooks_exit_2_and_write_nothing(string name, string message)
    {
        var output = Path.Combine(Medssl.TemporaryFolder(), "out");
        var run = Medssl.Run("run", Medssl.Fixture(name), "--out", output);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
    }

    [Fact]
    public void A_hung_cell_is_stopped_by_the_cell_timeout()
    {
        var output = Medssl.TemporaryFolder();
        var run = Medssl.Run("run", Medssl.Fixture("hang.ipynb"), "--out", output, "--cell-timeout", "10");

        Assert.Equal(1, run.ExitCode);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(40), $"took {run.Elapsed}");
        var cells = CodeCells(ReadNotebook(Path.Combine(output, "hang.ipynb")));
        Assert.Equal(["timed-out", "not-run"], cells.Select(Status));
        Assert.Equal("about to hang\n", Outputs(cells[0])[0]["text"]!.GetValue<string>());
    }

    [Fact]
    public void A_folder_run_prints_a_summary_and_returns_the_worst_exit_code()
    {
        var folder = Medssl.TemporaryFolder();
        File.Copy(Medssl.Fixture("failing.ipynb"), Path.Combine(folder, "b-failing.ipynb"));
        File.Copy(Medssl.Fixture("parameters.ipynb"), Path.Combine(folder, "a-parameters.ipynb"));
        var output = Path.Combine(folder, "out");

        var run = Medssl.Run("run", folder, "--out", output, "--profile", "quick", "--jobs", "2");

        Assert.Equal(1, run.ExitCode);
        var lines = run.Stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("a-parameters.ipynb") && l.Contains(" ok "));
        Assert.Contains(lines, l => l.Contains("b-failing.ipynb") && l.Contains(" failed "));
        Assert.True(File.Exists(Path.Combine(output, "a-parameters.html")));
        Assert.True(File.Exists(Path.Combine(output, "b-failing.html")));
    }

    [Fact]
    public void The_getting_started_and_ssldec_notebooks_run_in_the_quick_profile()
    {
        var output = Medssl.TemporaryFolder();
        // The quick profiles train real models: on 2 cores shared with the rest of the suite this takes minutes. Each
        // method notebook has its own test (tests/MedSsl.Tests/Notebooks), so a slow one is named by its test.
        var run = Medssl.RunWithin(TimeSpan.FromMinutes(10), new Dictionary<string, string>(), "run",
            Path.Combine(Medssl.RepoRoot, "notebooks", "00-getting-started.ipynb"), Path.Combine(Medssl.RepoRoot, "notebooks", "04-ssldec-half-moons.ipynb"),
            "--out", output, "--profile", "quick");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Medssl.AssertValidNotebook(Path.Combine(output, "00-getting-started.ipynb"));
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "00-getting-started.results.json")))!;
        Assert.True(results["test_accuracy"]!.GetValue<double>() >= 0.9);
        // Three Plotly.NET charts in the executed notebook, one copy of plotly.js in the report.
        var charts = CodeCells(ReadNotebook(Path.Combine(output, "00-getting-started.ipynb")))
            .SelectMany(c => Outputs(c)).Count(o => o["data"] is JsonObject data && data.ContainsKey("application/vnd.plotly.v1+json"));
        Assert.Equal(3, charts);
        Assert.Equal(1, Count(File.ReadAllText(Path.Combine(output, "00-getting-started.html")), "* plotly.js v"));

        // SSLDEC writes the library's contract (its properties are tested in MedSsl.Tests.Experiments): both protocols'
        // seeds, every claim with its fields and as many pairs as its protocol has seeds, headline means consistent with
        // the rows of the CSVs beside results.json.
        Medssl.AssertValidNotebook(Path.Combine(output, "04-ssldec-half-moons.ipynb"));
        var ssldec = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "04-ssldec-half-moons.results.json")))!;
        int[] Seeds(string key) => [.. ssldec[key]!.AsArray().Select(s => s!.GetValue<int>())];
        var (seeds, digitSeeds) = (Seeds("seeds"), Seeds("digits_seeds"));
        Assert.Equal([1000, 1001, 1002], seeds);
        Assert.Equal([1000, 1001, 1002], digitSeeds);
        Assert.True(ssldec["fresh_seeds"]!.GetValue<bool>());
        var claims = ssldec["claims"]!.AsArray();
        Assert.Equal(5 + 4, claims.Count);
        Assert.All(claims, c => Assert.Contains(c!["verdict"]!.GetValue<string>(), new[] { "Supported", "Contradicted", "Inconclusive" }));
        Assert.All(claims, c => Assert.All(new[] { "text", "source", "measure", "difference", "interval", "n" }, key => Assert.NotNull(c![key])));
        Assert.All(claims.Take(5), c => Assert.Equal(seeds.Length, c!["n"]!.GetValue<int>()));
        Assert.All(claims.Skip(5), c => Assert.Equal(digitSeeds.Length, c!["n"]!.GetValue<int>()));
        string[][] Csv(string name) => [.. File.ReadAllLines(Path.Combine(output, $"04-ssldec-half-moons.{name}.csv")).Where(l => l.Length > 0).Select(l => l.Split(','))];
        var runs = Csv("runs");
        Assert.Equal(["Seed", "Placement", "Model", "Accuracy", "ClusteringLoss", "RoundFraction"], runs[0]);
        Assert.Equal(seeds.Length * 6, runs.Length - 1);
        double MeanOf(string[][] rows, Func<string[], bool> select) =>
            rows.Skip(1).Where(select).Average(r => double.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(MeanOf(runs, r => r[1] == "Random" && r[2] == "Ssldec"), ssldec["accuracy_ssldec"]!.GetValue<double>(), 9);
        Assert.Equal(MeanOf(runs, r => r[1] == "Random" && r[2] == "SupervisedJitter"), ssldec["accuracy_supervised_jitter"]!.GetValue<double>(), 9);
        Assert.NotNull(ssldec["worst_random_run_has_highest_clustering_loss"]);
        var digits = Csv("digits");
        Assert.Equal(["Seed", "Model", "Accuracy", "KMeansAccuracy", "KMeansNmi"], digits[0]);
        Assert.Equal(digitSeeds.Length * 4, digits.Length - 1);
        Assert.Equal(digits.Skip(1).Where(r => r[1] == "Ssldec").Average(r => double.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture)),
            ssldec["digits_ssldec_accuracy"]!.GetValue<double>(), 9);
    }

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal)) count++;
        return count;
    }
}
