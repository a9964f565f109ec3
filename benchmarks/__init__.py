"""Benchmarks and the synthetic corpus generator (stdlib only)."""
