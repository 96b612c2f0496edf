"""Fixtures shared by the test modules: whether a GPU adapter is there, and what a test
that needs one does without it."""

import os

import pytest

import descent

# scripts/test sets it: it installs Mesa's lavapipe, so there a missing adapter is a broken
# setup, and a GPU test that skipped would pass CI without testing anything.
REQUIRED = os.environ.get("DESCENT_REQUIRE_GPU") == "1"


@pytest.fixture
def has_gpu():
    """Whether descent sees a GPU adapter, for a test that checks more when it does; with
    none, a failure where DESCENT_REQUIRE_GPU=1."""
    if descent.adapters():
        return True
    if REQUIRED:
        pytest.fail(
            "no GPU adapter, and DESCENT_REQUIRE_GPU=1 requires one (Linux: apt-get install "
            "mesa-vulkan-drivers, or unset DESCENT_REQUIRE_GPU to skip the GPU tests)"
        )
    return False


@pytest.fixture
def gpu_adapters(has_gpu):
    """The GPU adapters, for a test that needs one: skipped without any, failed where
    DESCENT_REQUIRE_GPU=1. An adapter that lacks a capability (SHADER_F64) is the test's own
    skip, not this one."""
    if not has_gpu:
        pytest.skip("no GPU adapter")
    return descent.adapters()
