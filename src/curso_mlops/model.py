"""The running example's baseline model: the same pipeline in every notebook."""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .datasets import CATEGORICAL_FEATURES, NUMERIC_FEATURES


def build_pipeline() -> Pipeline:
    """Impute and scale numbers, one-hot encode categories, logistic regression.

    Deterministic (lbfgs has no randomness), so no seed is needed. Unknown categories at
    prediction time are encoded as all zeros instead of failing.
    """
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = OneHotEncoder(handle_unknown="ignore")
    prep = ColumnTransformer([("num", numeric, list(NUMERIC_FEATURES)),
                              ("cat", categorical, list(CATEGORICAL_FEATURES))])
    return Pipeline([("prep", prep), ("model", LogisticRegression(max_iter=1000))])
