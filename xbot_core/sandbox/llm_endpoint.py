"""OpenAI-compatible endpoint of the sandbox (owned by the content-generation work; replaced there)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter


def build_llm_router(state: Any) -> APIRouter:
    """Routes for /v1/chat/completions and the LLM fault admin; filled in by the generation issue."""
    return APIRouter()
