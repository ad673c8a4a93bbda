"""Signs one ListHostedZones call with the credentials in the environment; prints the outcome."""
import json
import sys

import boto3
import botocore.exceptions

r53 = boto3.client("route53", endpoint_url=sys.argv[1])
try:
    out = r53.list_hosted_zones()
    print(json.dumps({"ok": len(out["HostedZones"])}))
except botocore.exceptions.ClientError as e:
    print(json.dumps({"code": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}))
