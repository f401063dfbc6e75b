/*
 * rds/cluster-api.c: DocumentDB's cluster and cluster snapshot handlers,
 * typed, on the codec (the server's RDS model: every DocumentDB operation
 * and shape is in it under the same names, and `aws docdb` signs as rds on
 * the same endpoint).  A handler checks its input, records intent in the
 * store and hands the work to cluster.c.  Instances: cluster-instances.c;
 * groups: cluster-groups.c; tags: cluster-tags.c.  What a cluster is:
 * cluster.h.
 */
#include "compat.h"

#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/caliberd.h"
#include "core/crypt.h"
#include "core/engine-postgres.h"
#include "core/reply.h"
#include "core/router.h"
#include "core/store.h"
#include "cluster.h"
#include "internal.h"

#define CLUSTER_DEFAULT_MAX_RECORDS 100

/* ---------------------------------------------------------------- input */

/* A client error as AWS words it: 404 for the NotFound faults, else 400. */
int cluster_bad(struct codec_error *err, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return codec_error_set(err, strstr(code, "NotFound") != NULL ? 404 : 400, code, "%s", msg);
}

int cluster_internal(struct codec_error *err, const char *what)
{
	lc_log("docdb: %s", what);
	return codec_error_set(err, 500, "InternalFailure", "an internal error occurred");
}

static const char *in_str(const json_t *in, const char *member)
{
	return json_string_value(json_object_get(in, member));
}

/* 1 true, 0 false or absent. */
static int in_true(const json_t *in, const char *member)
{
	return json_is_true(json_object_get(in, member));
}

static int ident_valid(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max || !isalpha((unsigned char)s[0]) || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
		if (s[i] == '-' && s[i + 1] == '-')
			return 0;
	}
	return 1;
}

static char *lower(const char *s)
{
	char *r = xstrdup(s), *p;

	for (p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

/*
 * An identifier member (lower-cased into *out, caller frees).  strict: the
 * rules for a new name; otherwise any name is looked up (automated
 * snapshots are "rds:..."), an ARN reduced to its last part.
 */
int cluster_in_ident(const json_t *in, const char *member, size_t max, int required, int strict,
	char **out, struct codec_error *err)
{
	const char *v = in_str(in, member), *colon;

	*out = NULL;
	if (v == NULL || *v == '\0') {
		if (!required)
			return 0;
		return cluster_bad(err, "MissingParameter", "The request must contain the parameter %s",
			member);
	}
	if (!strict && !strncmp(v, "arn:", 4) && (colon = strrchr(v, ':')) != NULL) {
		/* arn:aws:rds:region:account:cluster-snapshot:name ("rds:..." names keep theirs) */
		const char *p = v;
		int k;

		for (k = 0; k < 6 && p != NULL; k++)
			p = strchr(p + 1, ':');
		v = p != NULL ? p + 1 : colon + 1;
	}
	if (strict ? !ident_valid(v, max) : strlen(v) > max)
		return cluster_bad(err, "InvalidParameterValue",
			"The parameter %s is not a valid identifier. Identifiers must begin with a"
			" letter; must contain only ASCII letters, digits, and hyphens; and must not"
			" end with a hyphen or contain two consecutive hyphens.",
			member);
	*out = lower(v);
	return 0;
}

/* DocumentDB's master user: 1..63 letters and digits, first a letter. */
static int master_user_valid(const char *u)
{
	size_t i, n = strlen(u);

	if (n == 0 || n > 63 || !isalpha((unsigned char)u[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)u[i]))
			return 0;
	return 1;
}

/* DocumentDB's passwords: 8..100 printable ASCII but '/', '"', '@' and space. */
static int password_check(const char *member, const char *p, struct codec_error *err)
{
	size_t i, n = strlen(p);

	if (n < 8)
		return cluster_bad(err, "InvalidParameterValue",
			"The parameter %s is not a valid password because it is shorter than 8"
			" characters.",
			member);
	if (n > 100)
		return cluster_bad(err, "InvalidParameterValue",
			"The parameter %s is not a valid password because it is longer than 100"
			" characters.",
			member);
	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] > '~' || p[i] == '/' || p[i] == '"' || p[i] == '@')
			return cluster_bad(err, "InvalidParameterValue",
				"The parameter %s is not a valid password. Only printable ASCII"
				" characters besides '/', '@', '\"', ' ' may be used.",
				member);
	return 0;
}

static int in_retention(const json_t *in, long *out, struct codec_error *err)
{
	json_t *v = json_object_get(in, "BackupRetentionPeriod");

	if (v == NULL)
		return 0;
	if (json_integer_value(v) < 1 || json_integer_value(v) > 35)
		return cluster_bad(err, "InvalidParameterValue",
			"Invalid backup retention period: %lld. The backup retention period must be"
			" between 1 and 35 days.",
			(long long)json_integer_value(v));
	*out = (long)json_integer_value(v);
	return 0;
}

static int in_engine_version(const json_t *in, struct codec_error *err)
{
	const char *v = in_str(in, "EngineVersion");

	if (v != NULL && strcmp(v, "5.0.0") && strcmp(v, "4.0.0") && strcmp(v, "3.6.0"))
		return cluster_bad(err, "InvalidParameterCombination",
			"Cannot find version %s for docdb", v);
	return 0;
}

/* A member that is a JSON array (security groups, tags) as its text, "[]" when absent. */
static char *in_array_text(const json_t *in, const char *member)
{
	json_t *v = json_object_get(in, member);
	char *text = json_is_array(v) ? json_dumps(v, JSON_COMPACT) : NULL;

	return text ? text : xstrdup("[]");
}

