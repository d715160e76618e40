"""Where the project keeps what it creates at run time.

Everything (database files, the Meilisearch binary, logs, pid files, dev secrets)
lives under one git-ignored folder, `var/` at the repository root unless
`BENEFITS_VAR` points elsewhere (the test session uses its own).
"""

import json
import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def var_dir() -> Path:
    path = Path(os.environ.get("BENEFITS_VAR") or REPO_ROOT / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def tools_dir() -> Path:
    """Installed tools (the Meilisearch binary): shared by every var folder of this
    checkout, so the test session does not download them again."""
    path = REPO_ROOT / "var" / "bin"
    path.mkdir(parents=True, exist_ok=True)
    return path


def component_dir(name: str) -> Path:
    path = var_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def dev_secrets() -> dict[str, str]:
    """Secrets for a local run, generated once and kept in var/secrets.json.

    Production passes every one of them through the environment instead.
    """
    path = var_dir() / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "MEILI_MASTER_KEY": secrets.token_hex(24),
        "PII_ENCRYPTION_KEY": secrets.token_hex(32),
        "PII_HASH_KEY": secrets.token_hex(32),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values
