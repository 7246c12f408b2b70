"""End to end on the real engine: ``stackctl run`` serves its API on 127.0.0.1 with a token,
and ``stackctl --server`` drives it from another process: ``apply --wait`` sends a folder
whose service reads a bind-mounted file from it, the controller's worker converges it (the
uploaded copy is what the container mounts); ``ps``, ``logs`` and ``describe`` show what runs,
from the controller's engine (``describe`` as the local one prints it); ``diff`` prints the
lines the local ``diff`` prints for the same folder (exit 0 unchanged, 1 with differences); a
stack the controller's own folder declares is refused."""

from __future__ import annotations

from helpers.controller_process import ControllerProcess
from helpers.remote import ADMIN_TOKEN, stack_folder, without_ages


def test_apply_ps_logs_describe_and_diff_through_the_controller(
    engine_janitor, test_images, free_port, tmp_path, cli, monkeypatch
):
    monkeypatch.setenv("STACKCTL_API_TOKEN", ADMIN_TOKEN)
    watched = tmp_path / "watched"  # the controller's own folder: one suspended stack
    held = engine_janitor.project("held")
    stack_folder(watched, held, {"image": test_images.v1}, suspend=True)
    db_path = tmp_path / "state" / "stackctl.db"
    db_path.parent.mkdir()
    controller = ControllerProcess(watched, db_path, extra=("--api", f"127.0.0.1:{free_port}"))
    name = engine_janitor.project("web")
    service = {
        "image": test_images.v1,
        "command": ["sh", "-c", "cat /data/greeting; exec sleep 3600"],
        "init": True,
        "volumes": ["./data:/data:ro"],
    }
    folder = stack_folder(tmp_path / "manifests", name, service)
    (folder / "data").mkdir()
    (folder / "data" / "greeting").write_text("hello from the uploaded folder\n")
    env = {"STACKCTL_SERVER": f"http://127.0.0.1:{free_port}", "STACKCTL_TOKEN": ADMIN_TOKEN}
    controller.start()
    try:
        applied = cli.run("apply", str(folder), "--wait", "--timeout", "120", env=env)
        assert applied.returncode == 0, (applied.stdout, applied.stderr)
        assert applied.stdout.splitlines()[-1] == f"{name}: converged"

        ps = cli.run("ps", name, env=env)
        assert ps.returncode == 0, ps.stderr
        assert f"{name}-web-1" in ps.stdout and "running" in ps.stdout
        logs = cli.run("logs", name, env=env)
        assert logs.stdout == f"{name}-web-1 | hello from the uploaded folder\n", logs.stderr
        described = cli.run("describe", name, env=env)
        assert described.returncode == 0, described.stderr
        assert "Applied:    v1" in described.stdout
        assert f"{name}-web-1" in described.stdout  # the services table, from the engine
        here = cli.run("describe", name, "--db", str(db_path))
        assert without_ages(described.stdout) == without_ages(here.stdout)

        same = cli.run("diff", str(folder), env=env)
        assert (same.returncode, same.stdout) == (0, f"{name}: no differences\n"), same.stderr
        (folder / f"{name}.yaml").write_text(
            (folder / f"{name}.yaml").read_text().replace(test_images.v1, test_images.v2)
        )
        remote = cli.run("diff", str(folder), env=env)
        local = cli.run("diff", str(folder), "--db", str(db_path))
        assert remote.returncode == 1, remote.stderr
        assert remote.stdout == local.stdout and local.returncode == 1
        assert test_images.v2 in remote.stdout

        # The controller's own folder declares `held`: an apply over the API is refused.
        theirs = stack_folder(tmp_path / "theirs", held, {"image": test_images.v2})
        refused = cli.run("apply", str(theirs), env=env)
        assert refused.returncode == 1
        assert refused.stderr.startswith(f"error: stack '{held}' is declared by the watched")
    finally:
        assert controller.stop() == 0