/* Whether 127.0.0.1:port can be bound now. */
static int port_bindable(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/*
 * The new cluster's two ports, off every other server's: its wire port
 * (the Port asked for when it is free now, else a free one) and its
 * PostgreSQL server's.
 */
static int cluster_pick_ports(sqlite3 *db, long wanted, int *port, int *pg_port, struct err *e)
{
	size_t n = 0, i;
	int *ports = cluster_ports_in_use(db, &n), taken = 0, ret = -1;

	for (i = 0; i < n; i++)
		if (ports[i] == wanted)
			taken = 1;
	if (wanted > 0 && !taken && port_bindable((int)wanted))
		*port = (int)wanted;
	else if (pge_free_port(ports, n, port, e) < 0)
		goto out;
	ports = xrealloc(ports, (n + 1) * sizeof(*ports));
	ports[n++] = *port;
	if (pge_free_port(ports, n, pg_port, e) < 0)
		goto out;
	ret = 0;
out:
	free(ports);
	return ret;
}

void cluster_resource_id(const char *prefix, char out[64])
{
	char uuid[40];
	size_t i, j, k = strlen(prefix);

	rds_uuid(uuid);
	memcpy(out, prefix, k);
	for (i = 0, j = 0; uuid[i] && j < 26; i++)
		if (uuid[i] != '-')
			out[k + j++] = (char)toupper((unsigned char)uuid[i]);
	out[k + j] = '\0';
}

/* Filters: [{Name, Values}] as {name: [values]}; unknown names refused. */
int cluster_in_filters(const json_t *in, const char *const *names, json_t **out,
	struct codec_error *err)
{
	json_t *f = json_object_get(in, "Filters"), *v;
	size_t i, k;

	*out = json_object();
	json_array_foreach(f, i, v)
	{
		const char *name = in_str(v, "Name");
		json_t *values = json_object_get(v, "Values");

		for (k = 0; names[k] != NULL; k++)
			if (name != NULL && !strcmp(name, names[k]))
				break;
		if (names[k] == NULL) {
			json_decref(*out);
			*out = NULL;
			return cluster_bad(err, "InvalidParameterValue", "Unrecognized filter name: %s",
				name ? name : "");
		}
		json_object_set(*out, name, json_is_array(values) ? values : json_array());
	}
	return 0;
}

/* Whether a filter admits v (ARNs compared by their last part); no filter admits all. */
int cluster_filter_admits(const json_t *filters, const char *name, const char *v)
{
	json_t *values = json_object_get(filters, name), *x;
	size_t i;

	if (values == NULL)
		return 1;
	json_array_foreach(values, i, x)
	{
		const char *s = json_string_value(x), *c;

		if (s == NULL)
			continue;
		if (!strncmp(s, "arn:", 4) && (c = strrchr(s, ':')) != NULL)
			s = c + 1;
		if (v != NULL && !strcasecmp(s, v))
			return 1;
	}
	return 0;
}

int cluster_in_max_records(const json_t *in, long *out, struct codec_error *err)
{
	json_t *v = json_object_get(in, "MaxRecords");

	*out = CLUSTER_DEFAULT_MAX_RECORDS;
	if (v == NULL)
		return 0;
	if (json_integer_value(v) < 20 || json_integer_value(v) > 100)
		return cluster_bad(err, "InvalidParameterValue",
			"Invalid value %lld for MaxRecords. Must be between 20 and 100",
			(long long)json_integer_value(v));
	*out = (long)json_integer_value(v);
	return 0;
}

/* ---------------------------------------------------------------- output */

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v != NULL)
		json_object_set_new(o, k, json_string(v));
}

static void set_time(json_t *o, const char *k, double t)
{
	if (!isnan(t) && t > 0)
		json_object_set_new(o, k, json_real(t));
}

json_t *cluster_security_groups_json(const char *text)
{
	json_t *ids = json_loads(text ? text : "[]", 0, NULL), *out = json_array(), *v;
	size_t i;

	json_array_foreach(ids, i, v)
		json_array_append_new(out, json_pack("{s:s, s:s}", "VpcSecurityGroupId",
			json_string_value(v) ? json_string_value(v) : "", "Status", "active"));
	json_decref(ids);
	return out;
}

void cluster_arn(const char *kind, const char *region, const char *id, char out[512])
{
	snprintf(out, 512, "arn:aws:rds:%s:%s:%s:%s", region, LOCALCLOUD_ACCOUNT_ID, kind, id);
}

static json_t *cluster_members_json(sqlite3 *db, const char *id)
{
	json_t *list = json_array();
	sqlite3_stmt *st = NULL;
	int first = 1;

	if (sqlite3_prepare_v2(db,
		    "SELECT id, promotion_tier FROM docdb_instance WHERE cluster_id = ? ORDER BY"
		    " created, id",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_array_append_new(list,
				json_pack("{s:s, s:b, s:s, s:i}", "DBInstanceIdentifier",
					store_col_str(st, 0), "IsClusterWriter", first,
					"DBClusterParameterGroupStatus", "in-sync", "PromotionTier",
					sqlite3_column_int(st, 1)));
			first = 0;
		}
	}
	sqlite3_finalize(st);
	return list;
}

static json_t *cluster_json(sqlite3 *db, const struct cluster *c)
{
	json_t *o = json_object();
	char arn[512];

	json_object_set_new(o, "AvailabilityZones", json_pack("[s]", CLUSTER_AZ));
	json_object_set_new(o, "BackupRetentionPeriod", json_integer(c->retention));
	set_str(o, "DBClusterIdentifier", c->id);
	set_str(o, "DBClusterParameterGroup", c->param_group);
	set_str(o, "DBSubnetGroup", c->subnet_group ? c->subnet_group : "default");
	set_str(o, "Status", c->status);
	if (strcmp(c->status, "creating") != 0) {
		set_time(o, "EarliestRestorableTime", cluster_earliest_restorable(db, c));
		set_time(o, "LatestRestorableTime", cluster_latest_restorable(db, c));
	}
	set_str(o, "Endpoint", CLUSTER_HOST);
	set_str(o, "ReaderEndpoint", CLUSTER_HOST);
	json_object_set_new(o, "MultiAZ", json_false());
	set_str(o, "Engine", "docdb");
	set_str(o, "EngineVersion", CLUSTER_ENGINE_VERSION);
	json_object_set_new(o, "Port", json_integer(c->port));
	set_str(o, "MasterUsername", c->master_user);
	set_str(o, "PreferredBackupWindow", "00:00-00:30");
	set_str(o, "PreferredMaintenanceWindow", "sun:05:00-sun:05:30");
	json_object_set_new(o, "ReadReplicaIdentifiers", json_array());
	json_object_set_new(o, "DBClusterMembers", cluster_members_json(db, c->id));
	json_object_set_new(o, "VpcSecurityGroups", cluster_security_groups_json(c->vpc_sgs));
	set_str(o, "HostedZoneId", CLUSTER_HOSTED_ZONE);
	json_object_set_new(o, "StorageEncrypted", json_boolean(c->storage_encrypted));
	if (c->storage_encrypted)
		set_str(o, "KmsKeyId", c->kms_key ? c->kms_key : "alias/aws/rds");
	set_str(o, "DbClusterResourceId", c->resource_id);
	cluster_arn("cluster", c->region, c->id, arn);
	set_str(o, "DBClusterArn", arn);
	json_object_set_new(o, "AssociatedRoles", json_array());
	set_time(o, "ClusterCreateTime", c->created);
	json_object_set_new(o, "EnabledCloudwatchLogsExports", json_array());
	json_object_set_new(o, "DeletionProtection", json_boolean(c->deletion_protection));
	if (c->secret_arn != NULL)
		json_object_set_new(o, "MasterUserSecret",
			json_pack("{s:s, s:s, s:s}", "SecretArn", c->secret_arn, "SecretStatus",
				"active", "KmsKeyId", "alias/aws/secretsmanager"));
	return o;
}

