using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MedSsl.Embedding;

/// <summary>One cell of a <see cref="QuadTree"/>, for inspection: its points' centre of mass, how many points it
/// holds, the square of its widest side, and its depth (the root is 0).</summary>
public readonly record struct QuadTreeCell(double CentreX, double CentreY, int Count, double SquaredWidth, int Depth, bool IsLeaf);

/// <summary>The Barnes–Hut quadtree of a 2-d embedding (Barnes &amp; Hut 1986; van der Maaten 2014, §5.1), rebuilt
/// every iteration. Cells are split at their centre like sklearn's _QuadTree: the root spans the points' bounding
/// box (its upper bounds pushed out by 0.1 % or 1e-3 so every point lies strictly inside), a cell with one point — or
/// with identical points only — is a leaf, empty quadrants are dropped. Unlike sklearn, which merges points within 1e-6
/// of each other and skips every leaf within that distance of the query as "self", duplicates here are exact and the
/// query point's own contribution is removed by identity: at t-SNE's initial scale (σ = 1e-4) sklearn's tolerance
/// covers most of the embedding, which made Z and the early repulsion wrong and θ = 0 diverge. The cells are stored depth-first (pre-order) in one flat array, each with the index of
/// the cell after its subtree, so a query walks the array forwards: descending is "next cell", summarising a cell
/// is "jump past its subtree". Building partitions an index array in place; no allocation per cell or per
/// iteration once the arrays have grown to size.</summary>
public sealed class QuadTree
{
    /// <summary>What a query reads, 32 bytes: two cells per cache line.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Node
    {
        public double X, Y;
        /// <summary>The cell summarises for a query point at squared distance d² &gt; Limit: squared width / θ²
        /// for an inner cell (the criterion width / d &lt; θ without a square root or a division), −1 for a leaf
        /// (a leaf is always used).</summary>
        public double Limit;
        public int Count;
        /// <summary>The first cell after this one's subtree.</summary>
        public int Next;
    }

    private Node[] nodes = new Node[64];
    private double[] squaredWidths = new double[64];
    private int[] depths = new int[64];
    private int[] order = [];
    private double[] xs = [], ys = [];
    private double limitFactor;

    /// <summary>Number of cells (leaves included) of the last build.</summary>
    public int CellCount { get; private set; }

    /// <summary>The point indices in the order the tree holds them: each cell's points are contiguous, so
    /// neighbouring indices in this order are near each other in the plane.</summary>
    public ReadOnlySpan<int> Order => order;

    public QuadTreeCell Cell(int index)
    {
        if ((uint)index >= (uint)CellCount) throw new ArgumentOutOfRangeException(nameof(index), index, $"the tree has {CellCount} cells");
        var node = nodes[index];
        return new(node.X, node.Y, node.Count, squaredWidths[index], depths[index], node.Next == index + 1);
    }

    /// <summary>Builds the tree of the points (x₀, y₀, x₁, y₁, …) for queries with opening angle θ.</summary>
    public void Build(ReadOnlySpan<double> points, double angle)
    {
        if (points.Length % 2 != 0 || points.Length == 0)
            throw new ArgumentException($"QuadTree: expected interleaved 2-d points, got {points.Length} numbers", nameof(points));
        if (!(angle >= 0)) throw new ArgumentOutOfRangeException(nameof(angle), angle, "the Barnes–Hut angle must be ≥ 0");
        var n = points.Length / 2;
        if (order.Length != n)
        {
            order = Enumerable.Range(0, n).ToArray();
            xs = new double[n];
            ys = new double[n];
        }
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity;
        double maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
        for (var i = 0; i < n; i++)
        {
            double x = points[2 * i], y = points[2 * i + 1];
            if (!double.IsFinite(x) || !double.IsFinite(y))
                throw new ArgumentException($"QuadTree: point {i} is ({x}, {y}); the embedding diverged", nameof(points));
            xs[i] = x;
            ys[i] = y;
            minX = Math.Min(minX, x); maxX = Math.Max(maxX, x);
            minY = Math.Min(minY, y); maxY = Math.Max(maxY, y);
        }
        limitFactor = angle == 0 ? double.PositiveInfinity : 1 / (angle * angle);
        CellCount = 0;
        BuildCell(0, n, minX, PushOut(maxX), minY, PushOut(maxY), 0);
    }

    /// <summary>sklearn's margin on the upper bounds: max(m·(1 + 10⁻³·sign m), m + 10⁻³).</summary>
    private static double PushOut(double max) => Math.Max(max * (1 + 1e-3 * Math.Sign(max)), max + 1e-3);

