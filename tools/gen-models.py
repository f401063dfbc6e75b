#!/usr/bin/env python3
"""gen-models.py: embed trimmed AWS service models in C.

Reads the service models that Debian's python3-botocore ships
(botocore/data/<service>/<version>/service-2.json, paginators-1.json,
waiters-2.json), keeps the operations caliber calls and every shape they
reach, drops documentation, and writes a C file holding one compact JSON
string per service.  lib/aws/model.c parses a service's string with jansson
the first time it is used.

usage: tools/gen-models.py OUTPUT.c SERVER_OUTPUT.c [BOTOCORE_DATA_DIR]

OUTPUT.c holds the client's trimmed models (aws_model_sources[]),
SERVER_OUTPUT.c the server's whole ones (aws_model_server_sources[]), in a
file of its own so that only what links the codec carries them.
"""
import gzip
import json
import os
import sys

# Service (awscli's name) -> operations.  Adding an operation is one word here.
OPERATIONS = {
    "secretsmanager": ["CreateSecret", "PutSecretValue", "GetSecretValue", "DescribeSecret",
                       "ListSecrets", "UpdateSecretVersionStage", "DeleteSecret",
                       "RestoreSecret", "UpdateSecret"],
    "ecs": ["RegisterTaskDefinition", "DeregisterTaskDefinition", "ListTaskDefinitions",
            "DescribeTaskDefinition", "DescribeServices", "UpdateService", "RunTask",
            "DescribeTasks", "ListTasks", "StopTask", "DescribeClusters", "ListServices"],
    "s3": ["CreateBucket", "ListObjectsV2", "PutObject", "GetObject", "HeadObject",
           "DeleteObjects", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
           "AbortMultipartUpload", "DeleteObject", "HeadBucket", "ListBuckets", "DeleteBucket"],
    "cloudfront": ["GetDistribution", "CreateInvalidation", "GetInvalidation"],
    "rds": ["DescribeDBInstances", "ModifyDBInstance", "CreateDBSnapshot", "DescribeDBSnapshots",
            "RestoreDBInstanceFromDBSnapshot", "RestoreDBInstanceToPointInTime"],
    "docdb": ["DescribeDBClusters", "ModifyDBCluster", "DescribeDBClusterSnapshots",
              "RestoreDBClusterToPointInTime", "RestoreDBClusterFromSnapshot",
              "DescribeDBInstances"],
    "elbv2": ["DescribeTargetHealth", "DescribeLoadBalancers", "DescribeTargetGroups"],
    "route53": ["ListResourceRecordSets", "ChangeResourceRecordSets", "GetChange"],
    "sts": ["GetCallerIdentity", "AssumeRole"],
    "logs": ["GetLogEvents", "FilterLogEvents"],
}

# The services caliberd emulates (or will): the server side needs every
# operation whole, so these are embedded a second time, untrimmed apart from
# documentation, in aws_model_server_sources[] (only caliberd reads them;
# 'caliber' never touches those pages).
SERVER = ["acm", "cloudfront", "docdb", "ec2", "ecs", "elbv2", "iam", "kms", "logs", "rds",
          "route53", "s3", "secretsmanager", "sts"]

