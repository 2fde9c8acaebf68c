"""The running example: monthly batches of a telecom churn classifier's input.

The data is synthetic and deterministic. Each month is drawn from its own random stream,
so regenerating one month never changes another, and the files in ``datasets/churn`` are
byte-identical to what :func:`generate` writes (their SHA-256 sums are checked on load).
The story each month tells is written down in ``datasets/README.md`` (the data card).
"""

from __future__ import annotations

import hashlib
import io
import os
from importlib import resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20250101
ROWS_PER_MONTH = 2000
MONTHS = tuple(f"2025-{m:02d}" for m in range(1, 13))
MANIFEST = "SHA256SUMS"

ID = "customer_id"
TIMESTAMP = "snapshot_at"
TARGET = "churn"
NUMERIC_FEATURES = ("tenure_months", "monthly_charges", "data_usage_gb", "support_calls")
CATEGORICAL_FEATURES = ("contract", "internet_service", "payment_method", "senior")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
COLUMNS = (ID, "month", TIMESTAMP) + FEATURES + (TARGET,)


class DatasetError(ValueError):
    """A data problem the learner can fix; the message says how."""


@dataclass(frozen=True)
class MonthStory:
    """How one month departs from the reference months (2025-01..03)."""

    fiber_share: float = 0.40        # share of fibre customers (covariate shift)
    charges_shift: float = 0.0       # euros added to every monthly bill (covariate shift)
    usage_factor: float = 1.0        # multiplies data usage (covariate shift)
    new_customer_share: float = 0.20  # customers in their first year (covariate shift)
    calls_rate: float = 1.2          # mean support calls per month
    intercept_shift: float = 0.0     # more churn for everybody (prior shift)
    competitor_offer: float = 0.0    # churn pull on loyal DSL customers (concept drift)
    electronic_share: float = 0.35   # share paying by electronic wallet
    days_late: int = 0               # the batch arrives this many days after the usual date
    schema_v2: bool = False          # upstream renamed a column and changed units and types
    note: str = "referencia: mes estable"


STORIES = {
    "2025-01": MonthStory(),
    "2025-02": MonthStory(),
    "2025-03": MonthStory(),
    "2025-04": MonthStory(fiber_share=0.46, charges_shift=2.5, usage_factor=1.08,
                          new_customer_share=0.24, note="deriva gradual de covariables (1/4)"),
    "2025-05": MonthStory(fiber_share=0.52, charges_shift=5.0, usage_factor=1.16,
                          new_customer_share=0.28, note="deriva gradual de covariables (2/4)"),
    "2025-06": MonthStory(fiber_share=0.58, charges_shift=7.5, usage_factor=1.24,
                          new_customer_share=0.32, note="deriva gradual de covariables (3/4)"),
    "2025-07": MonthStory(fiber_share=0.64, charges_shift=10.0, usage_factor=1.32,
                          new_customer_share=0.36, note="deriva gradual de covariables (4/4)"),
    "2025-08": MonthStory(fiber_share=0.64, charges_shift=10.0, usage_factor=1.32,
                          new_customer_share=0.36, competitor_offer=2.6,
                          note="deriva de concepto: oferta de la competencia"),
    "2025-09": MonthStory(fiber_share=0.64, charges_shift=10.0, usage_factor=1.32,
                          new_customer_share=0.36, competitor_offer=2.6,
                          note="deriva de concepto: la oferta sigue"),
    "2025-10": MonthStory(fiber_share=0.60, charges_shift=6.0, usage_factor=1.10,
                          new_customer_share=0.30, competitor_offer=2.6, calls_rate=2.0,
                          intercept_shift=0.9, electronic_share=0.22,
                          note="choque económico: más bajas y más llamadas"),
    "2025-11": MonthStory(fiber_share=0.60, charges_shift=6.0, usage_factor=1.10,
                          new_customer_share=0.30, competitor_offer=2.6, calls_rate=1.8,
                          intercept_shift=0.7, electronic_share=0.24,
                          note="choque económico: sigue"),
    "2025-12": MonthStory(fiber_share=0.60, charges_shift=6.0, usage_factor=1.10,
                          new_customer_share=0.30, competitor_offer=2.6, calls_rate=1.8,
                          intercept_shift=0.7, electronic_share=0.24, days_late=12,
                          schema_v2=True, note="lote tardío con cambio de esquema"),
}


