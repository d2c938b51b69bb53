"""The framing classifier: a BERT-style encoder with a mean-pooled (or CLS-pooler) head.

E5 was trained with mean pooling and ships no pooler weights, so the default
head averages the last hidden states over the real tokens and applies dropout
and one linear layer. ``pooling="cls"`` reproduces the stock
``BertForSequenceClassification`` head (a newly initialised dense+tanh pooler on
the first token) for comparison.

The classes are registered with the ``Auto*`` factories on import, and
``save_pretrained`` also writes this file with an ``auto_map`` into the model
directory, so a saved model loads with
``AutoModelForSequenceClassification.from_pretrained(dir)`` after
``import framing``, or with ``trust_remote_code=True`` without it. This module
imports only torch and transformers for that reason.

Two options serve article context and attribution (corpus v2):

- ``pool_mask`` (an input beside ``attention_mask``): the head pools only over
  the positions where it is 1, so a passage scored with its article context as
  a second segment is still labelled by its own tokens (``framing.context``);
- ``speaker_labels`` (a config list, e.g. russian / western / none / both): a
  second linear head on the same pooled vector predicts who is voiced in the
  passage, an auxiliary target trained beside the label (``speaker_logits``).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForSequenceClassification, BertConfig, BertModel, BertPreTrainedModel
from dataclasses import dataclass

from transformers.modeling_outputs import SequenceClassifierOutput

POOLINGS = ("mean", "cls")


class FramingConfig(BertConfig):
    """``BertConfig`` plus the head's pooling, the input prefix and the calibration temperature."""

    model_type = "framing-bert"

    def __init__(self, pooling: str = "mean", text_prefix: str = "", calibration_temperature: float = 1.0,
                 max_seq_length: int = 512, context: str = "none", context_tokens: int = 0,
                 speaker_labels: list[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling = pooling
        self.text_prefix = text_prefix
        self.calibration_temperature = float(calibration_temperature)
        self.max_seq_length = int(max_seq_length)
        self.context = context
        self.context_tokens = int(context_tokens)
        self.speaker_labels = list(speaker_labels or [])

    @classmethod
    def from_encoder(cls, encoder_dir: str, **kwargs) -> "FramingConfig":
        """The encoder's own ``config.json`` sizes with the framing head's settings on top."""
        base = BertConfig.from_pretrained(encoder_dir).to_dict()
        for key in ("model_type", "architectures", "transformers_version", "id2label", "label2id",
                    "auto_map", *kwargs):
            base.pop(key, None)
        return cls(**base, **kwargs)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of ``hidden`` over the positions where ``attention_mask`` is 1."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


@dataclass
class FramingOutput(SequenceClassifierOutput):
    """The label logits, plus the auxiliary head's ``speaker_logits`` when the model has one."""

    speaker_logits: torch.Tensor | None = None


class FramingForSequenceClassification(BertPreTrainedModel):
    """Encoder + pooling + linear classifier over the framing labels."""

    config_class = FramingConfig

    def __init__(self, config: FramingConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=config.pooling == "cls")
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        n_speakers = len(getattr(config, "speaker_labels", []) or [])
        self.speaker_classifier = nn.Linear(config.hidden_size, n_speakers) if n_speakers else None
        self.post_init()

    def pool(self, input_ids=None, attention_mask=None, token_type_ids=None, pool_mask=None,
             **kwargs) -> torch.Tensor:
        """The pooled passage representation (before dropout and the classifier)."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, **kwargs)
        if self.config.pooling == "cls":
            return out.pooler_output
        return mean_pool(out.last_hidden_state, attention_mask if pool_mask is None else pool_mask * attention_mask)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, pool_mask=None, labels=None,
                speaker_labels=None, **kwargs) -> FramingOutput:
        """Label logits (and ``speaker_logits``); ``loss`` is the label cross-entropy when labels are given.

        ``speaker_labels`` is accepted so that the Trainer keeps that column; the auxiliary loss is
        weighted and added by ``framing.trainer``.
        """
        kwargs.pop("return_dict", None)
        pooled = self.dropout(self.pool(input_ids, attention_mask, token_type_ids, pool_mask, **kwargs))
        logits = self.classifier(pooled)
        speaker_logits = self.speaker_classifier(pooled) if self.speaker_classifier is not None else None
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.float(), labels)
        return FramingOutput(loss=loss, logits=logits, speaker_logits=speaker_logits)


AutoConfig.register(FramingConfig.model_type, FramingConfig, exist_ok=True)
AutoModelForSequenceClassification.register(FramingConfig, FramingForSequenceClassification, exist_ok=True)
FramingConfig.register_for_auto_class()
FramingForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")
