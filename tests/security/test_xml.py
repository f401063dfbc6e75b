"""XML bodies with a document type declaration (issue 9, finding 1).

An internal entity referenced many times once drove caliberd to 100% CPU
and 10 GB; `<Key>&k;</Key>` in S3 DeleteObjects deleted the key the entity
names.  AWS's XML has no DTD: any declaration is refused with MalformedXML
and no entity is ever substituted.
"""
import base64
import hashlib
import time

ENTITY_BOMB_HEAD = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "%s">]>\n' % ("x" * 100000))


def r53_change_batch_with_entities(zone_id, refs):
    body = ENTITY_BOMB_HEAD + (
        '<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
        '<ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet>'
        '<Name>bomb.example.localhost</Name><Type>TXT</Type><TTL>60</TTL><ResourceRecords>'
        '<ResourceRecord><Value>"%s"</Value></ResourceRecord></ResourceRecords>'
        '</ResourceRecordSet></Change></Changes></ChangeBatch>'
        '</ChangeResourceRecordSetsRequest>') % ("&a;" * refs)
    return body


def test_route53_entity_expansion_is_refused_as_malformed_xml(localcloud):
    zone = localcloud.aws_json("route53", "create-hosted-zone", "--name", "example.localhost",
                               "--caller-reference", "xml-%d" % time.time())
    zone_id = zone["HostedZone"]["Id"].split("/")[-1]
    body = r53_change_batch_with_entities(zone_id, 200000)
    assert len(body) > 700000
    status, _, data = localcloud.request("POST", "/2013-04-01/hostedzone/%s/rrset/" % zone_id,
                                         body=body, service="route53")
    assert status == 400, data
    assert b"<Code>MalformedXML</Code>" in data
    records = localcloud.aws_json("route53", "list-resource-record-sets",
                                  "--hosted-zone-id", zone_id)
    assert not [r for r in records["ResourceRecordSets"] if r["Name"].startswith("bomb.")]
    # the daemon is still answering, and promptly
    assert localcloud.aws("route53", "list-hosted-zones").returncode == 0


def test_cloudfront_body_with_a_dtd_is_refused(localcloud):
    body = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY c "x">]>'
            '<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
            '<CallerReference>&c;</CallerReference></DistributionConfig>')
    status, _, data = localcloud.request("POST", "/2020-05-31/distribution", body=body,
                                         service="cloudfront")
    assert status == 400, data
    assert b"MalformedXML" in data


def _put(localcloud, bucket, key, data):
    status, _, body = localcloud.request("PUT", "/%s/%s" % (bucket, key), body=data, service="s3",
                                         headers={"x-amz-content-sha256": hashlib.sha256(data).hexdigest()})
    assert status == 200, body


def test_s3_delete_objects_never_substitutes_an_entity_for_a_key(localcloud):
    bucket = "xml-entity-victim"
    status, _, body = localcloud.request("PUT", "/" + bucket, service="s3",
                                         headers={"x-amz-content-sha256": hashlib.sha256(b"").hexdigest()})
    assert status == 200, body
    _put(localcloud, bucket, "private/secret.txt", b"secret")
    doc = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY k "private/secret.txt">]>'
           '<Delete><Object><Key>&k;</Key></Object></Delete>').encode()
    headers = {"Content-MD5": base64.b64encode(hashlib.md5(doc).digest()).decode(),
               "x-amz-content-sha256": hashlib.sha256(doc).hexdigest()}
    status, _, body = localcloud.request("POST", "/%s?delete" % bucket, body=doc, service="s3",
                                         headers=headers)
    assert status == 400, body
    assert b"<Code>MalformedXML</Code>" in body
    status, _, body = localcloud.request("GET", "/%s/private/secret.txt" % bucket, service="s3",
                                         headers={"x-amz-content-sha256": hashlib.sha256(b"").hexdigest()})
    assert status == 200 and body == b"secret"
