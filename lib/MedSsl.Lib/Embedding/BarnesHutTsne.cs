using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MedSsl.Embedding;

/// <summary>Barnes–Hut t-SNE's objective (van der Maaten 2014, §5.1 "Barnes-Hut approximation"), as sklearn's
/// _kl_divergence_bh: the gradient ∂C/∂yᵢ = 4 (F_attr,i − F_rep,i / Z) splits into an attraction
/// Σⱼ pᵢⱼ qᵢⱼZ (yᵢ − yⱼ) over the sparse P, exact in O(nnz(P)), and a repulsion Σⱼ (qᵢⱼZ)² (yᵢ − yⱼ) with the
/// normaliser Z = Σ_{k≠l} (1 + ‖yₖ − yₗ‖²)⁻¹, both of which a quadtree approximates in O(N log N): a cell whose
/// squared width is below θ² times its squared distance to yᵢ counts as all its points at its centre of mass.
/// Two dimensions only (a quadtree).</summary>
public static class BarnesHutTsne
{
    /// <summary>sklearn uses float32's smallest normal number to keep the logarithms of the KL finite.</summary>
    private const double Tiny = 1.1754943508222875e-38;

    /// <summary>Points per unit of parallel work. Fixed, so the per-block partial sums, and with them the result,
    /// are the same for any number of threads.</summary>
    private const int Block = 128;

    /// <summary>The Barnes–Hut gradient of KL(P‖Q) at the 2-d embedding y (x₀, y₀, x₁, y₁, …) written into
    /// gradient, with opening angle θ (0: exact repulsion); returns KL(P‖Q) when asked (sklearn's form, with
    /// Z from the tree), NaN otherwise.</summary>
    public static double Gradient(SparseMatrix p, ReadOnlySpan<double> y, double angle, Span<double> gradient, bool withError)
    {
        if (gradient.Length != y.Length)
            throw new ArgumentException($"gradient has {gradient.Length} numbers, the embedding {y.Length}", nameof(gradient));
        var result = new double[y.Length];
        var error = new Workspace(p, angle).Gradient(y.ToArray(), result, withError);
        result.CopyTo(gradient);
        return error;
    }

    /// <summary>What one fit keeps between iterations: P (scaled in place by the exaggeration), the tree and
    /// the force buffers.</summary>
    internal sealed class Workspace : ITsneObjective
    {
        private readonly int n;
        private readonly int[] rowStart, columns;
        private readonly double[] values;
        private readonly double angle;
        private readonly QuadTree tree = new();
        private readonly double[] attraction, repulsion, partialZ, partialError;
        private readonly int blocks;

        public Workspace(SparseMatrix p, double angle)
        {
            n = p.Size;
            rowStart = p.RowStart;
            columns = p.Columns;
            values = (double[])p.Values.Clone();
            this.angle = angle;
            attraction = new double[2 * n];
            repulsion = new double[2 * n];
            blocks = (n + Block - 1) / Block;
            partialZ = new double[blocks];
            partialError = new double[blocks];
        }

        public void Exaggerate(double factor)
        {
            for (var e = 0; e < values.Length; e++) values[e] *= factor;
        }

        public double Gradient(double[] y, double[] gradient, bool withError)
        {
            if (y.Length != 2 * n) throw new ArgumentException($"the embedding has {y.Length} numbers, P is {n} × {n} (2-d embedding expected)", nameof(y));
            tree.Build(y, angle);
            // Forces point by point in the tree's order, so that consecutive points walk nearly the same cells.
            Parallel.For(0, blocks, b => Forces(y, b));
            double z = 0;
            foreach (var part in partialZ) z += part;
            for (var c = 0; c < 2 * n; c++) gradient[c] = 4 * (attraction[c] - repulsion[c] / z);
            if (!withError) return double.NaN;
            Parallel.For(0, blocks, b => Divergence(y, z, b));
            double error = 0;
            foreach (var part in partialError) error += part;
            return error;
        }

        private void Forces(double[] y, int block)
        {
            var order = tree.Order;
            double z = 0;
            var end = Math.Min(n, (block + 1) * Block);
            ref var position = ref MemoryMarshal.GetArrayDataReference(y);
            for (var k = block * Block; k < end; k++)
            {
                var i = order[k];
                double xi = Unsafe.Add(ref position, 2 * i), yi = Unsafe.Add(ref position, 2 * i + 1);
                var (fx, fy, zi) = tree.Repulsion(xi, yi);
                repulsion[2 * i] = fx;
                repulsion[2 * i + 1] = fy;
                z += zi;
                // Attraction Σⱼ pᵢⱼ qᵢⱼZ (yᵢ − yⱼ) over i's stored neighbours.
                double ax = 0, ay = 0;
                for (var e = rowStart[i]; e < rowStart[i + 1]; e++)
                {
                    var j = columns[e];
                    double dx = xi - Unsafe.Add(ref position, 2 * j), dy = yi - Unsafe.Add(ref position, 2 * j + 1);
                    var w = values[e] / (1 + dx * dx + dy * dy);
                    ax += w * dx;
                    ay += w * dy;
                }
                attraction[2 * i] = ax;
                attraction[2 * i + 1] = ay;
            }
            partialZ[block] = z;
        }

        /// <summary>Σ pᵢⱼ log(pᵢⱼ / qᵢⱼ) over the stored pᵢⱼ of a block of rows, qᵢⱼ = (1 + d²ᵢⱼ)⁻¹ / Z.</summary>
        private void Divergence(double[] y, double z, int block)
        {
            double error = 0;
            var end = Math.Min(n, (block + 1) * Block);
            for (var i = block * Block; i < end; i++)
                for (var e = rowStart[i]; e < rowStart[i + 1]; e++)
                {
                    var j = columns[e];
                    double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                    var q = 1 / (1 + dx * dx + dy * dy) / z;
                    error += values[e] * Math.Log(Math.Max(values[e], Tiny) / Math.Max(q, Tiny));
                }
            partialError[block] = error;
        }

        public void Dispose() { }
    }
}
