"""Run the sandbox server as a child process (the demo's X site, LLM endpoint and virtual clock)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from xbot_core.errors import XbotError
from xbot_core.sandbox.token import bearer, read_admin_token


def sandbox_health(
    url: str, headers: dict[str, str], timeout_s: float = 1.0, *, client: httpx.Client | None = None
) -> dict | None:
    """The sandbox's /admin/health answer to `headers` (its admin token), or None when nothing, something
    else, or a sandbox that does not know this token answers there. `client`: one to reuse while polling (a
    new one per request builds an SSL context each time: 0.2 s of CPU at load, taken from the starting
    sandbox)."""
    try:
        get = client.get if client is not None else httpx.get
        resp = get(f"{url}/admin/health", headers=headers, timeout=timeout_s)
        body = resp.json() if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return body if isinstance(body, dict) and body.get("sandbox") is True else None


def _refuses_token(url: str, headers: dict[str, str], timeout_s: float = 1.0) -> bool:
    """Whether something at `url` answers /admin/health with 401: a sandbox whose token we do not have."""
    try:
        return httpx.get(f"{url}/admin/health", headers=headers, timeout=timeout_s).status_code == 401
    except httpx.HTTPError:
        return False


class SandboxProcess:
    """`xbot sandbox` in a child process; reuses one already answering on the same port."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        seed: int,
        state_dir: Path,
        log_file: Path,
        token_file: Path | None = None,
        audience_file: Path | None = None,
        accounts: tuple[str, ...] = (),
    ) -> None:
        """`accounts`: other hosted accounts as `HANDLE` or `HANDLE:SEED` (xbot sandbox --account)."""
        self.url = f"http://{host}:{port}"
        self.token_file = token_file or state_dir / f"admin-token-{port}"
        self._args = [
            sys.executable,
            "-m",
            "xbot_core.cli",
            "sandbox",
            "--host",
            host,
            "--port",
            str(port),
            "--seed",
            str(seed),
            "--state-dir",
            str(state_dir),
            "--token-file",
            str(self.token_file),
            *(["--audience", str(audience_file)] if audience_file is not None else []),
            *(arg for spec in accounts for arg in ("--account", spec)),
        ]
        self._log_file = log_file
        self._proc: subprocess.Popen[bytes] | None = None
        self.reused = False

    def start(self, timeout_s: float = 90.0) -> SandboxProcess:
        """Start it and wait for /admin/health (its start took 32 s at load 9 on the shared 2 cores)."""
        if sandbox_health(self.url, self.admin_headers):
            self.reused = True
            return self
        if _refuses_token(self.url, self.admin_headers):
            raise XbotError(
                f"a sandbox already answers at {self.url} but its admin token is not in {self.token_file}; "
                "stop it, or run with the XBOT_DATA_DIR it was started with"
            )
        self._log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self._log_file.open("ab")
        self._proc = subprocess.Popen(self._args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise XbotError(
                        f"the sandbox exited with code {self._proc.returncode}; see {self._log_file}"
                    )
                # the child wrote its token before serving
                if sandbox_health(self.url, self.admin_headers, client=client):
                    return self
                time.sleep(0.2)
        self.stop()
        raise XbotError(
            f"the sandbox did not answer at {self.url} within {timeout_s:.0f} s; see {self._log_file}"
        )

    @property
    def admin_headers(self) -> dict[str, str]:
        """Authorization for the sandbox's admin requests, read from its token file ({} if unreadable)."""
        return bearer(read_admin_token(self.token_file))

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
