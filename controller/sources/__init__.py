"""Sources of desired state: the loader (a folder of files -> desired stacks), git
repositories, SOPS secrets, and the watcher that turns each change into a stored version."""
