"""CLI commands of the service: ``serve``, ``experiment report | list | simulate`` (registered on the main app).

No ``from __future__ import annotations`` here: typer reads the option annotations at registration time.
"""

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

log = logging.getLogger("shelfwise")

OutputOpt = Annotated[Path | None, typer.Option("--output", help="Folder for report.json and report.md.")]

experiment_app = typer.Typer(help="A/B experiments: list, report, simulate.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``experiment`` group to the main CLI."""
    from shelfwise import cli

    @app.command()
    def serve(
        store: cli.StoreOpt = cli.DEFAULT_STORE,
        artifacts: cli.ArtifactsOpt = None,
        host: Annotated[
            str | None, typer.Option("--host", help="Address to bind (default api.host, 127.0.0.1).")
        ] = None,
        port: Annotated[int | None, typer.Option("--port", help="Port (default api.port, 8000).")] = None,
        workers: Annotated[
            int,
            typer.Option(
                "--workers",
                help="Worker processes on the one store (1-64); each loads the pipelines and follows the store.",
            ),
        ] = 1,
        config: cli.ConfigOpt = None,
        set_: cli.SetOpt = None,
        verbose: cli.VerboseOpt = False,
        no_web: Annotated[
            bool, typer.Option("--no-web", help="Serve the API only: no storefront or dashboard pages.")
        ] = False,
        ray: Annotated[
            str | None,
            typer.Option("--ray", help="Serve as Ray Serve replicas on the Ray cluster at this address."),
        ] = None,
        replicas: Annotated[int, typer.Option("--replicas", help="Ray Serve replicas (with --ray).")] = 2,
        state: Annotated[
            str | None,
            typer.Option(
                "--state",
                help="Online state shared by replicas: redis://HOST:PORT/DB[?prefix=NAME] (default: in-process).",
            ),
        ] = None,
    ) -> None:
        """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs, readiness at /health/ready).

        Keys: set $SHELFWISE_ADMIN_KEY (the variable named by api.admin_key_env) to a secret of your choice
        to use it as an admin key; create scoped keys with POST /v1/keys. Without that variable and without
        stored keys, a random admin key is made for this run and printed once on stderr.
        """
        cli._setup_logging(verbose)
        with cli._errors():
            if not 1 <= workers <= 64:
                raise cli.CliError(f"--workers {workers}: give a number of worker processes from 1 to 64")
            settings = cli._settings(store, config, set_)
            from shelfwise.api.demo import admin_key

            h, p = host or settings.api.host, port if port is not None else settings.api.port
            if state and (ray or workers > 1):  # one clear line now, not a traceback in every worker
                from shelfwise.online import open_online_state

                open_online_state(state).close()
            if ray:
                if not 1 <= replicas <= 64:
                    raise cli.CliError(f"--replicas {replicas}: give a number of replicas from 1 to 64")
                from shelfwise.api.server import ENV_STATE
                from shelfwise.distributed.serve import run_on_ray

                cli.err_console.print(f"serving {store} on http://{h}:{p} with {replicas} Ray Serve replicas")
                run_on_ray(
                    ray,
                    store=str(store),
                    replicas=replicas,
                    host=h,
                    port=p,
                    config=str(config) if config else None,
                    overrides=list(set_ or []),
                    web=not no_web,
                    extra_env={ENV_STATE: state} if state else None,
                    artifacts=artifacts,
                )
                return
            if workers > 1:
                from shelfwise.api.auth import KeyRing
                from shelfwise.api.server import serve_workers, worker_environment
                from shelfwise.storage import open_store

                with open_store(store, create=False) as st:  # closed before the workers open it
                    no_keys = KeyRing.from_settings(st, settings.api).empty
                if no_keys:
                    _announce_key(cli, settings, admin_key(settings)[0])  # sets the env the workers inherit
                env = worker_environment(
                    str(store),
                    str(config) if config else None,
                    list(set_ or []),
                    web=not no_web,
                    state=state,
                    artifacts=artifacts,
                )
            else:
                from shelfwise.api import create_app

                app = create_app(settings, store_path=store, web=not no_web, state=state, artifacts=artifacts)
                if app.state.keys.empty:
                    key, _ = admin_key(settings)
                    app.state.keys.accept_admin_key(key)
                    _announce_key(cli, settings, key)
            cli.err_console.print(
                f"serving {store} on http://{h}:{p} with {workers} worker{'s' if workers > 1 else ''} "
                "(docs: /docs, readiness: /health/ready)"
            )
        if workers > 1:
            serve_workers(workers, h, p, env)
        else:
            from shelfwise.api.server import serve as run

            run(app, h, p)

    app.add_typer(experiment_app, name="experiment")


def _announce_key(cli: Any, settings: Any, key: str) -> None:
    cli.err_console.print(
        f"[yellow]no API keys configured:[/] admin key for this run: {key}\n"
        f"(set ${settings.api.admin_key_env} to choose one; POST /v1/keys makes scoped keys)"
    )


# A str, not a Path: a postgresql://... URL must reach open_store intact (Path collapses the //).
_STORE_HELP = "Store folder or URL (postgresql://user@host:port/db)."


def _registry(store: Any) -> Any:
    from shelfwise.experiments.registry import ExperimentRegistry

    return ExperimentRegistry(store)


@experiment_app.command("list")
def list_cmd(
    store: Annotated[
        str, typer.Option("--store", envvar="SHELFWISE_STORE", help=_STORE_HELP)
    ] = "shelfwise-data",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Experiments defined in the store."""
    from shelfwise import cli
    from shelfwise.storage import open_store

    with cli._errors(), open_store(store, create=False) as st:
        exps = [e.model_dump() for e in _registry(st).list()]
    cli._emit(
        {"experiments": exps},
        as_json,
        "\n".join(
            f"{e['name']} ({e['surface']}, {e['status']}): "
            + ", ".join(f"{v['name']} {v['share']:.0%}" for v in e["variants"])
            for e in exps
        )
        or "no experiments",
    )


@experiment_app.command("report")
def report_cmd(
    name: Annotated[str, typer.Argument(help="The experiment's name.")],
    store: Annotated[
        str, typer.Option("--store", envvar="SHELFWISE_STORE", help=_STORE_HELP)
    ] = "shelfwise-data",
    output: OutputOpt = None,
    config: Annotated[Path | None, typer.Option("--config")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Per-arm CTR, conversion, revenue per user, diversity and brand fairness with 95% CIs, treatment vs
    control tests and the sample-ratio check, from the impressions and events the store holds."""
    from shelfwise import cli
    from shelfwise.experiments.analysis import analyse, render_markdown
    from shelfwise.storage import open_store

    with cli._errors():
        settings = cli._settings(store, config, set_)
        with open_store(store, create=False) as st:
            exp = _registry(st).get(name)
            if exp is None:
                raise cli.CliError(
                    f"no experiment {name!r} in {store}; `shelfwise experiment list` shows them"
                )
            result = analyse(
                st, exp, settings.experiments, settings.seed, settings.privacy.default_consent
            ).to_dict()
        md = render_markdown(result)
        if output is not None:
            output.mkdir(parents=True, exist_ok=True)
            (output / "report.json").write_text(json.dumps(result, indent=2, default=str))
            (output / "report.md").write_text(md)
    cli._emit(result, as_json, md)


@experiment_app.command("simulate")
def simulate_cmd(
    store: Annotated[
        Path,
        typer.Option("--store", envvar="SHELFWISE_STORE", help="A built and trained store (copied first)."),
    ] = Path("shelfwise-data"),
    users: Annotated[int, typer.Option("--users", help="Shoppers to replay.")] = 2000,
    rounds: Annotated[int, typer.Option("--rounds", help="Requests per shopper.")] = 2,
    lift: Annotated[
        float, typer.Option("--lift", help="Injected relative click lift of arm b (0 = A/A).")
    ] = 0.0,
    params_b: Annotated[
        str, typer.Option("--params-b", help='Request fields arm b sets, JSON, e.g. {"diversity": 0.6}.')
    ] = "{}",
    name: Annotated[str, typer.Option("--name", help="Experiment name (its salt).")] = "sim",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    work: Annotated[
        Path | None,
        typer.Option("--work", help="Where the store copy goes (default: a temp folder, removed after)."),
    ] = None,
    output: OutputOpt = None,
    config: Annotated[Path | None, typer.Option("--config")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Replay held-out shoppers against a two-arm experiment (a / b, 50/50) through the serving path on a
    copy of the store, with an injected click lift for arm b, and report the analysis."""
    from shelfwise import cli

    cli._setup_logging(verbose)
    with cli._errors():
        result = run_simulation(
            store,
            cli._settings(store, config, set_),
            users=users,
            rounds=rounds,
            lift=lift,
            params_b=json.loads(params_b),
            name=name,
            seed=seed,
            work=work,
        )
        from shelfwise.experiments.analysis import render_markdown

        md = render_markdown(result["result"])
        if output is not None:
            output.mkdir(parents=True, exist_ok=True)
            (output / "report.json").write_text(json.dumps(result, indent=2, default=str))
            (output / "report.md").write_text(md)
    cli._emit(result, as_json, md)


def run_simulation(
    store: Path,
    settings: Any,
    *,
    users: int,
    rounds: int,
    lift: float,
    params_b: dict[str, Any],
    name: str,
    seed: int,
    work: Path | None = None,
    model: Any = None,
) -> dict[str, Any]:
    """Copy ``store``, load the service objects on the copy, run :func:`simulate`; returns the report."""
    from shelfwise.api.components import build_services, load, stop
    from shelfwise.experiments.config import Experiment, Variant
    from shelfwise.experiments.simulator import simulate
    from shelfwise.storage import open_store

    tmp = None
    if work is None:
        tmp = tempfile.mkdtemp(prefix="shelfwise-sim-")
        work = Path(tmp) / "store"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(store, work)
    exp = Experiment(
        name=name, variants=[Variant(name="a", share=0.5), Variant(name="b", share=0.5, params=params_b)]
    )
    try:
        with open_store(work, create=False) as st:
            services = build_services(settings, st)
            load(services, follow=False)  # nothing else writes to the copy
            if not services.ready:
                raise ValueError(f"the service could not load on {store}: {services.components}")
            try:
                report = simulate(
                    services, exp, users=users, rounds=rounds, lift={"b": lift}, seed=seed, model=model
                )
            finally:
                stop(services)
        return report.to_dict()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def serve_demo(store: Path, summary: dict[str, Any], port: int) -> None:
    """Build / train what the sample store lacks, then serve it on loopback with ready-to-paste requests."""
    from shelfwise import cli
    from shelfwise.api import create_app
    from shelfwise.api.demo import admin_key, key_reference, prepare_store, ready_to_paste
    from shelfwise.api.server import serve as run

    settings = cli._settings(store, None, None)
    ran = prepare_store(store, settings)
    if ran:
        cli.err_console.print(f"prepared the store: {', '.join(ran)}")
    key, generated = admin_key(settings)
    app = create_app(settings, store_path=store)
    app.state.keys.accept_admin_key(key)
    url = f"http://127.0.0.1:{port}"
    user = summary.get("example_user", {}).get("user_id") or "u1"
    top = summary.get("most_interacted") or [{}]
    item = top[0].get("item_id") or ""
    words = [w for w in (top[0].get("title") or "shampoo").lower().split() if w.isalpha() and len(w) > 3]
    query = " ".join(words[:2]) or "shampoo"
    lines = [f"[bold]shelfwise is serving the sample shop on {url}[/] (Ctrl-C stops it)"]
    if generated:
        lines.append(f"admin key for this run: {key} (set ${settings.api.admin_key_env} to choose your own)")
    lines.append(
        f"storefront: {url}/shop   dashboard: {url}/admin (sign in with the admin key)   API docs: {url}/docs"
    )
    shown = key_reference(settings, key, generated)  # an env-provided key is printed by its variable's name
    for what, command in ready_to_paste(url, shown, user, item, query):
        lines.append(f"\n[cyan]# {what}[/]\n{command}")
    cli.out_console.print("\n".join(lines), highlight=False, soft_wrap=True)
    run(app, "127.0.0.1", port)