# --------------------------------------------------------------------------- generation

def _churn_logit(df: pd.DataFrame, story: MonthStory) -> np.ndarray:
    """The true relation P(churn | features); only competitor_offer changes its shape."""
    mtm = (df["contract"] == "month_to_month").to_numpy()
    two_year = (df["contract"] == "two_year").to_numpy()
    fiber = (df["internet_service"] == "fiber").to_numpy()
    # the competitor's cheap fibre targets loyal DSL customers, the ones the model trusts most
    targeted = (df["internet_service"] == "dsl").to_numpy() & (df["tenure_months"] >= 24).to_numpy()
    usage = df["data_usage_gb"].fillna(df["data_usage_gb"].median()).to_numpy()
    logit = (
        -1.5
        + 1.4 * mtm
        - 1.0 * two_year
        - 0.035 * df["tenure_months"].to_numpy()
        + 0.020 * (df["monthly_charges"].to_numpy() - 65.0)
        + 0.38 * df["support_calls"].to_numpy()
        + 0.45 * (df["payment_method"] == "electronic_wallet").to_numpy()
        + 0.30 * df["senior"].to_numpy()
        + 0.35 * fiber
        - 0.004 * usage
    )
    return logit + story.intercept_shift + story.competitor_offer * targeted


def _month(month: str) -> pd.DataFrame:
    story = STORIES[month]
    index = MONTHS.index(month)
    rng = np.random.default_rng([SEED, index])
    n = ROWS_PER_MONTH

    ids = rng.choice(np.arange(100_000, 1_000_000), size=n, replace=False)
    new = rng.random(n) < story.new_customer_share
    tenure = np.where(new, rng.integers(0, 12, n), rng.integers(12, 73, n))
    internet = rng.choice(["fiber", "dsl", "none"], size=n,
                          p=[story.fiber_share, 0.88 - story.fiber_share, 0.12])
    # newer customers sign shorter contracts
    p_mtm = np.where(tenure < 12, 0.70, 0.40)
    u = rng.random(n)
    contract = np.where(u < p_mtm, "month_to_month",
                        np.where(u < p_mtm + (1 - p_mtm) / 2, "one_year", "two_year"))
    other = (1 - story.electronic_share) / 3
    payment = rng.choice(["electronic_wallet", "credit_card", "bank_transfer", "mailed_check"],
                         size=n, p=[story.electronic_share, other, other, other])
    base_fee = np.select([internet == "fiber", internet == "dsl"], [78.0, 55.0], 25.0)
    charges = np.round(base_fee + story.charges_shift + rng.normal(0, 12, n), 2).clip(15, None)
    usage_mean = np.select([internet == "fiber", internet == "dsl"], [180.0, 90.0], 4.0)
    usage = np.round(rng.gamma(4.0, usage_mean * story.usage_factor / 4.0), 2)
    usage[rng.random(n) < 0.07] = np.nan  # the usage meter misses some customers
    calls = rng.poisson(story.calls_rate, n)
    senior = (rng.random(n) < 0.16).astype(int)

    day = pd.Timestamp(month) + pd.offsets.MonthBegin(1) + pd.Timedelta(days=1 + story.days_late)
    snapshot = day + pd.to_timedelta(rng.integers(2 * 3600, 5 * 3600, n), unit="s")

    df = pd.DataFrame({
        ID: [f"C{i:06d}" for i in ids],
        "month": month,
        TIMESTAMP: snapshot.strftime("%Y-%m-%dT%H:%M:%S"),
        "tenure_months": tenure,
        "monthly_charges": charges,
        "data_usage_gb": usage,
        "support_calls": calls,
        "contract": contract,
        "internet_service": internet,
        "payment_method": payment,
        "senior": senior,
    })
    p = 1.0 / (1.0 + np.exp(-_churn_logit(df, story)))
    df[TARGET] = (rng.random(n) < p).astype(int)
    if story.schema_v2:
        # upstream's new billing system: fee in integer cents under a new name, and the
        # senior flag as text
        df = df.rename(columns={"monthly_charges": "monthly_fee_cents"})
        df["monthly_fee_cents"] = (df["monthly_fee_cents"] * 100).round().astype(int)
        df["senior"] = np.where(df["senior"] == 1, "Y", "N")
    return df


