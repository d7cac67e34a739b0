"""Run the database migrations as a one-off ECS task during ``cdk deploy``, and wait for it.

The CDK Provider framework calls :func:`on_event` once (start the task) and then
:func:`is_complete` every few seconds until it says so, or raises (the deploy then fails and
CloudFormation rolls back, so services never start against a schema they don't expect).
Deleting the stack runs nothing: the schema goes with the database.
"""

from __future__ import annotations

from typing import Any

CONTAINER = "migrate"


def _ecs() -> Any:
    import boto3  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415 - Lambda runtime only

    return boto3.client("ecs")


def on_event(event: dict[str, Any], _context: object = None, ecs: Any = None) -> dict[str, Any]:
    """Create/Update: start the migration task; Delete: nothing to do."""
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", "migrations")}
    props = event["ResourceProperties"]
    response = (ecs or _ecs()).run_task(
        cluster=props["Cluster"],
        taskDefinition=props["TaskDefinition"],
        launchType="FARGATE",
        count=1,
        startedBy="cloudformation",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": props["Subnets"],
                "securityGroups": props["SecurityGroups"],
                "assignPublicIp": props["AssignPublicIp"],
            }
        },
    )
    if response.get("failures") or not response.get("tasks"):
        msg = f"could not start the migration task: {response.get('failures')}"
        raise RuntimeError(msg)
    task_arn = response["tasks"][0]["taskArn"]
    return {"PhysicalResourceId": "migrations", "Data": {"TaskArn": task_arn}}


def is_complete(event: dict[str, Any], _context: object = None, ecs: Any = None) -> dict[str, Any]:
    """Done when the task stopped with exit code 0; a non-zero exit fails the deploy."""
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}
    props = event["ResourceProperties"]
    task_arn = event["Data"]["TaskArn"]
    described = (ecs or _ecs()).describe_tasks(cluster=props["Cluster"], tasks=[task_arn])
    tasks = described.get("tasks", [])
    # A task just started may not be visible yet (ECS is eventually consistent); the provider's
    # total timeout bounds the wait if it never shows up.
    if not tasks or tasks[0].get("lastStatus") != "STOPPED":
        return {"IsComplete": False}
    task = tasks[0]
    containers: list[dict[str, Any]] = task.get("containers", [])
    container = next((c for c in containers if c["name"] == CONTAINER), {})
    exit_code = container.get("exitCode")
    if exit_code != 0:
        reason = container.get("reason") or task.get("stoppedReason", "unknown")
        msg = (
            f"migrations failed (exit code {exit_code}: {reason}); "
            f"see the task's log stream in the migrations log group: {task_arn}"
        )
        raise RuntimeError(msg)
    return {"IsComplete": True}
