"""``shelfwise consent USER_ID`` (show or set a shopper's consent) and ``shelfwise purge`` (apply retention)."""

from typing import Annotated

import typer

_FLAG_HELP = "yes or no (left out: unchanged)"


def register(app: typer.Typer) -> None:
    """Add ``consent`` and ``purge`` to the main CLI."""
    from shelfwise import cli

    @app.command()
    def consent(
        user_id: Annotated[str, typer.Argument(help="The shopper's id as your shop knows it.")],
        personalisation: Annotated[
            str | None, typer.Option("--personalisation", help=f"Personalised results: {_FLAG_HELP}.")
        ] = None,
        analytics: Annotated[
            str | None, typer.Option("--analytics", help=f"Counted in analytics: {_FLAG_HELP}.")
        ] = None,
        training: Annotated[
            str | None, typer.Option("--training", help=f"Learned from by models: {_FLAG_HELP}.")
        ] = None,
        store: cli.StoreOpt = cli.DEFAULT_STORE,
        config: cli.ConfigOpt = None,
        set_: cli.SetOpt = None,
        as_json: cli.JsonOpt = False,
    ) -> None:
        """Show a shopper's consent, or set flags (the others keep the value that applied). A running service
        applies the change at its next follower tick (api.follow_seconds); training consent counts from the
        next `shelfwise train`."""
        from shelfwise.data.ingest import Ingestor
        from shelfwise.privacy.consent import record_consent, stored_consent
        from shelfwise.storage import open_store

        given = {
            k: v
            for k, v in (
                ("personalisation", personalisation),
                ("analytics", analytics),
                ("training", training),
            )
            if v is not None
        }
        with cli._errors():
            if not user_id.strip() or len(user_id) > 256:
                raise cli.CliError("USER_ID must be 1-256 characters")
            settings = cli._settings(store, config, set_)
            default = settings.privacy.default_consent
            with open_store(store, create=False) as st:
                with Ingestor(st, settings) as ingestor:
                    key = ingestor.user_key(user_id)
                current = stored_consent(st, key, default)
                result: dict[str, object] = {"user_id": user_id, "changed": bool(given)}
                if given:
                    recorded, seq = record_consent(st, key, given, current)
                    result.update(recorded=recorded, consent_seq=seq)
                    current = stored_consent(st, key, default)
        result["effective"] = current.to_dict()
        result["default"] = default.model_dump()
        flags = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in current.to_dict().items())
        cli._emit(result, as_json, f"{user_id}: {flags}" + (" (recorded)" if given else ""))

    @app.command()
    def purge(
        store: cli.StoreOpt = cli.DEFAULT_STORE,
        config: cli.ConfigOpt = None,
        set_: cli.SetOpt = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Count what would be removed; change nothing.")
        ] = False,
        as_json: cli.JsonOpt = False,
    ) -> None:
        """Apply retention (privacy.retention_days per kind: events, impressions, quarantine, search_logs):
        delete older rows, rewrite the store's files so their bytes are gone, and print what was removed."""
        from shelfwise.privacy.retention import purge as apply_retention
        from shelfwise.storage import open_store

        with cli._errors():
            settings = cli._settings(store, config, set_)
            with open_store(store, create=False) as st:
                result = apply_retention(st, settings.privacy.retention_days, dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        parts = [
            f"{kind} {n}" if result["cutoffs"][kind] else f"{kind} kept (no retention set)"
            for kind, n in result["removed"].items()
        ]
        human = f"{verb}: " + ", ".join(parts)
        if result["stale_artifacts"]:
            human += f"; retrain {', '.join(result['stale_artifacts'])} (its histories predate the purge)"
        cli._emit(result, as_json, human)