def _csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", float_format="%.2f")
    return buf.getvalue().encode("utf-8")


def generate(dest: str | os.PathLike) -> Path:
    """Write every month as ``dest/<month>.csv`` plus the checksum manifest; return dest.

    Existing files in ``dest`` with other names are left alone.
    """
    if not isinstance(dest, (str, os.PathLike)):
        raise TypeError(f"`dest` debe ser una ruta (str o Path); recibido {type(dest).__name__}.")
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise DatasetError(f"`dest` debe ser una carpeta, pero {dest} es un fichero.")
    dest.mkdir(parents=True, exist_ok=True)
    lines = []
    for month in MONTHS:
        data = _csv_bytes(_month(month))
        (dest / f"{month}.csv").write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {month}.csv\n")
    (dest / MANIFEST).write_text("".join(lines), encoding="utf-8")
    return dest


CARD_BEGIN, CARD_END = "<!-- tabla-por-mes:inicio -->", "<!-- tabla-por-mes:fin -->"


def summary_table(folder: str | os.PathLike) -> str:
    """The data card's month-by-month table (Markdown), computed from the files in folder."""
    rows = ["| mes | filas | tasa de bajas | cuota mensual media (€) | fibra | uso sin medir | "
            "llamadas a soporte | historia |",
            "|---|---|---|---|---|---|---|---|"]
    for month in MONTHS:
        df = pd.read_csv(Path(folder) / f"{month}.csv")
        fee = df["monthly_charges"] if "monthly_charges" in df else df["monthly_fee_cents"] / 100
        rows.append(
            f"| {month} | {len(df)} | {df[TARGET].mean():.1%} | {fee.mean():.1f} | "
            f"{(df['internet_service'] == 'fiber').mean():.0%} | "
            f"{df['data_usage_gb'].isna().mean():.1%} | {df['support_calls'].mean():.2f} | "
            f"{STORIES[month].note} |")
    return "\n".join(rows)


def write_card_table(folder: str | os.PathLike, card: str | os.PathLike) -> None:
    """Replace the table between the markers of the data card (the rest is written by hand)."""
    card = Path(card)
    text = card.read_text(encoding="utf-8")
    if CARD_BEGIN not in text or CARD_END not in text:
        raise DatasetError(f"{card} no tiene los marcadores {CARD_BEGIN} y {CARD_END}.")
    head, rest = text.split(CARD_BEGIN, 1)
    tail = rest.split(CARD_END, 1)[1]
    card.write_text(f"{head}{CARD_BEGIN}\n{summary_table(folder)}\n{CARD_END}{tail}",
                    encoding="utf-8")


# --------------------------------------------------------------------------- loading

def _checkout_dir() -> Path | None:
    """``datasets/churn`` of the checkout this package runs from, if there is one."""
    candidate = Path(__file__).resolve().parents[2] / "datasets" / "churn"
    return candidate if (candidate / MANIFEST).is_file() else None


