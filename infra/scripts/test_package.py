"""`sam package`, the upload half of `sam deploy`, run against moto's S3 (no AWS account here).

Run after `make sam-build` (`make sam-package` does both). It checks that what would be deployed
is what CI built: each function's code is uploaded byte for byte as the zip `make lambda` built
and size-checked, and the layer holds the model files at its root (so at /opt in the function).
"""

import hashlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import zipfile
from pathlib import Path

import boto3
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BUILT = ROOT / ".aws-sam" / "build" / "template.yaml"
FUNCTIONS = {"IngestFunction": "ingest", "SweepFunction": "sweep", "NotifyFunction": "notify"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub, ...) as plain values."""


CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BUILT.exists():
            raise unittest.SkipTest("no .aws-sam/build: run `make sam-build` first")
        port = free_port()
        cls.moto = subprocess.Popen(
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/data.json", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        cls.env = dict(
            os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=endpoint, SAM_CLI_TELEMETRY="0",
        )
        cls.s3 = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        )
        cls.s3.create_bucket(Bucket="leadscore-artifacts")
        cls.out = Path(tempfile.mkdtemp()) / "packaged.yaml"
        run = subprocess.run(
            [str(BIN / "sam"), "package", "--template-file", str(BUILT),
             "--s3-bucket", "leadscore-artifacts", "--output-template-file", str(cls.out)],
            env=cls.env, cwd=ROOT, capture_output=True, text=True,
        )
        if run.returncode != 0:
            cls.moto.terminate()
            raise AssertionError(f"sam package failed:\n{run.stdout}\n{run.stderr}")
        cls.packaged = yaml.load(cls.out.read_text(), Loader=CfnLoader)

    @classmethod
    def tearDownClass(cls):
        cls.moto.terminate()
        cls.moto.wait()

    def uploaded(self, uri: str) -> bytes:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def test_each_function_ships_the_zip_ci_built(self):
        resources = self.packaged["Resources"]
        for resource, binary in FUNCTIONS.items():
            body = self.uploaded(resources[resource]["Properties"]["CodeUri"])
            built = (ROOT / "target/lambda" / binary / "bootstrap.zip").read_bytes()
            self.assertEqual(hashlib.sha256(body).digest(), hashlib.sha256(built).digest(), resource)
            self.assertEqual(zipfile.ZipFile(io.BytesIO(body)).namelist(), ["bootstrap"], resource)

    def test_the_layer_puts_the_models_at_opt(self):
        body = self.uploaded(self.packaged["Resources"]["ModelLayer"]["Properties"]["ContentUri"])
        names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        for model in (ROOT / "models").glob("*.toml"):
            self.assertIn(model.name, names, "at the layer's root, so /opt/<file>")


if __name__ == "__main__":
    unittest.main()
