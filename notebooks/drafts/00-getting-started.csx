# %% [markdown]
# Getting started: tensors, autograd and a tiny network

This notebook is the workshop's entry point. In about a minute on a laptop CPU it walks through the pieces every later
notebook is built from:

1. **Tensors**: n-dimensional arrays that live in libtorch (the C++ core of PyTorch), used from C# with PyTorch's names.
2. **Autograd**: gradients computed for you, checked here against a derivative worked out by hand.
3. **A tiny multilayer perceptron (MLP)** trained on a toy problem, with a loss curve and its decision boundary drawn
   as interactive Plotly figures.
4. **A results table** with the number the notebook reports, saved so nightly runs can be compared.

Run it cell by cell in VS Code (Polyglot Notebooks extension, kernel *.NET (C#)*), or headless from the repository root:

```
./medssl run notebooks/00-getting-started.ipynb --profile quick
```

which writes the executed notebook and an HTML report to `out/`.
# %% [markdown]
## Parameters

Every notebook starts with a cell tagged `parameters` (the papermill convention). `Profile` picks the size of the run:
`quick` is small enough for continuous integration, `full` is the paper-shaped setting. `Seed` makes the run
reproducible. `medssl run --profile full --param Seed=3` overrides both without editing the notebook.
# %% tags=parameters
var Profile = "quick";
var Seed = 0;
# %% [markdown]
## Loading the library

`#r` loads our compiled library (built by `lib/scripts/setup.sh` into `artifacts/lib/`); the path is relative to this
notebook. `MedSsl.Torch` holds tensors and `torch.*` functions, `MedSsl.Torch.NN` the layers, `MedSsl.Torch.Optim`
the optimisers and `MedSsl.Reports` the figures and results tables.
# %%
#r "../artifacts/lib/MedSsl.Lib.dll"
using MedSsl.Torch;
using MedSsl.Torch.NN;
using MedSsl.Torch.Optim;
using MedSsl.Reports;

if (Profile is not ("quick" or "full")) throw new ArgumentException($"Profile must be quick or full, not '{Profile}'");
torch.manual_seed((ulong)Seed);
Console.WriteLine($"libtorch {torch.version}, {torch.get_num_threads()} threads, profile {Profile}, seed {Seed}");
# %% [markdown]
## Tensors

A tensor has a shape and a data type (`float32` unless you ask otherwise). Arithmetic works element-wise, `matmul`
multiplies matrices, and indexing follows Python: `t[.., 0]` is the first column.
# %%
var a = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
var b = torch.ones(3, 2);
Console.WriteLine($"a: shape [{string.Join(", ", a.shape)}], dtype {a.dtype}");
Console.WriteLine($"a * 10 =\n{a * 10}");
Console.WriteLine($"a @ b =\n{a.matmul(b)}");
Console.WriteLine($"first column of a =\n{a[.., 0]}");
Console.WriteLine($"mean of a: {a.mean().item<float>()}");
# %% [markdown]
## Autograd

Mark a tensor with `requires_grad` and every operation on it is recorded; `backward()` then fills `grad` with the
derivative. For y = Σᵢ xᵢ² the gradient is ∂y/∂xᵢ = 2·xᵢ, which we check.
# %%
var x = torch.tensor(new float[] { -1.5f, 0.5f, 2 }, 3);
x.requires_grad = true;
var y = (x * x).sum();
y.backward();
var expected = x.detach() * 2;
Console.WriteLine($"y = {y.item<float>()}");
Console.WriteLine($"x.grad =\n{x.grad}");
Console.WriteLine($"2x =\n{expected}");
if (!x.grad!.allclose(expected)) throw new InvalidOperationException("autograd disagrees with the hand-derived gradient");
# %% [markdown]
## A toy problem: two rings

Points on an inner ring (class 0, radius 1) and an outer ring (class 1, radius 2), with noise. No straight line
separates them, so a linear model fails and a network with a hidden layer is needed. The quick profile uses a few
hundred points; the full profile a few thousand.
# %%
var trainSize = Profile == "full" ? 4000 : 400;
var epochs = Profile == "full" ? 600 : 150;

(Tensor Points, Tensor Labels) Rings(long count)
{
    var labels = torch.randint(0, 2, new long[] { count });
    var radius = labels.@float() + 1.0 + torch.randn(count) * 0.2;
    var angle = torch.rand(count) * (2 * Math.PI);
    return (torch.stack(new[] { radius * angle.cos(), radius * angle.sin() }, 1), labels);
}

var (trainX, trainY) = Rings(trainSize);
var (testX, testY) = Rings(1000);

double[] Column(Tensor points, long column) => points[.., column].to(DType.Float64).ToArray<double>();
var labelNames = trainY.ToArray<long>().Select(l => l == 0 ? "inner (0)" : "outer (1)").ToArray();
Plot.Scatter(Column(trainX, 0), Column(trainX, 1), labelNames, $"Training data ({trainSize} points)")
# %% [markdown]
## The model

`Sequential` chains layers as in PyTorch: 2 inputs → 16 hidden units → 16 → 2 class scores (logits), with ReLU
non-linearities between. Adam updates the weights; the loss is the cross-entropy between the logits and the labels.
One training step is: clear old gradients, compute the loss, back-propagate, update. `torch.NewDisposeScope()`
frees each step's intermediate tensors at once instead of waiting for the garbage collector.
# %%
var model = new Sequential(new Linear(2, 16), new ReLU(), new Linear(16, 16), new ReLU(), new Linear(16, 2));
var optimizer = new Adam(model.parameters(), lr: 0.01);
Console.WriteLine(model);
Console.WriteLine($"{model.parameter_count()} parameters");

var losses = new List<double>();
var progress = display($"epoch 0 / {epochs}");
for (var epoch = 1; epoch <= epochs; epoch++)
{
    using var scope = torch.NewDisposeScope();
    optimizer.zero_grad();
    var loss = F.cross_entropy(model.call(trainX), trainY);
    loss.backward();
    optimizer.step();
    losses.Add(loss.item<float>());
    if (epoch % 25 == 0 || epoch == epochs) progress.Update($"epoch {epoch} / {epochs}: loss {losses[^1]:F4}");
}
Plot.Line(Enumerable.Range(1, epochs).Select(e => (double)e).ToArray(), losses.ToArray(), "training loss", new Figure("Training loss"))
    .WithAxisTitles("epoch", "cross-entropy")
# %% [markdown]
## What the network learned

Evaluating the model on a grid of points shows its decision boundary: the probability of "outer ring" under a
softmax, drawn as contours, with the test points on top. `torch.no_grad()` skips recording operations we will not
differentiate.
# %%
var gridSize = 60;
var axis = torch.linspace(-3, 3, gridSize);
var axisValues = axis.to(DType.Float64).ToArray<double>();
double[,] probability;
using (torch.no_grad())
{
    var gridX = axis.repeat(gridSize);                              // x varies fastest
    var gridY = axis.unsqueeze(1).repeat(1, gridSize).flatten(0);   // y constant along a row
    var outer = model.call(torch.stack(new[] { gridX, gridY }, 1)).softmax(1)[.., 1].to(DType.Float64).ToArray<double>();
    probability = new double[gridSize, gridSize];
    for (var i = 0; i < gridSize; i++)
        for (var j = 0; j < gridSize; j++) probability[i, j] = outer[i * gridSize + j];
}
var testNames = testY.ToArray<long>().Select(l => l == 0 ? "inner (0)" : "outer (1)").ToArray();
Plot.Contour(probability, axisValues, axisValues, "P(outer ring) and the test points")
    .Overlay(Plot.Scatter(Column(testX, 0), Column(testX, 1), testNames))
# %% [markdown]
## The number we report

Accuracy on 1000 fresh test points. A results table holds named values; `Save()` writes it to
`out/00-getting-started.results.json` when the notebook runs under `medssl run` (in VS Code it writes nothing).
Later notebooks add one row per method and seed and call `Summarize` to get the mean ± 95 % confidence interval.
# %%
double accuracy;
using (torch.no_grad())
    accuracy = model.call(testX).argmax(1).eq(testY).@float().mean().item<float>();
if (accuracy < 0.9) throw new InvalidOperationException($"test accuracy {accuracy:F3} is below 0.9: the MLP did not learn the rings");
var results = new ResultsTable("test accuracy").Add(new { Model = "MLP 2-16-16-2", Profile, Seed, Accuracy = accuracy });
results.Save();
results
# %% [markdown]
## Where to go next

- Change `Seed` and re-run: the curve and the boundary move a little, the accuracy barely.
- `01-deep-clustering-pica-vs-lsd` and the later notebooks follow this shape: parameters, data, model, training,
  figures, a results table.
