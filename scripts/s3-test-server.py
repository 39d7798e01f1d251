#!/usr/bin/env python3
"""An S3-compatible server for the filestore's S3 test: moto (PyPI) with request
authentication on, so a wrongly signed request is refused as AWS refuses it.

    python scripts/s3-test-server.py      (the tools venv's python: scripts/deps.sh s3)

Starts on a free port of 127.0.0.1, creates an IAM user allowed s3:*, its access key and a
bucket, prints one JSON line {endpoint, accessKey, secretKey, bucket, region} and serves
until its standard input closes, so it ends with the test that started it.
"""
import json
import os
import sys

# moto checks signatures once this many unauthenticated calls (the set-up below) are spent.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"

import boto3  # noqa: E402  (after the environment moto reads at import)
from moto.server import ThreadedMotoServer  # noqa: E402

REGION = "ap-south-1"
BUCKET = "egov-filestore"


def main():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    bootstrap = dict(endpoint_url=endpoint, region_name=REGION,
                     aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **bootstrap)
    iam.create_user(UserName="filestore")
    key = iam.create_access_key(UserName="filestore")["AccessKey"]
    iam.put_user_policy(UserName="filestore", PolicyName="s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }))
    boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                 aws_access_key_id=key["AccessKeyId"],
                 aws_secret_access_key=key["SecretAccessKey"]).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    print(json.dumps({"endpoint": endpoint, "accessKey": key["AccessKeyId"],
                      "secretKey": key["SecretAccessKey"], "bucket": BUCKET, "region": REGION}),
          flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
