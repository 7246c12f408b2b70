"""``stackctl run``: the controller process and the loops it runs."""
