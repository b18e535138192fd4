"""``shelfwise privacy budget | release``: the privacy-budget ledger and DP releases of shop statistics."""

from __future__ import annotations

from typing import Annotated, cast

import typer

privacy_app = typer.Typer(
    help="Differential privacy: the budget ledger and DP releases.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the ``privacy`` group to the main CLI."""
    app.add_typer(privacy_app, name="privacy")


@privacy_app.command("budget")
def budget_cmd(
    store: Annotated[
        str, typer.Option("--store", envvar="SHELFWISE_STORE", help="Store folder or URL.")
    ] = "shelfwise-data",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The ledger: budget, spent, remaining, and every release with its epsilon, delta, what and when."""
    from pathlib import Path

    from shelfwise import cli
    from shelfwise.privacy.releases import ledger_of
    from shelfwise.storage import open_store

    with cli._errors():
        settings = cli._settings(Path(store), None, None)
        with open_store(store, create=False) as st:
            result = ledger_of(st, settings.privacy.dp).to_dict()
    human = (
        f"budget epsilon {result['budget']['epsilon']:g}, spent {result['spent']['epsilon']:g}, "
        f"remaining {result['remaining']['epsilon']:g}; {len(result['releases'])} releases"
    )
    cli._emit(result, as_json, human)


@privacy_app.command("release")
def release_cmd(
    by: Annotated[str, typer.Argument(help="item, category or day")],
    store: Annotated[
        str, typer.Option("--store", envvar="SHELFWISE_STORE", help="Store folder or URL.")
    ] = "shelfwise-data",
    epsilon: Annotated[float | None, typer.Option("--epsilon", help="Epsilon of this release.")] = None,
    types: Annotated[
        list[str] | None, typer.Option("--type", help="Only these event types (repeatable).")
    ] = None,
    days: Annotated[int, typer.Option("--days", help="Window of a by-day release.")] = 30,
    top: Annotated[int, typer.Option("--top", help="Keys shown (human output).")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """A DP count of events per item, category or day, charged to the shop's privacy budget."""
    from pathlib import Path

    from shelfwise import cli
    from shelfwise.privacy.ledger import BudgetExhaustedError
    from shelfwise.privacy.releases import By, release_counts
    from shelfwise.storage import open_store

    with cli._errors():
        if by not in ("item", "category", "day"):
            raise cli.CliError(f"cannot release counts by {by!r}: use item, category or day")
        if epsilon is not None and epsilon <= 0:
            raise cli.CliError("--epsilon must be > 0")
        settings = cli._settings(Path(store), None, None)
        with open_store(store, create=False) as st:
            try:
                result = release_counts(
                    st,
                    cast(By, by),
                    settings.privacy.dp,
                    epsilon=epsilon,
                    event_types=types,
                    days=days,
                    default_consent=settings.privacy.default_consent,
                )
            except BudgetExhaustedError as exc:
                raise cli.CliError(f"refused: {exc}") from None
    best = sorted(result["counts"].items(), key=lambda kv: -kv[1])[:top]
    human = f"{result['what']} (epsilon {result['epsilon']:g}):\n" + "\n".join(f"  {k}: {v}" for k, v in best)
    cli._emit(result, as_json, human)
