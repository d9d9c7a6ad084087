"""Lab hosts on AWS EC2: create, start, stop, schedule, DNS, the power/DNS Lambdas, cleanup.

Every AWS request goes through `lab.aws.client.Aws`; every resource created carries the tag
`okta-lab=<LAB_PROJECT>`, which is how `lab aws cleanup` finds exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.aws.client import Aws
from lab.context import LabContext
from lab.settings.aws import AwsSettings


@dataclass
class AwsLab:
    """One lab's view of AWS: its settings, its project (the tag value), a session."""

    ctx: LabContext
    settings: AwsSettings
    project: str
    aws: Aws

    @classmethod
    def open(cls, ctx: LabContext, aws: Aws | None = None) -> AwsLab:
        """Read `.env` (every problem at once), then check region and credentials."""
        from lab.config import LabConfig

        config = LabConfig.from_env(ctx.env_path)
        return cls(ctx, config.aws, config.core.project, aws or Aws.connect(config.aws.region))

    def name(self, *parts: str) -> str:
        """`okta-lab-<project>-<parts...>`: the name of a resource the lab creates."""
        return "-".join(["okta-lab", self.project, *parts])
