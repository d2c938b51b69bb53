"""``framing serve``: the analysts' web page and the REST API in one server process.

``framing.serve.app.create_app(model, cfg)`` builds the FastAPI app (optional
dependencies: ``pip install -e ".[app]"``); ``configs/serve.yaml`` holds its limits
and batching settings (:mod:`framing.serve.config`).
"""
