"""Renderers of plans: text (Terraform-like), Markdown (pull-request comment), JSON (saved plan).

Every renderer returns a plain string; printing and colour decisions belong to the CLI.
"""

from __future__ import annotations

from reconciler.render.json import load_json, render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

__all__ = ["load_json", "render_json", "render_markdown", "render_text"]
