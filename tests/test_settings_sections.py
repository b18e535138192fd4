"""One settings-section base: every section of the settings tree (and the frozen configs) is a ``Section``."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel, ValidationError

from shelfwise.config import Settings
from shelfwise.config_base import FrozenSection, Section
from shelfwise.profiles.config import ProfileConfig
from shelfwise.search.query.config import QueryParserConfig


def _nested_models(cls: type[BaseModel], path: str, seen: dict[type[BaseModel], str]) -> None:
    if cls in seen:
        return
    seen[cls] = path
    for name, field in cls.model_fields.items():
        stack: list[object] = [field.annotation]
        while stack:
            ann = stack.pop()
            stack.extend(typing.get_args(ann))
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                _nested_models(ann, f"{path}.{name}", seen)


def test_every_section_of_the_settings_tree_is_a_section() -> None:
    seen: dict[type[BaseModel], str] = {}
    _nested_models(Settings, "settings", seen)
    assert len(seen) > 10  # the walk really descends
    others = {
        path: f"{cls.__module__}.{cls.__qualname__}"
        for cls, path in seen.items()
        if not issubclass(cls, Section)
    }
    assert not others, f"sections not built on shelfwise.config_base.Section: {others}"


@pytest.mark.parametrize("config", [ProfileConfig, QueryParserConfig])
def test_frozen_configs_share_the_base(config: type[BaseModel]) -> None:
    assert issubclass(config, FrozenSection) and issubclass(config, Section)
    value = config()
    with pytest.raises(ValidationError):
        config(no_such_key=1)
    with pytest.raises(ValidationError):
        setattr(value, next(iter(config.model_fields)), None)


def test_sections_reject_unknown_keys_and_bad_assignments() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        Settings.model_validate({"search": {"encoder": {"no_such_key": 1}}})
    with pytest.raises(ValidationError):
        settings.search.encoder.batch_size = "many"  # type: ignore[assignment]