static json_t *snapshot_json(const struct cluster_snapshot *s)
{
	json_t *o = json_object();
	char arn[512];

	json_object_set_new(o, "AvailabilityZones", json_pack("[s]", CLUSTER_AZ));
	set_str(o, "DBClusterSnapshotIdentifier", s->id);
	set_str(o, "DBClusterIdentifier", s->cluster_id);
	set_time(o, "SnapshotCreateTime", s->created);
	set_str(o, "Engine", "docdb");
	set_str(o, "Status", s->status);
	json_object_set_new(o, "Port", json_integer(s->port));
	set_time(o, "ClusterCreateTime", s->cluster_created);
	set_str(o, "MasterUsername", s->master_user);
	set_str(o, "EngineVersion", CLUSTER_ENGINE_VERSION);
	set_str(o, "SnapshotType", s->type);
	json_object_set_new(o, "PercentProgress",
		json_integer(!strcmp(s->status, "available") ? 100 : 0));
	json_object_set_new(o, "StorageEncrypted", json_boolean(s->storage_encrypted));
	if (s->storage_encrypted)
		set_str(o, "KmsKeyId", s->kms_key ? s->kms_key : "alias/aws/rds");
	cluster_arn("cluster-snapshot", s->region, s->id, arn);
	set_str(o, "DBClusterSnapshotArn", arn);
	return o;
}

/* The cluster row id as {"DBCluster": ...} (inside the caller's transaction). */
static int reply_cluster(sqlite3 *db, const char *id, const char *status, json_t **out,
	struct codec_error *err)
{
	struct cluster c = { 0 };
	json_t *o;

	if (cluster_get(db, id, &c) != 1)
		return cluster_internal(err, "the cluster row vanished");
	if (status != NULL) {
		free(c.status);
		c.status = xstrdup(status);
	}
	o = cluster_json(db, &c);
	cluster_release(&c);
	*out = json_pack("{s:o}", "DBCluster", o);
	return 0;
}

int cluster_commit(struct lc_request *req, struct codec_error *err)
{
	struct err e = ERR_INIT;

	if (store_commit(req->srv->store, &e) < 0)
		return cluster_internal(err, e.msg);
	return 0;
}

/* Open the store on cluster id: 1 found (transaction open, *c filled), else the error set. */
int cluster_begin_on(struct lc_request *req, const char *id, struct cluster *c,
	struct codec_error *err)
{
	struct err e = ERR_INIT;
	int found;

	if (store_begin(req->srv->store, &e) < 0)
		return cluster_internal(err, e.msg);
	found = cluster_get(store_db(req->srv->store), id, c);
	if (found == 1)
		return 1;
	store_rollback(req->srv->store);
	if (found < 0)
		return cluster_internal(err, sqlite3_errmsg(store_db(req->srv->store)));
	return cluster_bad(err, "DBClusterNotFoundFault", "DBCluster %s not found.", id);
}

static int need_engine(struct codec_error *err)
{
	struct err e = ERR_INIT;

	if (pge_available(&e) == 0 && cluster_available(&e) == 0)
		return 0;
	lc_log("docdb: %s", e.msg);
	return codec_error_set(err, 500, "InternalFailure", "%s", e.msg);
}

/* ---------------------------------------------------------------- new clusters */

/* What a new cluster row holds beyond its identifier. */
struct cluster_new {
	const char *id;
	const char *region;
	const char *job;		/* create, restore */
	const char *master_user;
	long port_wanted;
	long retention;
	const char *secret_arn;
	const char *subnet_group;
	char *vpc_sgs;
	const char *param_group;
	int storage_encrypted;
	const char *kms_key;
	int deletion_protection;
	char *tags;
	const char *restore_snapshot;
	const char *restore_source;
	double restore_time;		/* NAN: latest */
	struct cluster_secrets secrets;
};

static void cluster_new_init(struct cluster_new *n, const json_t *in, const char *region)
{
	memset(n, 0, sizeof(*n));
	n->region = region;
	n->retention = 1;
	n->restore_time = NAN;
	n->subnet_group = in_str(in, "DBSubnetGroupName");
	n->vpc_sgs = in_array_text(in, "VpcSecurityGroupIds");
	n->param_group = in_str(in, "DBClusterParameterGroupName");
	if (n->param_group == NULL)
		n->param_group = CLUSTER_PARAM_GROUP;
	n->kms_key = in_str(in, "KmsKeyId");
	n->storage_encrypted = in_true(in, "StorageEncrypted") || n->kms_key != NULL;
	n->deletion_protection = in_true(in, "DeletionProtection");
	n->tags = in_array_text(in, "Tags");
	if (json_is_integer(json_object_get(in, "Port")))
		n->port_wanted = (long)json_integer_value(json_object_get(in, "Port"));
	cluster_secrets_init(&n->secrets);
}

static void cluster_new_release(struct cluster_new *n)
{
	free(n->vpc_sgs);
	free(n->tags);
	cluster_secrets_release(&n->secrets);
}

static int in_port(const json_t *in, struct codec_error *err)
{
	json_t *v = json_object_get(in, "Port");

	if (v != NULL && (json_integer_value(v) < 1150 || json_integer_value(v) > 65535))
		return cluster_bad(err, "InvalidParameterValue",
			"Invalid port %lld: the port must be between 1150 and 65535",
			(long long)json_integer_value(v));
	return 0;
}

/* Inside a transaction: 1 when a DB cluster, or subnet group named, does not fit. */
static int cluster_exists(sqlite3 *db, const char *id)
{
	struct cluster c = { 0 };
	int found = cluster_get(db, id, &c);

	cluster_release(&c);
	return found != 0;
}

