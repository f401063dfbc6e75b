"""Fixtures of the infra tests: the offline plan of each stack kind, made once
per session (two plans at a time) through `caliber plan --offline --json`
(stacks.py says how)."""

import shutil

import pytest

import stacks


@pytest.fixture(scope="session")
def plans(tmp_path_factory):
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH: the infra tests need terraform 1.11 and /opt/tf-plugins")
    root = tmp_path_factory.mktemp("infra-plans")
    result, seconds, total, how = stacks.plan_all(root)
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items())
    print(f"\noffline plans via {how}: {timing}; total {total:.1f}s (2 at a time)")
    return result



@pytest.fixture(scope="session")
def dedicated_stg(plans):
    return plans["dedicated_stg"]


@pytest.fixture(scope="session")
def dedicated_prod(plans):
    return plans["dedicated_prod"]


@pytest.fixture(scope="session")
def shared_stg(plans):
    return plans["shared_stg"]


@pytest.fixture(scope="session")
def tenant_stg(plans):
    return plans["tenant_stg"]
