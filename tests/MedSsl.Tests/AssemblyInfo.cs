// libtorch's global generator, grad mode and thread count are process-wide: tests that seed or
// count live tensors must not interleave, so the suite runs one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
