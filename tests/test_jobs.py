"""The job queue: declared jobs run inside an application context; queue URLs are checked."""
import pytest
from flask import current_app

import jobs
from app import create_app


@jobs.job
def _report_database_url(suffix):
    return current_app.config["DATABASE_URL"] + suffix


def test_a_declared_job_runs_with_the_app(database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "JOBS_URL": "memory://"})
    with app.test_request_context():
        result = jobs.enqueue("_report_database_url", "!")
    assert result() == database_url + "!"


def test_queue_urls(tmp_path):
    assert type(jobs.make_queue(f"sqlite:///{tmp_path}/q.sqlite3")).__name__ == "SqliteHuey"
    assert type(jobs.make_queue("redis://127.0.0.1:6379/0")).__name__ == "RedisHuey"
    with pytest.raises(ValueError, match="JOBS_URL must be"):
        jobs.make_queue("amqp://nope")
