"""The PyTorch backend: the model itself, in fp32 or under bf16 autocast."""

from __future__ import annotations

import numpy as np


class TorchBackend:
    """Runs the loaded ``FramingForSequenceClassification`` (``precision`` "fp32" or "bf16")."""

    def __init__(self, model, device: str, precision: str):
        import torch

        self.model, self.device, self.precision = model, device, precision
        self.name = f"torch-{precision}"
        self._torch = torch

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray,
               pool_mask: np.ndarray | None) -> np.ndarray:
        torch = self._torch
        dev_type = "cuda" if self.device.startswith("cuda") else "cpu"
        extra = {"pool_mask": torch.from_numpy(pool_mask).to(self.device)} if pool_mask is not None else {}
        with torch.inference_mode(), torch.autocast(dev_type, dtype=torch.bfloat16,
                                                    enabled=self.precision == "bf16"):
            out = self.model(input_ids=torch.from_numpy(input_ids).to(self.device),
                             attention_mask=torch.from_numpy(attention_mask).to(self.device), **extra).logits
        return out.float().cpu().numpy()
