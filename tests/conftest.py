from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.toml")) + sorted((SCENARIOS / "validation").glob("*.toml"))


@pytest.fixture
def scenario_dir() -> Path:
    return SCENARIOS
