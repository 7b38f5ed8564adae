"""`CellBlock`s that share their span's rows (`first`, `count`: `WritePlan._write_changed`) give
the values, JSON and request of a block holding those rows as a list of its own, for every range
`writebatch` may ask (cut between any rows, ends past the block or negative, as a slice of a list
takes them).
"""

from __future__ import annotations

from gsync import sheetio


def test_a_block_of_shared_rows_is_its_own_rows() -> None:
    rows = [[f"r{i}", i, "" if i % 2 else None] for i in range(7)]
    for first in range(7):
        for count in range(1, 8 - first):
            shared = sheetio.CellBlock(3, 10, 2, rows=rows, first=first, count=count)
            own = sheetio.CellBlock(3, 10, 2, rows=rows[first : first + count])
            made = sheetio._shared_block(3, 10, 2, rows, first, count)
            assert type(made) is sheetio.CellBlock
            assert {k: getattr(made, k) for k in made.__slots__} == {
                k: getattr(shared, k) for k in shared.__slots__
            }
            assert len(shared) == len(own) == count
            assert shared.request() == own.request()
            assert list(shared.values()) == list(own.values())
            for lo in range(-count - 2, count + 3):
                for hi in range(-count - 2, count + 3):
                    assert list(shared.values(lo, hi)) == list(own.values(lo, hi)), (lo, hi)
                    assert shared.encoded(lo, hi) == own.encoded(lo, hi)


def test_rows_from_first_to_the_end() -> None:
    rows = [["a"], ["b"], ["c"]]
    block = sheetio.CellBlock(1, 0, 0, rows=rows, first=1)
    assert len(block) == 2 and list(block.values()) == [["b"], ["c"]]