static int cluster_insert(sqlite3 *db, struct cluster_new *n, struct err *e)
{
	struct buf sealed = BUF_INIT;
	char resource[64];
	sqlite3_stmt *st = NULL;
	int port = 0, pg_port = 0, ret = -1;

	cluster_resource_id("cluster-", resource);
	if (cluster_pick_ports(db, n->port_wanted, &port, &pg_port, e) < 0 ||
		cluster_secrets_seal(&n->secrets, "cluster", n->id, &sealed, e) < 0)
		goto out;
	if (sqlite3_prepare_v2(db,
		    "INSERT INTO docdb_cluster (id, region, status, job, master_user, port, pg_port,"
		    " retention, created, secrets, secret_arn, subnet_group, vpc_sgs, param_group,"
		    " storage_encrypted, kms_key, deletion_protection, resource_id, tags,"
		    " restore_snapshot, restore_source, restore_time) VALUES (?, ?, 'creating', ?,"
		    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    -1, &st, NULL) != SQLITE_OK) {
		err_set(e, "%s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->job, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->master_user, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, port);
	sqlite3_bind_int(st, 6, pg_port);
	sqlite3_bind_int(st, 7, (int)n->retention);
	sqlite3_bind_double(st, 8, lc_now());
	sqlite3_bind_blob(st, 9, sealed.data, (int)sealed.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, n->secret_arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, n->subnet_group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, n->vpc_sgs, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, n->param_group, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 14, n->storage_encrypted);
	sqlite3_bind_text(st, 15, n->kms_key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 16, n->deletion_protection);
	sqlite3_bind_text(st, 17, resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, n->tags, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 19, n->restore_snapshot, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 20, n->restore_source, -1, SQLITE_STATIC);
	if (!isnan(n->restore_time))
		sqlite3_bind_double(st, 21, n->restore_time);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(e, "%s", sqlite3_errmsg(db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	buf_release(&sealed);
	return ret;
}

/* Insert n (transaction open), answer with the new cluster, commit, start its job. */
static int cluster_insert_reply(struct lc_request *req, struct cluster_new *n, json_t **out,
	struct codec_error *err)
{
	struct err e = ERR_INIT;
	sqlite3 *db = store_db(req->srv->store);

	if (cluster_exists(db, n->id)) {
		store_rollback(req->srv->store);
		return cluster_bad(err, "DBClusterAlreadyExistsFault", "DB cluster already exists");
	}
	if (cluster_groups_check(db, n->subnet_group, n->param_group, err) < 0) {
		store_rollback(req->srv->store);
		return -1;
	}
	if (cluster_insert(db, n, &e) < 0) {
		store_rollback(req->srv->store);
		return cluster_internal(err, e.msg);
	}
	if (reply_cluster(db, n->id, NULL, out, err) < 0) {
		store_rollback(req->srv->store);
		return -1;
	}
	if (cluster_commit(req, err) < 0)
		return -1;
	cluster_job_spawn(n->id);
	return 0;
}

/* A managed master password: the secret rds!cluster-<uuid>, as DocumentDB makes it. */
static int managed_secret(const char *region, const char *id, const char *user,
	const char *password, char **arn, struct err *e)
{
	char uuid[40], cluster[512];
	json_t *value = json_pack("{s:s, s:s}", "username", user, "password", password);
	char *text = json_dumps(value, JSON_COMPACT);
	int attempt, rc = -1;

	rds_uuid(uuid);
	cluster_arn("cluster", region, id, cluster);
	OPENSSL_cleanse((char *)json_string_value(json_object_get(value, "password")),
		strlen(password));
	json_decref(value);
	/* a Secrets Manager that refuses '!' in names (as AWS does for users) gets '-' */
	for (attempt = 0; attempt < 2 && rc < 0; attempt++) {
		char *name = xasprintf("rds%scluster-%s", attempt == 0 ? "!" : "-", uuid);
		json_t *in = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}]}", "Name", name,
			"SecretString", text, "Description",
			"Secret associated with primary RDS DB cluster", "Tags", "Key",
			"aws:rds:primaryDBClusterArn", "Value", cluster);

		rc = rds_secret_call("CreateSecret", region, in, arn, e);
		OPENSSL_cleanse((char *)json_string_value(json_object_get(in, "SecretString")),
			strlen(text));
		json_decref(in);
		free(name);
	}
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}

static void managed_secret_delete(const char *region, const char *arn)
{
	struct err e = ERR_INIT;
	json_t *in = json_pack("{s:s, s:b}", "SecretId", arn, "ForceDeleteWithoutRecovery", 1);

	if (rds_secret_call("DeleteSecret", region, in, NULL, &e) < 0)
		lc_log("docdb: deleting secret: %s", e.msg);
	json_decref(in);
}

