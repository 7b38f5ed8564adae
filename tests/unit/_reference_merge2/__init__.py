"""Frozen copies of gsync.merge, gsync.responses, gsync.matching and gsync.rounds at commit 6cea1cc
(before brief P3's speed-up), importing one another: the reference for test_merge_equivalence.py."""
