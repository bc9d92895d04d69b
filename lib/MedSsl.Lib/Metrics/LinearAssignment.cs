namespace MedSsl.Metrics;

/// <summary>The assignment problem (Hungarian algorithm, Kuhn–Munkres with potentials and shortest
/// augmenting paths, O(n²m)): pairs rows with columns, each used at most once, minimising the total cost.
/// Same result as scipy.optimize.linear_sum_assignment for rectangular matrices (min(rows, cols) pairs).</summary>
public static class LinearAssignment
{
    /// <summary>The column paired with each row, or −1 for rows left unpaired (when rows &gt; columns).</summary>
    public static int[] Solve(double[,] cost, bool maximize = false)
    {
        int rows = cost.GetLength(0), cols = cost.GetLength(1);
        if (cost.Cast<double>().Any(c => !double.IsFinite(c)))
            throw new ArgumentException("assignment costs must be finite", nameof(cost));
        var sign = maximize ? -1.0 : 1.0;
        if (rows <= cols) return SolveWide(rows, cols, (i, j) => sign * cost[i, j]);
        // More rows than columns: solve the transpose and invert the pairing.
        var colToRow = SolveWide(cols, rows, (i, j) => sign * cost[j, i]);
        var rowToCol = Enumerable.Repeat(-1, rows).ToArray();
        for (var c = 0; c < cols; c++) rowToCol[colToRow[c]] = c;
        return rowToCol;
    }

    /// <summary>n ≤ m: every row gets a column. 1-based arrays, column 0 is the virtual start.</summary>
    private static int[] SolveWide(int n, int m, Func<int, int, double> a)
    {
        var u = new double[n + 1];
        var v = new double[m + 1];
        var rowOfCol = new int[m + 1];   // 0 = free
        var way = new int[m + 1];
        for (var i = 1; i <= n; i++)
        {
            rowOfCol[0] = i;
            var j0 = 0;
            var minv = Enumerable.Repeat(double.PositiveInfinity, m + 1).ToArray();
            var used = new bool[m + 1];
            do
            {
                used[j0] = true;
                int i0 = rowOfCol[j0], j1 = 0;
                var delta = double.PositiveInfinity;
                for (var j = 1; j <= m; j++)
                {
                    if (used[j]) continue;
                    var cur = a(i0 - 1, j - 1) - u[i0] - v[j];
                    if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                    if (minv[j] < delta) { delta = minv[j]; j1 = j; }
                }
                for (var j = 0; j <= m; j++)
                    if (used[j]) { u[rowOfCol[j]] += delta; v[j] -= delta; }
                    else minv[j] -= delta;
                j0 = j1;
            } while (rowOfCol[j0] != 0);
            do   // flip the augmenting path
            {
                var j1 = way[j0];
                rowOfCol[j0] = rowOfCol[j1];
                j0 = j1;
            } while (j0 != 0);
        }
        var result = new int[n];
        for (var j = 1; j <= m; j++)
            if (rowOfCol[j] != 0) result[rowOfCol[j] - 1] = j - 1;
        return result;
    }
}
