"""The HTTP API for integrations: OpenAI-compatible chat completions with citations, and ask.

`app.create_app(assistant)` builds the FastAPI app; `server.serve(settings)` runs it with the
web chat mounted at `/` (docs/api.md).
"""
