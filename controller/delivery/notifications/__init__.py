"""Delivery: telling people what happened, from the outbox, without ever holding a deploy.

The messages are written by the layers that change state (``db.events``, ``versions``,
``announcements``), in their transactions (``db.outbox``). This package only reads them:
``sender`` routes each message once to the destinations that want it and sends the deliveries
from its own thread with retries and backoff; ``destinations`` sends to an Apprise URL or to the
native signed webhook; ``forges`` sets commit statuses on GitHub, Gitea/Forgejo and GitLab.
A destination that fails or hangs delays only its own deliveries.
"""
