"""Commit statuses on the forge a version's commit came from: GitHub, Gitea/Forgejo, GitLab.

A version read from a repository whose manifest has ``spec.commitStatus`` gets, on its commit,
``pending`` when it is recorded or its apply starts, then ``success`` or ``failure`` when the
apply ends (with the plan's summary as description), under the context ``stackctl/<stack>``.
The three APIs, as each documents them:

- GitHub: ``POST {api}/repos/{owner}/{repo}/statuses/{sha}``, ``Authorization: Bearer TOKEN``;
- Gitea and Forgejo: ``POST {api}/api/v1/repos/{owner}/{repo}/statuses/{sha}``,
  ``Authorization: token TOKEN``;
- GitLab: ``POST {api}/api/v4/projects/{url-encoded path}/statuses/{sha}``, ``PRIVATE-TOKEN``,
  states ``pending``/``running``/``success``/``failed``.

``target_url`` points at the stack's page when the controller is given ``--public-url``. The
token file is read at each use and never kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import requests

from controller.delivery.notifications.destinations import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    check_answer,
)
from controller.desired.delivery import CommitStatus
from controller.models.errors import TransientError

# kind -> the state it sets (GitHub/Gitea names; GitLab's differ only for failure)
STATES = {
    "version.recorded": "pending",
    "apply.started": "pending",
    "apply.succeeded": "success",
    "apply.failed": "failure",
}
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>.+)$")
DESCRIPTION_MAX = 140  # GitHub refuses longer descriptions


@dataclass(frozen=True)
class Forge:
    """Where to post: the API's base URL, the project path, the provider and its token file."""

    status: CommitStatus
    api_url: str
    project: str

    @classmethod
    def of(cls, status: CommitStatus, *, repository_url: str) -> Forge:
        host, path = _host_and_path(repository_url)
        project = status.project or path.removesuffix(".git").strip("/")
        if status.api_url:
            api = status.api_url.rstrip("/")
        elif status.provider == "github":
            api = "https://api.github.com"
        else:
            api = f"https://{host}"
        return cls(status=status, api_url=api, project=project)

    def post(
        self, *, sha: str, state: str, context: str, description: str, target_url: str | None
    ) -> None:
        """Set the status or raise (``TransientError``/``PermanentError``)."""
        try:
            token = self.status.token_file.read_text().strip()
        except OSError as e:
            raise TransientError(
                f"commit status token file {self.status.token_file}: {e.strerror}"
            ) from e
        description = description[:DESCRIPTION_MAX]
        provider = self.status.provider
        if provider == "gitlab":
            url = f"{self.api_url}/api/v4/projects/{quote(self.project, safe='')}/statuses/{sha}"
            body = {
                "state": "failed" if state == "failure" else state,
                "name": context,
                "description": description,
                **({"target_url": target_url} if target_url else {}),
            }
            headers = {"PRIVATE-TOKEN": token}
        else:
            prefix = "/api/v1" if provider in ("gitea", "forgejo") else ""
            url = f"{self.api_url}{prefix}/repos/{self.project}/statuses/{sha}"
            body = {
                "state": state,
                "context": context,
                "description": description,
                **({"target_url": target_url} if target_url else {}),
            }
            auth = "Bearer" if provider == "github" else "token"
            headers = {"Authorization": f"{auth} {token}", "Accept": "application/json"}
        try:
            answer = requests.post(
                url,
                json=body,
                headers={**headers, "User-Agent": "stackctl"},
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            )
        except requests.RequestException as e:
            raise TransientError(f"{provider} status for {self.project}: {type(e).__name__}") from e
        check_answer(answer, f"{provider} status for {self.project}")


def _host_and_path(url: str) -> tuple[str, str]:
    if "://" in url:
        parts = urlsplit(url)
        return parts.hostname or "", parts.path
    match = _SCP.match(url)
    return (match["host"], match["path"]) if match else ("", url)
