namespace MedSsl.Data;

/// <summary>Decodes items in parallel, but fails like a sequential loop: the error raised is the one of the first
/// failing item in order (the same on every run), unwrapped from the parallel machinery.</summary>
internal static class ParallelDecode
{
    public static T[] Map<T>(int count, Func<int, T> decode)
    {
        var results = new T[count];
        var errors = new Exception?[count];
        Parallel.For(0, count, i =>
        {
            try { results[i] = decode(i); }
            catch (Exception e) { errors[i] = e; }
        });
        var first = errors.FirstOrDefault(e => e != null);
        if (first != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        return results;
    }
}