int cluster_create_db_cluster(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct cluster_new n;
	struct err e = ERR_INIT;
	char *id = NULL, *secret_arn = NULL;
	const char *engine = in_str(in, "Engine"), *user = in_str(in, "MasterUsername");
	const char *pw = in_str(in, "MasterUserPassword");
	char admin_pw[33], owner_pw[33], managed_pw[33];
	int manage = in_true(in, "ManageMasterUserPassword"), ret = -1, exists;

	cluster_new_init(&n, in, req->region);
	admin_pw[0] = owner_pw[0] = managed_pw[0] = '\0';
	if (need_engine(err) < 0 ||
		cluster_in_ident(in, "DBClusterIdentifier", 63, 1, 1, &id, err) < 0 ||
		in_retention(in, &n.retention, err) < 0 || in_engine_version(in, err) < 0 ||
		in_port(in, err) < 0)
		goto out;
	if (engine == NULL) {
		cluster_bad(err, "MissingParameter", "The request must contain the parameter Engine");
		goto out;
	}
	if (strcmp(engine, "docdb") != 0) {
		cluster_bad(err, "InvalidParameterValue",
			"Invalid DB engine: %s (this endpoint's clusters are docdb)", engine);
		goto out;
	}
	if (user == NULL) {
		cluster_bad(err, "InvalidParameterValue",
			"The parameter MasterUsername must be provided and must not be blank.");
		goto out;
	}
	if (!master_user_valid(user)) {
		cluster_bad(err, "InvalidParameterValue",
			"The parameter MasterUsername is not a valid identifier: it must be 1 to 63"
			" letters or digits, beginning with a letter.");
		goto out;
	}
	if (manage && pw != NULL) {
		cluster_bad(err, "InvalidParameterCombination",
			"You can't specify MasterUserPassword and ManageMasterUserPassword at the same"
			" time.");
		goto out;
	}
	if (!manage && pw == NULL) {
		cluster_bad(err, "InvalidParameterValue",
			"The parameter MasterUserPassword must be provided and must not be blank.");
		goto out;
	}
	if (pw != NULL && password_check("MasterUserPassword", pw, err) < 0)
		goto out;
	/* refused before a secret is made for it */
	if (store_begin(req->srv->store, &e) < 0) {
		cluster_internal(err, e.msg);
		goto out;
	}
	exists = cluster_exists(store_db(req->srv->store), id);
	store_rollback(req->srv->store);
	if (exists) {
		cluster_bad(err, "DBClusterAlreadyExistsFault", "DB cluster already exists");
		goto out;
	}
	if (manage) {
		rds_random_password(managed_pw, sizeof(managed_pw));
		if (managed_secret(req->region, id, user, managed_pw, &secret_arn, &e) < 0) {
			cluster_internal(err, e.msg);
			goto out;
		}
		pw = managed_pw;
	}
	rds_random_password(admin_pw, sizeof(admin_pw));
	rds_random_password(owner_pw, sizeof(owner_pw));
	buf_appends(&n.secrets.admin, admin_pw);
	buf_appends(&n.secrets.owner, owner_pw);
	buf_appends(&n.secrets.master, pw);
	n.id = id;
	n.job = "create";
	n.master_user = user;
	n.secret_arn = secret_arn;
	if (store_begin(req->srv->store, &e) < 0) {
		cluster_internal(err, e.msg);
		goto out;
	}
	ret = cluster_insert_reply(req, &n, out, err);
out:
	if (ret < 0 && secret_arn != NULL)
		managed_secret_delete(req->region, secret_arn);
	OPENSSL_cleanse(admin_pw, sizeof(admin_pw));
	OPENSSL_cleanse(owner_pw, sizeof(owner_pw));
	OPENSSL_cleanse(managed_pw, sizeof(managed_pw));
	cluster_new_release(&n);
	free(id);
	free(secret_arn);
	return ret;
}

/* ---------------------------------------------------------------- describe */

int cluster_describe_db_clusters(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	static const char *const names[] = { "db-cluster-id", "engine", NULL };
	struct err e = ERR_INIT;
	json_t *filters = NULL, *list = NULL;
	sqlite3_stmt *st = NULL;
	char *id = NULL;
	const char *marker = in_str(in, "Marker");
	long max;
	int more = 0, ret = -1;
	sqlite3 *db;

	if (cluster_in_ident(in, "DBClusterIdentifier", 255, 0, 0, &id, err) < 0 ||
		cluster_in_filters(in, names, &filters, err) < 0 || cluster_in_max_records(in, &max, err) < 0)
		goto out;
	if (store_begin(req->srv->store, &e) < 0) {
		cluster_internal(err, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	if (sqlite3_prepare_v2(db,
		    "SELECT " CLUSTER_COLS " FROM docdb_cluster WHERE (?1 IS NULL OR id = ?1) AND"
		    " (?2 IS NULL OR id > ?2) ORDER BY id",
		    -1, &st, NULL) != SQLITE_OK) {
		store_rollback(req->srv->store);
		cluster_internal(err, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, marker, -1, SQLITE_STATIC);
	list = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct cluster c = { 0 };

		cluster_read(st, &c);
		if (cluster_filter_admits(filters, "db-cluster-id", c.id) &&
			cluster_filter_admits(filters, "engine", "docdb")) {
			if (json_array_size(list) == (size_t)max)
				more = 1;
			else
				json_array_append_new(list, cluster_json(db, &c));
		}
		cluster_release(&c);
		if (more)
			break;
	}
	sqlite3_finalize(st);
	store_rollback(req->srv->store);
	if (id != NULL && json_array_size(list) == 0 && marker == NULL) {
		cluster_bad(err, "DBClusterNotFoundFault", "DBCluster %s not found.", id);
		goto out;
	}
	*out = json_pack("{s:O}", "DBClusters", list);
	if (more)
		set_str(*out, "Marker",
			json_string_value(json_object_get(
				json_array_get(list, json_array_size(list) - 1), "DBClusterIdentifier")));
	ret = 0;
out:
	json_decref(filters);
	json_decref(list);
	free(id);
	return ret;
}

/* ---------------------------------------------------------------- modify, delete */

int cluster_modify_db_cluster(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct cluster c = { 0 };
	struct cluster_secrets s;
	struct buf sealed = BUF_INIT;
	struct err e = ERR_INIT;
	char *id = NULL, *sgs = NULL;
	const char *pw = in_str(in, "MasterUserPassword");
	json_t *protect = json_object_get(in, "DeletionProtection");
	long retention = -1;
	int ret = -1;
	sqlite3 *db;

	cluster_secrets_init(&s);
	if (cluster_in_ident(in, "DBClusterIdentifier", 63, 1, 0, &id, err) < 0 ||
		in_retention(in, &retention, err) < 0 || in_engine_version(in, err) < 0)
		goto out;
	if (in_str(in, "NewDBClusterIdentifier") != NULL) {
		cluster_bad(err, "InvalidParameterValue",
			"NewDBClusterIdentifier: renaming a cluster is not supported by this endpoint");
		goto out;
	}
	if (pw != NULL && password_check("MasterUserPassword", pw, err) < 0)
		goto out;
	if (cluster_begin_on(req, id, &c, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (strcmp(c.status, "available") != 0) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidDBClusterStateFault", "DB cluster %s is not in the available state (it"
			" is %s).", id, c.status);
		goto out;
	}
	if (json_object_get(in, "Port") != NULL &&
		json_integer_value(json_object_get(in, "Port")) != c.port) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidParameterValue",
			"Port: moving a cluster to another port is not supported by this endpoint (%s"
			" listens on %d).", id, c.port);
		goto out;
	}
	if (pw != NULL && c.secret_arn != NULL) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidParameterCombination",
			"The master user password of %s is managed in Secrets Manager: you can't"
			" specify MasterUserPassword.", id);
		goto out;
	}
	if (retention > 0)
		store_run(db, "UPDATE docdb_cluster SET retention = ? WHERE id = ?", "is",
			(long long)retention, id);
	if (protect != NULL)
		store_run(db, "UPDATE docdb_cluster SET deletion_protection = ? WHERE id = ?", "is",
			(long long)json_is_true(protect), id);
	if (json_object_get(in, "VpcSecurityGroupIds") != NULL) {
		sgs = in_array_text(in, "VpcSecurityGroupIds");
		store_run(db, "UPDATE docdb_cluster SET vpc_sgs = ? WHERE id = ?", "ss", sgs, id);
	}
	if (cluster_groups_check(db, NULL, in_str(in, "DBClusterParameterGroupName"), err) < 0) {
		store_rollback(req->srv->store);
		goto out;
	}
	if (in_str(in, "DBClusterParameterGroupName") != NULL)
		store_run(db, "UPDATE docdb_cluster SET param_group = ? WHERE id = ?", "ss",
			in_str(in, "DBClusterParameterGroupName"), id);
	if (pw != NULL) {
		/* the new password reaches caliber-docdb at its restart (it sets it then) */
		if (cluster_secrets_open(db, "cluster", id, &s, &e) < 0) {
			store_rollback(req->srv->store);
			cluster_internal(err, e.msg);
			goto out;
		}
		buf_release_secret(&s.master);
		buf_appends(&s.master, pw);
		if (cluster_secrets_seal(&s, "cluster", id, &sealed, &e) < 0) {
			store_rollback(req->srv->store);
			cluster_internal(err, e.msg);
			goto out;
		}
		{
			sqlite3_stmt *st = NULL;

			if (sqlite3_prepare_v2(db, "UPDATE docdb_cluster SET secrets = ?, status ="
				    " 'resetting-master-credentials', job = 'restart' WHERE id = ?",
				    -1, &st, NULL) == SQLITE_OK) {
				sqlite3_bind_blob(st, 1, sealed.data, (int)sealed.len, SQLITE_STATIC);
				sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
				if (sqlite3_step(st) != SQLITE_DONE)
					store_write_failed = 1;
			}
			sqlite3_finalize(st);
		}
	}
	if (store_write_failed) {
		store_write_failed = 0;
		store_rollback(req->srv->store);
		cluster_internal(err, "unable to update the cluster");
		goto out;
	}
	if (reply_cluster(db, id, NULL, out, err) < 0) {
		store_rollback(req->srv->store);
		goto out;
	}
	if (cluster_commit(req, err) < 0)
		goto out;
	if (pw != NULL)
		cluster_job_spawn(id);
	ret = 0;
