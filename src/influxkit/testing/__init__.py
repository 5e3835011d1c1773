"""Test helpers: a private InfluxDB 1.x server for tests and benchmarks."""
