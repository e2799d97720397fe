"""The Collector's config test trio for any component module: defaults, exact decoding, invalid cases."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError


def invalid_cases(testdata: Path) -> list[Any]:
    cases = yaml.safe_load((testdata / "invalid_configs.yaml").read_text())
    return [pytest.param(case["config"], case["error"], id=name) for name, case in sorted(cases.items())]


def check_defaults(module: ModuleType) -> None:
    config_class: type[BaseModel] = module.Config
    try:
        assert config_class.model_validate({}) == config_class()
    except ValidationError:
        pytest.skip("this component has a required field")


def check_decodes(module: ModuleType, testdata: Path, expected: BaseModel) -> None:
    assert module.Config.model_validate(yaml.safe_load((testdata / "config.yaml").read_text())) == expected


def check_invalid(module: ModuleType, config: Any, error: str) -> None:
    with pytest.raises(ValidationError) as info:
        module.Config.model_validate(config)
    assert error in str(info.value)
