"""The planner layer: ``plan(desired, observed) -> Plan``, pure.

It decides, the reconciler acts (kopf's detect/process split). Given the desired stack and a
snapshot of what the engine has, it lists the steps that make them equal, each with a reason a
person can read. It reads no clock, no environment, no files, and calls nothing: the same
inputs always give the same plan, and an observed state equal to the desired one gives a plan
with no mutating step (zero engine calls). It imports only the desired model and the observed
snapshot (``controller.desired``, ``controller.models``); the reconciler and the executor call it.

``steps`` holds the values (Step, Plan), ``stack`` plans a whole stack (networks, volumes,
images, waits, orphans, teardown), ``replicas`` a service's containers, ``names`` the naming
rules the executor and the health assessment share.

Decisions written down here because docs/architecture.md is silent on them:
- A stopped container is started again, except a *completed run*: exited with code 0 under
  restart policy ``no`` or ``on-failure`` (a one-shot job, e.g. a migration). Starting those on
  every resync would be a redeploy loop.
- Image drift: a container is recreated when the image its reference resolves to *now* differs
  from the one it runs (the tag was moved, e.g. by a build or a pull).
- ``wait`` steps are emitted only around services that change in this plan, so a plan of an
  unchanged stack stays empty.
- ``pull_policy: always`` is a step, not a difference: with ``pull_always`` the plan holds a
  PULL for such services (``refresh_steps``), which the reconciler carries out *before*
  observing again and planning without them; a pulled image whose id changed then shows as an
  image change (recreate), an unchanged one as nothing. ``diff`` plans without them. So do
  ``build`` (a BUILD at every apply, as Compose builds at every ``up``) and, given ``now``,
  ``daily``/``weekly``/``every_<duration>`` (a PULL when a tag last named the image longer ago
  than that, Compose's rule: ``LastTagTime``).
"""

from controller.backends.docker.planner.container_names import (
    image_ref,
    image_refs,
    object_names,
    replacement_name,
    replica_names,
)
from controller.backends.docker.planner.replicas import describe_change
from controller.backends.docker.planner.stack import dependency_levels, plan, pull_period, teardown
from controller.backends.shared.steps import (
    ALWAYS_PULL,
    NON_MUTATING,
    Plan,
    Step,
    StepKind,
    explain,
)

__all__ = [
    "ALWAYS_PULL",
    "NON_MUTATING",
    "Plan",
    "Step",
    "StepKind",
    "dependency_levels",
    "describe_change",
    "explain",
    "image_ref",
    "image_refs",
    "object_names",
    "plan",
    "pull_period",
    "replacement_name",
    "replica_names",
    "teardown",
]
