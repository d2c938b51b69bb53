"""Request and response bodies of the REST API (they make the OpenAPI schema at ``/docs``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

LANG_PATTERN = r"^[a-z]{2,3}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictRequest(_Strict):
    texts: list[str] = Field(description="passages to label; a blank one gives empty=true and label null",
                             examples=[["Putin said NATO had deceived Russia.", "Blinken warned of severe costs."]])
    explain: bool = Field(False, description="also say which sentence (or clause) drove each label")
    lang: str | None = Field(None, pattern=LANG_PATTERN,
                             description="ISO 639-1 code for the sentence rules of explain (default: guessed)")


class ArticlesRequest(_Strict):
    texts: list[str] = Field(description="whole articles: segmented into passages, boilerplate dropped",
                             examples=[["Putin demands guarantees\n\nPutin said NATO had deceived Russia.\n\n"
                                        "The talks will take place in Geneva."]])
    explain: bool = Field(False, description="add each passage's evidence (one batched pass per passage)")
    lang: str | None = Field(None, pattern=LANG_PATTERN, description="sentence rules for explain")


class SpanOut(BaseModel):
    text: str
    start: int = Field(description="offset into the passage text")
    end: int
    contribution: float = Field(description="drop in the label's probability when this span is left out")
    score_without: float = Field(description="the label's probability without this span")


class ExplanationOut(BaseModel):
    label: str | None
    unit: str = Field(description="sentence, or clause for a one-sentence passage")
    spans: list[SpanOut]


class PredictionOut(BaseModel):
    text: str
    label: str | None
    scores: dict[str, float] = Field(description="calibrated probabilities per label")
    empty: bool = False
    explanation: ExplanationOut | None = None


class PredictResponse(BaseModel):
    predictions: list[PredictionOut]


class PassageOut(BaseModel):
    index: int
    start: int = Field(description="offset into the article text")
    end: int
    text: str
    label: str | None
    scores: dict[str, float]
    explanation: ExplanationOut | None = None


class DroppedOut(BaseModel):
    start: int
    end: int
    text: str
    reason: str = Field(description="why this paragraph was dropped as boilerplate (not scored)")


class ArticleOut(BaseModel):
    dominant_frame: str | None = Field(description="label with the largest length-weighted share")
    n_passages: int
    label_share: dict[str, float] = Field(description="share of passages per label")
    length_weighted_share: dict[str, float] = Field(description="share of passage characters per label")
    passages: list[PassageOut]
    dropped: list[DroppedOut] = []
    empty: bool = False


class ArticlesResponse(BaseModel):
    articles: list[ArticleOut]


class ModelInfo(BaseModel):
    model: str
    labels: list[str]
    base_model: str | None
    temperature: float
    max_seq_length: int
    precision: str
    backend: str = Field(description="the inference backend running the model (framing.backends)")
    device: str
    metrics: dict[str, dict] | None = Field(description="macro-F1, accuracy and size of each evaluation set "
                                                        "in the model's metrics.json")
    limits: dict[str, int]
    request_merging: bool


class Health(BaseModel):
    status: str
    queue_pending: int
    queue_capacity: int
