"""The benchmark suite behind tools/bench/run: run each benchmark, collect its results into one
JSON document, render docs/benchmark-results.md and the charts."""
