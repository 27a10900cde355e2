"""Fixtures of the export tests: build an export through the API and open its package."""
from __future__ import annotations

import io
import os
import tarfile

os.environ["HF_DATASETS_OFFLINE"] = "1"  # before datasets is imported: loading never touches the network
os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402


@pytest.fixture
def staff_api(api):
    client, user = api("admin")
    return client, user


@pytest.fixture
def build(staff_api, tmp_path):
    """``build(project_id, **options)`` → (export JSON, folder of the unpacked package)."""
    client, _ = staff_api
    counter = iter(range(1000))

    def run(project_id, **body):
        response = client.post(f"/api/v1/projects/{project_id}/exports", json=body)
        assert response.status_code in (200, 202), response.get_data(as_text=True)
        export = client.get(f"/api/v1/exports/{response.json['id']}").json
        assert export["state"] in ("draft", "released"), export
        data = client.get(f"/api/v1/exports/{export['id']}/download").data
        target = tmp_path / f"unpacked-{next(counter)}"
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(target, filter="data")
        (folder,) = list(target.iterdir())
        return export, folder

    return run


def load(folder, config, tmp_path):
    import datasets
    return datasets.load_dataset(str(folder), config, split="train", cache_dir=str(tmp_path / "hf-cache"))
