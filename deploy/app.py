"""The CDK app: ``cdk synth`` and ``cdk deploy`` run this file (see cdk.json and docs/deploy.md).

Choose the stage with ``-c stage=dev|prod``; every other knob is a context key too
(collections_infra/config.py).
"""

from __future__ import annotations

import aws_cdk as cdk
from collections_infra.stages import build_stage


def main() -> None:
    app = cdk.App()
    build_stage(app)
    app.synth()


if __name__ == "__main__":
    main()
