#!/bin/bash
# The local half of the main job: the runbook's operations on the local cloud,
# with the runbook's own raw aws commands (awscli v2 with --endpoint-url):
# secrets, a PostgreSQL instance with a snapshot and the runbook 4.2 restore,
# the API as an ECS service behind a load balancer at
# https://acme.hicaliber.localhost, a rollout and the runbook 2 rollback, and
# the frontend in S3 behind CloudFront at https://www.acme.hicaliber.localhost
# with an invalidation.  Everything is real: caliberd, PostgreSQL, nginx.
#
# Every step checks its result (HTTP status and body, row counts, stages,
# rollout states: tools/demo-checks.sh) and the demo exits non-zero at the
# first check that does not hold, saying which.
#
# It runs its own caliberd in .caliber/demo/local ($CALIBER_DEMO_DIR/local;
# its CALIBER_HOME, made anew at each run) on the ports
# CALIBER_LOCAL_PORT / CALIBER_EDGE_HTTPS_PORT / CALIBER_EDGE_HTTP_PORT
# (defaults 4566, 8443, 8080), and stops it at the end unless DEMO_KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
export CALIBER_HOME=${CALIBER_DEMO_DIR:-$top/.caliber/demo}/local
caliber=$top/bin/caliber
# a clean slate: the demo's own state only, stopped first so its databases shut down
"$caliber" local stop >/dev/null 2>&1 || true
rm -rf "$CALIBER_HOME"
work=$(mktemp -d)
cleanup() {
	rm -rf "$work"
	if [ "${DEMO_KEEP:-0}" != 1 ]; then
		"$caliber" local stop >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT
. "$top/tools/demo-checks.sh"

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }

step "start the local cloud"
"$caliber" local start
eval "$("$caliber" local env)"
https_port=${CALIBER_EDGE_HTTPS_PORT:-8443}
# the runbook's raw commands, against the local endpoint
aws() { /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" --output json "$@"; }
# q EXPR: evaluate a Python expression over the JSON on stdin (d)
q() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'json': json}, {'d': d}))" "$1"; }
# site WHAT NAME PATH STATUS TEXT: the edge serves https://NAME:PORT/PATH
site() { expect_http "$1" "https://$2:$https_port$3" "$4" "$5" --cacert "$AWS_CA_BUNDLE"; }

step "secrets under caliber/acme/stg/ (values never on a command line)"
openssl rand -hex 32 > "$work/key"
arn=$(aws secretsmanager create-secret --name caliber/acme/stg/django-secret-key \
	--secret-string "file://$work/key" | q 'd["ARN"]')
echo "$arn"
case $arn in
arn:aws:secretsmanager:*:secret:caliber/acme/stg/django-secret-key-??????) ;;
*) demo_fail "create-secret: unexpected ARN '$arn'" ;;
esac
openssl rand -hex 32 > "$work/key"
expect "put-secret-value makes the new version current" "$(show aws secretsmanager put-secret-value \
	--secret-id caliber/acme/stg/django-secret-key --secret-string "file://$work/key" |
	q 'd["VersionStages"]')" "['AWSCURRENT']"
expect "the secret's versions and stages" "$(aws secretsmanager describe-secret \
	--secret-id caliber/acme/stg/django-secret-key |
	q 'sorted(s for v in d["VersionIdsToStages"].values() for s in v)')" "['AWSCURRENT', 'AWSPREVIOUS']"
# compared without printing it: a secret's value stays off the terminal
[ "$(aws secretsmanager get-secret-value --secret-id caliber/acme/stg/django-secret-key |
	q 'd["SecretString"]')" = "$(cat "$work/key")" ] ||
	demo_fail "get-secret-value: the current value is not the one put last"
echo "ok: the current value is the one put last"

step "PostgreSQL: an RDS instance that is a real PostgreSQL 15 server"
aws rds create-db-instance --db-instance-identifier acme-stg-pg --engine postgres \
	--db-instance-class db.t4g.micro --master-username caliber --manage-master-user-password \
	--db-name caliber >/dev/null
show aws rds wait db-instance-available --db-instance-identifier acme-stg-pg
inst=$(aws rds describe-db-instances --db-instance-identifier acme-stg-pg)
host=$(echo "$inst" | q 'd["DBInstances"][0]["Endpoint"]["Address"]')
port=$(echo "$inst" | q 'd["DBInstances"][0]["Endpoint"]["Port"]')
secret=$(echo "$inst" | q 'd["DBInstances"][0]["MasterUserSecret"]["SecretArn"]')
echo "endpoint $host:$port; master password in Secrets Manager ($secret)"
PGPASSWORD=$(aws secretsmanager get-secret-value --secret-id "$secret" | q 'json.loads(d["SecretString"])["password"]')
export PGPASSWORD
psql() { command psql -X -q -h "$host" -p "$port" -U caliber -d caliber "$@"; }
psql -c "create table orders (id int primary key, item text)" \
	-c "insert into orders select g, 'before snapshot ' || g from generate_series(1, 3) g"