# Members AWS added after Debian's botocore (1.29) that caliberd serves: newer
# clients (awscli v1 on botocore 1.43) send them, and the codec reads only
# what the model has.  Service -> new shapes, structure -> new members,
# structure -> members the server reads as another shape ("retype"), and
# metadata and shape traits the model lacks.
SERVER_PATCHES = {
    "secretsmanager": {
        "shapes": {"SortByType": {"type": "string", "enum": [
            "created-date", "last-accessed-date", "last-changed-date", "name"]}},
        "members": {"ListSecretsRequest": {
            "IncludePlannedDeletion": {"shape": "BooleanType", "box": True},
            "SortBy": {"shape": "SortByType"}}},
    },
    "logs": {
        "members": {"LogGroup": {"logGroupArn": {"shape": "Arn"}}},
    },
    # RDS instances and DocumentDB clusters (rds/cluster-api.c): members newer
    # than Debian's botocore, as the RDS model bundled with awscli v2 has them.
    "rds": {
        "shapes": {"MasterUserSecret": {"type": "structure", "members": {
            "SecretArn": {"shape": "String"}, "SecretStatus": {"shape": "String"},
            "KmsKeyId": {"shape": "String"}}}},
        "members": {
            "CreateDBInstanceMessage": {
                "ManageMasterUserPassword": {"shape": "BooleanOptional"}},
            "RestoreDBInstanceFromDBSnapshotMessage": {
                "BackupRetentionPeriod": {"shape": "IntegerOptional"}},
            "RestoreDBInstanceToPointInTimeMessage": {
                "BackupRetentionPeriod": {"shape": "IntegerOptional"}},
            "DBInstance": {"MasterUserSecret": {"shape": "MasterUserSecret"}},
            "CreateDBClusterMessage": {
                "ManageMasterUserPassword": {"shape": "BooleanOptional"},
                "MasterUserSecretKmsKeyId": {"shape": "String"}},
            "ModifyDBClusterMessage": {
                "ManageMasterUserPassword": {"shape": "BooleanOptional"},
                "RotateMasterUserPassword": {"shape": "BooleanOptional"},
                "MasterUserSecretKmsKeyId": {"shape": "String"}},
            "DBCluster": {"MasterUserSecret": {"shape": "MasterUserSecret"}},
        },
    },
    "ecs": {
        # a stopTimeout beyond 32 bits is out of range (ClientException naming
        # ECS's maximum, tests/security/test_ecs_stop.py), not a type error
        "retype": {"ContainerDefinition": {"stopTimeout": "Long"}},
    },
    # The namespace every reply and error of these REST-XML services is
    # written in; botocore's models put it on request members only.
    # Their timestamps as their servers write them, to the millisecond
    # ("iso8601ms": model-value.c), where botocore writes microseconds.
    "route53": {
        "metadata": {"xmlNamespace": "https://route53.amazonaws.com/doc/2013-04-01/"},
        "traits": {"TimeStamp": {"timestampFormat": "iso8601ms"}},
    },
    "cloudfront": {
        "metadata": {"xmlNamespace": "http://cloudfront.amazonaws.com/doc/2020-05-31/"},
        "traits": {"timestamp": {"timestampFormat": "iso8601ms"}},
    },
}

# Keys the server keeps that the client drops: its codec checks them.
SERVER_KEEP = {"min", "max", "pattern", "exception", "fault", "box"}

# Shape keys that only document.
DROP = {"documentation", "documentationUrl", "deprecated", "deprecatedMessage", "min", "max",
        "pattern", "sensitive_doc", "exception", "fault", "box", "synthetic", "examples"}


def load(path):
    if os.path.exists(path):
        with open(path, "rb") as f:
            return json.load(f)
    if os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz", "rb") as f:
            return json.load(f)
    return None


def newest(data, service):
    d = os.path.join(data, service)
    versions = sorted(v for v in os.listdir(d) if load(os.path.join(d, v, "service-2.json")))
    if not versions:
        sys.exit("gen-models: no service-2.json for '%s' under '%s'" % (service, d))
    return os.path.join(d, versions[-1])


def trim(obj, drop=DROP):
    if isinstance(obj, dict):
        return {k: ({n: trim(m, drop) for n, m in v.items()} if k == "members"
                    else trim(v, drop))
                for k, v in obj.items() if k not in drop}
    if isinstance(obj, list):
        return [trim(v, drop) for v in obj]
    return obj


def server_model(data, service):
    """Every operation and every shape, documentation dropped."""
    d = newest(data, service)
    full = load(os.path.join(d, "service-2.json"))
    drop = DROP - SERVER_KEEP
    patch = SERVER_PATCHES.get(service, {})
    for key, value in patch.get("metadata", {}).items():
        full["metadata"].setdefault(key, value)
    for name, shape in patch.get("shapes", {}).items():
        full["shapes"].setdefault(name, shape)
    for name, traits in patch.get("traits", {}).items():
        for key, value in traits.items():
            full["shapes"][name].setdefault(key, value)
    for name, members in patch.get("members", {}).items():
        for member, ref in members.items():
            full["shapes"][name]["members"].setdefault(member, ref)
    for name, members in patch.get("retype", {}).items():
        for member, shape in members.items():
            full["shapes"][name]["members"][member]["shape"] = shape
    model = {
        "metadata": trim(full["metadata"], drop),
        "operations": {k: trim(v, drop) for k, v in full["operations"].items()},
        "shapes": {k: trim(v, drop) for k, v in full["shapes"].items()},
    }
    return json.dumps(model, separators=(",", ":"))


