"""Tooling of a source checkout (benchmarks, reliability checks, replicas, engines, vendoring, synthetic data,
process helpers): not installed, never imported by the server. `parita bench|reliability|synth` load it from
the checkout."""