expect "the snapshot is being created" "$(show aws rds create-db-snapshot --db-instance-identifier acme-stg-pg \
	--db-snapshot-identifier acme-stg-pg-demo | q 'd["DBSnapshot"]["Status"]')" creating
aws rds wait db-snapshot-available --db-snapshot-identifier acme-stg-pg-demo
psql -c "insert into orders values (4, 'after snapshot')"
expect "rows in the source after the snapshot" "$(psql -tA -c 'select count(*) from orders')" 4
step "runbook 4.2: restore the snapshot to a new instance"
expect "describe-db-snapshots lists the snapshot" "$(show aws rds describe-db-snapshots \
	--db-instance-identifier acme-stg-pg |
	q '[s["Status"] for s in d["DBSnapshots"] if s["DBSnapshotIdentifier"] == "acme-stg-pg-demo"]')" \
	"['available']"
expect "the restore starts" "$(show aws rds restore-db-instance-from-db-snapshot \
	--db-instance-identifier acme-stg-pg-restored \
	--db-snapshot-identifier acme-stg-pg-demo --db-subnet-group-name acme-stg-db \
	--vpc-security-group-ids sg-local | q 'd["DBInstance"]["DBInstanceStatus"]')" creating
aws rds wait db-instance-available --db-instance-identifier acme-stg-pg-restored
rport=$(aws rds describe-db-instances --db-instance-identifier acme-stg-pg-restored | q 'd["DBInstances"][0]["Endpoint"]["Port"]')
expect "rows in the restored instance (the snapshot's 3, not the source's 4)" \
	"$(command psql -X -tA -h "$host" -p "$rport" -U caliber -d caliber -c 'select count(*) from orders')" 3

step "the API: an image, a task definition, a service behind a load balancer"
for v in v1 v2; do
	mkdir -p "$work/api-$v"
	cp -r examples/api-mini/. "$work/api-$v/"
	echo "$v" > "$work/api-$v/VERSION"
	"$caliber" local push-image "$work/api-$v" --name caliber-api --tag "$v"
done
aws ecs create-cluster --cluster-name acme-stg >/dev/null
register() {
	aws ecs register-task-definition --family acme-stg --container-definitions "[{
		\"name\": \"api\", \"image\": \"caliber-api:$1\", \"command\": [\"python3\", \"app.py\"],
		\"portMappings\": [{\"containerPort\": 8000}],
		\"secrets\": [{\"name\": \"DJANGO_SECRET_KEY\", \"valueFrom\": \"caliber/acme/stg/django-secret-key\"}],
		\"logConfiguration\": {\"logDriver\": \"awslogs\", \"options\": {\"awslogs-group\": \"/caliber/acme/stg/api\", \"awslogs-stream-prefix\": \"api\", \"awslogs-create-group\": \"true\"}}}]" |
		q 'd["taskDefinition"]["taskDefinitionArn"]'
}
td1=$(register v1)
lb=$(aws elbv2 create-load-balancer --name acme-stg-alb --type application --subnets subnet-a subnet-b)
lb_arn=$(echo "$lb" | q 'd["LoadBalancers"][0]["LoadBalancerArn"]')
lb_dns=$(echo "$lb" | q 'd["LoadBalancers"][0]["DNSName"]')
lb_zone=$(echo "$lb" | q 'd["LoadBalancers"][0]["CanonicalHostedZoneId"]')
tg=$(aws elbv2 create-target-group --name acme-stg-api --protocol HTTP --port 8000 --vpc-id vpc-local \
	--target-type ip --health-check-path /health/ --health-check-interval-seconds 5 \
	--healthy-threshold-count 2 | q 'd["TargetGroups"][0]["TargetGroupArn"]')
aws elbv2 modify-target-group-attributes --target-group-arn "$tg" \
	--attributes Key=deregistration_delay.timeout_seconds,Value=2 >/dev/null
aws elbv2 create-listener --load-balancer-arn "$lb_arn" --protocol HTTPS --port 443 \
	--default-actions "Type=forward,TargetGroupArn=$tg" >/dev/null
zone=$(aws route53 create-hosted-zone --name hicaliber.localhost --caller-reference "demo-$$" | q 'd["HostedZone"]["Id"]')
aws route53 change-resource-record-sets --hosted-zone-id "$zone" --change-batch "{\"Changes\": [{\"Action\": \"UPSERT\",
	\"ResourceRecordSet\": {\"Name\": \"acme.hicaliber.localhost\", \"Type\": \"A\", \"AliasTarget\": {
	\"HostedZoneId\": \"$lb_zone\", \"DNSName\": \"$lb_dns\", \"EvaluateTargetHealth\": true}}}]}" >/dev/null
aws ecs create-service --cluster acme-stg --service-name acme-stg-api --task-definition "$td1" \
	--desired-count 2 --load-balancers "targetGroupArn=$tg,containerName=api,containerPort=8000" \
	--deployment-configuration "deploymentCircuitBreaker={enable=true,rollback=true},maximumPercent=200,minimumHealthyPercent=100" >/dev/null
