"""The migration custom resource starts one task and reports its exit code to CloudFormation."""

from __future__ import annotations

from typing import Any

import pytest
from collections_infra.migration_runner.handler import is_complete, on_event

PROPS = {
    "Cluster": "collections-dev",
    "TaskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:7",
    "Subnets": ["subnet-a", "subnet-b"],
    "SecurityGroups": ["sg-1"],
    "AssignPublicIp": "ENABLED",
}
TASK = "arn:aws:ecs:us-east-1:123456789012:task/collections-dev/abc"


class FakeEcs:
    """Records calls and answers like the ECS API (the parts the handler reads)."""

    def __init__(self, task: dict[str, Any] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.task = task

    def run_task(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("run_task", kwargs))
        return {"tasks": [{"taskArn": TASK}], "failures": []}

    def describe_tasks(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_tasks", kwargs))
        return {"tasks": [self.task] if self.task else [], "failures": []}


def _event(kind: str, **extra: Any) -> dict[str, Any]:
    return {"RequestType": kind, "ResourceProperties": PROPS, **extra}


@pytest.mark.parametrize("kind", ["Create", "Update"])
def test_create_and_update_start_the_task_in_the_given_network(kind: str) -> None:
    """The task runs on Fargate in the stack's subnets, and its ARN is handed on."""
    ecs = FakeEcs()
    result = on_event(_event(kind), None, ecs)
    assert {"PhysicalResourceId": "migrations", "Data": {"TaskArn": TASK}} == result
    ((name, call),) = ecs.calls
    assert ("run_task", "FARGATE", "ENABLED") == (
        name,
        call["launchType"],
        call["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"],
    )
    assert ["subnet-a", "subnet-b"] == call["networkConfiguration"]["awsvpcConfiguration"][
        "subnets"
    ]


def test_delete_runs_nothing() -> None:
    """Deleting the stack does not touch the database."""
    ecs = FakeEcs()
    assert {"IsComplete": True} == is_complete(_event("Delete"), None, ecs)
    assert (
        "migrations"
        == on_event(_event("Delete", PhysicalResourceId="migrations"), None, ecs)[
            "PhysicalResourceId"
        ]
    )
    assert [] == ecs.calls


def test_a_running_task_is_not_complete() -> None:
    """While the task runs, CloudFormation keeps waiting."""
    ecs = FakeEcs({"lastStatus": "RUNNING", "containers": []})
    assert {"IsComplete": False} == is_complete(_event("Create", Data={"TaskArn": TASK}), None, ecs)


def test_a_task_not_yet_visible_is_waited_for() -> None:
    """ECS may not list a task right after starting it; that is not a failure."""
    assert {"IsComplete": False} == is_complete(
        _event("Create", Data={"TaskArn": TASK}), None, FakeEcs(None)
    )


def test_exit_code_zero_completes() -> None:
    """A migrate container that exited 0 lets the deploy go on."""
    task = {"lastStatus": "STOPPED", "containers": [{"name": "migrate", "exitCode": 0}]}
    assert {"IsComplete": True} == is_complete(
        _event("Update", Data={"TaskArn": TASK}), None, FakeEcs(task)
    )


@pytest.mark.parametrize(
    "container",
    [{"name": "migrate", "exitCode": 1}, {"name": "migrate", "reason": "CannotPullContainerError"}],
)
def test_failure_fails_the_deploy_with_the_reason(container: dict[str, Any]) -> None:
    """A non-zero exit, or no exit at all, raises so CloudFormation rolls back."""
    task = {
        "lastStatus": "STOPPED",
        "stoppedReason": "Essential container exited",
        "containers": [container],
    }
    with pytest.raises(RuntimeError, match="migrations failed"):
        is_complete(_event("Create", Data={"TaskArn": TASK}), None, FakeEcs(task))
