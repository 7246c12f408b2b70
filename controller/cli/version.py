"""``stackctl version``: our version next to the engine's (version, API version and the API
version we speak with it), as ``docker version`` and ``kubectl version`` show client and server.

``stackctl --version`` stays the fast, engine-free one-liner (``app.py``).
"""

from __future__ import annotations

import platform

import typer

from controller import __version__
from controller.cli.app import app
from controller.cli.output import OUTPUT_OPTION, Output, print_data
from controller.cli.running import docker_host
from controller.models.errors import StackctlError


@app.command()
def version(output: Output = OUTPUT_OPTION) -> None:
    """stackctl's version and the Docker engine's (exit 1 when the engine does not answer)."""
    from controller.backends.docker import Engine
    from controller.backends.docker.containers import engine_version

    ours = {"version": __version__, "python": platform.python_version()}
    try:
        engine, error = engine_version(Engine(timeout=10)), None
    except StackctlError as e:
        engine, error = None, f"{e} (DOCKER_HOST={docker_host()})"
    if output is not Output.TABLE:
        print_data({"stackctl": ours, "engine": engine, "engine_error": error}, output)
    else:
        typer.echo(f"stackctl: {__version__} (Python {ours['python']})")
        if engine is not None:
            typer.echo(
                f"engine:   Docker {engine.version}, API {engine.api_version} "
                f"(min {engine.min_api_version}), {engine.os}/{engine.arch}"
            )
            typer.echo(f"client:   docker-py {engine.docker_py}, API {engine.client_api_version}")
    if error is not None:
        typer.echo(f"error: the engine does not answer: {error}", err=True)
        raise typer.Exit(1)