show aws ecs wait services-stable --cluster acme-stg --services acme-stg-api
show aws elbv2 wait target-in-service --target-group-arn "$tg"
site "the API behind the load balancer serves v1" acme.hicaliber.localhost / 200 '"version": "v1"'

step "roll out v2"
td2=$(register v2)
aws ecs update-service --cluster acme-stg --service acme-stg-api --task-definition "$td2" >/dev/null
show aws ecs wait services-stable --cluster acme-stg --services acme-stg-api
expect "the rollout's deployment" "$(aws ecs describe-services --cluster acme-stg --services acme-stg-api |
	q 'd["services"][0]["deployments"][0]["rolloutState"] + " " + d["services"][0]["deployments"][0]["taskDefinition"]')" \
	"COMPLETED $td2"
site "the API serves v2 after the rollout" acme.hicaliber.localhost / 200 '"version": "v2"'

step "runbook 2: roll back"
show aws ecs list-task-definitions --family-prefix acme-stg --status ACTIVE --sort DESC | q 'd["taskDefinitionArns"]'
previous=$(aws ecs list-task-definitions --family-prefix acme-stg --status ACTIVE --sort DESC | q 'd["taskDefinitionArns"][1]')
expect "the previous revision is the first one" "$previous" "$td1"
expect "update-service takes the previous revision" "$(show aws ecs update-service --cluster acme-stg \
	--service acme-stg-api --task-definition "$previous" | q 'd["service"]["taskDefinition"]')" "$td1"
show aws ecs wait services-stable --cluster acme-stg --services acme-stg-api
expect "the rollback's deployment" "$(aws ecs describe-services --cluster acme-stg --services acme-stg-api |
	q '" ".join(x["status"] + ":" + x["rolloutState"] for x in d["services"][0]["deployments"])')" \
	"PRIMARY:COMPLETED"
site "the API serves v1 again after the rollback" acme.hicaliber.localhost / 200 '"version": "v1"'

step "the frontend: S3 behind CloudFront at www.acme.hicaliber.localhost"
mkdir -p "$work/build"
echo '<!doctype html><title>Acme</title><h1>Acme frontend, release 1</h1>' > "$work/build/index.html"
aws s3api create-bucket --bucket acme-stg-frontend >/dev/null
show aws s3 sync "$work/build" s3://acme-stg-frontend/
dist=$(aws cloudfront create-distribution --distribution-config "{\"CallerReference\": \"demo-$$\",
	\"Aliases\": {\"Quantity\": 1, \"Items\": [\"www.acme.hicaliber.localhost\"]}, \"DefaultRootObject\": \"index.html\",
	\"Origins\": {\"Quantity\": 1, \"Items\": [{\"Id\": \"s3\", \"DomainName\": \"acme-stg-frontend.s3.amazonaws.com\",
	\"S3OriginConfig\": {\"OriginAccessIdentity\": \"\"}}]},
	\"DefaultCacheBehavior\": {\"TargetOriginId\": \"s3\", \"ViewerProtocolPolicy\": \"redirect-to-https\",
	\"MinTTL\": 0, \"DefaultTTL\": 3600, \"MaxTTL\": 86400,
	\"ForwardedValues\": {\"QueryString\": false, \"Cookies\": {\"Forward\": \"none\"}}},
	\"Comment\": \"acme-stg\", \"Enabled\": true}")
dist_id=$(echo "$dist" | q 'd["Distribution"]["Id"]')
dist_dns=$(echo "$dist" | q 'd["Distribution"]["DomainName"]')
aws route53 change-resource-record-sets --hosted-zone-id "$zone" --change-batch "{\"Changes\": [{\"Action\": \"UPSERT\",
	\"ResourceRecordSet\": {\"Name\": \"www.acme.hicaliber.localhost\", \"Type\": \"A\", \"AliasTarget\": {
	\"HostedZoneId\": \"Z2FDTNDATAQYW2\", \"DNSName\": \"$dist_dns\", \"EvaluateTargetHealth\": false}}}]}" >/dev/null
site "CloudFront serves the frontend" www.acme.hicaliber.localhost / 200 "release 1"
echo '<!doctype html><title>Acme</title><h1>Acme frontend, release 2</h1>' > "$work/build/index.html"
show aws s3 sync "$work/build" s3://acme-stg-frontend/
site "CloudFront serves its cached copy until an invalidation" www.acme.hicaliber.localhost / 200 "release 1"
inv=$(show aws cloudfront create-invalidation --distribution-id "$dist_id" --paths '/*' | q 'd["Invalidation"]["Id"]')
show aws cloudfront wait invalidation-completed --distribution-id "$dist_id" --id "$inv"
site "after the invalidation CloudFront serves release 2" www.acme.hicaliber.localhost / 200 "release 2"

step "done: every check held"
echo "the local cloud's state is in $CALIBER_HOME"
