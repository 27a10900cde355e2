"""The app on an S3-compatible asset store: moto's server mode on a free local port, started
once per run; every test gets a bucket of its own."""
from __future__ import annotations

import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.conftest import empty_tables, make_app

CREDENTIALS = {"S3_ACCESS_KEY_ID": "test-key", "S3_SECRET_ACCESS_KEY": "test-secret", "S3_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3_client(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                        aws_access_key_id="test-key", aws_secret_access_key="test-secret")


@pytest.fixture
def s3(s3_client):
    """A boto3 client of the server and a new, empty bucket's name."""
    client = s3_client
    bucket = f"dailies-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket)
    return client, bucket


@pytest.fixture
def s3_settings(s3, s3_endpoint) -> dict:
    _client, bucket = s3
    return {"ASSET_STORE": f"s3://{bucket}/assets", "S3_ENDPOINT_URL": s3_endpoint, **CREDENTIALS}


@pytest.fixture
def app(database_url, tmp_path, s3_settings):
    """Every test here runs the app with its assets in the bucket."""
    application = make_app(database_url, tmp_path, **s3_settings)
    yield application
    empty_tables(application)


def keys(s3) -> list[str]:
    client, bucket = s3
    return sorted(entry["Key"] for entry in client.list_objects_v2(Bucket=bucket).get("Contents", []))
