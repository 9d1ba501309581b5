"""Slow, member-by-member reference implementations the tests and benchmarks compare with."""
