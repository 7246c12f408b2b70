"""The Swarm backend (``kind: swarm``): a stack's services, networks, secrets and configs on a
Swarm manager, planned by ``planner`` and carried out by ``executor``."""
