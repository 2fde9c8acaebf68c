"""The serving helpers and the packaged churn API (themes 05 and 15)."""

from __future__ import annotations

import os
import socket
import ssl

import httpx
import numpy as np
import pytest

from curso_mlops import datasets, serving, service


@pytest.fixture(scope="module")
def customers() -> list[dict]:
    frame = datasets.load_month("2025-04")[list(datasets.FEATURES)].dropna().head(20)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


@pytest.fixture(scope="module")
def app():
    return service.create_app(version="v-test")


@pytest.mark.parametrize("host", ["10.0.0.1", "0.0.0.0", "192.168.1.5", "example.com"])
def test_only_loopback_addresses_are_served(host):
    with pytest.raises(serving.ServingError, match="loopback"):
        serving.free_port(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_addresses_are_accepted(host):
    assert serving.free_port(host) > 0


def test_load_refuses_other_hosts_and_bad_arguments(customers):
    with pytest.raises(serving.ServingError, match="loopback"):
        serving.run_load("http://10.1.2.3:80/predict", customers, concurrency=1, requests=1)
    with pytest.raises(serving.ServingError, match="http://"):
        serving.run_load("ftp://127.0.0.1/x", customers, concurrency=1, requests=1)
    with pytest.raises(serving.ServingError, match="concurrency"):
        serving.run_load("http://127.0.0.1:1/x", customers, concurrency=0, requests=1)
    with pytest.raises(serving.ServingError, match="requests"):
        serving.run_load("http://127.0.0.1:1/x", customers, concurrency=1,
                         requests=serving.MAX_REQUESTS + 1)
    with pytest.raises(serving.ServingError, match="vacío"):
        serving.run_load("http://127.0.0.1:1/x", [], concurrency=1, requests=1)
    with pytest.raises(serving.ServingError, match="NaN"):
        serving.run_load("http://127.0.0.1:1/x", [{"x": float("nan")}], concurrency=1, requests=1)


def test_api_in_a_thread_predicts_validates_and_stops(app, customers):
    with serving.serve_app(app) as url:
        assert httpx.get(url + "/health").json() == {"status": "ok"}
        assert httpx.get(url + "/version").json() == {"model_version": "v-test",
                                                      "format": "sklearn"}
        answer = httpx.post(url + "/predict", json=customers[0]).json()
        assert 0 <= answer["churn_probability"] <= 1 and answer["model_version"] == "v-test"
        bad = httpx.post(url + "/predict", json={**customers[0], "contract": "weekly"})
        assert bad.status_code == 422 and "contract" in bad.text
        extra = httpx.post(url + "/predict", json={**customers[0], "customer_id": "C1"})
        assert extra.status_code == 422
        unmeasured = httpx.post(url + "/predict", json={**customers[0], "data_usage_gb": None})
        assert unmeasured.status_code == 200  # not measured: the pipeline imputes it
        batch = httpx.post(url + "/predict/batch", json={"customers": customers}).json()
        assert len(batch["churn_probability"]) == len(customers)
        assert batch["churn_probability"][0] == pytest.approx(answer["churn_probability"])
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/health", timeout=2)


def test_load_is_bounded_in_requests(app, customers):
    with serving.serve_app(app) as url:
        result = serving.run_load(url + "/predict", customers, concurrency=3, requests=25)
    assert len(result.latencies) + result.errors == 25
    assert result.errors == 0 and result.throughput > 0
    assert result.percentile(50) <= result.percentile(99)


def test_load_is_bounded_in_time(app, customers):
    with serving.serve_app(app) as url:
        result = serving.run_load(url + "/predict", customers, concurrency=2,
                                  requests=serving.MAX_REQUESTS, time_limit=0.5)
    assert result.elapsed < 5 and len(result.latencies) < serving.MAX_REQUESTS


def test_failed_requests_are_counted_not_raised(app):
    with serving.serve_app(app) as url:
        result = serving.run_load(url + "/predict", [{"bad": 1}], concurrency=2, requests=6)
    assert result.errors == 6 and len(result.latencies) == 0
    assert np.isnan(result.percentile(50))


@pytest.mark.slow
def test_worker_processes_are_served_and_always_stopped(customers, tmp_path):
    with pytest.raises(RuntimeError):
        with serving.serve_process("curso_mlops.service:create_app", factory=True, workers=2,
                                   env={"CURSO_MLOPS_MODEL_VERSION": "w2"}) as url:
            assert httpx.get(url + "/version").json()["model_version"] == "w2"
            result = serving.run_load(url + "/predict", customers, concurrency=2, requests=20)
            assert result.errors == 0
            raise RuntimeError("a cell that fails inside the block")
    with pytest.raises(httpx.ConnectError):  # the workers went down with the block
        httpx.get(url + "/health", timeout=2)


def test_a_server_that_cannot_start_says_why():
    with pytest.raises(serving.ServingError, match="terminó con código"):
        with serving.serve_process("curso_mlops.no_such_module:app", timeout=20):
            pass
    with pytest.raises(serving.ServingError, match="modulo:objeto"):
        with serving.serve_process("no-colon"):
            pass
    with pytest.raises(serving.ServingError, match="workers"):
        with serving.serve_process("curso_mlops.service:create_app", workers=0):
            pass


def test_uvicorn_listening_socket_is_tcp_after_the_patch(monkeypatch):
    import uvicorn.config

    monkeypatch.setattr(uvicorn.config.Config, "bind_socket", uvicorn.config.Config.bind_socket)
    serving._patch_uvicorn_socket()
    config = uvicorn.config.Config(app=None, host="127.0.0.1", port=0)
    sock = config.bind_socket()
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_model_files_load_as_predictors(tmp_path, customers):
    import skops.io as sio
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    from curso_mlops import model

    data = datasets.load_months(["2025-01", "2025-02", "2025-03"])
    pipeline = model.build_pipeline().fit(data[list(datasets.FEATURES)], data["churn"])
    sio.dump(pipeline, tmp_path / "m.skops")
    types = ([(c, FloatTensorType([None, 1])) for c in datasets.NUMERIC_FEATURES]
             + [(c, StringTensorType([None, 1])) for c in datasets.CATEGORICAL_FEATURES])
    onx = to_onnx(pipeline, initial_types=types, target_opset=18,
                  options={id(pipeline.steps[-1][1]): {"zipmap": False}})
    (tmp_path / "m.onnx").write_bytes(onx.SerializeToString())
    frame = datasets.load_month("2025-04")[list(datasets.FEATURES)]
    expected = pipeline.predict_proba(frame)[:, 1]
    for name, kind in [("m.skops", "skops"), ("m.onnx", "onnx")]:
        predict, found = service.load_predictor(tmp_path / name)
        assert found == kind
        np.testing.assert_allclose(predict(frame), expected, atol=1e-5)
    with pytest.raises(FileNotFoundError, match="CURSO_MLOPS_MODEL"):
        service.load_predictor(tmp_path / "missing.skops")
    (tmp_path / "m.pkl").write_bytes(b"")
    with pytest.raises(ValueError, match=r"\.skops u \.onnx"):
        service.load_predictor(tmp_path / "m.pkl")


def test_cache_answers_repeated_customers_the_same(customers):
    app = service.create_app(cache_size=4)
    with serving.serve_app(app) as url:
        first = [httpx.post(url + "/predict", json=c).json() for c in customers[:3]] * 2
        again = [httpx.post(url + "/predict", json=c).json() for c in customers[:3] * 2]
    assert first == again


def test_environment_configures_the_service(monkeypatch, tmp_path):
    monkeypatch.setenv("CURSO_MLOPS_MODEL", os.fspath(tmp_path / "missing.onnx"))
    with pytest.raises(FileNotFoundError):
        service.create_app()


def _self_signed(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, valid for one day."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_api_is_served_over_tls_with_a_certificate(app, tmp_path):
    cert, key = _self_signed(tmp_path)
    with serving.serve_app(app, ssl_certfile=cert, ssl_keyfile=key) as url:
        assert url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=cert)
        assert httpx.get(f"{url}/health", verify=trusted).status_code == 200
        with pytest.raises(httpx.ConnectError):  # an unknown certificate is refused
            httpx.get(f"{url}/health")


def test_tls_needs_both_files(app, tmp_path):
    cert, _ = _self_signed(tmp_path)
    with pytest.raises(serving.ServingError, match="ssl_keyfile"):
        with serving.serve_app(app, ssl_certfile=cert):
            pass
    with pytest.raises(serving.ServingError, match="No encuentro"):
        with serving.serve_app(app, ssl_certfile=cert, ssl_keyfile=tmp_path / "missing.pem"):
            pass
