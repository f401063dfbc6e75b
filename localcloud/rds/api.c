/*
 * rds/api.c: RDS's API handlers, typed on the codec (Query protocol): the
 * checks RDS makes of the values the codec read, the operations on
 * instances and snapshots, and the values of the replies.  A handler
 * records intent in the store and hands the work to jobs.c.
 * RDS as a whole is described in internal.h.
 */
#include "compat.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aws/model.h"
#include "core/caliberd.h"
#include "core/crypt.h"
#include "core/engine-postgres.h"
#include "core/reply.h"
#include "core/router.h"
#include "cluster.h"
#include "internal.h"
#include "core/store.h"

/* ---------------------------------------------------------------- input */

static int rds_bad(struct codec_error *err, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rds_bad(struct codec_error *err, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int status = 400;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!strcmp(code, "DBInstanceNotFound") || !strcmp(code, "DBSnapshotNotFound"))
		status = 404;
	return codec_error_set(err, status, code, "%s", msg);
}

static int rds_internal(struct codec_error *err, const char *what)
{
	lc_log("rds: %s", what);
	return codec_error_set(err, 500, "InternalFailure", "an internal error occurred");
}

/* Operations that start a server fail at once, and say why, without PostgreSQL. */
static int rds_need_engine(struct codec_error *err)
{
	struct err e = ERR_INIT;

	if (pge_available(&e) == 0)
		return 0;
	lc_log("rds: %s", e.msg);
	return codec_error_set(err, 500, "InternalFailure", "%s", e.msg);
}

/*
 * RDS identifiers: 1..max letters, digits and hyphens, first a letter, no
 * trailing hyphen nor two in a row; stored lower case.
 */
static int rds_ident_valid(const char *s, size_t max)
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

