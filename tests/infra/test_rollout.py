"""Rolling deployments: new tasks start before old ones stop, a failing
deployment rolls back by itself, and the load balancer timings let a
rollout finish in about two minutes (docs/infra.md has the arithmetic)."""

import pytest

from planjson import afters

ALL = ["dedicated_stg", "dedicated_prod", "shared_stg", "tenant_stg"]


@pytest.fixture(params=ALL)
def any_stack(request, plans):
    return plans[request.param]


def test_service_has_circuit_breaker_with_rollback(any_stack):
    (svc,) = afters(any_stack, "aws_ecs_service")
    assert svc["deployment_circuit_breaker"] == [{"enable": True, "rollback": True}]
    assert svc["deployment_controller"][0]["type"] == "ECS"


def test_service_starts_new_tasks_before_stopping_old_ones(any_stack):
    (svc,) = afters(any_stack, "aws_ecs_service")
    assert svc["deployment_minimum_healthy_percent"] == 100
    assert svc["deployment_maximum_percent"] == 200
    assert svc["health_check_grace_period_seconds"] == 30
    assert svc["load_balancer"][0]["container_name"] == "api"
    assert svc["load_balancer"][0]["container_port"] == 8000


def test_target_group_drains_in_15s_and_checks_health_every_10s(any_stack):
    (tg,) = afters(any_stack, "aws_lb_target_group")
    assert tg["deregistration_delay"] == "15"
    hc = tg["health_check"][0]
    assert hc["path"] == "/health/"
    assert hc["interval"] == 10
    assert hc["healthy_threshold"] == 2
    assert hc["unhealthy_threshold"] == 3
    assert hc["timeout"] == 5
    assert hc["matcher"] == "200"
    assert tg["target_type"] == "ip"
    assert tg["port"] == 8000


def test_task_size_comes_from_the_configuration(plans):
    (td,) = afters(plans["dedicated_stg"], "aws_ecs_task_definition")
    assert (td["cpu"], td["memory"]) == ("256", "512")
    (td,) = afters(plans["dedicated_prod"], "aws_ecs_task_definition")
    assert (td["cpu"], td["memory"]) == ("1024", "2048")
