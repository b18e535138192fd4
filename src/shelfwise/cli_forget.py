"""``shelfwise forget USER_ID``: delete a shopper everywhere, now, and print the receipt."""


from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``forget`` to the main CLI."""
    from shelfwise import cli

    @app.command()
    def forget(
        user_id: Annotated[str, typer.Argument(help="The shopper's id as your shop knows it.")],
        store: cli.StoreOpt = cli.DEFAULT_STORE,
        config: cli.ConfigOpt = None,
        set_: cli.SetOpt = None,
        as_json: cli.JsonOpt = False,
    ) -> None:
        """Delete a shopper from the store (events, profile, impressions, quarantined rows), rewrite the store's
        files so the bytes are gone, remove them from every trained recommender artifact, and print the
        deletion receipt. A running service forgets them too within api.follow_seconds."""
        from shelfwise.data.ingest import Ingestor
        from shelfwise.forget import forget_shopper
        from shelfwise.storage import open_store

        with cli._errors():
            if not user_id.strip() or len(user_id) > 256:
                raise cli.CliError("USER_ID must be 1-256 characters")
            settings = cli._settings(store, config, set_)
            with open_store(store, create=False) as st:
                with Ingestor(st, settings) as ingestor:
                    key = ingestor.user_key(user_id)
                receipt = forget_shopper(st, key, raw_user_id=user_id, erase_now=True)
        removed = receipt["store"]["removed"]
        human = (
            f"forgot {user_id}: "
            + ", ".join(f"{n} {t}" for t, n in removed.items() if n)
            + f"; store files rewritten ({receipt['erasure']['status']}); "
            + f"receipt {receipt['receipt_id']}"
            if receipt["deleted"]
            else f"nothing is stored about {user_id} (receipt {receipt['receipt_id']})"
        )
        cli._emit(receipt, as_json, human)
