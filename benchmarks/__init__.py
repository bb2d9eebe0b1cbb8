"""Scale runs and floor comparisons (not part of the test suite); `python -m benchmarks`."""
