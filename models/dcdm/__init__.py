"""DCDM in PyTorch: network, data, training, export to ONNX, explanation pictures.

Needs torch (``scripts/setup.sh --with-torch``); inference lives in ``sarcoreg.core.dcdm``
and runs on ONNX Runtime alone.
"""