def reach(shapes, name, seen):
    if name in seen:
        return
    seen.add(name)
    s = shapes[name]
    for m in s.get("members", {}).values():
        reach(shapes, m["shape"], seen)
    for k in ("member", "key", "value"):
        if k in s:
            reach(shapes, s[k]["shape"], seen)


def service_model(data, service, ops):
    d = newest(data, service)
    full = load(os.path.join(d, "service-2.json"))
    pag = load(os.path.join(d, "paginators-1.json")) or {"pagination": {}}
    wai = load(os.path.join(d, "waiters-2.json")) or {"waiters": {}}
    out_ops, seen = {}, set()
    for op in ops:
        o = full["operations"].get(op)
        if o is None:
            sys.exit("gen-models: '%s' has no operation '%s'" % (service, op))
        out_ops[op] = trim(o)
        for k in ("input", "output"):
            if k in o:
                reach(full["shapes"], o[k]["shape"], seen)
        for e in o.get("errors", []):
            reach(full["shapes"], e["shape"], seen)
    # Error shapes keep their "exception" flag out: the parser only needs names.
    shapes = {n: trim(full["shapes"][n]) for n in sorted(seen)}
    model = {
        "metadata": trim(full["metadata"]),
        "operations": out_ops,
        "shapes": shapes,
        "paginators": {k: v for k, v in pag["pagination"].items() if k in out_ops},
        "waiters": {k: v for k, v in wai["waiters"].items() if v.get("operation") in out_ops},
    }
    return json.dumps(model, separators=(",", ":"))


def c_string(s):
    out, line = [], ""
    for ch in s:
        if ch in '"\\':
            line += "\\" + ch
        elif ch == "\n":
            line += "\\n"
        elif ord(ch) < 32:
            line += "\\%03o" % ord(ch)
        elif ord(ch) > 126:
            line += "".join("\\%03o" % b for b in ch.encode())
        else:
            line += ch
        if len(line) > 100 and not line.endswith("\\"):
            out.append('\t"%s"' % line)
            line = ""
    out.append('\t"%s"' % line)
    return "\n".join(out)


def write(path, parts):
    tmp = path + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(tmp, "w") as f:
        f.write("\n".join(parts) + "\n")
    os.replace(tmp, path)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    data = sys.argv[3] if len(sys.argv) > 3 else "/usr/lib/python3/dist-packages/botocore/data"
    if not os.path.isdir(data):
        sys.exit("gen-models: no botocore data at '%s'; install python3-botocore "
                 "(tools/install-deps.sh)" % data)
    head = ["/* Generated by tools/gen-models.py from %s: do not edit. */" % data,
            '#include "compat.h"', "", '#include "aws/model.h"', ""]
    parts, rows = list(head), []
    for i, (svc, ops) in enumerate(sorted(OPERATIONS.items())):
        js = service_model(data, svc, ops)
        parts.append("static const char model_%d[] =\n%s;\n" % (i, c_string(js)))
        rows.append('\t{ "%s", model_%d, sizeof(model_%d) - 1 },' % (svc, i, i))
    parts.append("const struct aws_model_source aws_model_sources[] = {")
    parts += rows
    parts.append("\t{ NULL, NULL, 0 },\n};")
    write(sys.argv[1], parts)
    parts, rows = list(head), []
    for i, svc in enumerate(SERVER):
        js = server_model(data, svc)
        parts.append("static const char server_model_%d[] =\n%s;\n" % (i, c_string(js)))
        rows.append('\t{ "%s", server_model_%d, sizeof(server_model_%d) - 1 },' % (svc, i, i))
    parts.append("const struct aws_model_source aws_model_server_sources[] = {")
    parts += rows
    parts.append("\t{ NULL, NULL, 0 },\n};")
    write(sys.argv[2], parts)


main()
