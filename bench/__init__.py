"""gsync's benchmark (issue 7): API requests, wall time, core CPU and memory against a naive baseline.

`python -m bench` (or `make bench`) builds a synthetic trust on the emulator and runs the nightly
job three ways; see bench/RESULTS.md for the numbers and how to read them.
"""
