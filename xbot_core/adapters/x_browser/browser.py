"""Finding and launching Chromium for Playwright with flags that need no network."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Playwright

from xbot_core.errors import ConfigError

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


def find_chromium(configured: Path | None, system: Path = SYSTEM_CHROMIUM) -> Path | None:
    """XBOT_CHROMIUM_PATH if set (must exist), else /usr/bin/chromium, else None (Playwright's own)."""
    if configured is not None:
        if not configured.is_file():
            raise ConfigError(f"XBOT_CHROMIUM_PATH={configured} does not exist or is not a file")
        return configured
    if system.is_file():
        return system
    return None


async def launch_chromium(
    playwright: Playwright, chromium_path: Path | None, *, headless: bool = True
) -> Browser:
    """Launch Chromium (discovered as above) with offline-friendly flags."""
    executable = find_chromium(chromium_path)
    args = [*CHROMIUM_ARGS, "--headless"] if headless else list(CHROMIUM_ARGS)
    return await playwright.chromium.launch(
        executable_path=str(executable) if executable else None, headless=headless, args=args
    )
