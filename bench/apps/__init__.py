"""Small servers the benchmarks start as their own processes."""
