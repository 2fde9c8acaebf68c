"""The running example's data: deterministic, checked on load, explained when wrong."""

from __future__ import annotations

import filecmp
import shutil

import pandas as pd
import pytest

from conftest import ROOT
from curso_mlops import datasets
from curso_mlops.datasets import DatasetError

COMMITTED = ROOT / "datasets" / "churn"


def test_generator_reproduces_the_committed_files_byte_for_byte(tmp_path):
    datasets.generate(tmp_path)
    for name in [f"{m}.csv" for m in datasets.MONTHS] + [datasets.MANIFEST]:
        assert filecmp.cmp(tmp_path / name, COMMITTED / name, shallow=False), \
            f"{name} cambió: si el cambio es intencionado, ejecuta make datos y actualiza la ficha"


def test_data_is_small_and_complete():
    size = sum(p.stat().st_size for p in (ROOT / "datasets").rglob("*") if p.is_file())
    assert size < 20 * 2**20
    assert len(datasets.MONTHS) >= 12
    df = datasets.load_month("2025-01")
    assert list(df.columns) == list(datasets.COLUMNS)
    assert len(df) == datasets.ROWS_PER_MONTH and df[datasets.ID].is_unique
    assert df["data_usage_gb"].isna().mean() > 0.03  # the meter misses some customers
    assert pd.api.types.is_datetime64_any_dtype(df[datasets.TIMESTAMP])


def test_months_tell_the_plan_stories():
    rate = {m: datasets.load_month(m)[datasets.TARGET].mean() for m in datasets.MONTHS[:11]}
    charges = {m: datasets.load_month(m)["monthly_charges"].mean() for m in datasets.MONTHS[:8]}
    assert charges["2025-07"] - charges["2025-03"] > 8          # gradual covariate shift
    assert rate["2025-10"] > rate["2025-07"] + 0.15             # economic shock
    late = datasets.load_month(12)                                # late batch, new schema
    assert "monthly_charges" not in late.columns and "monthly_fee_cents" in late.columns
    assert late["monthly_fee_cents"].dtype.kind == "i"
    assert set(late["senior"]) == {"Y", "N"}
    lag = late[datasets.TIMESTAMP].min() - datasets.load_month(11)[datasets.TIMESTAMP].min()
    assert lag.days > 35


def test_months_by_number_or_name_and_several_at_once():
    assert datasets.load_month(3).equals(datasets.load_month("2025-03"))
    both = datasets.load_months(range(1, 3))
    assert list(both["month"].unique()) == ["2025-01", "2025-02"]


@pytest.mark.parametrize("bad, kind, words", [
    ("2025-13", DatasetError, "Mes desconocido"),
    ("marzo", DatasetError, "AAAA-MM"),
    (0, DatasetError, "fuera de rango"),
    (3.5, TypeError, "`month`"),
    (None, TypeError, "`month`"),
    (True, TypeError, "`month`"),
])
def test_bad_months_get_a_spanish_explanation(bad, kind, words):
    with pytest.raises(kind, match=words):
        datasets.load_month(bad)


def test_load_months_rejects_a_single_month_and_empty_lists():
    with pytest.raises(TypeError, match="load_month"):
        datasets.load_months("2025-01")
    with pytest.raises(DatasetError, match="vacío"):
        datasets.load_months([])


def test_generate_rejects_a_file_as_destination(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(DatasetError, match="carpeta"):
        datasets.generate(tmp_path / "f")
    with pytest.raises(TypeError, match="`dest`"):
        datasets.generate(42)


def test_corrupted_file_is_detected(tmp_path, monkeypatch):
    shutil.copytree(COMMITTED, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "2025-04.csv"
    path.write_bytes(path.read_bytes().replace(b"month_to_month", b"two_year", 1))
    monkeypatch.setenv("CURSO_MLOPS_DATOS", str(tmp_path))
    with pytest.raises(DatasetError, match="dañado"):
        datasets.load_month("2025-04")
    assert datasets.load_month("2025-05") is not None  # the others still load


def test_missing_file_in_the_checkout_is_explained(tmp_path, monkeypatch):
    shutil.copytree(COMMITTED, tmp_path, dirs_exist_ok=True)
    (tmp_path / "2025-06.csv").unlink()
    monkeypatch.setattr(datasets, "_checkout_dir", lambda: tmp_path)
    monkeypatch.delenv("CURSO_MLOPS_DATOS", raising=False)
    with pytest.raises(DatasetError, match="Falta el fichero"):
        datasets.load_month(6)


def test_outside_the_checkout_the_data_is_rebuilt_and_verified(tmp_path, monkeypatch):
    """A released notebook opened elsewhere (or an installed wheel) still finds its data."""
    monkeypatch.delenv("CURSO_MLOPS_DATOS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    manifest = (COMMITTED / datasets.MANIFEST).read_text()
    monkeypatch.setattr(datasets, "_checkout_dir", lambda: None)
    monkeypatch.setattr(datasets.resources, "files", lambda pkg: _FakePackage(manifest))
    df = datasets.load_month("2025-02")
    assert (tmp_path / "curso-mlops" / "churn" / "2025-02.csv").is_file()
    assert df.equals(pd.read_csv(COMMITTED / "2025-02.csv", dtype={"customer_id": str, "month": str},
                                 parse_dates=["snapshot_at"]))


class _FakePackage:
    """Stands in for the installed package's files: only the shipped manifest."""

    def __init__(self, manifest):
        self.manifest = manifest

    def __truediv__(self, name):
        return self

    def is_file(self):
        return True

    def read_text(self, encoding="utf-8"):
        return self.manifest


def test_the_data_card_table_is_current():
    card = (ROOT / "datasets" / "README.md").read_text(encoding="utf-8")
    assert datasets.summary_table(COMMITTED) in card, "la ficha está desactualizada: make datos"
    for column in datasets.COLUMNS:
        assert f"`{column}`" in card, f"la ficha no describe la columna {column}"