out:
	cluster_release(&c);
	cluster_secrets_release(&s);
	buf_release(&sealed);
	free(sgs);
	free(id);
	return ret;
}

static int cluster_instance_count(sqlite3 *db, const char *id)
{
	sqlite3_stmt *st = NULL;
	int n = 0;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM docdb_instance WHERE cluster_id = ?", -1,
		    &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

int cluster_delete_db_cluster(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct cluster c = { 0 };
	struct cluster_snapshot old = { 0 };
	struct err e = ERR_INIT;
	char *id = NULL, *final = NULL;
	int skip = in_true(in, "SkipFinalSnapshot"), ret = -1;
	sqlite3 *db;

	if (cluster_in_ident(in, "DBClusterIdentifier", 63, 1, 0, &id, err) < 0 ||
		cluster_in_ident(in, "FinalDBSnapshotIdentifier", 255, 0, 1, &final, err) < 0)
		goto out;
	if (!skip && final == NULL) {
		cluster_bad(err, "InvalidParameterCombination",
			"FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.");
		goto out;
	}
	if (skip && final != NULL) {
		cluster_bad(err, "InvalidParameterCombination",
			"Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.");
		goto out;
	}
	if (cluster_begin_on(req, id, &c, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (c.deletion_protection) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidParameterCombination",
			"Cannot delete protected Cluster, please disable deletion protection and try"
			" again.");
		goto out;
	}
	if (cluster_instance_count(db, id) > 0) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidDBClusterStateFault",
			"Cluster cannot be deleted, it still contains DB instances in non-deleting"
			" state.");
		goto out;
	}
	if (strcmp(c.status, "available") && strcmp(c.status, "failed") &&
		strcmp(c.status, "incompatible-restore")) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidDBClusterStateFault",
			"DB cluster %s is not in a state to be deleted (it is %s).", id, c.status);
		goto out;
	}
	if (final != NULL) {
		if (cluster_snapshot_get(db, final, &old) != 0) {
			store_rollback(req->srv->store);
			cluster_bad(err, "DBClusterSnapshotAlreadyExistsFault",
				"Cannot create the cluster snapshot because one with the identifier %s"
				" already exists.",
				final);
			goto out;
		}
		if (cluster_snapshot_insert(db, &c, final, "manual", lc_now(), &e) < 0) {
			store_rollback(req->srv->store);
			cluster_internal(err, e.msg);
			goto out;
		}
	}
	if (store_run(db,
		    "UPDATE docdb_cluster SET status = 'deleting', job = 'delete', final_snapshot = ?"
		    " WHERE id = ?",
		    "ss", final, id) < 0) {
		store_rollback(req->srv->store);
		cluster_internal(err, "unable to update the cluster");
		goto out;
	}
	if (reply_cluster(db, id, NULL, out, err) < 0) {
		store_rollback(req->srv->store);
		goto out;
	}
	if (cluster_commit(req, err) < 0)
		goto out;
	cluster_job_spawn(id);
	ret = 0;
out:
	cluster_release(&c);
	cluster_snapshot_release(&old);
	free(id);
	free(final);
	return ret;
}

/* ---------------------------------------------------------------- snapshots */

int cluster_create_db_cluster_snapshot(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct cluster c = { 0 };
	struct cluster_snapshot s = { 0 };
	struct err e = ERR_INIT;
	char *id = NULL, *snap = NULL, *tags = NULL;
	int ret = -1;
	sqlite3 *db;

	if (cluster_in_ident(in, "DBClusterSnapshotIdentifier", 255, 1, 1, &snap, err) < 0 ||
		cluster_in_ident(in, "DBClusterIdentifier", 63, 1, 0, &id, err) < 0)
		goto out;
	if (cluster_begin_on(req, id, &c, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (strcmp(c.status, "available") != 0) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidDBClusterStateFault",
			"DB cluster %s is not in the available state (it is %s).", id, c.status);
		goto out;
	}
	if (cluster_snapshot_get(db, snap, &s) != 0) {
		store_rollback(req->srv->store);
		cluster_bad(err, "DBClusterSnapshotAlreadyExistsFault",
			"Cannot create the cluster snapshot because one with the identifier %s already"
			" exists.",
			snap);
		goto out;
	}
	tags = in_array_text(in, "Tags");
	if (cluster_snapshot_insert(db, &c, snap, "manual", lc_now(), &e) < 0 ||
		store_run(db, "UPDATE docdb_snapshot SET tags = ? WHERE id = ?", "ss", tags, snap) < 0 ||
		cluster_snapshot_get(db, snap, &s) != 1) {
		store_rollback(req->srv->store);
		cluster_internal(err, e.msg[0] ? e.msg : "the snapshot row vanished");
		goto out;
	}
	*out = json_pack("{s:o}", "DBClusterSnapshot", snapshot_json(&s));
	if (cluster_commit(req, err) < 0)
		goto out;
	cluster_snapshot_spawn(id, snap);
	ret = 0;
out:
	cluster_release(&c);
	cluster_snapshot_release(&s);
	free(id);
	free(snap);
	free(tags);
	return ret;
}

