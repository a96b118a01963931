"""sarcoreg engine: optical/SAR co-registration without QGIS, Qt or torch.

Conventions used in every docstring of this package (see ``docs/conventions.md``):

* Arrays are indexed ``[row, col]``; row grows downward, col grows rightward.
* A pixel position ``(row, col)`` refers to the pixel *centre* when it is an integer
  (the centre of the top-left pixel is ``(0, 0)``; its outer corner is ``(-0.5, -0.5)``).
* Map coordinates are ``(x, y)`` with ``y`` north-positive.
* A shift ``d = Q - P``: a feature at map position ``P`` in the optical scene appears at
  ``P + d`` in the SAR scene.  ``dx_px, dy_px`` are the same shift in working-grid pixels
  (column, row; so ``dy_px = -dy_m / pixel_m``).
"""