    private void BuildCell(int lo, int hi, double minX, double maxX, double minY, double maxY, int depth)
    {
        var id = CellCount++;
        if (id == nodes.Length)
        {
            Array.Resize(ref nodes, 2 * id);
            Array.Resize(ref squaredWidths, 2 * id);
            Array.Resize(ref depths, 2 * id);
        }
        var width = Math.Max(maxX - minX, maxY - minY);
        squaredWidths[id] = width * width;
        depths[id] = depth;
        double sumX = 0, sumY = 0;
        if (AllIdentical(lo, hi))
        {
            nodes[id] = new Node { X = xs[order[lo]], Y = ys[order[lo]], Limit = -1, Count = hi - lo, Next = id + 1 };
            return;
        }
        double midX = (minX + maxX) / 2, midY = (minY + maxY) / 2;
        // Children in sklearn's order: index 2·[x ≥ midX] + [y ≥ midY].
        var splitX = Partition(xs, lo, hi, midX);
        var splitLow = Partition(ys, lo, splitX, midY);
        var splitHigh = Partition(ys, splitX, hi, midY);
        if (lo < splitLow) BuildCell(lo, splitLow, minX, midX, minY, midY, depth + 1);
        if (splitLow < splitX) BuildCell(splitLow, splitX, minX, midX, midY, maxY, depth + 1);
        if (splitX < splitHigh) BuildCell(splitX, splitHigh, midX, maxX, minY, midY, depth + 1);
        if (splitHigh < hi) BuildCell(splitHigh, hi, midX, maxX, midY, maxY, depth + 1);
        // The centre of mass from the children's, each weighted by its count.
        for (var child = id + 1; child < CellCount; child = nodes[child].Next)
        {
            sumX += nodes[child].X * nodes[child].Count;
            sumY += nodes[child].Y * nodes[child].Count;
        }
        nodes[id] = new Node
        {
            X = sumX / (hi - lo), Y = sumY / (hi - lo), Limit = squaredWidths[id] * limitFactor, Count = hi - lo, Next = CellCount,
        };
    }

    private bool AllIdentical(int lo, int hi)
    {
        double x0 = xs[order[lo]], y0 = ys[order[lo]];
        for (var k = lo + 1; k < hi; k++)
            if (xs[order[k]] != x0 || ys[order[k]] != y0) return false;
        return true;
    }

    /// <summary>Reorders order[lo..hi) so the points with coordinate &lt; split come first; returns where the rest start.</summary>
    private int Partition(double[] coordinate, int lo, int hi, double split)
    {
        int i = lo, j = hi - 1;
        while (true)
        {
            while (i <= j && coordinate[order[i]] < split) i++;
            while (i <= j && coordinate[order[j]] >= split) j--;
            if (i >= j) return i;
            (order[i], order[j]) = (order[j], order[i]);
            i++;
            j--;
        }
    }

    /// <summary>The repulsion on a point at (x, y), summed over the cells the Barnes–Hut criterion opens
    /// (van der Maaten 2014, §5.1): with qZ = (1 + ‖y − y_cell‖²)⁻¹ per cell of N_cell points,
    /// Z-part Σ N_cell·qZ and force Σ N_cell·qZ²·(y − y_cell). (x, y) must be one of the tree's points: it is left out
    /// of its own leaf, the only cell at distance exactly 0, whose other points (exact duplicates) count with q = 1
    /// and no force, as in exact t-SNE.</summary>
    public (double ForceX, double ForceY, double Z) Repulsion(double x, double y)
    {
        double fx = 0, fy = 0, z = 0;
        ref var first = ref MemoryMarshal.GetArrayDataReference(nodes);
        var count = CellCount;
        for (var i = 0; i < count;)
        {
            ref readonly var cell = ref Unsafe.Add(ref first, i);
            double dx = x - cell.X, dy = y - cell.Y, d2 = dx * dx + dy * dy;
            if (d2 == 0 && cell.Limit < 0)
            {
                z += cell.Count - 1;
                i = cell.Next;
            }
            else if (d2 > cell.Limit)
            {
                var q = 1 / (1 + d2);
                var nq = cell.Count * q;
                z += nq;
                nq *= q;
                fx += nq * dx;
                fy += nq * dy;
                i = cell.Next;
            }
            else i++;   // a leaf's next cell is also i + 1
        }
        return (fx, fy, z);
    }
}
