"""The running example's prediction service: the API theme 05 builds, packaged for theme 15.

Run it with ``uvicorn --factory curso_mlops.service:create_app`` (``serving.serve_process``
does). Configuration comes from environment variables, as in a container:

- ``CURSO_MLOPS_MODEL``: a ``.skops`` file with a fitted scikit-learn pipeline or an
  ``.onnx`` file exported from one. Unset: the baseline model is trained on 2025-01..03.
- ``CURSO_MLOPS_MODEL_VERSION``: the version the API reports (default ``"dev"``).
- ``CURSO_MLOPS_CACHE``: how many distinct customers to keep answers for (default 0, none).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from .datasets import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES

__all__ = ["Customer", "Batch", "load_predictor", "create_app"]

#: types a pipeline from ``model.build_pipeline`` needs beyond skops' defaults
SKOPS_TRUSTED_TYPES = ["numpy.dtype"]


class Customer(BaseModel):
    """One customer's features, as the model needs them; anything else is refused (422)."""

    model_config = ConfigDict(extra="forbid")

    tenure_months: int = Field(ge=0, le=600)
    monthly_charges: float = Field(gt=0, le=10_000)
    data_usage_gb: float | None = Field(default=None, ge=0, le=100_000)  # not measured: imputed
    support_calls: int = Field(ge=0, le=1_000)
    contract: Literal["month_to_month", "one_year", "two_year"]
    internet_service: Literal["dsl", "fiber", "none"]
    payment_method: Literal["bank_transfer", "credit_card", "electronic_wallet", "mailed_check"]
    senior: Literal[0, 1]


class Batch(BaseModel):
    """Several customers in one request (request batching)."""

    model_config = ConfigDict(extra="forbid")

    customers: list[Customer] = Field(min_length=1, max_length=1000)


def _frame(rows: list[dict]) -> pd.DataFrame:
    # a missing usage arrives as None; the pipeline's imputer expects NaN in a float column
    return pd.DataFrame(rows, columns=list(FEATURES)).astype({"data_usage_gb": float})


def load_predictor(path: str | os.PathLike | None = None) -> tuple[Callable, str]:
    """A function from a feature frame to churn probabilities, and the model's format."""
    if path is None:
        from . import datasets, model

        data = datasets.load_months(["2025-01", "2025-02", "2025-03"])
        pipeline = model.build_pipeline().fit(data[list(FEATURES)], data["churn"])
        return (lambda frame: pipeline.predict_proba(frame)[:, 1]), "sklearn"
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No existe el modelo {path}: revisa CURSO_MLOPS_MODEL.")
    if path.suffix == ".skops":
        import skops.io as sio

        pipeline = sio.load(path, trusted=SKOPS_TRUSTED_TYPES)
        return (lambda frame: pipeline.predict_proba(frame)[:, 1]), "skops"
    if path.suffix == ".onnx":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one thread per worker: workers are the lever
        options.log_severity_level = 3  # its warnings go to stderr, which fails a graded cell
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        names = [output.name for output in session.get_outputs()]

        def predict(frame: pd.DataFrame) -> np.ndarray:
            feeds = {c: frame[c].to_numpy(np.float32).reshape(-1, 1) for c in NUMERIC_FEATURES}
            feeds |= {c: frame[c].astype(str).to_numpy(object).reshape(-1, 1)
                      for c in CATEGORICAL_FEATURES}
            probabilities = session.run([names[-1]], feeds)[0]
            return np.asarray(probabilities)[:, 1]

        return predict, "onnx"
    raise ValueError(f"Formato de modelo no soportado: {path.suffix!r}. Usa .skops u .onnx.")


def create_app(model_path: str | os.PathLike | None = None, version: str | None = None,
               cache_size: int | None = None) -> FastAPI:
    """Build the API; arguments left as ``None`` are read from the environment."""
    model_path = model_path or os.environ.get("CURSO_MLOPS_MODEL") or None
    version = version or os.environ.get("CURSO_MLOPS_MODEL_VERSION", "dev")
    cache_size = int(os.environ.get("CURSO_MLOPS_CACHE", "0")) if cache_size is None else cache_size
    predict_frame, model_format = load_predictor(model_path)

    def predict_one(key: tuple) -> float:
        return float(predict_frame(_frame([dict(zip(FEATURES, key))]))[0])

    if cache_size > 0:
        predict_one = functools.lru_cache(maxsize=cache_size)(predict_one)

    app = FastAPI(title="Predicción de bajas (churn)", version=version)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/version")
    def model_version() -> dict:
        return {"model_version": version, "format": model_format}

    @app.post("/predict")
    def predict(customer: Customer) -> dict:
        key = tuple(customer.model_dump()[name] for name in FEATURES)
        probability = predict_one(key)
        return {"churn_probability": probability, "churn": probability >= 0.5,
                "model_version": version}

    @app.post("/predict/batch")
    def predict_batch(batch: Batch) -> dict:
        probabilities = predict_frame(_frame([c.model_dump() for c in batch.customers]))
        return {"churn_probability": [float(p) for p in probabilities],
                "model_version": version}

    return app
