"""conformance_cases.py: one call per operation that caliber supports, with
the input both clients get and a canned answer shaped as the service model
describes it.  Used by test_conformance.py (and bench/api.sh's server)."""

TOKEN = "11111111-2222-4333-8444-555555555555"
JSON_OK = {"status": 200, "headers": {"Content-Type": "application/x-amz-json-1.1",
                                      "x-amzn-RequestId": "req-json"}, "body": "{}"}


def query_ok(op, inner=""):
    return {"status": 200, "headers": {"Content-Type": "text/xml"},
            "body": ("<%sResponse xmlns=\"https://example.com/doc/\"><%sResult>%s</%sResult>"
                     "<ResponseMetadata><RequestId>req-query</RequestId></ResponseMetadata>"
                     "</%sResponse>") % (op, op, inner, op, op)}


def xml_ok(body="", headers=None):
    h = {"Content-Type": "application/xml", "x-amz-request-id": "req-xml"}
    h.update(headers or {})
    return {"status": 200, "headers": h, "body": body}


SECRET = {"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:caliber/acme/stg/db-AbCdEf",
          "Name": "caliber/acme/stg/db", "VersionId": TOKEN}

# (service, operation, input, reply, options); options: body (file content for
# --body / --body-file), outfile (GetObject)
CASES = [
    ("secretsmanager", "CreateSecret",
     {"Name": "caliber/acme/stg/db", "ClientRequestToken": TOKEN,
      "SecretString": "{\"password\": \"p@ss w\\u00f6rd\"}",
      "Tags": [{"Key": "client", "Value": "acme"}]}, JSON_OK, {}),
    ("secretsmanager", "PutSecretValue",
     {"SecretId": "caliber/acme/stg/db", "ClientRequestToken": TOKEN, "SecretString": "v2",
      "VersionStages": ["AWSCURRENT"]}, JSON_OK, {}),
    ("secretsmanager", "GetSecretValue", {"SecretId": "caliber/acme/stg/db",
                                          "VersionStage": "AWSPREVIOUS"}, JSON_OK, {}),
    ("secretsmanager", "DescribeSecret", {"SecretId": "caliber/acme/stg/db"}, JSON_OK, {}),
    ("secretsmanager", "ListSecrets",
     {"MaxResults": 10, "Filters": [{"Key": "name", "Values": ["caliber/acme/"]}]}, JSON_OK, {}),
    ("secretsmanager", "UpdateSecretVersionStage",
     {"SecretId": "caliber/acme/stg/db", "VersionStage": "AWSCURRENT",
      "MoveToVersionId": TOKEN, "RemoveFromVersionId": "00000000-0000-4000-8000-000000000001"},
     JSON_OK, {}),
    ("secretsmanager", "DeleteSecret",
     {"SecretId": "caliber/acme/stg/db", "RecoveryWindowInDays": 7}, JSON_OK, {}),
    ("ecs", "RegisterTaskDefinition",
     {"family": "acme-stg-api", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
      "cpu": "256", "memory": "512",
      "containerDefinitions": [{"name": "api", "image": "acme/api:1.2.3", "essential": True,
                                "portMappings": [{"containerPort": 8000, "protocol": "tcp"}],
                                "environment": [{"name": "ENV", "value": "stg"}],
                                "secrets": [{"name": "DB", "valueFrom": "arn:aws:secretsmanager:x"}],
                                "healthCheck": {"command": ["CMD", "true"], "interval": 30}}]},
     JSON_OK, {}),
    ("ecs", "DeregisterTaskDefinition", {"taskDefinition": "acme-stg-api:3"}, JSON_OK, {}),
    ("ecs", "ListTaskDefinitions",
     {"familyPrefix": "acme-stg-api", "status": "ACTIVE", "sort": "DESC", "maxResults": 5},
     JSON_OK, {}),
    ("ecs", "DescribeTaskDefinition", {"taskDefinition": "acme-stg-api:3"}, JSON_OK, {}),
    ("ecs", "DescribeServices", {"cluster": "acme-stg", "services": ["acme-stg-api"]},
     JSON_OK, {}),
    ("ecs", "UpdateService",
     {"cluster": "acme-stg", "service": "acme-stg-api", "taskDefinition": "acme-stg-api:3",
      "desiredCount": 2, "forceNewDeployment": True,
      "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                  "maximumPercent": 200, "minimumHealthyPercent": 100}},
     JSON_OK, {}),
    ("ecs", "RunTask",
     {"cluster": "acme-stg", "taskDefinition": "acme-stg-api:3", "launchType": "FARGATE",
      "count": 1,
      "overrides": {"containerOverrides": [{"name": "api",
                                            "command": ["python", "manage.py", "migrate"]}]},
      "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"],
                                                       "assignPublicIp": "DISABLED"}}},
     JSON_OK, {"newer_members": ["clientToken"]}),
    ("ecs", "DescribeTasks", {"cluster": "acme-stg", "tasks": ["arn:aws:ecs:t/1"]}, JSON_OK, {}),
    ("ecs", "ListTasks", {"cluster": "acme-stg", "family": "acme-stg-api",
                          "desiredStatus": "RUNNING"}, JSON_OK, {}),
    ("ecs", "StopTask", {"cluster": "acme-stg", "task": "arn:aws:ecs:t/1",
                         "reason": "rollback"}, JSON_OK, {}),
    ("s3", "CreateBucket", {"Bucket": "acme-stg-frontend"}, xml_ok(headers={"Location": "/b"}),
     {}),
    ("s3", "ListObjectsV2", {"Bucket": "acme-stg-frontend", "Prefix": "static/",
                             "MaxKeys": 100, "ContinuationToken": "tok/en="},
     xml_ok("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Name>acme-stg-frontend</Name><Prefix>static%2F</Prefix><KeyCount>1</KeyCount>"
            "<MaxKeys>100</MaxKeys><IsTruncated>false</IsTruncated><EncodingType>url"
            "</EncodingType><Contents><Key>static/a%20b.js</Key>"
            "<LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>\"e\"</ETag>"
            "<Size>3</Size><StorageClass>STANDARD</StorageClass></Contents>"
            "</ListBucketResult>"), {}),
    ("s3", "PutObject", {"Bucket": "acme-stg-frontend", "Key": "static/app v1.js",
                         "ContentType": "application/javascript",
                         "CacheControl": "max-age=31536000"},
     xml_ok(headers={"ETag": "\"9e107d9d372bb6826bd81d3542a419d6\""}),
     {"body": b"console.log('caliber');\n"}),
    ("s3", "GetObject", {"Bucket": "acme-stg-frontend", "Key": "index.html"},
     xml_ok("<html>hello</html>", {"ETag": "\"e\"", "Content-Type": "text/html",
                                   "Last-Modified": "Fri, 02 Jan 2026 03:04:05 GMT"}),
     {"outfile": True}),
    ("s3", "HeadObject", {"Bucket": "acme-stg-frontend", "Key": "index.html"},
     xml_ok(headers={"ETag": "\"e\"", "Content-Type": "text/html",
                     "Last-Modified": "Fri, 02 Jan 2026 03:04:05 GMT"}), {}),
    ("s3", "DeleteObjects",
     {"Bucket": "acme-stg-frontend", "Delete": {"Objects": [{"Key": "a.js"}, {"Key": "b&c.js"}],
                                                "Quiet": True}},
     xml_ok("<DeleteResult><Deleted><Key>a.js</Key></Deleted></DeleteResult>"), {}),
    ("s3", "CreateMultipartUpload", {"Bucket": "acme-stg-frontend", "Key": "big.bin"},
     xml_ok("<InitiateMultipartUploadResult><Bucket>acme-stg-frontend</Bucket><Key>big.bin"
            "</Key><UploadId>up1</UploadId></InitiateMultipartUploadResult>"), {}),
    ("s3", "UploadPart", {"Bucket": "acme-stg-frontend", "Key": "big.bin", "PartNumber": 1,
                          "UploadId": "up1"},
     xml_ok(headers={"ETag": "\"p1\""}), {"body": b"x" * 1000}),
    ("s3", "CompleteMultipartUpload",
     {"Bucket": "acme-stg-frontend", "Key": "big.bin", "UploadId": "up1",
      "MultipartUpload": {"Parts": [{"ETag": "\"p1\"", "PartNumber": 1}]}},
     xml_ok("<CompleteMultipartUploadResult><Location>l</Location><Bucket>acme-stg-frontend"
            "</Bucket><Key>big.bin</Key><ETag>\"e-1\"</ETag></CompleteMultipartUploadResult>"),
     {}),
    ("s3", "AbortMultipartUpload", {"Bucket": "acme-stg-frontend", "Key": "big.bin",
                                    "UploadId": "up1"},
     {"status": 204, "headers": {"x-amz-request-id": "req-xml"}, "body": ""}, {}),
    ("cloudfront", "GetDistribution", {"Id": "E2ABCDEF"},
     xml_ok("<Distribution xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Id>E2ABCDEF"
            "</Id><Status>Deployed</Status><DomainName>d.cloudfront.net</DomainName>"
            "</Distribution>", {"ETag": "E1"}), {}),
    ("cloudfront", "CreateInvalidation",
     {"DistributionId": "E2ABCDEF",
      "InvalidationBatch": {"Paths": {"Quantity": 2, "Items": ["/index.html", "/static/*"]},
                            "CallerReference": "caliber-20260102T030405"}},
     dict(xml_ok("<Invalidation xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Id>I1"
                 "</Id><Status>InProgress</Status><CreateTime>2026-01-02T03:04:05Z</CreateTime>"
                 "<InvalidationBatch><Paths><Quantity>1</Quantity><Items><Path>/*</Path></Items>"
                 "</Paths><CallerReference>c</CallerReference></InvalidationBatch>"
                 "</Invalidation>", {"Location": "https://x/I1"}), status=201), {}),
    ("cloudfront", "GetInvalidation", {"DistributionId": "E2ABCDEF", "Id": "I1"},
     xml_ok("<Invalidation><Id>I1</Id><Status>Completed</Status></Invalidation>"), {}),
    ("rds", "DescribeDBInstances", {"DBInstanceIdentifier": "acme-stg-pg"},
     query_ok("DescribeDBInstances", "<DBInstances><DBInstance><DBInstanceIdentifier>acme-stg-pg"
              "</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>"
              "<AllocatedStorage>20</AllocatedStorage><MultiAZ>false</MultiAZ>"
              "<Endpoint><Address>h</Address><Port>5432</Port></Endpoint>"
              "</DBInstance></DBInstances>"), {}),
    ("rds", "ModifyDBInstance",
     {"DBInstanceIdentifier": "acme-stg-pg", "MasterUserPassword": "n3w p@ss",
      "ApplyImmediately": True, "BackupRetentionPeriod": 7},
     query_ok("ModifyDBInstance"), {}),
    ("rds", "CreateDBSnapshot",
     {"DBInstanceIdentifier": "acme-stg-pg", "DBSnapshotIdentifier": "acme-stg-pre-restore",
      "Tags": [{"Key": "client", "Value": "acme"}]}, query_ok("CreateDBSnapshot"), {}),
    ("rds", "DescribeDBSnapshots", {"DBInstanceIdentifier": "acme-stg-pg",
                                    "SnapshotType": "manual", "MaxRecords": 20},
     query_ok("DescribeDBSnapshots"), {}),
    ("rds", "RestoreDBInstanceFromDBSnapshot",
     {"DBInstanceIdentifier": "acme-stg-pg-restored", "DBSnapshotIdentifier": "snap-1",
      "DBSubnetGroupName": "acme-stg", "VpcSecurityGroupIds": ["sg-1", "sg-2"],
      "MultiAZ": False}, query_ok("RestoreDBInstanceFromDBSnapshot"), {}),
    ("rds", "RestoreDBInstanceToPointInTime",
     {"SourceDBInstanceIdentifier": "acme-stg-pg", "TargetDBInstanceIdentifier": "acme-stg-pitr",
      "RestoreTime": "2026-01-01T12:00:00Z", "DBSubnetGroupName": "acme-stg"},
     query_ok("RestoreDBInstanceToPointInTime"), {}),
    ("docdb", "DescribeDBClusters", {"DBClusterIdentifier": "acme-stg-docdb"},
     query_ok("DescribeDBClusters"), {}),
    ("docdb", "ModifyDBCluster",
     {"DBClusterIdentifier": "acme-stg-docdb", "MasterUserPassword": "s3cr3t",
      "ApplyImmediately": True}, query_ok("ModifyDBCluster"), {}),
    ("docdb", "DescribeDBClusterSnapshots", {"DBClusterIdentifier": "acme-stg-docdb",
                                             "SnapshotType": "automated"},
     query_ok("DescribeDBClusterSnapshots"), {}),
    ("docdb", "RestoreDBClusterToPointInTime",
     {"DBClusterIdentifier": "acme-stg-docdb-pitr", "SourceDBClusterIdentifier": "acme-stg-docdb",
      "RestoreToTime": "2026-01-01T12:00:00Z", "VpcSecurityGroupIds": ["sg-1"]},
     query_ok("RestoreDBClusterToPointInTime"), {}),
    ("docdb", "RestoreDBClusterFromSnapshot",
     {"DBClusterIdentifier": "acme-stg-docdb-r", "SnapshotIdentifier": "snap-1",
      "Engine": "docdb"}, query_ok("RestoreDBClusterFromSnapshot"), {}),
    ("elbv2", "DescribeTargetHealth",
     {"TargetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/acme/1"},
     query_ok("DescribeTargetHealth", "<TargetHealthDescriptions><member><Target><Id>10.0.0.1"
              "</Id><Port>8000</Port></Target><TargetHealth><State>healthy</State>"
              "</TargetHealth></member></TargetHealthDescriptions>"), {}),
    ("route53", "ListResourceRecordSets",
     {"HostedZoneId": "/hostedzone/Z123456", "StartRecordName": "api.acme.hicaliber.net",
      "StartRecordType": "A", "MaxItems": "10"},
     xml_ok("<ListResourceRecordSetsResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
            "<ResourceRecordSets><ResourceRecordSet><Name>api.</Name><Type>A</Type>"
            "<TTL>60</TTL><ResourceRecords><ResourceRecord><Value>1.2.3.4</Value>"
            "</ResourceRecord></ResourceRecords></ResourceRecordSet></ResourceRecordSets>"
            "<IsTruncated>false</IsTruncated><MaxItems>10</MaxItems>"
            "</ListResourceRecordSetsResponse>"), {}),
    ("route53", "ChangeResourceRecordSets",
     {"HostedZoneId": "Z123456",
      "ChangeBatch": {"Comment": "caliber add acme",
                      "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                          "Name": "api.acme.hicaliber.net", "Type": "A",
                          "AliasTarget": {"HostedZoneId": "Z35SXDOTRQ7X7K",
                                          "DNSName": "lb-1.elb.amazonaws.com",
                                          "EvaluateTargetHealth": True}}}]}},
     xml_ok("<ChangeResourceRecordSetsResponse><ChangeInfo><Id>/change/C1</Id><Status>PENDING"
            "</Status><SubmittedAt>2026-01-02T03:04:05Z</SubmittedAt></ChangeInfo>"
            "</ChangeResourceRecordSetsResponse>"), {}),
    ("route53", "GetChange", {"Id": "/change/C1"},
     xml_ok("<GetChangeResponse><ChangeInfo><Id>/change/C1</Id><Status>INSYNC</Status>"
            "<SubmittedAt>2026-01-02T03:04:05.123Z</SubmittedAt></ChangeInfo>"
            "</GetChangeResponse>"), {}),
    ("sts", "GetCallerIdentity", {}, query_ok(
        "GetCallerIdentity", "<Arn>arn:aws:iam::123456789012:user/op</Arn><UserId>AID</UserId>"
        "<Account>123456789012</Account>"), {}),
    ("sts", "AssumeRole",
     {"RoleArn": "arn:aws:iam::123456789012:role/deploy", "RoleSessionName": "caliber",
      "DurationSeconds": 900},
     query_ok("AssumeRole", "<Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>sk"
              "</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>"
              "2026-01-02T04:04:05Z</Expiration></Credentials>"), {}),
    ("logs", "GetLogEvents",
     {"logGroupName": "/caliber/acme-stg/api", "logStreamName": "api/1", "startFromHead": True,
      "limit": 100}, JSON_OK, {}),
    ("logs", "FilterLogEvents",
     {"logGroupName": "/caliber/acme-stg/api", "filterPattern": "ERROR",
      "startTime": 1767322800000}, JSON_OK, {}),
]
