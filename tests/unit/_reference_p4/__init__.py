"""REFERENCE COPIES, for tests only: the derived tabs' code as of commit 6cea1cc, before brief P4's
speed-up (Summary tabs, Deadlines tab, Risk tab). tests/unit/test_derived_equivalence.py runs
these and the optimised gsync code on the same inputs and compares every cell. Never imported by
gsync; do not edit except to delete them with the equivalence test.
"""
