"""Block Kit builders, one module per surface; every message they build carries a plain `text` fallback."""