int cluster_describe_db_cluster_snapshots(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err)
{
	static const char *const names[] = { "db-cluster-id", "db-cluster-snapshot-id",
		"snapshot-type", "engine", NULL };
	struct err e = ERR_INIT;
	json_t *filters = NULL, *list = NULL;
	sqlite3_stmt *st = NULL;
	char *id = NULL, *snap = NULL;
	const char *type = in_str(in, "SnapshotType"), *marker = in_str(in, "Marker");
	long max;
	int more = 0, ret = -1;
	sqlite3 *db;

	if (cluster_in_ident(in, "DBClusterIdentifier", 255, 0, 0, &id, err) < 0 ||
		cluster_in_ident(in, "DBClusterSnapshotIdentifier", 255, 0, 0, &snap, err) < 0 ||
		cluster_in_filters(in, names, &filters, err) < 0 || cluster_in_max_records(in, &max, err) < 0)
		goto out;
	if (type != NULL && strcmp(type, "automated") && strcmp(type, "manual") &&
		strcmp(type, "shared") && strcmp(type, "public")) {
		cluster_bad(err, "InvalidParameterValue", "Invalid snapshot type: %s", type);
		goto out;
	}
	if (store_begin(req->srv->store, &e) < 0) {
		cluster_internal(err, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	if (sqlite3_prepare_v2(db,
		    "SELECT " CLUSTER_SNAPSHOT_COLS " FROM docdb_snapshot WHERE (?1 IS NULL OR"
		    " cluster_id = ?1) AND (?2 IS NULL OR id = ?2) AND (?3 IS NULL OR type = ?3)"
		    " AND (?4 IS NULL OR id > ?4) ORDER BY id",
		    -1, &st, NULL) != SQLITE_OK) {
		store_rollback(req->srv->store);
		cluster_internal(err, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, snap, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, marker, -1, SQLITE_STATIC);
	list = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct cluster_snapshot s = { 0 };

		cluster_snapshot_read(st, &s);
		if (cluster_filter_admits(filters, "db-cluster-id", s.cluster_id) &&
			cluster_filter_admits(filters, "db-cluster-snapshot-id", s.id) &&
			cluster_filter_admits(filters, "snapshot-type", s.type) &&
			cluster_filter_admits(filters, "engine", "docdb")) {
			if (json_array_size(list) == (size_t)max)
				more = 1;
			else
				json_array_append_new(list, snapshot_json(&s));
		}
		cluster_snapshot_release(&s);
		if (more)
			break;
	}
	sqlite3_finalize(st);
	store_rollback(req->srv->store);
	if (snap != NULL && json_array_size(list) == 0 && marker == NULL) {
		cluster_bad(err, "DBClusterSnapshotNotFoundFault", "DBClusterSnapshot %s not found.", snap);
		goto out;
	}
	*out = json_pack("{s:O}", "DBClusterSnapshots", list);
	if (more)
		set_str(*out, "Marker",
			json_string_value(json_object_get(json_array_get(list, json_array_size(list) - 1),
				"DBClusterSnapshotIdentifier")));
	ret = 0;
out:
	json_decref(filters);
	json_decref(list);
	free(id);
	free(snap);
	return ret;
}

int cluster_delete_db_cluster_snapshot(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct cluster_snapshot s = { 0 };
	struct err e = ERR_INIT;
	char *snap = NULL, *dir = NULL;
	int found, ret = -1;
	sqlite3 *db;

	if (cluster_in_ident(in, "DBClusterSnapshotIdentifier", 255, 1, 0, &snap, err) < 0)
		goto out;
	if (store_begin(req->srv->store, &e) < 0) {
		cluster_internal(err, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	found = cluster_snapshot_get(db, snap, &s);
	if (found != 1) {
		store_rollback(req->srv->store);
		cluster_bad(err, "DBClusterSnapshotNotFoundFault", "DBClusterSnapshot %s not found.", snap);
		goto out;
	}
	if (!strcmp(s.type, "automated")) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidDBClusterSnapshotStateFault",
			"Only manual snapshots may be deleted: %s is an automated snapshot.", snap);
		goto out;
	}
	if (!strcmp(s.status, "creating")) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidDBClusterSnapshotStateFault",
			"Cannot delete the snapshot %s while it is being created.", snap);
		goto out;
	}
	if (store_run(db, "DELETE FROM docdb_snapshot WHERE id = ?", "s", snap) < 0) {
		store_rollback(req->srv->store);
		cluster_internal(err, "unable to delete the snapshot row");
		goto out;
	}
	free(s.status);
	s.status = xstrdup("deleted");
	*out = json_pack("{s:o}", "DBClusterSnapshot", snapshot_json(&s));
	if (cluster_commit(req, err) < 0)
		goto out;
	dir = cluster_engine_id(snap);
	if (pge_snapshot_delete(dir, &e) < 0)
		lc_log("docdb: %s", e.msg);
	ret = 0;
out:
	cluster_snapshot_release(&s);
	free(snap);
	free(dir);
	return ret;
}

/* ---------------------------------------------------------------- restores */

/* The new cluster's fields that a restore request carries (Engine must be docdb). */
static int restore_common(const json_t *in, struct cluster_new *n, char **id,
	struct codec_error *err)
{
	const char *engine = in_str(in, "Engine");

