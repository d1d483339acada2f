"""The bundled knowledge bases (data only), shipped as package data."""

from __future__ import annotations

from pathlib import Path

KNOWLEDGE_ROOT = Path(__file__).resolve().parent
"""Directory holding the bundled knowledge bases."""
DEFAULT_KNOWLEDGE = KNOWLEDGE_ROOT / "microneedling"
"""The microneedling knowledge base that `needlewise` uses by default."""
