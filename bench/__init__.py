"""Benchmarks: `make bench`. They report numbers (a table and JSON under bench/results/); they never fail a build."""