def _reference_sums() -> dict[str, str]:
    """The published checksums: the checkout's manifest, or the copy inside the wheel."""
    checkout = _checkout_dir()
    if checkout is not None:
        text = (checkout / MANIFEST).read_text(encoding="utf-8")
    else:
        packaged = resources.files(__package__) / MANIFEST
        if not packaged.is_file():
            raise DatasetError(
                "No encuentro el manifiesto de sumas SHA-256 de los datos (datasets/churn/"
                f"{MANIFEST}). Reinstala el paquete del curso con `make entorno`.")
        text = packaged.read_text(encoding="utf-8")
    sums = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        sums[name.strip()] = digest.strip()
    return sums


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "curso-mlops" / "churn"


def data_dir() -> Path:
    """Where the monthly files are read from.

    In order: the folder in ``CURSO_MLOPS_DATOS``; the checkout's ``datasets/churn``; a
    per-user cache. The first and the last are filled by :func:`generate` when empty, so a
    notebook opened outside the checkout, or a package installed without the repository,
    still finds its data, checked against the same published sums.
    """
    env = os.environ.get("CURSO_MLOPS_DATOS")
    checkout = _checkout_dir()
    if not env and checkout is not None:
        return checkout  # the committed files: never rewritten behind your back
    folder = Path(env) if env else _cache_dir()
    if not all((folder / f"{m}.csv").is_file() for m in MONTHS):
        generate(folder)
    return folder


def resolve_month(month: str | int) -> str:
    """Accept ``"2025-03"`` or ``3`` and return ``"2025-03"``; explain anything else."""
    if isinstance(month, bool) or not isinstance(month, (str, int, np.integer)):
        raise TypeError(
            f"`month` debe ser un texto 'AAAA-MM' (por ejemplo '2025-03') o un entero de 1 a "
            f"{len(MONTHS)}; recibido {type(month).__name__} {month!r}.")
    if isinstance(month, (int, np.integer)):
        if not 1 <= month <= len(MONTHS):
            raise DatasetError(
                f"`month` fuera de rango: {month}. Usa un entero de 1 a {len(MONTHS)} "
                f"({MONTHS[0]} .. {MONTHS[-1]}).")
        return MONTHS[int(month) - 1]
    if month not in MONTHS:
        raise DatasetError(
            f"Mes desconocido: {month!r}. Los meses disponibles van de {MONTHS[0]} a "
            f"{MONTHS[-1]}, en formato 'AAAA-MM' (o usa un entero de 1 a {len(MONTHS)}).")
    return month


def load_month(month: str | int) -> pd.DataFrame:
    """One monthly batch, exactly as the upstream system delivered it (checksum verified)."""
    name = resolve_month(month)
    folder = data_dir()
    path = folder / f"{name}.csv"
    if not path.is_file():
        raise DatasetError(
            f"Falta el fichero {path}. Restáuralo con `git checkout -- datasets/` o "
            f"regenera los datos con `make datos`.")
    data = path.read_bytes()
    expected = _reference_sums().get(f"{name}.csv")
    got = hashlib.sha256(data).hexdigest()
    if expected != got:
        raise DatasetError(
            f"El fichero {path} está dañado o se editó a mano: su SHA-256 es {got[:12]}… y "
            f"debería ser {(expected or 'desconocido')[:12]}…. Restáuralo con "
            f"`git checkout -- datasets/` o regenera los datos con `make datos`.")
    df = pd.read_csv(io.BytesIO(data), dtype={ID: str, "month": str})
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP])
    return df


def load_months(months) -> pd.DataFrame:
    """Several batches, one after another (e.g. ``load_months(range(1, 4))``)."""
    if isinstance(months, (str, int)) or not hasattr(months, "__iter__"):
        raise TypeError(
            "`months` debe ser una lista de meses, por ejemplo ['2025-01', '2025-02'] o "
            f"range(1, 4); recibido {type(months).__name__} {months!r}. Para un solo mes usa "
            "load_month().")
    frames = [load_month(m) for m in months]
    if not frames:
        raise DatasetError("`months` está vacío: indica al menos un mes.")
    return pd.concat(frames, ignore_index=True)
