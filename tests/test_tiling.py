from sarcoreg.core.tiling import lattice_counts, lay_windows


def test_windows_are_inside_the_grid_spaced_and_centred():
    ws = lay_windows(1100, 1200, 512, 384, 384)
    assert {(w.win_row, w.win_col) for w in ws} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    for w in ws:
        assert 0 <= w.row0 and w.row0 + 512 <= 1100 and 0 <= w.col0 and w.col0 + 512 <= 1200
        assert w.template_origin == (w.row0 + 64, w.col0 + 64)
        assert w.template_centre == (w.row0 + 64 + 191.5, w.col0 + 64 + 191.5)
    # the lattice is centred: equal margins (within one pixel) on both sides
    rows = sorted({w.row0 for w in ws})
    assert abs(rows[0] - (1100 - rows[-1] - 512)) <= 1
    assert rows[1] - rows[0] == 384


def test_lattice_counts():
    assert lattice_counts(511, 512, 100) == (0, 0)
    assert lattice_counts(512, 512, 100) == (1, 0)
    assert lattice_counts(700, 512, 100) == (2, 44)
