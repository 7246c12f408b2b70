"""The Swarm planner, pure: ``stack`` plans a stack's services (``swarm_plan``) and its
teardown, ``service_spec`` writes a service's whole spec and says what Swarm cannot run."""
