# %% [markdown]
# Success fixture
A notebook whose cells all run: console output, a trailing expression, `display` with `Update`, HTML, a figure and a results table; and an equation, $e^{i\pi} + 1 = 0$.
# %%
#!csharp
#r "../../../../artifacts/lib/MedSsl.Lib.dll"
using MedSsl.Reports;
Console.WriteLine("hello from stdout");
Console.Error.WriteLine("careful: stderr");
# %%
var handle = display("first");
handle.Update("second");
HTML("<b id=\"bold\">bold</b>")
# %%
6 * 7
# %%
var figure = Plot.Scatter(new double[] { 0, 1, 2, 3 }, new double[] { 1, 0, 1, 0 }, new[] { "a", "a", "b", "b" }, "toy");
figure
# %%
var runs = new ResultsTable("accuracy");
runs.Add(new { Method = "A", Seed = 0, Accuracy = 0.5 });
runs.Add(new { Method = "A", Seed = 1, Accuracy = 0.7 });
var summary = runs.Summarize(by: new[] { "Method" });
summary.Save();
summary