static char *rds_lower(const char *s)
{
	char *c = xstrdup(s);
	char *p;

	for (p = c; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return c;
}

/* A string member of the input, or NULL. */
static const char *in_str(const json_t *in, const char *name)
{
	return json_string_value(json_object_get(in, name));
}

/* An identifier member (empty counts as absent), lower-cased into *out (caller frees). */
static int in_ident(const json_t *in, const char *name, size_t max, int required, char **out,
	struct codec_error *err)
{
	const char *v = in_str(in, name);

	*out = NULL;
	if (v == NULL || !*v) {
		if (!required)
			return 0;
		return rds_bad(err, "MissingParameter", "The request must contain the parameter %s",
			name);
	}
	if (!rds_ident_valid(v, max))
		return rds_bad(err, "InvalidParameterValue",
			"The parameter %s is not a valid identifier. Identifiers must begin with a"
			" letter; must contain only ASCII letters, digits, and hyphens; and must not"
			" end with a hyphen or contain two consecutive hyphens.",
			name);
	*out = rds_lower(v);
	return 0;
}

/* A boolean member: *out set when present (the codec read its value). */
static void in_bool(const json_t *in, const char *name, int *out)
{
	const json_t *v = json_object_get(in, name);

	if (json_is_boolean(v))
		*out = json_is_true(v);
}

/* An integer member in [lo, hi]: *out (and *present) set when given. */
static int in_int(const json_t *in, const char *name, long lo, long hi, int *present, long *out,
	struct codec_error *err)
{
	const json_t *v = json_object_get(in, name);
	json_int_t n;

	if (present)
		*present = 0;
	if (!json_is_integer(v))
		return 0;
	n = json_integer_value(v);
	if (n < lo || n > hi)
		return rds_bad(err, "InvalidParameterValue",
			"Invalid value '%" JSON_INTEGER_FORMAT "' for %s: expected an integer from"
			" %ld to %ld",
			n, name, lo, hi);
	*out = (long)n;
	if (present)
		*present = 1;
	return 0;
}

/* VpcSecurityGroupIds as a JSON array text (caller frees). */
static char *in_security_groups(const json_t *in)
{
	const json_t *list = json_object_get(in, "VpcSecurityGroupIds");
	json_t *a = json_array(), *v;
	char *text;
	size_t i;

	json_array_foreach(list, i, v)
		if (json_is_string(v))
			json_array_append(a, v);
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text ? text : xstrdup("[]");
}

/* ---------------------------------------------------------------- output */

static void set_str(json_t *o, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(o, key, json_string(value));
}

/* A time of the store (NAN or 0: unset), to the millisecond, as RDS gives them. */
static void set_time(json_t *o, const char *key, double t)
{
	if (isnan(t) || t <= 0)
		return;
	json_object_set_new(o, key, json_real(floor(t * 1000) / 1000));
}

/* Latest restorable time: the newest of the last archived WAL and the last backup. */
static double rds_latest_restorable(sqlite3 *db, const struct rds_instance *in)
{
	sqlite3_stmt *st = NULL;
	double t = pge_last_archived(in->id), b = 0;

	if (sqlite3_prepare_v2(db,
		    "SELECT max(completed) FROM rds_snapshot WHERE instance_id = ? AND"
		    " type = 'automated' AND status = 'available'",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, in->id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			b = sqlite3_column_double(st, 0);
	}
	sqlite3_finalize(st);
	if (b <= 0)
		return 0;	/* nothing to restore from yet */
	return t > b ? t : b;
}

/* An instance as the model's DBInstance (new reference). */
static json_t *rds_instance_value(sqlite3 *db, const struct rds_instance *in)
{
	json_t *sgs = json_loads(in->vpc_sgs ? in->vpc_sgs : "[]", 0, NULL);
	json_t *o = json_object(), *groups = json_array(), *v;
	int creating = !strcmp(in->status, "creating");
	char arn[512];
	size_t k;

	set_str(o, "DBInstanceIdentifier", in->id);
	set_str(o, "DBInstanceClass", in->instance_class);
	set_str(o, "Engine", "postgres");
	set_str(o, "DBInstanceStatus", in->status);
	set_str(o, "MasterUsername", in->master_user);
	set_str(o, "DBName", in->db_name);
	if (!creating) {
		json_object_set_new(o, "Endpoint", json_pack("{s:s, s:i, s:s}", "Address",
			"127.0.0.1", "Port", in->port, "HostedZoneId", RDS_HOSTED_ZONE));
		set_time(o, "InstanceCreateTime", in->created);
	}
	json_object_set_new(o, "AllocatedStorage", json_integer(in->allocated_storage));
	set_str(o, "PreferredBackupWindow", "03:00-03:30");
	json_object_set_new(o, "BackupRetentionPeriod", json_integer(in->retention));
	json_object_set_new(o, "DBSecurityGroups", json_array());
	json_array_foreach(sgs, k, v)
		if (json_is_string(v))
			json_array_append_new(groups, json_pack("{s:O, s:s}", "VpcSecurityGroupId", v,
				"Status", "active"));
	json_object_set_new(o, "VpcSecurityGroups", groups);
	json_object_set_new(o, "DBParameterGroups", json_pack("[{s:s, s:s}]",
		"DBParameterGroupName", "default.postgres15", "ParameterApplyStatus", "in-sync"));
	set_str(o, "AvailabilityZone", "local-1a");
	if (in->subnet_group != NULL)
		json_object_set_new(o, "DBSubnetGroup", json_pack("{s:s, s:s}", "DBSubnetGroupName",
			in->subnet_group, "SubnetGroupStatus", "Complete"));
	set_str(o, "PreferredMaintenanceWindow", "sun:05:00-sun:05:30");
	json_object_set_new(o, "PendingModifiedValues", json_object());
	if (in->retention > 0 && !creating)
		set_time(o, "LatestRestorableTime", rds_latest_restorable(db, in));
	json_object_set_new(o, "MultiAZ", json_false());
	set_str(o, "EngineVersion", PGE_ENGINE_VERSION);
	json_object_set_new(o, "AutoMinorVersionUpgrade", json_true());
	set_str(o, "LicenseModel", "postgresql-license");
	json_object_set_new(o, "PubliclyAccessible", json_false());
	set_str(o, "StorageType", "gp2");
	json_object_set_new(o, "DbInstancePort", json_integer(0));
	json_object_set_new(o, "StorageEncrypted", json_false());
	set_str(o, "DbiResourceId", in->resource_id);
	set_str(o, "CACertificateIdentifier", "rds-ca-rsa2048-g1");
	json_object_set_new(o, "CopyTagsToSnapshot", json_false());
	json_object_set_new(o, "MonitoringInterval", json_integer(0));
	snprintf(arn, sizeof(arn), "arn:aws:rds:%s:%s:db:%s", in->region, LOCALCLOUD_ACCOUNT_ID,
		in->id);
	set_str(o, "DBInstanceArn", arn);
	json_object_set_new(o, "IAMDatabaseAuthenticationEnabled", json_false());
	json_object_set_new(o, "PerformanceInsightsEnabled", json_false());
	json_object_set_new(o, "DeletionProtection", json_false());
	json_object_set_new(o, "TagList", json_array());
	if (in->secret_arn != NULL)
		json_object_set_new(o, "MasterUserSecret", json_pack("{s:s, s:s, s:s}", "SecretArn",
			in->secret_arn, "SecretStatus", "active", "KmsKeyId",
			"alias/aws/secretsmanager"));
	json_decref(sgs);
	return o;
}

/* A snapshot as the model's DBSnapshot (new reference). */
static json_t *rds_snapshot_value(const struct rds_snapshot *s)
{
	json_t *o = json_object();
	char arn[512];

	set_str(o, "DBSnapshotIdentifier", s->id);
	set_str(o, "DBInstanceIdentifier", s->instance_id);
	set_time(o, "SnapshotCreateTime", s->created);
	set_str(o, "Engine", "postgres");
	json_object_set_new(o, "AllocatedStorage", json_integer(s->allocated_storage));
	set_str(o, "Status", s->status);
	json_object_set_new(o, "Port", json_integer(s->port));
	set_str(o, "AvailabilityZone", "local-1a");
	set_time(o, "InstanceCreateTime", s->instance_created);
	set_str(o, "MasterUsername", s->master_user);
	set_str(o, "EngineVersion", PGE_ENGINE_VERSION);
	set_str(o, "LicenseModel", "postgresql-license");
	set_str(o, "SnapshotType", s->type);
	json_object_set_new(o, "PercentProgress",
		json_integer(strcmp(s->status, "available") ? 0 : 100));
	set_str(o, "StorageType", "gp2");
	json_object_set_new(o, "Encrypted", json_false());
	snprintf(arn, sizeof(arn), "arn:aws:rds:%s:%s:snapshot:%s", s->region,
		LOCALCLOUD_ACCOUNT_ID, s->id);
	set_str(o, "DBSnapshotArn", arn);
	json_object_set_new(o, "IAMDatabaseAuthenticationEnabled", json_false());
	set_str(o, "DbiResourceId", s->resource_id);
	json_object_set_new(o, "TagList", json_array());
	set_time(o, "OriginalSnapshotCreateTime", s->created);
	set_str(o, "SnapshotTarget", "region");
	return o;
}

/* {"DBInstance": ...} read back from the store (inside a transaction), or NULL and err. */
static json_t *rds_instance_result(sqlite3 *db, const char *id, struct codec_error *err)
{
	struct rds_instance in = { 0 };
	json_t *o;

	if (rds_instance_get(db, id, &in) != 1) {
		rds_internal(err, "instance vanished");
		return NULL;
	}
	o = json_pack("{s:o}", "DBInstance", rds_instance_value(db, &in));
	rds_instance_release(&in);
	return o;
}

/* ---------------------------------------------------------------- handlers */

/* Ports of every instance, to keep a new one off them. */
static int *rds_ports(sqlite3 *db, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int *ports = NULL;

	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT port FROM rds_instance", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		ports = xrealloc(ports, (*n + 1) * sizeof(*ports));
		ports[(*n)++] = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return ports;
}

/*
 * Insert a new instance row (status creating, job create/restore).
 * admin/master: plain passwords to seal (master may be NULL).
 */
struct rds_new {
	const char *id;
	const char *region;
	const char *job;
	const char *instance_class;
	const char *master_user;
	const char *db_name;
	long allocated_storage;
	long retention;
	const char *admin_pw;
	const char *master_pw;
	const char *secret_arn;
	const char *subnet_group;
	const char *vpc_sgs;
	const char *restore_snapshot;
	const char *restore_source;
	double restore_time;
};

static int rds_instance_insert(sqlite3 *db, const struct rds_new *n, struct err *e)
{
	struct buf admin = BUF_INIT, master = BUF_INIT;
	char *aad_a = rds_aad("admin", n->id), *aad_m = rds_aad("master", n->id);
	char resource[64], uuid[40];
	sqlite3_stmt *st = NULL;
	int *ports = NULL, port = 0, ret = -1;
	size_t n_ports = 0, i, j;

	rds_uuid(uuid);
	for (i = 0, j = 0; uuid[i] && j < 26; i++)
		if (uuid[i] != '-')
			resource[3 + j++] = (char)toupper((unsigned char)uuid[i]);
	memcpy(resource, "db-", 3);
	resource[3 + j] = '\0';
	ports = rds_ports(db, &n_ports);
	if (pge_free_port(ports, n_ports, &port, e) < 0)
		goto out;
	if (crypt_seal(rds_srv->master_key, n->admin_pw, strlen(n->admin_pw), aad_a, &admin, e) <
		0)
		goto out;
	if (n->master_pw != NULL && crypt_seal(rds_srv->master_key, n->master_pw,
					    strlen(n->master_pw), aad_m, &master, e) < 0)
		goto out;
	if (sqlite3_prepare_v2(db,
		    "INSERT INTO rds_instance (id, region, status, job, instance_class, master_user,"
		    " db_name, port, allocated_storage, retention, created, admin_pw, master_pw,"
		    " secret_arn, subnet_group, vpc_sgs, resource_id, restore_snapshot,"
		    " restore_source, restore_time) VALUES (?, ?, 'creating', ?, ?, ?, ?, ?, ?, ?,"
		    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    -1, &st, NULL) != SQLITE_OK) {
		err_set(e, "%s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->job, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->instance_class, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, n->master_user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, n->db_name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, port);
	sqlite3_bind_int(st, 8, (int)n->allocated_storage);
	sqlite3_bind_int(st, 9, (int)n->retention);
	sqlite3_bind_double(st, 10, lc_now());
	sqlite3_bind_blob(st, 11, admin.data, (int)admin.len, SQLITE_STATIC);
	if (n->master_pw != NULL)
		sqlite3_bind_blob(st, 12, master.data, (int)master.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, n->secret_arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, n->subnet_group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, n->vpc_sgs ? n->vpc_sgs : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, n->restore_snapshot, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, n->restore_source, -1, SQLITE_STATIC);
	if (n->restore_source != NULL)
		sqlite3_bind_double(st, 19, n->restore_time);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(e, "%s", sqlite3_errmsg(db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	free(ports);
	buf_release(&admin);
	buf_release(&master);
	free(aad_a);
	free(aad_m);
	return ret;
}

/*
 * Words a master user name may not be: PostgreSQL's reserved key words
 * (a role cannot be created by these names unquoted), the role names it
 * keeps for itself ("public", "none"), and RDS's own.  Such a name once
 * left the instance "failed" after CreateDBInstance had said yes.
 */
static const char *const rds_reserved_users[] = {
	"all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
	"authorization", "binary", "both", "case", "cast", "check", "collate", "collation",
	"column", "concurrently", "constraint", "create", "cross", "current_catalog",
	"current_date", "current_role", "current_schema", "current_time", "current_timestamp",
	"current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
	"except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group",
	"having", "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull",
	"join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp",
	"natural", "none", "not", "notnull", "null", "offset", "on", "only", "or", "order",
	"outer", "overlaps", "placing", "primary", "public", "rdsadmin", "rds_superuser",
	"rdsrepladmin", "references", "returning", "right", "select", "session_user",
	"similar", "some", "symmetric", "system_user", "table", "tablesample", "then", "to",
	"trailing", "true", "union", "unique", "user", "using", "variadic", "verbose", "when",
	"where", "window", "with",
};

/* Is u a word the engine keeps (see above), or one of caliber's own roles? */
static int rds_master_user_reserved(const char *u)
{
	for (size_t i = 0; i < ARRAY_SIZE(rds_reserved_users); i++)
		if (strcasecmp(u, rds_reserved_users[i]) == 0)
			return 1;
	return strcasecmp(u, PGE_ADMIN_USER) == 0 || strncasecmp(u, "pg_", 3) == 0 ||
		strncasecmp(u, "rds_", 4) == 0;
}

/* PostgreSQL's rules for the master user name's form. */
static int rds_master_user_valid(const char *u)
{
	size_t i, n = strlen(u);

	if (n == 0 || n > 63 || !isalpha((unsigned char)u[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)u[i]) && u[i] != '_')
			return 0;
	return 1;
}

/* MasterUserPassword: 8 to 128 printable ASCII characters other than / " @ and space. */
static int rds_password_valid(const char *p)
{
	size_t i, n = strlen(p);

	if (n < 8 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] > '~' || p[i] == '/' || p[i] == '"' || p[i] == '@')
			return 0;
	return 1;
}

int rds_create_db_instance(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct rds_new n;
	struct rds_instance old = { 0 };
	struct err e = ERR_INIT;
	char *id = NULL, *sgs = NULL, *secret_arn = NULL;
	char admin_pw[33], managed_pw[33];
	const char *engine = in_str(in, "Engine");
	const char *user = in_str(in, "MasterUsername");
	const char *pw = in_str(in, "MasterUserPassword");
	const char *db_name = in_str(in, "DBName");
	long retention = 1, storage = 20;
	int manage = 0, ret = -1, found;
	sqlite3 *db;

	if (cluster_instance_route(req, in, out, err, &ret))
		return ret;	/* a DocumentDB instance (cluster-instances.c) */
	if (rds_need_engine(err) < 0)
		return -1;

	memset(&n, 0, sizeof(n));
	admin_pw[0] = managed_pw[0] = '\0';
	in_bool(in, "ManageMasterUserPassword", &manage);
	if (in_ident(in, "DBInstanceIdentifier", 63, 1, &id, err) < 0 ||
		in_int(in, "BackupRetentionPeriod", 0, 35, NULL, &retention, err) < 0 ||
		in_int(in, "AllocatedStorage", 20, 65536, NULL, &storage, err) < 0)
		goto out;
	if (engine == NULL) {
		rds_bad(err, "MissingParameter", "The request must contain the parameter Engine");
		goto out;
	}
	if (strcmp(engine, "postgres") != 0) {
		rds_bad(err, "InvalidParameterValue",
			"Invalid DB engine: %s (this endpoint provides postgres)", engine);
		goto out;
	}
	if (user == NULL) {
		rds_bad(err, "InvalidParameterValue",
			"The parameter MasterUsername must be provided and must not be blank.");
		goto out;
	}
	if (rds_master_user_reserved(user)) {
		rds_bad(err, "InvalidParameterValue",
			"MasterUsername %s cannot be used as it is a reserved word used by the engine",
			user);
		goto out;
	}
	if (!rds_master_user_valid(user)) {
		rds_bad(err, "InvalidParameterValue",
			"MasterUsername %s is not a valid name: 1 to 63 letters, digits or "
			"underscores, first a letter", user);
		goto out;
	}
	if (manage && pw != NULL) {
		rds_bad(err, "InvalidParameterCombination",
			"You can't specify MasterUserPassword and ManageMasterUserPassword at the same"
			" time.");
		goto out;
	}
	if (!manage && pw == NULL) {
		rds_bad(err, "InvalidParameterValue",
			"The parameter MasterUserPassword must be provided and must not be blank.");
		goto out;
	}
	if (pw != NULL && !rds_password_valid(pw)) {
		rds_bad(err, "InvalidParameterValue",
			"The parameter MasterUserPassword is not a valid password. Only printable ASCII"
			" characters besides '/', '@', '\"', ' ' may be used, 8 to 128 of them.");
		goto out;
	}
	if (db_name != NULL && !rds_master_user_valid(db_name)) {
		rds_bad(err, "InvalidParameterValue",
			"DBName must begin with a letter and contain only alphanumeric characters.");
		goto out;
	}
	sgs = in_security_groups(in);
	rds_random_password(admin_pw, sizeof(admin_pw));
	if (manage) {
		char uuid[40], *name;
		json_t *call, *value;
		char *text;

		int attempt, rc = -1;

		rds_random_password(managed_pw, sizeof(managed_pw));
		rds_uuid(uuid);
		value = json_pack("{s:s, s:s}", "username", user, "password", managed_pw);
		text = json_dumps(value, JSON_COMPACT);
		json_decref(value);
		/*
		 * RDS names it rds!db-<uuid>; a Secrets Manager that refuses '!'
		 * in names (as AWS does for its users) gets rds-db-<uuid>.
		 */
		for (attempt = 0; attempt < 2 && rc < 0; attempt++) {
			name = xasprintf("rds%sdb-%s", attempt == 0 ? "!" : "-", uuid);
			call = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}]}", "Name", name,
				"SecretString", text, "Description",
				"Secret associated with primary RDS DB instance", "Tags", "Key",
				"aws:rds:primaryDBInstanceArn", "Value", id);
			rc = rds_secret_call("CreateSecret", req->region, call, &secret_arn, &e);
			json_decref(call);
			free(name);
		}
		OPENSSL_cleanse(text, strlen(text));
		free(text);
		if (rc < 0) {
			rds_internal(err, e.msg);
			goto out;
		}
		pw = managed_pw;
	}
	if (store_begin(req->srv->store, &e) < 0) {
		rds_internal(err, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	found = rds_instance_get(db, id, &old);
	if (found != 0) {
		store_rollback(req->srv->store);
		if (found < 0)
			rds_internal(err, sqlite3_errmsg(db));
		else
			rds_bad(err, "DBInstanceAlreadyExists", "DB instance already exists");
		goto out;
	}
	n.id = id;
	n.region = req->region;
	n.job = "create";
	n.instance_class = in_str(in, "DBInstanceClass");
	if (n.instance_class == NULL)
		n.instance_class = "db.t3.micro";
	n.master_user = user;
	n.db_name = db_name;
	n.allocated_storage = storage;
	n.retention = retention;
	n.admin_pw = admin_pw;
	n.master_pw = pw;
	n.secret_arn = secret_arn;
	n.subnet_group = in_str(in, "DBSubnetGroupName");
	n.vpc_sgs = sgs;
	if (rds_instance_insert(db, &n, &e) < 0) {
		store_rollback(req->srv->store);
		rds_internal(err, e.msg);
		goto out;
	}
	*out = rds_instance_result(db, id, err);
	if (*out == NULL) {
		store_rollback(req->srv->store);
		goto out;
	}
	if (store_commit(req->srv->store, &e) < 0) {
		json_decref(*out);
		*out = NULL;
		rds_internal(err, e.msg);
		goto out;
	}
	rds_job_spawn(id);
	ret = 0;
out:
	if (ret < 0 && secret_arn != NULL) {
		json_t *d = json_pack("{s:s, s:b}", "SecretId", secret_arn,
			"ForceDeleteWithoutRecovery", 1);

		rds_secret_call("DeleteSecret", req->region, d, NULL, &e);
		json_decref(d);
	}
	OPENSSL_cleanse(admin_pw, sizeof(admin_pw));
	OPENSSL_cleanse(managed_pw, sizeof(managed_pw));
	rds_instance_release(&old);
	free(id);
	free(sgs);
	free(secret_arn);
	return ret;
}

int rds_describe_db_instances(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	json_t *list = NULL;
	char *id = NULL;
	sqlite3 *db;
	int ret = -1;

	if (in_ident(in, "DBInstanceIdentifier", 63, 0, &id, err) < 0)
		goto out;
	if (store_begin(req->srv->store, &e) < 0) {
		rds_internal(err, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	if (sqlite3_prepare_v2(db,
		    "SELECT " RDS_INSTANCE_COLS " FROM rds_instance WHERE ?1 IS NULL OR id = ?1"
		    " ORDER BY id",
		    -1, &st, NULL) != SQLITE_OK) {
		store_rollback(req->srv->store);
		rds_internal(err, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	list = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct rds_instance i = { 0 };

		rds_instance_read(st, &i);
		json_array_append_new(list, rds_instance_value(db, &i));
		rds_instance_release(&i);
	}
	cluster_instances_list(db, id, NULL, list);	/* DocumentDB's (cluster-instances.c) */
	sqlite3_finalize(st);
	store_rollback(req->srv->store);
	if (id != NULL && json_array_size(list) == 0) {
		rds_bad(err, "DBInstanceNotFound", "DBInstance %s not found.", id);
		goto out;
	}
	*out = json_pack("{s:O}", "DBInstances", list);
	ret = 0;
out:
	json_decref(list);
	free(id);
	return ret;
}

/*
 * Begin an operation on an existing instance: take the store, find it,
 * check it is available.  On success the transaction stays open (the
 * caller commits or rolls back) and *in is filled.
 */
static int rds_begin_on(struct lc_request *req, const char *id, int need_available,
	struct rds_instance *in, struct codec_error *err)
{
	struct err e = ERR_INIT;
	int found;

	if (store_begin(req->srv->store, &e) < 0)
		return rds_internal(err, e.msg);
	found = rds_instance_get(store_db(req->srv->store), id, in);
	if (found != 1) {
		store_rollback(req->srv->store);
		if (found < 0)
			return rds_internal(err, sqlite3_errmsg(store_db(req->srv->store)));
		return rds_bad(err, "DBInstanceNotFound", "DBInstance %s not found.", id);
	}
	if (need_available && strcmp(in->status, "available") != 0) {
		store_rollback(req->srv->store);
		return rds_bad(err, "InvalidDBInstanceState",
			"Instance %s is not in available state (it is %s).", id, in->status);
	}
	return 0;
}

/*
 * A handler's write in its transaction: on failure the transaction is
 * rolled back and the call answers 500 (never a success for what was not
 * stored).  0 or -1.
 */
static int rds_write(struct lc_request *req, const char *sql, int n, const char *const *params,
	struct codec_error *err)
{
	sqlite3 *db = store_db(req->srv->store);

	if (store_run_texts(db, sql, n, params) == 0)
		return 0;
	lc_log("rds: write failed: %s: %s", sqlite3_errmsg(db), sql);
	store_rollback(req->srv->store);
	return rds_internal(err, "a write to the store failed");
}

/* Answer with instance id as stored, commit, and start its job when spawn is set. */
static int rds_commit_reply(struct lc_request *req, const char *id, int spawn, json_t **out,
	struct codec_error *err)
{
	struct err e = ERR_INIT;
	json_t *o = rds_instance_result(store_db(req->srv->store), id, err);

	if (o == NULL) {
		store_rollback(req->srv->store);
		return -1;
	}
	if (store_commit(req->srv->store, &e) < 0) {
		json_decref(o);
		return rds_internal(err, e.msg);
	}
	*out = o;
	if (spawn)
		rds_job_spawn(id);
	return 0;
}

int rds_modify_db_instance(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct rds_instance inst = { 0 };
	struct buf admin = BUF_INIT;
	struct err e = ERR_INIT;
	char *id = NULL, *aad = NULL;
	const char *pw = in_str(in, "MasterUserPassword");
	long retention = 0;
	int has_retention = 0, ret = -1;
	sqlite3 *db;

	if (in_ident(in, "DBInstanceIdentifier", 63, 1, &id, err) < 0 ||
		in_int(in, "BackupRetentionPeriod", 0, 35, &has_retention, &retention, err) < 0)
		goto out;
	if (pw != NULL && !rds_password_valid(pw)) {
		rds_bad(err, "InvalidParameterValue",
			"The parameter MasterUserPassword is not a valid password. Only printable ASCII"
			" characters besides '/', '@', '\"', ' ' may be used, 8 to 128 of them.");
		goto out;
	}
	if (rds_begin_on(req, id, pw != NULL, &inst, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (pw != NULL) {
		/* applied at once, as RDS applies a master password change */
		aad = rds_aad("admin", id);
		if (rds_open_column(db, "SELECT admin_pw FROM rds_instance WHERE id = ?", id, aad,
			    &admin, &e) < 0 ||
			pge_set_password(id, inst.port, admin.data, inst.master_user, pw, &e) < 0) {
			store_rollback(req->srv->store);
			rds_internal(err, e.msg);
			goto out;
		}
	}
	if (has_retention) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, "UPDATE rds_instance SET retention = ? WHERE id = ?", -1,
			    &st, NULL) != SQLITE_OK) {
			store_rollback(req->srv->store);
			rds_internal(err, sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_bind_int(st, 1, (int)retention);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			lc_log("rds: write failed: %s", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			store_rollback(req->srv->store);
			rds_internal(err, "a write to the store failed");
			goto out;
		}
		sqlite3_finalize(st);
	}
	ret = rds_commit_reply(req, id, 0, out, err);
	if (ret == 0 && has_retention && retention == 0)
		rds_snapshots_drop("SELECT id FROM rds_snapshot WHERE instance_id = ? AND"
				   " type = 'automated'",
			id);
out:
	buf_release_secret(&admin);
	rds_instance_release(&inst);
	free(aad);
	free(id);
	return ret;
}

int rds_reboot_db_instance(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct rds_instance inst = { 0 };
	char *id = NULL;
	int ret = -1;

	if (in_ident(in, "DBInstanceIdentifier", 63, 1, &id, err) < 0 ||
		rds_begin_on(req, id, 1, &inst, err) < 0)
		goto out;
	{
		const char *p[] = { id };

		if (rds_write(req,
			    "UPDATE rds_instance SET status = 'rebooting', job = 'reboot' WHERE id = ?",
			    1, p, err) < 0)
			goto out;
	}
	ret = rds_commit_reply(req, id, 1, out, err);
out:
	rds_instance_release(&inst);
	free(id);
	return ret;
}

int rds_delete_db_instance(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct rds_instance inst = { 0 };
	struct rds_snapshot old = { 0 };
	struct err e = ERR_INIT;
	char *id = NULL, *final = NULL;
	int skip = 0, ret = -1;
	sqlite3 *db;

	if (cluster_instance_route(req, in, out, err, &ret))
		return ret;	/* a DocumentDB instance (cluster-instances.c) */
	in_bool(in, "SkipFinalSnapshot", &skip);
	if (in_ident(in, "DBInstanceIdentifier", 63, 1, &id, err) < 0 ||
		in_ident(in, "FinalDBSnapshotIdentifier", 255, 0, &final, err) < 0)
		goto out;
	if (!skip && final == NULL) {
		rds_bad(err, "InvalidParameterCombination",
			"FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.");
		goto out;
	}
	if (skip && final != NULL) {
		rds_bad(err, "InvalidParameterCombination",
			"Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.");
		goto out;
	}
	if (rds_begin_on(req, id, 0, &inst, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	/* as on RDS, a backup under way does not keep an instance from being deleted */
	if (strcmp(inst.status, "available") && strcmp(inst.status, "failed") &&
		strcmp(inst.status, "incompatible-restore") && strcmp(inst.status, "backing-up")) {
		store_rollback(req->srv->store);
		rds_bad(err, "InvalidDBInstanceState",
			"Instance %s is already being deleted or is not in a state to be deleted (it"
			" is %s).",
			id, inst.status);
		goto out;
	}
	if (final != NULL) {
		if (rds_snapshot_get(db, final, &old) != 0) {
			store_rollback(req->srv->store);
			rds_bad(err, "DBSnapshotAlreadyExists",
				"Cannot create the snapshot because a snapshot with the identifier %s"
				" already exists.",
				final);
			goto out;
		}
		if (rds_snapshot_insert(db, &inst, final, "manual", lc_now(), &e) < 0) {
			store_rollback(req->srv->store);
			rds_internal(err, e.msg);
			goto out;
		}
	}
	{
		const char *p[] = { final, id };

		if (rds_write(req,
			    "UPDATE rds_instance SET status = 'deleting', job = 'delete',"
			    " final_snapshot = ? WHERE id = ?",
			    2, p, err) < 0)
			goto out;
	}
	ret = rds_commit_reply(req, id, 1, out, err);
out:
	rds_instance_release(&inst);
	rds_snapshot_release(&old);
	free(id);
	free(final);
	return ret;
}

/* {"DBSnapshot": ...} read back from the store (inside a transaction), or NULL and err. */
static json_t *rds_snapshot_result(sqlite3 *db, const char *snap, struct codec_error *err)
{
	struct rds_snapshot s = { 0 };
	json_t *o;

	if (rds_snapshot_get(db, snap, &s) != 1) {
		rds_internal(err, "snapshot vanished");
		return NULL;
	}
	o = json_pack("{s:o}", "DBSnapshot", rds_snapshot_value(&s));
	rds_snapshot_release(&s);
	return o;
}

int rds_create_db_snapshot(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct rds_instance inst = { 0 };
	struct rds_snapshot old = { 0 };
	struct err e = ERR_INIT;
	char *id = NULL, *snap = NULL;
	int ret = -1;
	sqlite3 *db;

	if (in_ident(in, "DBSnapshotIdentifier", 255, 1, &snap, err) < 0 ||
		in_ident(in, "DBInstanceIdentifier", 63, 1, &id, err) < 0 ||
		rds_begin_on(req, id, 1, &inst, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (rds_snapshot_get(db, snap, &old) != 0) {
		store_rollback(req->srv->store);
		rds_bad(err, "DBSnapshotAlreadyExists",
			"Cannot create the snapshot because a snapshot with the identifier %s already"
			" exists.",
			snap);
		goto out;
	}
	if (rds_snapshot_insert(db, &inst, snap, "manual", lc_now(), &e) < 0) {
		store_rollback(req->srv->store);
		rds_internal(err, e.msg);
		goto out;
	}
	{
		const char *p[] = { id };

		if (rds_write(req,
			    "UPDATE rds_instance SET status = 'backing-up', job = 'snapshot' WHERE id = ?",
			    1, p, err) < 0)
			goto out;
	}
	*out = rds_snapshot_result(db, snap, err);
	if (*out == NULL) {
		store_rollback(req->srv->store);
		goto out;
	}
	rds_busy_mark(id);
	if (store_commit(req->srv->store, &e) < 0) {
		rds_busy_unmark(id);
		json_decref(*out);
		*out = NULL;
		rds_internal(err, e.msg);
		goto out;
	}
	rds_snap_spawn(id, inst.port, snap);
	ret = 0;
out:
	rds_instance_release(&inst);
	rds_snapshot_release(&old);
	free(id);
	free(snap);
	return ret;
}

int rds_describe_db_snapshots(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	json_t *list = NULL;
	char *id = NULL, *snap = NULL;
	const char *type = in_str(in, "SnapshotType");
	sqlite3 *db;
	int ret = -1;

	if (in_ident(in, "DBInstanceIdentifier", 63, 0, &id, err) < 0)
		goto out;
	/* automated snapshot names hold a colon: no identifier check, only lower case */
	if (in_str(in, "DBSnapshotIdentifier") != NULL)
		snap = rds_lower(in_str(in, "DBSnapshotIdentifier"));
	if (store_begin(req->srv->store, &e) < 0) {
		rds_internal(err, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	if (sqlite3_prepare_v2(db,
		    "SELECT " RDS_SNAPSHOT_COLS " FROM rds_snapshot WHERE (?1 IS NULL OR"
		    " instance_id = ?1) AND (?2 IS NULL OR id = ?2) AND (?3 IS NULL OR type = ?3)"
		    " ORDER BY created",
		    -1, &st, NULL) != SQLITE_OK) {
		store_rollback(req->srv->store);
		rds_internal(err, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, snap, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	list = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct rds_snapshot s = { 0 };

		rds_snapshot_read(st, &s);
		json_array_append_new(list, rds_snapshot_value(&s));
		rds_snapshot_release(&s);
	}
	sqlite3_finalize(st);
	store_rollback(req->srv->store);
	if (snap != NULL && json_array_size(list) == 0) {
		rds_bad(err, "DBSnapshotNotFound", "DBSnapshot %s not found.", snap);
		goto out;
	}
	*out = json_pack("{s:O}", "DBSnapshots", list);
	ret = 0;
out:
	json_decref(list);
	free(id);
	free(snap);
	return ret;
}

int rds_delete_db_snapshot(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct rds_snapshot s = { 0 };
	struct err e = ERR_INIT;
	json_t *o = NULL;
	char *snap = NULL;
	int found, ret = -1;
	sqlite3 *db;

	if (in_ident(in, "DBSnapshotIdentifier", 255, 1, &snap, err) < 0)
		goto out;
	if (store_begin(req->srv->store, &e) < 0) {
		rds_internal(err, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	found = rds_snapshot_get(db, snap, &s);
	if (found != 1) {
		store_rollback(req->srv->store);
		rds_bad(err, "DBSnapshotNotFound", "DBSnapshot %s not found.", snap);
		goto out;
	}
	if (!strcmp(s.status, "creating") || !strcmp(s.type, "automated")) {
		store_rollback(req->srv->store);
		rds_bad(err, "InvalidDBSnapshotState",
			!strcmp(s.type, "automated")
				? "Cannot delete the automated snapshot %s: it goes with its instance."
				: "Cannot delete the snapshot %s while it is being created.",
			snap);
		goto out;
	}
	{
		const char *p[] = { snap };

		if (rds_write(req, "DELETE FROM rds_snapshot WHERE id = ?", 1, p, err) < 0)
			goto out;
	}
	free(s.status);
	s.status = xstrdup("deleted");
	o = json_pack("{s:o}", "DBSnapshot", rds_snapshot_value(&s));
	if (store_commit(req->srv->store, &e) < 0) {
		rds_internal(err, e.msg);
		goto out;
	}
	if (pge_snapshot_delete(snap, &e) < 0)
		lc_log("rds: %s", e.msg);
	*out = o;
	o = NULL;
	ret = 0;
out:
	json_decref(o);
	rds_snapshot_release(&s);
	free(snap);
	return ret;
}

/* The new instance of a restore: common checks and the insert (in the open transaction). */
static int rds_restore_insert(struct lc_request *req, const json_t *in, sqlite3 *db,
	const char *new_id, const struct rds_snapshot *s, const char *src, double when,
	struct codec_error *err)
{
	struct rds_instance old = { 0 };
	struct buf admin = BUF_INIT;
	struct err e = ERR_INIT;
	struct rds_new n;
	char *aad = rds_aad("snapshot", s->id), *sgs = NULL;
	long retention = 1, storage = s->allocated_storage;
	int found, ret = -1;

	memset(&n, 0, sizeof(n));
	if (in_int(in, "BackupRetentionPeriod", 0, 35, NULL, &retention, err) < 0)
		goto out;
	found = rds_instance_get(db, new_id, &old);
	if (found != 0) {
		if (found < 0)
			rds_internal(err, sqlite3_errmsg(db));
		else
			rds_bad(err, "DBInstanceAlreadyExists", "DB instance already exists");
		goto out;
	}
	if (rds_open_column(db, "SELECT admin_pw FROM rds_snapshot WHERE id = ?", s->id, aad,
		    &admin, &e) < 0) {
		rds_internal(err, e.msg);
		goto out;
	}
	sgs = in_security_groups(in);
	n.id = new_id;
	n.region = req->region;
	n.job = "restore";
	n.instance_class = in_str(in, "DBInstanceClass");
	if (n.instance_class == NULL)
		n.instance_class = "db.t3.micro";
	n.master_user = s->master_user;
	n.db_name = s->db_name;
	n.allocated_storage = storage;
	n.retention = retention;
	n.admin_pw = admin.data;
	n.subnet_group = in_str(in, "DBSubnetGroupName");
	n.vpc_sgs = sgs;
	n.restore_snapshot = s->id;
	n.restore_source = src;
	n.restore_time = when;
	if (rds_instance_insert(db, &n, &e) < 0) {
		rds_internal(err, e.msg);
		goto out;
	}
	ret = 0;
out:
	rds_instance_release(&old);
	buf_release_secret(&admin);
	free(aad);
	free(sgs);
	return ret;
}

int rds_restore_db_instance_from_db_snapshot(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err)
{
	struct rds_snapshot s = { 0 };
	struct err e = ERR_INIT;
	char *id = NULL, *snap = NULL;
	int found, ret = -1;
	sqlite3 *db;

	if (rds_need_engine(err) < 0)
		return -1;

	if (in_ident(in, "DBInstanceIdentifier", 63, 1, &id, err) < 0)
		goto out;
	if (in_str(in, "DBSnapshotIdentifier") == NULL) {
		rds_bad(err, "MissingParameter",
			"The request must contain the parameter DBSnapshotIdentifier");
		goto out;
	}
	snap = rds_lower(in_str(in, "DBSnapshotIdentifier"));
	if (store_begin(req->srv->store, &e) < 0) {
		rds_internal(err, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	found = rds_snapshot_get(db, snap, &s);
	if (found != 1) {
		store_rollback(req->srv->store);
		rds_bad(err, "DBSnapshotNotFound", "DBSnapshot %s not found.", snap);
		goto out;
	}
	if (strcmp(s.status, "available") != 0) {
		store_rollback(req->srv->store);
		rds_bad(err, "InvalidDBSnapshotState",
			"Snapshot %s is not in available state (it is %s).", snap, s.status);
		goto out;
	}
	if (rds_restore_insert(req, in, db, id, &s, NULL, NAN, err) < 0) {
		store_rollback(req->srv->store);
		goto out;
	}
	ret = rds_commit_reply(req, id, 1, out, err);
out:
	rds_snapshot_release(&s);
	free(id);
	free(snap);
	return ret;
}

int rds_restore_db_instance_to_point_in_time(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err)
{
	struct rds_instance src = { 0 };
	struct rds_snapshot s = { 0 };
	struct buf when_text = BUF_INIT;
	sqlite3_stmt *st = NULL;
	char *src_id = NULL, *new_id = NULL, *base = NULL;
	const json_t *restore_time = json_object_get(in, "RestoreTime");
	int latest = 0, ret = -1;
	double when = -1, restorable;
	sqlite3 *db;

	if (rds_need_engine(err) < 0)
		return -1;

	in_bool(in, "UseLatestRestorableTime", &latest);
	if (in_ident(in, "SourceDBInstanceIdentifier", 63, 1, &src_id, err) < 0 ||
		in_ident(in, "TargetDBInstanceIdentifier", 63, 1, &new_id, err) < 0)
		goto out;
	if (latest == (restore_time != NULL)) {
		rds_bad(err, "InvalidParameterCombination",
			"Exactly one of RestoreTime and UseLatestRestorableTime must be given.");
		goto out;
	}
	if (restore_time != NULL) {
		/* the codec read it; messages name it as clients write it */
		when = json_number_value(restore_time);
		aws_time_format(when, NULL, &when_text);
	}
	if (rds_begin_on(req, src_id, 0, &src, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (src.retention == 0) {
		store_rollback(req->srv->store);
		rds_bad(err, "PointInTimeRestoreNotEnabled",
			"Automated backups are not enabled for %s (BackupRetentionPeriod is 0).",
			src_id);
		goto out;
	}
	restorable = pge_running(src_id) ? lc_now() : rds_latest_restorable(db, &src);
	if (!latest && when > restorable) {
		store_rollback(req->srv->store);
		rds_bad(err, "InvalidRestoreFault",
			"The restore time %s is after the latest restorable time of %s.",
			buf_str(&when_text), src_id);
		goto out;
	}
	/* the newest automated backup that had finished by the target time */
	if (sqlite3_prepare_v2(db,
		    "SELECT id FROM rds_snapshot WHERE instance_id = ? AND type = 'automated' AND"
		    " status = 'available' AND (? < 0 OR completed <= ?) ORDER BY completed DESC"
		    " LIMIT 1",
		    -1, &st, NULL) != SQLITE_OK) {
		store_rollback(req->srv->store);
		rds_internal(err, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, src_id, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, latest ? -1 : when);
	sqlite3_bind_double(st, 3, latest ? -1 : when);
	if (sqlite3_step(st) == SQLITE_ROW)
		base = store_col_text(st, 0);
	sqlite3_finalize(st);
	if (base == NULL || rds_snapshot_get(db, base, &s) != 1) {
		store_rollback(req->srv->store);
		rds_bad(err, "InvalidRestoreFault",
			"The restore time %s is before the earliest restorable time of %s.",
			latest ? "latest" : buf_str(&when_text), src_id);
		goto out;
	}
	if (rds_restore_insert(req, in, db, new_id, &s, src_id, latest ? -1 : when, err) < 0) {
		store_rollback(req->srv->store);
		goto out;
	}
	ret = rds_commit_reply(req, new_id, 1, out, err);
out:
	rds_instance_release(&src);
	rds_snapshot_release(&s);
	buf_release(&when_text);
	free(src_id);
	free(new_id);
	free(base);
	return ret;
}
