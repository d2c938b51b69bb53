"""``framing serve``: load the model, build the app, run it with uvicorn."""

from __future__ import annotations

import argparse
import sys

APP_EXTRA_HINT = "pip install -e '.[app]'"


def serve_command(args: argparse.Namespace) -> int:
    """Run the server until interrupted; a clear one-line error for a missing extra, config or model."""
    from ..backends import BackendError
    from ..inference import ModelDirectoryError, ModelNotFoundError
    from ..training_args import ConfigError
    from .config import load_serve_config

    try:
        import uvicorn

        from .app import create_app
    except ImportError as exc:
        print(f"error: framing serve needs the optional app dependencies ({exc.name} is missing): "
              f"{APP_EXTRA_HINT}", file=sys.stderr)
        return 2
    overrides = [*args.sets, *(["batching.merge=false"] if args.no_merge else [])]
    try:
        cfg = load_serve_config(args.config, overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    host = args.host or cfg.host
    port = cfg.port if args.port is None else args.port
    try:
        app = create_app(args.model, cfg, device=args.device, precision=args.precision,
                         backend=getattr(args, "backend", "auto"))
    except (ModelNotFoundError, ModelDirectoryError, BackendError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    merging = "on" if cfg.batching.merge else "off"
    print(f"framing serve: http://{host}:{port}/ (page), /docs (REST API), request merging {merging}",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0
