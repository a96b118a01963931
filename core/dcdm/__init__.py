"""DCDM inference without torch: the diffusion schedule (``schedule``), the model contract
carried in the ONNX metadata (``contract``) and the ONNX Runtime matcher (``matcher``).

The network itself is defined and trained in ``sarcoreg.models.dcdm`` (PyTorch); only its
exported ONNX graphs are used here.
"""
