/*
 * rds/cluster-instances.c: DocumentDB's DB instances.  They are rows that
 * name their cluster (its server is their endpoint), served through the
 * RDS instance handlers (api.c): each calls cluster_instance_route() (for
 * CreateDBInstance with Engine=docdb and DeleteDBInstance of a docdb
 * instance, answered here) or cluster_instances_list() (the docdb
 * instances in DescribeDBInstances' reply).  What a DocumentDB
 * cluster is: cluster.h.
 */
#include "compat.h"

#include <ctype.h>
#include <math.h>

#include <jansson.h>

#include "core/caliberd.h"
#include "core/codec-glue.h"
#include "core/reply.h"
#include "core/router.h"
#include "core/store.h"
#include "cluster.h"
#include "internal.h"

static const char *in_str(const json_t *in, const char *member)
{
	return json_string_value(json_object_get(in, member));
}

static char *lower(const char *s)
{
	char *r = xstrdup(s), *p;

	for (p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

/* A member that is a JSON array (tags) as its text, "[]" when absent; caller frees. */
static char *in_array_text(const json_t *in, const char *member)
{
	json_t *v = json_object_get(in, member);
	char *text = json_is_array(v) ? json_dumps(v, JSON_COMPACT) : NULL;

	return text ? text : xstrdup("[]");
}

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

/* What a docdb instance's status is: its cluster's, but a cluster at work still serves. */
static const char *instance_status(const char *cluster_status)
{
	static const char *const same[] = { "creating", "starting", "deleting", "failed",
		"incompatible-restore" };
	size_t i;

	if (cluster_status == NULL)
		return "failed";
	for (i = 0; i < ARRAY_SIZE(same); i++)
		if (!strcmp(cluster_status, same[i]))
			return cluster_status;
	return "available";
}

static json_t *instance_json(sqlite3_stmt *st, const struct cluster *c)
{
	json_t *o = json_object();
	const char *status = instance_status(c ? c->status : NULL);
	char arn[512];

	set_str(o, "DBInstanceIdentifier", store_col_str(st, 0));
	set_str(o, "DBInstanceClass", store_col_str(st, 2));
	set_str(o, "Engine", "docdb");
	set_str(o, "DBInstanceStatus", status);
	if (c != NULL && strcmp(status, "creating") != 0)
		json_object_set_new(o, "Endpoint",
			json_pack("{s:s, s:i, s:s}", "Address", CLUSTER_HOST, "Port", c->port,
				"HostedZoneId", CLUSTER_HOSTED_ZONE));
	set_time(o, "InstanceCreateTime", store_col_real(st, 4));
	set_str(o, "PreferredBackupWindow", "00:00-00:30");
	if (c != NULL) {
		json_object_set_new(o, "BackupRetentionPeriod", json_integer(c->retention));
		json_object_set_new(o, "VpcSecurityGroups", cluster_security_groups_json(c->vpc_sgs));
		json_object_set_new(o, "StorageEncrypted", json_boolean(c->storage_encrypted));
		if (c->storage_encrypted)
			set_str(o, "KmsKeyId", c->kms_key ? c->kms_key : "alias/aws/rds");
	}
	set_str(o, "AvailabilityZone",
		sqlite3_column_type(st, 7) != SQLITE_NULL ? store_col_str(st, 7) : CLUSTER_AZ);
	set_str(o, "PreferredMaintenanceWindow", "sun:05:00-sun:05:30");
	json_object_set_new(o, "PendingModifiedValues", json_object());
	set_str(o, "EngineVersion", CLUSTER_ENGINE_VERSION);
	json_object_set_new(o, "AutoMinorVersionUpgrade", json_true());
	json_object_set_new(o, "PubliclyAccessible", json_false());
	set_str(o, "DBClusterIdentifier", store_col_str(st, 1));
	set_str(o, "DbiResourceId", store_col_str(st, 5));
	set_str(o, "CACertificateIdentifier", "rds-ca-rsa2048-g1");
	json_object_set_new(o, "PromotionTier", json_integer(sqlite3_column_int(st, 6)));
	cluster_arn("db", store_col_str(st, 3), store_col_str(st, 0), arn);
	set_str(o, "DBInstanceArn", arn);
	json_object_set_new(o, "EnabledCloudwatchLogsExports", json_array());
	return o;
}

#define INSTANCE_COLS \
	"id, cluster_id, instance_class, region, created, resource_id, promotion_tier, availability_zone"

int cluster_instances_list(sqlite3 *db, const char *id, const char *cluster_id, json_t *list)
{
	sqlite3_stmt *st = NULL;
	int n = 0;

	if (sqlite3_prepare_v2(db,
		    "SELECT " INSTANCE_COLS " FROM docdb_instance WHERE (?1 IS NULL OR id = ?1) AND"
		    " (?2 IS NULL OR cluster_id = ?2) ORDER BY id",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cluster_id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct cluster c = { 0 };
		int found = cluster_get(db, store_col_str(st, 1), &c);

		json_array_append_new(list, instance_json(st, found == 1 ? &c : NULL));
		cluster_release(&c);
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

static int cluster_create_db_instance(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct cluster c = { 0 };
	char *id = NULL, *cluster_id = NULL, resource[64];
	const char *klass = in_str(in, "DBInstanceClass");
	json_t *tier = json_object_get(in, "PromotionTier"), *list = NULL;
	char *tags = in_array_text(in, "Tags");
	int ret = -1;
	sqlite3 *db;

	if (cluster_in_ident(in, "DBInstanceIdentifier", 63, 1, 1, &id, err) < 0 ||
		cluster_in_ident(in, "DBClusterIdentifier", 63, 1, 0, &cluster_id, err) < 0)
		goto out;
	if (klass == NULL) {
		cluster_bad(err, "MissingParameter", "The request must contain the parameter DBInstanceClass");
		goto out;
	}
	if (tier != NULL && (json_integer_value(tier) < 0 || json_integer_value(tier) > 15)) {
		cluster_bad(err, "InvalidParameterValue", "PromotionTier must be between 0 and 15");
		goto out;
	}
	if (cluster_begin_on(req, cluster_id, &c, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (!strcmp(c.status, "deleting") || !strcmp(c.status, "failed") ||
		!strcmp(c.status, "incompatible-restore")) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidDBClusterStateFault",
			"DB cluster %s is not in a state to add instances (it is %s).", cluster_id,
			c.status);
		goto out;
	}
	{
		struct rds_instance r = { 0 };
		int taken = rds_instance_get(db, id, &r);

		rds_instance_release(&r);
		list = json_array();
		if (taken != 0 || cluster_instances_list(db, id, NULL, list) != 0) {
			store_rollback(req->srv->store);
			cluster_bad(err, "DBInstanceAlreadyExists", "DB instance already exists");
			goto out;
		}
	}
	cluster_resource_id("db-", resource);
	if (store_run(db,
		    "INSERT INTO docdb_instance (id, cluster_id, region, instance_class, created,"
		    " resource_id, promotion_tier, availability_zone, tags) VALUES (?, ?, ?, ?, ?, ?,"
		    " ?, ?, ?)",
		    "ssssdsiss", id, cluster_id, req->region, klass, lc_now(), resource,
		    (long long)(tier ? json_integer_value(tier) : 1),
		    in_str(in, "AvailabilityZone"), tags) < 0) {
		store_rollback(req->srv->store);
		cluster_internal(err, "unable to record the instance");
		goto out;
	}
	json_array_clear(list);
	cluster_instances_list(db, id, NULL, list);
	if (json_array_size(list) != 1) {
		store_rollback(req->srv->store);
		cluster_internal(err, "the instance row vanished");
		goto out;
	}
	*out = json_pack("{s:O}", "DBInstance", json_array_get(list, 0));
	if (cluster_commit(req, err) < 0)
		goto out;
	ret = 0;
out:
	json_decref(list);
	cluster_release(&c);
	free(tags);
	free(id);
	free(cluster_id);
	return ret;
}

static int cluster_delete_db_instance(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct err e = ERR_INIT;
	json_t *list = json_array(), *o;
	char *id = NULL;
	int ret = -1;
	sqlite3 *db;

	if (cluster_in_ident(in, "DBInstanceIdentifier", 63, 1, 0, &id, err) < 0)
		goto out;
	if (store_begin(req->srv->store, &e) < 0) {
		cluster_internal(err, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	if (cluster_instances_list(db, id, NULL, list) != 1 ||
		store_run(db, "DELETE FROM docdb_instance WHERE id = ?", "s", id) < 0) {
		store_rollback(req->srv->store);
		cluster_bad(err, "DBInstanceNotFound", "DBInstance %s not found.", id);
		goto out;
	}
	o = json_array_get(list, 0);
	json_object_set_new(o, "DBInstanceStatus", json_string("deleting"));
	*out = json_pack("{s:O}", "DBInstance", o);
	if (cluster_commit(req, err) < 0)
		goto out;
	ret = 0;
out:
	json_decref(list);
	free(id);
	return ret;
}

/* Whether the request's DBInstanceIdentifier names a docdb instance. */
static int names_docdb_instance(struct lc_request *req, const json_t *in)
{
	const char *v = json_string_value(json_object_get(in, "DBInstanceIdentifier"));
	struct err e = ERR_INIT;
	json_t *list;
	char *id;
	int n;

	if (v == NULL || store_begin(req->srv->store, &e) < 0)
		return 0;
	id = lower(v);
	list = json_array();
	n = cluster_instances_list(store_db(req->srv->store), id, NULL, list);
	store_rollback(req->srv->store);
	json_decref(list);
	free(id);
	return n > 0;
}

int cluster_instance_route(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err, int *ret)
{
	const char *op = req->route->operation;

	if (!strcmp(op, "CreateDBInstance")) {
		const char *engine = json_string_value(json_object_get(in, "Engine"));

		if (engine != NULL && !strcasecmp(engine, "docdb")) {
			*ret = cluster_create_db_instance(req, in, out, err);
			return 1;
		}
		if (names_docdb_instance(req, in)) {
			*ret = codec_error_set(err, 400, "DBInstanceAlreadyExists",
				"DB instance already exists");
			return 1;
		}
		return 0;
	}
	if (!strcmp(op, "DeleteDBInstance") && names_docdb_instance(req, in)) {
		*ret = cluster_delete_db_instance(req, in, out, err);
		return 1;
	}
	return 0;
}
