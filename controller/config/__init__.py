"""Settings, where stackctl keeps its state, and logging: what every process starts from."""
