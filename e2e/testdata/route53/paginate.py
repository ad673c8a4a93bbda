"""boto3 against failoverdns: many zones and record sets, read back with boto3's paginators.

Usage: python3 paginate.py ENDPOINT_URL. Prints one JSON object with what it saw.
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
r53 = boto3.client("route53", endpoint_url=endpoint)

for i in range(103):
    r53.create_hosted_zone(Name="p%03d.example.net" % i, CallerReference="boto-%d" % i)
zone_id = r53.create_hosted_zone(Name="big.example.net", CallerReference="boto-big")["HostedZone"]["Id"]

changes = [{"Action": "CREATE", "ResourceRecordSet": {"Name": "h%03d.big.example.net" % i, "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.%d" % (i % 250 + 1)}]}} for i in range(620)]
for i in range(4):
    changes.append({"Action": "CREATE", "ResourceRecordSet": {"Name": "w.big.example.net", "Type": "A", "TTL": 60,
                    "SetIdentifier": "s%d" % i, "Weight": 1, "ResourceRecords": [{"Value": "198.51.100.%d" % (i + 1)}]}})
change = r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})["ChangeInfo"]

zones = []
zone_pages = 0
for page in r53.get_paginator("list_hosted_zones").paginate():
    zone_pages += 1
    zones += [z["Name"] for z in page["HostedZones"]]

records = []
record_pages = 0
for page in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
    record_pages += 1
    records += ["%s %s %s" % (r["Name"], r["Type"], r.get("SetIdentifier", "")) for r in page["ResourceRecordSets"]]

try:
    r53.get_hosted_zone(Id="ZNOSUCHZONE")
    missing = "no error"
except r53.exceptions.NoSuchHostedZone as e:
    missing = e.response["Error"]["Code"]

print(json.dumps({
    "change_status": change["Status"],
    "get_change": r53.get_change(Id=change["Id"])["ChangeInfo"]["Status"],
    "zones": len(zones), "distinct_zones": len(set(zones)), "zone_pages": zone_pages,
    "records": len(records), "distinct_records": len(set(records)), "record_pages": record_pages,
    "missing": missing,
}))
