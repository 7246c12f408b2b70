"""Delivery: telling people what happened (notifications), rollbacks, and image updates."""
