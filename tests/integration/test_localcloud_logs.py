"""CloudWatch Logs on the local cloud, through awscli v1 and v2: groups,
streams, PutLogEvents, GetLogEvents paging tokens, FilterLogEvents terms."""
import json

import pytest


def put(lc, group, stream, events):
    lc.aws_json("logs", "put-log-events", "--log-group-name", group, "--log-stream-name", stream,
                "--log-events", json.dumps([{"timestamp": t, "message": m} for t, m in events]))


@pytest.fixture(scope="module")
def logs(localcloud):
    lc = localcloud
    lc.aws_json("logs", "create-log-group", "--log-group-name", "/it/app")
    lc.aws_json("logs", "create-log-stream", "--log-group-name", "/it/app", "--log-stream-name", "a")
    lc.aws_json("logs", "create-log-stream", "--log-group-name", "/it/app", "--log-stream-name", "b")
    put(lc, "/it/app", "a", [(1000, "INFO start"), (2000, "ERROR disk full"),
                             (3000, "WARN slow request"), (4000, "DEBUG ERROR detail")])
    put(lc, "/it/app", "b", [(1500, "ERROR timeout talking to db"), (2500, "INFO done")])
    return lc


def test_log_groups_are_created_once_and_listed_by_prefix(logs):
    lc = logs
    r = lc.aws("logs", "create-log-group", "--log-group-name", "/it/app", v=2)
    assert r.returncode != 0 and "ResourceAlreadyExistsException" in r.stderr
    lc.aws_json("logs", "create-log-group", "--log-group-name", "/other")
    names = [g["logGroupName"] for g in
             lc.aws_json("logs", "describe-log-groups", "--log-group-name-prefix", "/it/", v=2)["logGroups"]]
    assert names == ["/it/app"]
    g = lc.aws_json("logs", "describe-log-groups", "--log-group-name-prefix", "/it/app")["logGroups"][0]
    assert g["arn"].endswith(":log-group:/it/app:*") and g["storedBytes"] > 0
    streams = lc.aws_json("logs", "describe-log-streams", "--log-group-name", "/it/app")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a", "b"]
    assert streams[0]["firstEventTimestamp"] == 1000 and streams[0]["lastEventTimestamp"] == 4000


def test_get_log_events_pages_forward_and_backward_like_aws(logs):
    lc = logs
    first = lc.aws_json("logs", "get-log-events", "--log-group-name", "/it/app", "--log-stream-name",
                        "a", "--start-from-head", "--limit", "2", v=2)
    assert [e["message"] for e in first["events"]] == ["INFO start", "ERROR disk full"]
    nxt = lc.aws_json("logs", "get-log-events", "--log-group-name", "/it/app", "--log-stream-name",
                      "a", "--next-token", first["nextForwardToken"], "--limit", "2", v=2)
    assert [e["message"] for e in nxt["events"]] == ["WARN slow request", "DEBUG ERROR detail"]
    end = lc.aws_json("logs", "get-log-events", "--log-group-name", "/it/app", "--log-stream-name",
                      "a", "--next-token", nxt["nextForwardToken"], v=2)
    # at the end, the same forward token comes back (how callers know to stop)
    assert end["events"] == [] and end["nextForwardToken"] == nxt["nextForwardToken"]
    # without a token: the newest events
    last = lc.aws_json("logs", "get-log-events", "--log-group-name", "/it/app", "--log-stream-name",
                       "a", "--limit", "1")
    assert [e["message"] for e in last["events"]] == ["DEBUG ERROR detail"]
    back = lc.aws_json("logs", "get-log-events", "--log-group-name", "/it/app", "--log-stream-name",
                       "a", "--next-token", last["nextBackwardToken"], "--limit", "2")
    assert [e["message"] for e in back["events"]] == ["ERROR disk full", "WARN slow request"]
    window = lc.aws_json("logs", "get-log-events", "--log-group-name", "/it/app",
                         "--log-stream-name", "a", "--start-time", "2000", "--end-time", "4000",
                         "--start-from-head")
    assert [e["timestamp"] for e in window["events"]] == [2000, 3000]
    r = lc.aws("logs", "get-log-events", "--log-group-name", "/it/app", "--log-stream-name", "zz")
    assert r.returncode != 0 and "ResourceNotFoundException" in r.stderr


def filtered(lc, *args, v=1):
    out = lc.aws_json("logs", "filter-log-events", "--log-group-name", "/it/app", *args, v=v)
    return [(e["logStreamName"], e["message"]) for e in out["events"]]


def filtered_boto(lc, **kw):
    out = lc.client("logs").filter_log_events(logGroupName="/it/app", **kw)
    return [(e["logStreamName"], e["message"]) for e in out["events"]]


def test_filter_log_events_matches_terms_phrases_alternatives_and_exclusions(logs):
    lc = logs
    assert filtered(lc, "--filter-pattern", "ERROR", v=2) == [
        ("a", "ERROR disk full"), ("a", "DEBUG ERROR detail"), ("b", "ERROR timeout talking to db")]
    assert filtered_boto(lc, filterPattern="ERROR -DEBUG") == [
        ("a", "ERROR disk full"), ("b", "ERROR timeout talking to db")]
    assert filtered_boto(lc, filterPattern='"disk full"') == [("a", "ERROR disk full")]
    assert filtered_boto(lc, filterPattern="?WARN ?timeout") == [
        ("a", "WARN slow request"), ("b", "ERROR timeout talking to db")]
    assert filtered_boto(lc, filterPattern="ERROR", logStreamNames=["b"]) == [
        ("b", "ERROR timeout talking to db")]
    assert filtered_boto(lc, startTime=2000, endTime=3000) == [("a", "ERROR disk full"),
                                                               ("b", "INFO done")]
    # paging: awscli v1 follows nextToken itself, so a page size of 1 still gives all
    assert len(filtered(lc, "--filter-pattern", "ERROR", "--page-size", "1")) == 3
    r = lc.aws("logs", "filter-log-events", "--log-group-name", "/it/app", "--filter-pattern",
               "{ $.level = \"ERROR\" }")
    assert r.returncode != 0 and "InvalidParameterException" in r.stderr


def test_put_log_events_refuses_unknown_streams_and_deleted_groups_take_their_events(logs):
    lc = logs
    r = lc.aws("logs", "put-log-events", "--log-group-name", "/it/app", "--log-stream-name", "nope",
               "--log-events", "timestamp=1,message=x")
    assert r.returncode != 0 and "ResourceNotFoundException" in r.stderr
    lc.aws_json("logs", "create-log-group", "--log-group-name", "/it/gone")
    lc.aws_json("logs", "create-log-stream", "--log-group-name", "/it/gone", "--log-stream-name", "s")
    put(lc, "/it/gone", "s", [(1, "bye")])
    lc.aws_json("logs", "delete-log-group", "--log-group-name", "/it/gone")
    r = lc.aws("logs", "filter-log-events", "--log-group-name", "/it/gone")
    assert r.returncode != 0 and "ResourceNotFoundException" in r.stderr
    lc.aws_json("logs", "create-log-group", "--log-group-name", "/it/gone")
    assert lc.aws_json("logs", "filter-log-events", "--log-group-name", "/it/gone")["events"] == []
