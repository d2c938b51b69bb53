"""The server's limits and batching settings: ``configs/serve.yaml`` (every field), defaults here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..training_args import ConfigError, load_dataclass

REPO_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "serve.yaml"


@dataclass
class Limits:
    max_body_bytes: int = 1_000_000
    max_texts: int = 256
    max_upload_bytes: int = 20_000_000
    max_page_articles: int = 5000


@dataclass
class Batching:
    merge: bool = True
    merge_window_ms: float = 5.0
    max_batch_texts: int = 256
    queue_size: int = 64
    batch_size: int = 32


@dataclass
class ExplainSection:
    batch_size: int = 64


@dataclass
class PageSection:
    chunk_articles: int = 8
    concurrency: int = 8
    evidence_min_drop: float = 0.01
    examples: list[str] = field(default_factory=lambda: ["en", "de", "ru", "fr", "uk"])


@dataclass
class ServeConfig:
    """Everything ``framing serve`` can be told; see ``configs/serve.yaml`` for what each field does."""

    host: str = "127.0.0.1"
    port: int = 7860
    limits: Limits = field(default_factory=Limits)
    batching: Batching = field(default_factory=Batching)
    explain: ExplainSection = field(default_factory=ExplainSection)
    page: PageSection = field(default_factory=PageSection)

    def validate(self) -> "ServeConfig":
        positive = {"limits.max_body_bytes": self.limits.max_body_bytes, "limits.max_texts": self.limits.max_texts,
                    "limits.max_upload_bytes": self.limits.max_upload_bytes,
                    "limits.max_page_articles": self.limits.max_page_articles,
                    "batching.max_batch_texts": self.batching.max_batch_texts,
                    "batching.queue_size": self.batching.queue_size, "batching.batch_size": self.batching.batch_size,
                    "explain.batch_size": self.explain.batch_size, "page.chunk_articles": self.page.chunk_articles,
                    "page.concurrency": self.page.concurrency}
        for key, value in positive.items():
            if value < 1:
                raise ConfigError(f"{key} must be at least 1, got {value}")
        if self.batching.merge_window_ms < 0:
            raise ConfigError(f"batching.merge_window_ms must not be negative, got {self.batching.merge_window_ms}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, got {self.port}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def load_serve_config(path: str | Path | None = None, overrides: list[str] | None = None) -> ServeConfig:
    """``path`` (default: the repository's ``configs/serve.yaml`` when present) plus ``key=value`` overrides."""
    if path is None and REPO_CONFIG.is_file():
        path = REPO_CONFIG
    return load_dataclass(ServeConfig, path, overrides).validate()