	if (cluster_in_ident(in, "DBClusterIdentifier", 63, 1, 1, id, err) < 0 ||
		in_engine_version(in, err) < 0 || in_port(in, err) < 0)
		return -1;
	if (engine != NULL && strcmp(engine, "docdb") != 0)
		return cluster_bad(err, "InvalidParameterValue",
			"Invalid DB engine: %s (this endpoint's clusters are docdb)", engine);
	n->id = *id;
	n->job = "restore";
	return 0;
}

int cluster_restore_db_cluster_from_snapshot(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err)
{
	struct cluster_new n;
	struct cluster_snapshot s = { 0 };
	struct err e = ERR_INIT;
	char *id = NULL, *snap = NULL;
	int ret = -1;
	sqlite3 *db;

	cluster_new_init(&n, in, req->region);
	if (need_engine(err) < 0 || restore_common(in, &n, &id, err) < 0 ||
		cluster_in_ident(in, "SnapshotIdentifier", 255, 1, 0, &snap, err) < 0)
		goto out;
	if (in_str(in, "Engine") == NULL) {
		cluster_bad(err, "MissingParameter", "The request must contain the parameter Engine");
		goto out;
	}
	if (store_begin(req->srv->store, &e) < 0) {
		cluster_internal(err, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	if (cluster_snapshot_get(db, snap, &s) != 1) {
		store_rollback(req->srv->store);
		cluster_bad(err, "DBClusterSnapshotNotFoundFault", "DBClusterSnapshot %s not found.", snap);
		goto out;
	}
	if (strcmp(s.status, "available") != 0) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidDBClusterSnapshotStateFault",
			"Snapshot %s is not available (it is %s).", snap, s.status);
		goto out;
	}
	/* the data, users and passwords are the snapshot's */
	if (cluster_secrets_open(db, "snapshot", snap, &n.secrets, &e) < 0) {
		store_rollback(req->srv->store);
		cluster_internal(err, e.msg);
		goto out;
	}
	n.master_user = s.master_user;
	n.restore_snapshot = snap;
	if (json_object_get(in, "StorageEncrypted") == NULL && n.kms_key == NULL)
		n.storage_encrypted = s.storage_encrypted;
	if (json_object_get(in, "VpcSecurityGroupIds") == NULL) {
		free(n.vpc_sgs);
		n.vpc_sgs = xstrdup(s.vpc_sgs ? s.vpc_sgs : "[]");
	}
	ret = cluster_insert_reply(req, &n, out, err);
out:
	cluster_new_release(&n);
	cluster_snapshot_release(&s);
	free(id);
	free(snap);
	return ret;
}

int cluster_restore_db_cluster_to_point_in_time(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err)
{
	struct cluster_new n;
	struct cluster src = { 0 };
	struct cluster_secrets cur;
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	char *id = NULL, *src_id = NULL, *base = NULL, when_text[32];
	json_t *when_v = json_object_get(in, "RestoreToTime");
	const char *type = in_str(in, "RestoreType");
	int latest = in_true(in, "UseLatestRestorableTime"), ret = -1;
	double when = -1, restorable;
	sqlite3 *db;

	cluster_new_init(&n, in, req->region);
	cluster_secrets_init(&cur);
	if (need_engine(err) < 0 || restore_common(in, &n, &id, err) < 0 ||
		cluster_in_ident(in, "SourceDBClusterIdentifier", 63, 1, 0, &src_id, err) < 0)
		goto out;
	if (latest == (when_v != NULL)) {
		cluster_bad(err, "InvalidParameterCombination",
			"Exactly one of RestoreToTime and UseLatestRestorableTime must be given.");
		goto out;
	}
	if (type != NULL && strcmp(type, "full-copy") && strcmp(type, "copy-on-write")) {
		cluster_bad(err, "InvalidParameterValue", "Invalid RestoreType: %s", type);
		goto out;
	}
	if (when_v != NULL && codec_time_value(when_v, &when) < 0) {
		cluster_bad(err, "InvalidParameterValue", "Invalid value for RestoreToTime");
		goto out;
	}
	lc_time_iso8601(latest ? lc_now() : when, when_text);
	if (cluster_begin_on(req, src_id, &src, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	{
		char *eid = cluster_engine_id(src_id);

		/* a running source is archived up to now before the restore starts */
		restorable = pge_running(eid) ? lc_now() : cluster_latest_restorable(db, &src);
		free(eid);
	}
	if (!latest && when > restorable) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidRestoreFault",
			"The restore time %s is after the latest restorable time of %s.", when_text,
			src_id);
		goto out;
	}
	/* the newest automated backup that had finished by the target time */
	if (sqlite3_prepare_v2(db,
		    "SELECT id FROM docdb_snapshot WHERE cluster_id = ? AND type = 'automated' AND"
		    " status = 'available' AND (? < 0 OR completed <= ?) ORDER BY completed DESC"
		    " LIMIT 1",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, src_id, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 2, latest ? -1 : when);
		sqlite3_bind_double(st, 3, latest ? -1 : when);
		if (sqlite3_step(st) == SQLITE_ROW)
			base = store_col_text(st, 0);
	}
	sqlite3_finalize(st);
	if (base == NULL) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidRestoreFault",
			"The restore time %s is before the earliest restorable time of %s.",
			latest ? "latest" : when_text, src_id);
		goto out;
	}
	/*
	 * The engine's passwords are the backup's; the master password is the
	 * source's as it is now (caliber-docdb sets it at its first start).
	 */
	if (cluster_secrets_open(db, "snapshot", base, &n.secrets, &e) < 0 ||
		cluster_secrets_open(db, "cluster", src_id, &cur, &e) < 0) {
		store_rollback(req->srv->store);
		cluster_internal(err, e.msg);
		goto out;
	}
	buf_release_secret(&n.secrets.master);
	buf_appends(&n.secrets.master, buf_str(&cur.master));
	n.master_user = src.master_user;
	n.retention = src.retention;
	n.restore_snapshot = base;
	n.restore_source = src_id;
	n.restore_time = latest ? NAN : when;
	if (json_object_get(in, "StorageEncrypted") == NULL && n.kms_key == NULL)
		n.storage_encrypted = src.storage_encrypted;
	if (json_object_get(in, "VpcSecurityGroupIds") == NULL) {
		free(n.vpc_sgs);
		n.vpc_sgs = xstrdup(src.vpc_sgs ? src.vpc_sgs : "[]");
	}
	ret = cluster_insert_reply(req, &n, out, err);
out:
	cluster_new_release(&n);
	cluster_secrets_release(&cur);
	cluster_release(&src);
	free(id);
	free(src_id);
	free(base);
	return ret;
}
