import math

import numpy as np
import pytest

from sarcoreg.core.errors import OverlapError
from sarcoreg.core.grid import WorkingGrid, build_working_grid, working_crs
from sarcoreg.core.raster import describe
from rasters import epsg_wkt, write_tif


def test_pixel_centre_convention_round_trip():
    g = WorkingGrid(epsg_wkt(32611), 1000.0, 5000.0, 10.0, 100, 80)
    x, y = g.pixel_to_map(0, 0)
    assert (float(x), float(y)) == (1005.0, 4995.0)
    r, c = g.map_to_pixel(*g.pixel_to_map(12.25, 40.5))
    assert math.isclose(float(r), 12.25) and math.isclose(float(c), 40.5)


def test_grid_is_the_optical_lattice_over_the_overlap_at_the_coarser_pixel(tmp_path):
    wkt = epsg_wkt(32611)
    opt = write_tif(tmp_path / "o.tif", [np.ones((600, 700), np.uint8)], (500000, 10, 0, 4000000, 0, -10), wkt)
    # SAR: 20 m pixels, starting 1005 m east and 2010 m south of the optical corner
    sar = write_tif(tmp_path / "s.tif", [np.ones((300, 300), np.float32)], (501005, 20, 0, 3997990, 0, -20), wkt)
    grid, facts = build_working_grid(describe(opt), describe(sar), None, 64)
    assert facts["pixel_m"] == 20
    assert grid.x0 == 501010 and grid.y0 == 3997990  # snapped inside the overlap on the optical lattice
    assert grid.x0 + grid.width * 20 <= 507000 and grid.y0 - grid.height * 20 >= 3994000


def test_geographic_optical_crs_is_replaced_by_its_utm_zone(tmp_path):
    opt = write_tif(tmp_path / "o.tif", [np.ones((400, 400), np.uint8)],
                    (-118.40, 0.0001, 0, 33.95, 0, -0.0001), epsg_wkt(4326))
    info = describe(opt)
    assert "32611" in working_crs(info.crs_wkt, info.width, info.height, info.geotransform)


def test_no_overlap_and_small_overlap_are_clear_errors(tmp_path):
    wkt = epsg_wkt(32611)
    a = write_tif(tmp_path / "a.tif", [np.ones((100, 100), np.uint8)], (0, 10, 0, 1000, 0, -10), wkt)
    b = write_tif(tmp_path / "b.tif", [np.ones((100, 100), np.uint8)], (5000, 10, 0, 1000, 0, -10), wkt)
    c = write_tif(tmp_path / "c.tif", [np.ones((100, 100), np.uint8)], (500, 10, 0, 1000, 0, -10), wkt)
    with pytest.raises(OverlapError, match="do not overlap"):
        build_working_grid(describe(a), describe(b), None, 32)
    with pytest.raises(OverlapError, match="smaller than one window"):
        build_working_grid(describe(a), describe(c), None, 64)
