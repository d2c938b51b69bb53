"""Push a trained model directory (weights, tokenizer, config, model card, metrics) to the Hugging Face Hub.

    python scripts/push_to_hub.py MODEL_DIR REPO_ID [--private] [--token TOKEN]

Needs network access and a token (`huggingface-cli login` or $HF_TOKEN). Offline
it stops with a clear message instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("repo_id")
    ap.add_argument("--private", action="store_true")
    ap.add_argument("--token", default=None)
    args = ap.parse_args(argv)

    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    from framing.inference import ModelDirectoryError, validate_model_dir

    try:
        validate_model_dir(args.model_dir)
    except ModelDirectoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not (args.model_dir / "README.md").is_file():
        print(f"error: {args.model_dir}: no README.md model card; train with scripts/train.py", file=sys.stderr)
        return 2
    api = HfApi(token=args.token)
    try:
        api.create_repo(args.repo_id, private=args.private, exist_ok=True)
        info = api.upload_folder(folder_path=str(args.model_dir), repo_id=args.repo_id,
                                 commit_message="Upload framing model")
    except OfflineModeIsEnabled:
        print("error: the Hugging Face Hub is disabled (HF_HUB_OFFLINE is set); unset it to push", file=sys.stderr)
        return 1
    except HfHubHTTPError as exc:
        print(f"error: the Hub refused the upload: {exc}", file=sys.stderr)
        return 1
    except (OSError, ConnectionError) as exc:
        print(f"error: cannot reach the Hugging Face Hub ({type(exc).__name__}); push needs network access",
              file=sys.stderr)
        return 1
    except Exception as exc:  # httpx / requests connection errors have no common base class
        if "connect" in type(exc).__name__.lower() or "connect" in str(exc).lower():
            print(f"error: cannot reach the Hugging Face Hub ({type(exc).__name__}); push needs network access",
                  file=sys.stderr)
            return 1
        raise
    print(f"pushed {args.model_dir} to {info}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
