/*
 * secretsmanager/api.c: AWS Secrets Manager (JSON 1.1) on caliberd's
 * store.
 *
 * A secret has versions; each version holds one value (a string or bytes)
 * sealed with the master key (crypt.h), and staging labels point at
 * versions.  As on AWS: a new version takes AWSCURRENT unless told
 * otherwise, the version that loses AWSCURRENT gets AWSPREVIOUS, a version
 * without labels is deprecated (kept, listed with IncludeDeprecated).
 * Deleting schedules the removal after a recovery window (7 to 30 days,
 * default 30) during which the secret can be restored and refuses its
 * value; ForceDeleteWithoutRecovery removes it at once.  ARNs are
 * arn:aws:secretsmanager:<region>:000000000000:secret:<name>-<6 random>.
 *
 * Every operation is a typed handler on the codec (codec-glue.h): it sees
 * the input as values and returns the output as values; no wire format is
 * written here.  Each runs in one store transaction (sm_run), so what a
 * reply acknowledges is on disk.
 */
#include "compat.h"

#include <ctype.h>
#include <math.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aws/codec.h"
#include "core/caliberd.h"
#include "core/crypt.h"
#include "core/reply.h"
#include "core/router.h"
#include "core/store.h"
#include "internal.h"

#define SM_MAX_VALUE 65536
#define SM_MAX_STAGES_PER_VERSION 20
#define SM_DAY 86400.0

static const char sm_schema[] =
	"CREATE TABLE IF NOT EXISTS sm_secret ("
	" id INTEGER PRIMARY KEY,"
	" region TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" arn TEXT NOT NULL UNIQUE,"
	" description TEXT,"
	" kms_key_id TEXT,"
	" tags TEXT NOT NULL DEFAULT '[]',"
	" created REAL NOT NULL,"
	" last_changed REAL NOT NULL,"
	" last_accessed REAL,"
	" deleted REAL,"
	" deletion_date REAL,"
	" UNIQUE (region, name));"
	"CREATE TABLE IF NOT EXISTS sm_version ("
	" secret_id INTEGER NOT NULL REFERENCES sm_secret(id) ON DELETE CASCADE,"
	" version_id TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" binary INTEGER NOT NULL,"
	" value BLOB NOT NULL,"
	" last_accessed REAL,"
	" PRIMARY KEY (secret_id, version_id));"
	"CREATE TABLE IF NOT EXISTS sm_stage ("
	" secret_id INTEGER NOT NULL,"
	" stage TEXT NOT NULL,"
	" version_id TEXT NOT NULL,"
	" PRIMARY KEY (secret_id, stage),"
	" FOREIGN KEY (secret_id, version_id) REFERENCES sm_version(secret_id, version_id)"
	"  ON DELETE CASCADE);";

int sm_init(struct lc_server *srv, struct err *e)
{
	return store_exec(srv->store, sm_schema, e);
}

/* One call: its request, its typed input, its output in the making, its error. */
struct sm_call {
	struct lc_request *req;
	struct lc_server *srv;
	sqlite3 *db;
	const json_t *in;
	json_t *out;		/* the output object, created by sm_run */
	struct codec_error *err;
	double now;
};

struct sm_secret {
	sqlite3_int64 id;
	char *name;
	char *arn;
	char *description;	/* NULL: none */
	char *kms_key_id;	/* NULL: none */
	char *tags;		/* JSON array text */
	double created;
	double last_changed;
	double last_accessed;	/* NAN: never */
	double deleted;		/* NAN: not scheduled for deletion */
	double deletion_date;
};

static void sm_secret_release(struct sm_secret *s)
{
	free(s->name);
	free(s->arn);
	free(s->description);
	free(s->kms_key_id);
	free(s->tags);
	memset(s, 0, sizeof(*s));
}

static int sm_internal(struct sm_call *c, const char *what)
{
	lc_log("secretsmanager: %s: %s", what, sqlite3_errmsg(c->db));
	return codec_error_set(c->err, 500, "InternalServiceError", "an internal error occurred");
}

/* a 400 error of the call c (codec_error_set checks the format) */
#define sm_bad(c, code, ...) codec_error_set((c)->err, 400, (code), __VA_ARGS__)

/* Secrets whose recovery window has passed are gone: every call starts with that. */
static int sm_purge(struct sm_call *c)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(c->db,
		    "DELETE FROM sm_secret WHERE deletion_date IS NOT NULL AND deletion_date <= ?",
		    -1, &st, NULL) != SQLITE_OK)
		return sm_internal(c, "purge");
	sqlite3_bind_double(st, 1, c->now);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return 0;
}

/* Run fn in a store transaction: *out its output when it returns 0. */
static int sm_run(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err, int (*fn)(struct sm_call *c))
{
	struct store *store = req->srv->store;
	struct err e = ERR_INIT;
	struct sm_call c;

	memset(&c, 0, sizeof(c));
	c.req = req;
	c.srv = req->srv;
	c.in = in;
	c.err = err;
	c.now = lc_now();
	if (store_begin(store, &e) < 0) {
		lc_log("secretsmanager: %s", e.msg);
		return codec_error_set(err, 500, "InternalServiceError",
			"an internal error occurred");
	}
	c.db = store_db(store);
	c.out = json_object();
	if (sm_purge(&c) < 0 || fn(&c) < 0) {
		store_rollback(store);
		json_decref(c.out);
		return -1;
	}
	if (store_commit(store, &e) < 0) {
		lc_log("secretsmanager: %s", e.msg);
		json_decref(c.out);
		return codec_error_set(err, 500, "InternalServiceError",
			"an internal error occurred");
	}
	*out = c.out;
	return 0;
}

/*
 * Input members, typed by the codec: a missing required one is an
 * InvalidParameterException, as Secrets Manager words it.
 */
static int in_string(struct sm_call *c, const char *key, int required, const char **out)
{
	*out = json_string_value(json_object_get(c->in, key));
	if (*out == NULL && required)
		return sm_bad(c, "InvalidParameterException",
			"You must provide a value for the required parameter %s.", key);
	return 0;
}

static void in_bool(struct sm_call *c, const char *key, int *out)
{
	*out = json_is_true(json_object_get(c->in, key));
}

/* *present 0 when absent */
static void in_int(struct sm_call *c, const char *key, long long *out, int *present)
{
	json_t *v = json_object_get(c->in, key);

	*present = v != NULL;
	if (v != NULL)
		*out = (long long)json_integer_value(v);
}

static int sm_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n < 1 || n > 512)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!(ch < 128 && (isalnum(ch) || strchr("/_+=.@-", ch) != NULL)))
			return 0;
	}
	return 1;
}

static int sm_token_valid(const char *t)
{
	size_t n = strlen(t);

	return n >= 32 && n <= 64;
}

static void sm_uuid(char out[40])
{
	lc_request_id_new(out);
}

/*
 * The value of a CreateSecret/PutSecretValue/UpdateSecret call:
 * *has_value 0 when neither SecretString nor SecretBinary was given.
 */
static int in_value(struct sm_call *c, int *has_value, int *binary, struct buf *value)
{
	const json_t *str = json_object_get(c->in, "SecretString");
	const json_t *bin = json_object_get(c->in, "SecretBinary");

	*has_value = 0;
	*binary = 0;
	if (str != NULL && bin != NULL)
		return sm_bad(c, "InvalidParameterException",
			"You can't specify both a binary secret value and a string secret value in "
			"the same secret.");
	/* the codec has decoded SecretBinary's base64: these are its bytes */
	if (str != NULL) {
		buf_append(value, json_string_value(str), json_string_length(str));
	} else if (bin != NULL) {
		buf_append(value, json_string_value(bin), json_string_length(bin));
		*binary = 1;
	} else {
		return 0;
	}
	if (value->len > SM_MAX_VALUE)
		return sm_bad(c, "InvalidParameterException",
			"The secret value can't be longer than %d bytes.", SM_MAX_VALUE);
	*has_value = 1;
	return 0;
}

#define SM_SECRET_COLUMNS                                                                          \
	"id, name, arn, description, kms_key_id, tags, created, last_changed, last_accessed,"     \
	" deleted, deletion_date"

static void sm_secret_read(sqlite3_stmt *st, struct sm_secret *s)
{
	s->id = sqlite3_column_int64(st, 0);
	s->name = store_col_text(st, 1);
	s->arn = store_col_text(st, 2);
	s->description = store_col_text(st, 3);
	s->kms_key_id = store_col_text(st, 4);
	s->tags = store_col_text(st, 5);
	s->created = sqlite3_column_double(st, 6);
	s->last_changed = sqlite3_column_double(st, 7);
	s->last_accessed = store_col_real(st, 8);
	s->deleted = store_col_real(st, 9);
	s->deletion_date = store_col_real(st, 10);
}

/* 1 found, 0 not, -1 SQL error */
static int sm_lookup(sqlite3 *db, const char *where, const char *a, const char *b,
	struct sm_secret *s)
{
	char *sql = xasprintf("SELECT " SM_SECRET_COLUMNS " FROM sm_secret WHERE %s", where);
	sqlite3_stmt *st = NULL;
	int rc, found = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (b != NULL)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sm_secret_read(st, s);
		found = 1;
	} else if (rc == SQLITE_DONE) {
		found = 0;
	}
out:
	sqlite3_finalize(st);
	free(sql);
	return found;
}

/*
 * The secret that id names: its full ARN, its name (in region), or a
 * partial ARN (the ARN without the random suffix).  1 found, 0 not, -1 SQL
 * error.
 */
static int sm_lookup_id(sqlite3 *db, const char *region, const char *id, struct sm_secret *s)
{
	int found;

	found = sm_lookup(db, "arn = ?1", id, NULL, s);
	if (found == 0)
		found = sm_lookup(db, "region = ?1 AND name = ?2", region, id, s);
	if (found == 0 && !strncmp(id, "arn:aws:secretsmanager:", 23)) {
		/* arn:aws:secretsmanager:<region>:<account>:secret:<name> */
		const char *reg_start = id + 23, *p = reg_start;
		char *reg = NULL;
		int field;

		for (field = 0; field < 3 && p != NULL; field++) {
			p = strchr(p, ':');
			if (p != NULL)
				p++;
		}
		if (p != NULL && !strncmp(p - 7, "secret:", 7) && strchr(reg_start, ':') != NULL) {
			reg = xstrndup(reg_start, (size_t)(strchr(reg_start, ':') - reg_start));
			found = sm_lookup(db, "region = ?1 AND name = ?2", reg, p, s);
			free(reg);
		}
	}
	return found;
}

/* sm_lookup_id for SecretId; -1 with ResourceNotFoundException when there is none. */
static int sm_find(struct sm_call *c, const char *id, struct sm_secret *s)
{
	int found = sm_lookup_id(c->db, c->req->region, id, s);

	if (found < 0)
		return sm_internal(c, "lookup");
	if (found == 0)
		return sm_bad(c, "ResourceNotFoundException",
			"Secrets Manager can't find the specified secret.");
	return 0;
}

static int sm_find_live(struct sm_call *c, const char *id, struct sm_secret *s)
{
	if (sm_find(c, id, s) < 0)
		return -1;
	if (!isnan(s->deleted))
		return sm_bad(c, "InvalidRequestException",
			"You can't perform this operation on the secret because it was marked for "
			"deletion.");
	return 0;
}

static int sm_touch(struct sm_call *c, const struct sm_secret *s)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(c->db, "UPDATE sm_secret SET last_changed = ? WHERE id = ?", -1,
		    &st, NULL) != SQLITE_OK)
		return sm_internal(c, "touch");
	sqlite3_bind_double(st, 1, c->now);
	sqlite3_bind_int64(st, 2, s->id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sm_internal(c, "touch");
}

static char *sm_aad(const struct sm_secret *s, const char *version_id)
{
	return xasprintf("%s\n%s", s->arn, version_id);
}

/* 1 exists (value and kind filled when value is not NULL), 0 not, -1 error */
static int sm_version_get(struct sm_call *c, const struct sm_secret *s, const char *version_id,
	int *binary, struct buf *value, double *created)
{
	sqlite3_stmt *st = NULL;
	struct err e = ERR_INIT;
	char *aad = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(c->db,
		    "SELECT binary, value, created FROM sm_version WHERE secret_id = ? AND "
		    "version_id = ?",
		    -1, &st, NULL) != SQLITE_OK)
		return sm_internal(c, "version");
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_text(st, 2, version_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		sm_internal(c, "version");
		goto out;
	}
	if (binary != NULL)
		*binary = sqlite3_column_int(st, 0);
	if (created != NULL)
		*created = sqlite3_column_double(st, 2);
	if (value != NULL) {
		aad = sm_aad(s, version_id);
		if (crypt_open(c->srv->master_key, sqlite3_column_blob(st, 1),
			    (size_t)sqlite3_column_bytes(st, 1), aad, value, &e) < 0) {
			lc_log("secretsmanager: %s: %s", s->arn, e.msg);
			codec_error_set(c->err, 500, "InternalServiceError",
				"the secret value cannot be decrypted");
			goto out;
		}
	}
	ret = 1;
out:
	free(aad);
	sqlite3_finalize(st);
	return ret;
}

static int sm_version_add(struct sm_call *c, const struct sm_secret *s, const char *version_id,
	int binary, const struct buf *value)
{
	struct buf sealed = BUF_INIT;
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	char *aad = sm_aad(s, version_id);
	int ret = -1;

	buf_init(&sealed);
	if (crypt_seal(c->srv->master_key, value->data, value->len, aad, &sealed, &e) < 0) {
		lc_log("secretsmanager: %s", e.msg);
		codec_error_set(c->err, 500, "InternalServiceError",
			"the secret value cannot be encrypted");
		goto out;
	}
	if (sqlite3_prepare_v2(c->db,
		    "INSERT INTO sm_version (secret_id, version_id, created, binary, value) "
		    "VALUES (?, ?, ?, ?, ?)",
		    -1, &st, NULL) != SQLITE_OK) {
		sm_internal(c, "add version");
		goto out;
	}
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_text(st, 2, version_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 3, c->now);
	sqlite3_bind_int(st, 4, binary);
	sqlite3_bind_blob(st, 5, sealed.data, (int)sealed.len, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sm_internal(c, "add version");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	buf_release(&sealed);
	free(aad);
	return ret;
}

int sm_secret_value_read(sqlite3 *db, const unsigned char *master_key, const char *region,
	const char *secret_id, const char *version_id, const char *version_stage,
	struct buf *out, struct err *e)
{
	struct sm_secret s;
	sqlite3_stmt *st = NULL;
	char *aad = NULL;
	const char *stage = version_stage ? version_stage : "AWSCURRENT";
	int found, rc, ret = -1;

	memset(&s, 0, sizeof(s));
	found = sm_lookup_id(db, region, secret_id, &s);
	if (found < 0) {
		err_set(e, "secrets store unreadable: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (found == 0) {
		err_set(e, "secret '%s' not found", secret_id);
		goto out;
	}
	if (!isnan(s.deleted)) {
		err_set(e, "secret '%s' is scheduled for deletion", s.arn);
		goto out;
	}
	/* the version asked for (which must then hold the stage, if one is named) or the stage's */
	if (sqlite3_prepare_v2(db,
		    "SELECT v.version_id, v.value FROM sm_version v WHERE v.secret_id = ?1 AND "
		    "(?2 IS NULL OR v.version_id = ?2) AND (?2 IS NOT NULL AND ?3 IS NULL OR "
		    "EXISTS (SELECT 1 FROM sm_stage g WHERE g.secret_id = ?1 AND "
		    "g.version_id = v.version_id AND g.stage = ?4))",
		    -1, &st, NULL) != SQLITE_OK) {
		err_set(e, "secrets store unreadable: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_int64(st, 1, s.id);
	if (version_id != NULL)
		sqlite3_bind_text(st, 2, version_id, -1, SQLITE_TRANSIENT);
	if (version_stage != NULL)
		sqlite3_bind_text(st, 3, version_stage, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, stage, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			err_set(e, "secrets store unreadable: %s", sqlite3_errmsg(db));
		else if (version_id != NULL)
			err_set(e, "secret '%s' has no version '%s'%s%s", s.arn, version_id,
				version_stage ? " staged " : "", version_stage ? version_stage : "");
		else
			err_set(e, "secret '%s' has no version staged %s", s.arn, stage);
		goto out;
	}
	aad = sm_aad(&s, (const char *)sqlite3_column_text(st, 0));
	if (crypt_open(master_key, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
		    aad, out, e) < 0)
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	free(aad);
	sm_secret_release(&s);
	return ret;
}

/* The version holding stage into out (size 64), "" when none; -1 on error. */
static int sm_stage_holder(struct sm_call *c, const struct sm_secret *s, const char *stage,
	char *out, size_t size)
{
	sqlite3_stmt *st = NULL;
	int rc;

	out[0] = '\0';
	if (sqlite3_prepare_v2(c->db,
		    "SELECT version_id FROM sm_stage WHERE secret_id = ? AND stage = ?", -1, &st,
		    NULL) != SQLITE_OK)
		return sm_internal(c, "stage");
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_text(st, 2, stage, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sm_internal(c, "stage");
	return 0;
}

static int sm_stage_set(struct sm_call *c, const struct sm_secret *s, const char *stage,
	const char *version_id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (version_id == NULL) {
		if (sqlite3_prepare_v2(c->db,
			    "DELETE FROM sm_stage WHERE secret_id = ? AND stage = ?", -1, &st,
			    NULL) != SQLITE_OK)
			return sm_internal(c, "stage");
	} else if (sqlite3_prepare_v2(c->db,
			   "INSERT OR REPLACE INTO sm_stage (secret_id, stage, version_id) "
			   "VALUES (?, ?, ?)",
			   -1, &st, NULL) != SQLITE_OK) {
		return sm_internal(c, "stage");
	}
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_text(st, 2, stage, -1, SQLITE_TRANSIENT);
	if (version_id != NULL)
		sqlite3_bind_text(st, 3, version_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sm_internal(c, "stage");
}

/*
 * Attach stage to version_id, taking it from whichever version had it.
 * Moving AWSCURRENT gives AWSPREVIOUS to the version that loses it.
 */
static int sm_stage_attach(struct sm_call *c, const struct sm_secret *s, const char *stage,
	const char *version_id)
{
	char old[64];

	if (!strcmp(stage, "AWSCURRENT")) {
		if (sm_stage_holder(c, s, "AWSCURRENT", old, sizeof(old)) < 0)
			return -1;
		if (old[0] != '\0' && strcmp(old, version_id) != 0 &&
			sm_stage_set(c, s, "AWSPREVIOUS", old) < 0)
			return -1;
	}
	return sm_stage_set(c, s, stage, version_id);
}

/* The stages of one version, as a JSON array (new reference). */
static json_t *sm_version_stages(struct sm_call *c, const struct sm_secret *s,
	const char *version_id)
{
	json_t *arr = json_array();
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(c->db,
		    "SELECT stage FROM sm_stage WHERE secret_id = ? AND version_id = ? ORDER BY "
		    "stage",
		    -1, &st, NULL) != SQLITE_OK)
		return arr;
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_text(st, 2, version_id, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	return arr;
}

/* {version: [stages]} of the versions that have stages (new reference). */
static json_t *sm_versions_to_stages(struct sm_call *c, const struct sm_secret *s)
{
	json_t *o = json_object();
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(c->db,
		    "SELECT version_id, stage FROM sm_stage WHERE secret_id = ? ORDER BY "
		    "version_id, stage",
		    -1, &st, NULL) != SQLITE_OK)
		return o;
	sqlite3_bind_int64(st, 1, s->id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		json_t *arr = json_object_get(o, v);

		if (arr == NULL) {
			arr = json_array();
			json_object_set_new(o, v, arr);
		}
		json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 1)));
	}
	sqlite3_finalize(st);
	return o;
}

static int sm_stage_count(struct sm_call *c, const struct sm_secret *s, const char *version_id)
{
	json_t *a = sm_version_stages(c, s, version_id);
	int n = (int)json_array_size(a);

	json_decref(a);
	return n;
}

/* Tags: [{"Key","Value"}], validated; new reference or NULL after an error reply. */
static json_t *in_tags(struct sm_call *c, const char *member)
{
	json_t *t = json_object_get(c->in, member), *item;
	size_t i;

	if (t == NULL)
		return json_array();
	json_array_foreach(t, i, item) {
		json_t *k = json_object_get(item, "Key"), *v = json_object_get(item, "Value");

		if (!json_is_object(item) || !json_is_string(k) ||
			(v != NULL && !json_is_string(v))) {
			sm_bad(c, "InvalidParameterException",
				"each tag needs a string Key and a string Value");
			return NULL;
		}
	}
	return json_deep_copy(t);
}

/* Merge add into the secret's tags (same key: replaced) and store them. */
static int sm_tags_store(struct sm_call *c, const struct sm_secret *s, json_t *tags)
{
	sqlite3_stmt *st = NULL;
	char *text = json_dumps(tags, JSON_COMPACT);
	int rc;

	if (sqlite3_prepare_v2(c->db, "UPDATE sm_secret SET tags = ? WHERE id = ?", -1, &st,
		    NULL) != SQLITE_OK) {
		free(text);
		return sm_internal(c, "tags");
	}
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, s->id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	free(text);
	return rc == SQLITE_DONE ? 0 : sm_internal(c, "tags");
}

static void set_time(json_t *o, const char *key, double t)
{
	if (!isnan(t))
		json_object_set_new(o, key, json_real(t));
}

/* ARN, Name and the description fields common to DescribeSecret and ListSecrets. */
static json_t *sm_describe(struct sm_call *c, const struct sm_secret *s, const char *stages_key)
{
	json_t *o = json_object(), *tags;

	json_object_set_new(o, "ARN", json_string(s->arn));
	json_object_set_new(o, "Name", json_string(s->name));
	if (s->description != NULL)
		json_object_set_new(o, "Description", json_string(s->description));
	if (s->kms_key_id != NULL)
		json_object_set_new(o, "KmsKeyId", json_string(s->kms_key_id));
	json_object_set_new(o, "RotationEnabled", json_false());
	set_time(o, "LastChangedDate", s->last_changed);
	set_time(o, "LastAccessedDate", s->last_accessed);
	set_time(o, "DeletedDate", s->deleted);
	tags = json_loads(s->tags ? s->tags : "[]", 0, NULL);
	if (json_array_size(tags) > 0)
		json_object_set_new(o, "Tags", tags);
	else
		json_decref(tags);
	json_object_set_new(o, stages_key, sm_versions_to_stages(c, s));
	set_time(o, "CreatedDate", s->created);
	return o;
}

static void out_ids(struct sm_call *c, const struct sm_secret *s)
{
	json_object_set_new(c->out, "ARN", json_string(s->arn));
	json_object_set_new(c->out, "Name", json_string(s->name));
}

/* The random 6-character suffix AWS gives every secret's ARN. */
static void sm_arn_suffix(char out[7])
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[6];
	int i;

	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0, sizeof(r));
	for (i = 0; i < 6; i++)
		out[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
	out[6] = '\0';
}

/*
 * A retried call (same ClientRequestToken): 1 when the version exists with
 * the same value (the call is answered as before), -1 after an error reply
 * when it exists with another value, 0 when it does not exist.
 */
static int sm_same_version(struct sm_call *c, const struct sm_secret *s, const char *version_id,
	int binary, const struct buf *value)
{
	struct buf old = BUF_INIT;
	int old_binary = 0, found, same;

	buf_init(&old);
	found = sm_version_get(c, s, version_id, &old_binary, &old, NULL);
	if (found <= 0) {
		buf_release_secret(&old);
		return found;
	}
	same = old_binary == binary && old.len == value->len &&
	       CRYPTO_memcmp(old.data, value->data, value->len) == 0;
	buf_release_secret(&old);
	if (!same)
		return sm_bad(c, "ResourceExistsException",
			"You can't modify an existing version, you can only create a new version.");
	return 1;
}

static int create_secret(struct sm_call *c)
{
	const char *name, *token, *desc, *kms;
	struct sm_secret s;
	struct buf value = BUF_INIT;
	sqlite3_stmt *st = NULL;
	json_t *tags = NULL;
	char suffix[7], version_id[72];
	char *arn = NULL, *tags_text = NULL;
	int has_value, binary, found, ret = -1;

	memset(&s, 0, sizeof(s));
	buf_init(&value);
	if (in_string(c, "Name", 1, &name) < 0 || in_string(c, "ClientRequestToken", 0, &token) < 0 ||
		in_string(c, "Description", 0, &desc) < 0 || in_string(c, "KmsKeyId", 0, &kms) < 0 ||
		in_value(c, &has_value, &binary, &value) < 0)
		goto out;
	if (!sm_name_valid(name)) {
		sm_bad(c, "InvalidParameterException",
			"Invalid name '%s'. Must be a valid name containing alphanumeric characters, "
			"or any of the following: -/_+=.@!",
			name);
		goto out;
	}
	if (token != NULL && !sm_token_valid(token)) {
		sm_bad(c, "InvalidParameterException",
			"ClientRequestToken must be 32 to 64 characters long");
		goto out;
	}
	if (json_object_get(c->in, "AddReplicaRegions") != NULL) {
		sm_bad(c, "InvalidParameterException",
			"the local cloud has one region per secret: AddReplicaRegions is not "
			"supported");
		goto out;
	}
	tags = in_tags(c, "Tags");
	if (tags == NULL)
		goto out;
	found = sm_lookup(c->db, "region = ?1 AND name = ?2", c->req->region, name, &s);
	if (found < 0) {
		sm_internal(c, "lookup");
		goto out;
	}
	if (found) {
		if (!isnan(s.deleted)) {
			sm_bad(c, "InvalidRequestException",
				"You can't create this secret because a secret with this name is "
				"already scheduled for deletion.");
			goto out;
		}
		if (token != NULL && has_value) {
			int same = sm_same_version(c, &s, token, binary, &value);

			if (same < 0)
				goto out;
			if (same > 0) {
				out_ids(c, &s);
				json_object_set_new(c->out, "VersionId", json_string(token));
				ret = 0;
				goto out;
			}
		}
		sm_bad(c, "ResourceExistsException",
			"The operation failed because the secret %s already exists.", name);
		goto out;
	}
	sm_arn_suffix(suffix);
	arn = xasprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", c->req->region,
		LOCALCLOUD_ACCOUNT_ID, name, suffix);
	tags_text = json_dumps(tags, JSON_COMPACT);
	if (sqlite3_prepare_v2(c->db,
		    "INSERT INTO sm_secret (region, name, arn, description, kms_key_id, tags, "
		    "created, last_changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		    -1, &st, NULL) != SQLITE_OK) {
		sm_internal(c, "create");
		goto out;
	}
	sqlite3_bind_text(st, 1, c->req->region, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, arn, -1, SQLITE_TRANSIENT);
	if (desc != NULL)
		sqlite3_bind_text(st, 4, desc, -1, SQLITE_TRANSIENT);
	if (kms != NULL)
		sqlite3_bind_text(st, 5, kms, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, tags_text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 7, c->now);
	sqlite3_bind_double(st, 8, c->now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sm_internal(c, "create");
		goto out;
	}
	s.id = sqlite3_last_insert_rowid(c->db);
	s.arn = arn;
	s.name = xstrdup(name);
	arn = NULL;
	out_ids(c, &s);
	if (has_value) {
		if (token != NULL)
			snprintf(version_id, sizeof(version_id), "%s", token);
		else
			sm_uuid(version_id);
		if (sm_version_add(c, &s, version_id, binary, &value) < 0 ||
			sm_stage_attach(c, &s, "AWSCURRENT", version_id) < 0)
			goto out;
		json_object_set_new(c->out, "VersionId", json_string(version_id));
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	sm_secret_release(&s);
	buf_release_secret(&value);
	json_decref(tags);
	free(arn);
	free(tags_text);
	return ret;
}

/*
 * A new version (PutSecretValue, UpdateSecret): value from the call,
 * version id from ClientRequestToken (idempotent) or new, stages from
 * VersionStages (default AWSCURRENT).
 */
static int sm_new_version(struct sm_call *c, const struct sm_secret *s, json_t *stages,
	int with_stages_reply)
{
	struct buf value = BUF_INIT;
	const char *token;
	char version_id[72];
	int has_value, binary, same, ret = -1;
	size_t i;
	json_t *v;

	buf_init(&value);
	if (in_string(c, "ClientRequestToken", 0, &token) < 0 ||
		in_value(c, &has_value, &binary, &value) < 0)
		goto out;
	if (!has_value) {
		sm_bad(c, "InvalidRequestException",
			"You must provide either SecretString or SecretBinary.");
		goto out;
	}
	if (token != NULL && !sm_token_valid(token)) {
		sm_bad(c, "InvalidParameterException",
			"ClientRequestToken must be 32 to 64 characters long");
		goto out;
	}
	if (token != NULL) {
		snprintf(version_id, sizeof(version_id), "%s", token);
		same = sm_same_version(c, s, version_id, binary, &value);
		if (same < 0)
			goto out;
		if (same > 0) {
			/* a retry: answer as the first call did */
			out_ids(c, s);
			json_object_set_new(c->out, "VersionId", json_string(version_id));
			if (with_stages_reply)
				json_object_set_new(c->out, "VersionStages",
					sm_version_stages(c, s, version_id));
			ret = 0;
			goto out;
		}
	} else {
		sm_uuid(version_id);
	}
	if (sm_version_add(c, s, version_id, binary, &value) < 0)
		goto out;
	json_array_foreach(stages, i, v) {
		if (sm_stage_attach(c, s, json_string_value(v), version_id) < 0)
			goto out;
	}
	if (sm_touch(c, s) < 0)
		goto out;
	out_ids(c, s);
	json_object_set_new(c->out, "VersionId", json_string(version_id));
	if (with_stages_reply)
		json_object_set_new(c->out, "VersionStages", sm_version_stages(c, s, version_id));
	ret = 0;
out:
	buf_release_secret(&value);
	return ret;
}

/* VersionStages of a call: a list of 1 to 20 labels; default [AWSCURRENT]. */
static json_t *in_stages(struct sm_call *c)
{
	json_t *t = json_object_get(c->in, "VersionStages"), *v;
	size_t i;

	if (t == NULL)
		return json_pack("[s]", "AWSCURRENT");
	if (json_array_size(t) < 1 || json_array_size(t) > SM_MAX_STAGES_PER_VERSION) {
		sm_bad(c, "InvalidParameterException",
			"VersionStages must have between 1 and %d labels", SM_MAX_STAGES_PER_VERSION);
		return NULL;
	}
	json_array_foreach(t, i, v) {
		if (!json_is_string(v) || json_string_length(v) < 1 ||
			json_string_length(v) > 256) {
			sm_bad(c, "InvalidParameterException",
				"each staging label must be a string of 1 to 256 characters");
			return NULL;
		}
	}
	return json_incref(t);
}

static int put_secret_value(struct sm_call *c)
{
	struct sm_secret s;
	const char *id;
	json_t *stages = NULL;
	int ret = -1;

	memset(&s, 0, sizeof(s));
	if (in_string(c, "SecretId", 1, &id) < 0)
		goto out;
	stages = in_stages(c);
	if (stages == NULL || sm_find_live(c, id, &s) < 0)
		goto out;
	ret = sm_new_version(c, &s, stages, 1);
out:
	json_decref(stages);
	sm_secret_release(&s);
	return ret;
}

static int update_secret(struct sm_call *c)
{
	struct sm_secret s;
	const char *id, *desc, *kms, *str, *bin;
	sqlite3_stmt *st = NULL;
	json_t *stages = NULL;
	int ret = -1;

	memset(&s, 0, sizeof(s));
	if (in_string(c, "SecretId", 1, &id) < 0 || in_string(c, "Description", 0, &desc) < 0 ||
		in_string(c, "KmsKeyId", 0, &kms) < 0 || in_string(c, "SecretString", 0, &str) < 0 ||
		in_string(c, "SecretBinary", 0, &bin) < 0 || sm_find_live(c, id, &s) < 0)
		goto out;
	if (desc != NULL || kms != NULL) {
		if (sqlite3_prepare_v2(c->db,
			    "UPDATE sm_secret SET description = coalesce(?, description), "
			    "kms_key_id = coalesce(?, kms_key_id) WHERE id = ?",
			    -1, &st, NULL) != SQLITE_OK) {
			sm_internal(c, "update");
			goto out;
		}
		if (desc != NULL)
			sqlite3_bind_text(st, 1, desc, -1, SQLITE_TRANSIENT);
		if (kms != NULL)
			sqlite3_bind_text(st, 2, kms, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, s.id);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sm_internal(c, "update");
			goto out;
		}
	}
	if (str != NULL || bin != NULL) {
		stages = json_pack("[s]", "AWSCURRENT");
		ret = sm_new_version(c, &s, stages, 0);
		goto out;
	}
	if (sm_touch(c, &s) < 0)
		goto out;
	out_ids(c, &s);
	ret = 0;
out:
	sqlite3_finalize(st);
	json_decref(stages);
	sm_secret_release(&s);
	return ret;
}

static int get_secret_value(struct sm_call *c)
{
	struct sm_secret s;
	struct buf value = BUF_INIT;
	const char *id, *version, *stage;
	sqlite3_stmt *st = NULL;
	char holder[64];
	double created = 0, today;
	int binary = 0, found, ret = -1;
	json_t *stages = NULL;

	memset(&s, 0, sizeof(s));
	buf_init(&value);
	if (in_string(c, "SecretId", 1, &id) < 0 || in_string(c, "VersionId", 0, &version) < 0 ||
		in_string(c, "VersionStage", 0, &stage) < 0 || sm_find_live(c, id, &s) < 0)
		goto out;
	if (version == NULL) {
		if (stage == NULL)
			stage = "AWSCURRENT";
		if (sm_stage_holder(c, &s, stage, holder, sizeof(holder)) < 0)
			goto out;
		if (holder[0] == '\0') {
			sm_bad(c, "ResourceNotFoundException",
				"Secrets Manager can't find the specified secret value for staging "
				"label: %s",
				stage);
			goto out;
		}
		version = holder;
	}
	found = sm_version_get(c, &s, version, &binary, &value, &created);
	if (found < 0)
		goto out;
	if (found == 0) {
		sm_bad(c, "ResourceNotFoundException",
			"Secrets Manager can't find the specified secret value for VersionId: %s",
			version);
		goto out;
	}
	stages = sm_version_stages(c, &s, version);
	if (stage != NULL) {
		size_t i;
		json_t *v;
		int has = 0;

		json_array_foreach(stages, i, v) has |= !strcmp(json_string_value(v), stage);
		if (!has) {
			sm_bad(c, "ResourceNotFoundException",
				"Secrets Manager can't find the specified secret value for staging "
				"label: %s",
				stage);
			goto out;
		}
	}
	/* AWS keeps the date of the last access, not the time: one write per day */
	today = floor(c->now / SM_DAY) * SM_DAY;
	if (isnan(s.last_accessed) || s.last_accessed != today) {
		if (sqlite3_prepare_v2(c->db,
			    "UPDATE sm_secret SET last_accessed = ?1 WHERE id = ?2;", -1, &st,
			    NULL) != SQLITE_OK) {
			sm_internal(c, "access");
			goto out;
		}
		sqlite3_bind_double(st, 1, today);
		sqlite3_bind_int64(st, 2, s.id);
		sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
	}
	out_ids(c, &s);
	json_object_set_new(c->out, "VersionId", json_string(version));
	if (binary) {
		/* the bytes: the codec writes them in base64 */
		json_object_set_new(c->out, "SecretBinary",
			json_stringn_nocheck(value.data, value.len));
	} else {
		json_t *str = json_stringn(value.data, value.len);

		if (str == NULL) {
			sm_bad(c, "InternalServiceError", "the stored value is not UTF-8");
			goto out;
		}
		json_object_set_new(c->out, "SecretString", str);
	}
	json_object_set_new(c->out, "VersionStages", stages);
	stages = NULL;
	json_object_set_new(c->out, "CreatedDate", json_real(created));
	ret = 0;
out:
	sqlite3_finalize(st);
	json_decref(stages);
	buf_release_secret(&value);
	sm_secret_release(&s);
	return ret;
}

static int describe_secret(struct sm_call *c)
{
	struct sm_secret s;
	const char *id;
	int ret = -1;

	memset(&s, 0, sizeof(s));
	if (in_string(c, "SecretId", 1, &id) < 0 || sm_find(c, id, &s) < 0)
		goto out;
	json_decref(c->out);
	c->out = sm_describe(c, &s, "VersionIdsToStages");
	ret = 0;
out:
	sm_secret_release(&s);
	return ret;
}

/* Case-(in)sensitive prefix test. */
static int has_prefix(const char *s, const char *prefix, int nocase)
{
	size_t n = strlen(prefix);

	if (s == NULL)
		return 0;
	return nocase ? strncasecmp(s, prefix, n) == 0 : strncmp(s, prefix, n) == 0;
}

/* For the "all" filter: does some word of text start with word (no case)? */
static int any_word_prefix(const char *text, const char *word)
{
	const char *p = text;

	if (text == NULL)
		return 0;
	if (has_prefix(text, word, 1))
		return 1;
	while (*p) {
		if (strchr(" /_+=.@-:", *p) != NULL && has_prefix(p + 1, word, 1))
			return 1;
		p++;
	}
	return 0;
}

/* Does one filter value (without its '!') match the secret under key? */
static int filter_value_matches(const struct sm_secret *s, const char *region, json_t *tags,
	const char *key, const char *value)
{
	size_t i;
	json_t *t;

	if (!strcmp(key, "name"))
		return has_prefix(s->name, value, 0);
	if (!strcmp(key, "description"))
		return has_prefix(s->description, value, 1);
	if (!strcmp(key, "primary-region"))
		return has_prefix(region, value, 0);
	if (!strcmp(key, "owning-service"))
		return 0; /* no secret here is managed by another service */
	if (!strcmp(key, "tag-key") || !strcmp(key, "tag-value")) {
		const char *member = !strcmp(key, "tag-key") ? "Key" : "Value";

		json_array_foreach(tags, i, t) {
			if (has_prefix(json_string_value(json_object_get(t, member)), value, 0))
				return 1;
		}
		return 0;
	}
	if (!strcmp(key, "all")) {
		/* every word of the value must match some attribute */
		char *copy = xstrdup(value), *save = NULL, *w;
		int all = 1;

		for (w = strtok_r(copy, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
			int hit = any_word_prefix(s->name, w) || any_word_prefix(s->description, w) ||
				  any_word_prefix(region, w);

			json_array_foreach(tags, i, t) {
				hit |= any_word_prefix(json_string_value(json_object_get(t, "Key")),
					w);
				hit |= any_word_prefix(
					json_string_value(json_object_get(t, "Value")), w);
			}
			if (!hit)
				all = 0;
		}
		free(copy);
		return all;
	}
	return 0;
}

/*
 * Filters are ANDed; the values of one filter are ORed, and a value
 * starting with '!' excludes what it matches.
 */
static int filters_match(const struct sm_secret *s, const char *region, json_t *filters)
{
	json_t *tags = json_loads(s->tags ? s->tags : "[]", 0, NULL), *f, *v;
	size_t i, j;
	int ok = 1;

	json_array_foreach(filters, i, f) {
		const char *key = json_string_value(json_object_get(f, "Key"));
		int positives = 0, hit = 0, excluded = 0;

		json_array_foreach(json_object_get(f, "Values"), j, v) {
			const char *val = json_string_value(v);

			if (val[0] == '!') {
				excluded |= filter_value_matches(s, region, tags, key, val + 1);
			} else {
				positives++;
				hit |= filter_value_matches(s, region, tags, key, val);
			}
		}
		if (excluded || (positives > 0 && !hit)) {
			ok = 0;
			break;
		}
	}
	json_decref(tags);
	return ok;
}

static int in_filters(struct sm_call *c, json_t **out)
{
	static const char *const keys[] = { "description", "name", "tag-key", "tag-value",
		"primary-region", "owning-service", "all" };
	json_t *f = json_object_get(c->in, "Filters"), *item, *v;
	size_t i, j, k;

	*out = f;
	if (f == NULL)
		return 0;
	json_array_foreach(f, i, item) {
		const char *key = json_string_value(json_object_get(item, "Key"));
		json_t *values = json_object_get(item, "Values");
		int known = 0;

		for (k = 0; key != NULL && k < ARRAY_SIZE(keys); k++)
			known |= !strcmp(key, keys[k]);
		if (!known)
			return sm_bad(c, "ValidationException",
				"1 validation error detected: Value '%s' at 'filters.%zu.member.key' "
				"failed to satisfy constraint: Member must satisfy enum value set: "
				"[description, name, tag-key, tag-value, primary-region, "
				"owning-service, all]",
				key ? key : "null", i + 1);
		if (!json_is_array(values) || json_array_size(values) < 1 ||
			json_array_size(values) > 10)
			return sm_bad(c, "InvalidParameterException",
				"each filter needs 1 to 10 Values");
		json_array_foreach(values, j, v) {
			if (!json_is_string(v) || json_string_length(v) < 1)
				return sm_bad(c, "InvalidParameterException",
					"filter values must be non-empty strings");
		}
	}
	return 0;
}

/* NextToken: base64 of the offset into the ordered result. */
static void token_make(long long offset, json_t *out)
{
	char text[32];
	struct buf b = BUF_INIT;

	buf_init(&b);
	snprintf(text, sizeof(text), "offset:%lld", offset);
	aws_base64_encode(text, strlen(text), &b);
	json_object_set_new(out, "NextToken", json_string(b.data));
	buf_release(&b);
}

static int token_read(struct sm_call *c, long long *offset)
{
	struct buf b = BUF_INIT;
	const char *t;
	char *end = NULL;
	int ret = -1;

	*offset = 0;
	buf_init(&b);
	if (in_string(c, "NextToken", 0, &t) < 0)
		goto out;
	if (t == NULL) {
		ret = 0;
		goto out;
	}
	if (aws_base64_decode(t, strlen(t), &b) < 0 || strncmp(buf_str(&b), "offset:", 7) != 0)
		goto bad;
	*offset = strtoll(b.data + 7, &end, 10);
	if (end == b.data + 7 || *end != '\0' || *offset < 0)
		goto bad;
	ret = 0;
	goto out;
bad:
	sm_bad(c, "InvalidNextTokenException", "The NextToken value is invalid.");
out:
	buf_release(&b);
	return ret;
}

static int in_max_results(struct sm_call *c, long long *max)
{
	int present;

	*max = 100;
	in_int(c, "MaxResults", max, &present);
	if (present && (*max < 1 || *max > 100))
		return sm_bad(c, "InvalidParameterException",
			"MaxResults must be between 1 and 100");
	return 0;
}

static int list_secrets(struct sm_call *c)
{
	const char *order, *sort_by;
	json_t *filters = NULL, *list = json_array();
	sqlite3_stmt *st = NULL;
	long long max, offset, matched = 0;
	int include_deleted, ret = -1;
	const char *column = "created";
	char *sql = NULL;

	in_bool(c, "IncludePlannedDeletion", &include_deleted);
	if (in_string(c, "SortOrder", 0, &order) < 0 || in_string(c, "SortBy", 0, &sort_by) < 0 ||
		in_filters(c, &filters) < 0 || in_max_results(c, &max) < 0 ||
		token_read(c, &offset) < 0)
		goto out;
	if (order != NULL && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
		sm_bad(c, "InvalidParameterException", "SortOrder must be 'asc' or 'desc'");
		goto out;
	}
	if (sort_by != NULL) {
		if (!strcmp(sort_by, "created-date"))
			column = "created";
		else if (!strcmp(sort_by, "last-accessed-date"))
			column = "last_accessed";
		else if (!strcmp(sort_by, "last-changed-date"))
			column = "last_changed";
		else if (!strcmp(sort_by, "name"))
			column = "name";
		else {
			sm_bad(c, "InvalidParameterException",
				"SortBy must be created-date, last-accessed-date, "
				"last-changed-date or name");
			goto out;
		}
	}
	sql = xasprintf("SELECT " SM_SECRET_COLUMNS " FROM sm_secret WHERE region = ?1 %s "
			"ORDER BY %s %s, id %s",
		include_deleted ? "" : "AND deleted IS NULL", column,
		order && !strcmp(order, "desc") ? "DESC" : "ASC",
		order && !strcmp(order, "desc") ? "DESC" : "ASC");
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sm_internal(c, "list");
		goto out;
	}
	sqlite3_bind_text(st, 1, c->req->region, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct sm_secret s;

		memset(&s, 0, sizeof(s));
		sm_secret_read(st, &s);
		if (filters == NULL || filters_match(&s, c->req->region, filters)) {
			if (matched >= offset && matched < offset + max)
				json_array_append_new(list, sm_describe(c, &s, "SecretVersionsToStages"));
			matched++;
		}
		sm_secret_release(&s);
	}
	json_object_set(c->out, "SecretList", list);
	if (matched > offset + max)
		token_make(offset + max, c->out);
	ret = 0;
out:
	free(sql);
	sqlite3_finalize(st);
	json_decref(list);
	return ret;
}

static int list_secret_version_ids(struct sm_call *c)
{
	struct sm_secret s;
	const char *id;
	json_t *list = json_array();
	sqlite3_stmt *st = NULL;
	long long max, offset, matched = 0;
	int deprecated, ret = -1;

	memset(&s, 0, sizeof(s));
	in_bool(c, "IncludeDeprecated", &deprecated);
	if (in_string(c, "SecretId", 1, &id) < 0 || in_max_results(c, &max) < 0 || token_read(c, &offset) < 0 || sm_find(c, id, &s) < 0)
		goto out;
	if (sqlite3_prepare_v2(c->db,
		    "SELECT version_id, created, last_accessed FROM sm_version WHERE secret_id = ? "
		    "ORDER BY created DESC, version_id",
		    -1, &st, NULL) != SQLITE_OK) {
		sm_internal(c, "versions");
		goto out;
	}
	sqlite3_bind_int64(st, 1, s.id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		json_t *stages = sm_version_stages(c, &s, v), *o;

		if (json_array_size(stages) == 0 && !deprecated) {
			json_decref(stages);
			continue;
		}
		if (matched >= offset && matched < offset + max) {
			o = json_pack("{s:s, s:o, s:f}", "VersionId", v, "VersionStages", stages,
				"CreatedDate", sqlite3_column_double(st, 1));
			json_array_append_new(list, o);
		} else {
			json_decref(stages);
		}
		matched++;
	}
	json_object_set(c->out, "Versions", list);
	if (matched > offset + max)
		token_make(offset + max, c->out);
	out_ids(c, &s);
	ret = 0;
out:
	sqlite3_finalize(st);
	json_decref(list);
	sm_secret_release(&s);
	return ret;
}

static int update_secret_version_stage(struct sm_call *c)
{
	struct sm_secret s;
	const char *id, *stage, *from, *to;
	char holder[64];
	int found, ret = -1;

	memset(&s, 0, sizeof(s));
	if (in_string(c, "SecretId", 1, &id) < 0 || in_string(c, "VersionStage", 1, &stage) < 0 ||
		in_string(c, "RemoveFromVersionId", 0, &from) < 0 ||
		in_string(c, "MoveToVersionId", 0, &to) < 0 || sm_find_live(c, id, &s) < 0)
		goto out;
	if (from == NULL && to == NULL) {
		sm_bad(c, "InvalidParameterException",
			"You must specify MoveToVersionId, RemoveFromVersionId or both.");
		goto out;
	}
	if (sm_stage_holder(c, &s, stage, holder, sizeof(holder)) < 0)
		goto out;
	if (from != NULL && strcmp(holder, from) != 0) {
		sm_bad(c, "InvalidParameterException",
			"The staging label %s is not attached to version %s, so it can't be removed "
			"from it.",
			stage, from);
		goto out;
	}
	if (to == NULL) {
		if (!strcmp(stage, "AWSCURRENT")) {
			sm_bad(c, "InvalidParameterException",
				"You can only move staging label AWSCURRENT to a different secret "
				"version. It can't be completely removed.");
			goto out;
		}
		if (sm_stage_set(c, &s, stage, NULL) < 0)
			goto out;
	} else {
		found = sm_version_get(c, &s, to, NULL, NULL, NULL);
		if (found < 0)
			goto out;
		if (found == 0) {
			sm_bad(c, "ResourceNotFoundException",
				"Secrets Manager can't find the specified secret version: %s", to);
			goto out;
		}
		if (holder[0] != '\0' && strcmp(holder, to) != 0 && from == NULL) {
			sm_bad(c, "InvalidParameterException",
				"The parameter RemoveFromVersionId can't be empty. Staging label %s "
				"is currently attached to version %s, so you must explicitly "
				"reference that version in RemoveFromVersionId.",
				stage, holder);
			goto out;
		}
		if (strcmp(holder, to) != 0 &&
			sm_stage_count(c, &s, to) >= SM_MAX_STAGES_PER_VERSION) {
			sm_bad(c, "LimitExceededException",
				"A version can have at most %d staging labels.",
				SM_MAX_STAGES_PER_VERSION);
			goto out;
		}
		if (sm_stage_attach(c, &s, stage, to) < 0)
			goto out;
	}
	if (sm_touch(c, &s) < 0)
		goto out;
	out_ids(c, &s);
	ret = 0;
out:
	sm_secret_release(&s);
	return ret;
}

static int delete_secret(struct sm_call *c)
{
	struct sm_secret s;
	const char *id;
	sqlite3_stmt *st = NULL;
	long long days = 30;
	int force, has_days, ret = -1;
	double when;

	memset(&s, 0, sizeof(s));
	in_bool(c, "ForceDeleteWithoutRecovery", &force);
	in_int(c, "RecoveryWindowInDays", &days, &has_days);
	if (in_string(c, "SecretId", 1, &id) < 0)
		goto out;
	if (force && has_days) {
		sm_bad(c, "InvalidParameterException",
			"You can't use ForceDeleteWithoutRecovery in conjunction with "
			"RecoveryWindowInDays.");
		goto out;
	}
	if (!has_days)
		days = 30;
	if (days < 7 || days > 30) {
		sm_bad(c, "InvalidParameterException",
			"The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
		goto out;
	}
	if (sm_find(c, id, &s) < 0)
		goto out;
	if (!force && !isnan(s.deleted)) {
		sm_bad(c, "InvalidRequestException",
			"You can't perform this operation on the secret because it was already "
			"scheduled for deletion.");
		goto out;
	}
	if (force) {
		when = c->now;
		if (sqlite3_prepare_v2(c->db, "DELETE FROM sm_secret WHERE id = ?", -1, &st,
			    NULL) != SQLITE_OK) {
			sm_internal(c, "delete");
			goto out;
		}
		sqlite3_bind_int64(st, 1, s.id);
	} else {
		when = c->now + (double)days * SM_DAY;
		if (sqlite3_prepare_v2(c->db,
			    "UPDATE sm_secret SET deleted = ?, deletion_date = ?, last_changed = ? "
			    "WHERE id = ?",
			    -1, &st, NULL) != SQLITE_OK) {
			sm_internal(c, "delete");
			goto out;
		}
		sqlite3_bind_double(st, 1, c->now);
		sqlite3_bind_double(st, 2, when);
		sqlite3_bind_double(st, 3, c->now);
		sqlite3_bind_int64(st, 4, s.id);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		sm_internal(c, "delete");
		goto out;
	}
	out_ids(c, &s);
	json_object_set_new(c->out, "DeletionDate", json_real(when));
	ret = 0;
out:
	sqlite3_finalize(st);
	sm_secret_release(&s);
	return ret;
}

static int restore_secret(struct sm_call *c)
{
	struct sm_secret s;
	const char *id;
	sqlite3_stmt *st = NULL;
	int ret = -1;

	memset(&s, 0, sizeof(s));
	if (in_string(c, "SecretId", 1, &id) < 0 || sm_find(c, id, &s) < 0)
		goto out;
	if (sqlite3_prepare_v2(c->db,
		    "UPDATE sm_secret SET deleted = NULL, deletion_date = NULL, last_changed = ? "
		    "WHERE id = ?",
		    -1, &st, NULL) != SQLITE_OK) {
		sm_internal(c, "restore");
		goto out;
	}
	sqlite3_bind_double(st, 1, c->now);
	sqlite3_bind_int64(st, 2, s.id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sm_internal(c, "restore");
		goto out;
	}
	out_ids(c, &s);
	ret = 0;
out:
	sqlite3_finalize(st);
	sm_secret_release(&s);
	return ret;
}

static int tag_resource(struct sm_call *c)
{
	struct sm_secret s;
	const char *id;
	json_t *add = NULL, *tags = NULL, *t, *u;
	size_t i, j;
	int ret = -1;

	memset(&s, 0, sizeof(s));
	if (in_string(c, "SecretId", 1, &id) < 0)
		goto out;
	add = in_tags(c, "Tags");
	if (add == NULL || sm_find(c, id, &s) < 0)
		goto out;
	tags = json_loads(s.tags ? s.tags : "[]", 0, NULL);
	if (!json_is_array(tags)) {
		json_decref(tags);
		tags = json_array();
	}
	json_array_foreach(add, i, t) {
		const char *key = json_string_value(json_object_get(t, "Key"));

		for (j = 0; j < json_array_size(tags); j++) {
			u = json_array_get(tags, j);
			if (!strcmp(json_string_value(json_object_get(u, "Key")), key)) {
				json_array_remove(tags, j);
				break;
			}
		}
		json_array_append(tags, t);
	}
	if (sm_tags_store(c, &s, tags) < 0 || sm_touch(c, &s) < 0)
		goto out;
	ret = 0;
out:
	json_decref(add);
	json_decref(tags);
	sm_secret_release(&s);
	return ret;
}

static int untag_resource(struct sm_call *c)
{
	struct sm_secret s;
	const char *id;
	json_t *keys, *tags = NULL, *k;
	size_t i, j;
	int ret = -1;

	memset(&s, 0, sizeof(s));
	if (in_string(c, "SecretId", 1, &id) < 0)
		goto out;
	keys = json_object_get(c->in, "TagKeys");
	if (keys == NULL) {
		sm_bad(c, "InvalidParameterException", "TagKeys must be a list of strings");
		goto out;
	}
	if (sm_find(c, id, &s) < 0)
		goto out;
	tags = json_loads(s.tags ? s.tags : "[]", 0, NULL);
	json_array_foreach(keys, i, k) {
		for (j = 0; j < json_array_size(tags); j++) {
			const char *key =
				json_string_value(json_object_get(json_array_get(tags, j), "Key"));

			if (json_is_string(k) && key != NULL && !strcmp(key, json_string_value(k))) {
				json_array_remove(tags, j);
				break;
			}
		}
	}
	if (sm_tags_store(c, &s, tags) < 0 || sm_touch(c, &s) < 0)
		goto out;
	ret = 0;
out:
	json_decref(tags);
	sm_secret_release(&s);
	return ret;
}

/* The typed handlers of the routes (router.c), one per operation. */
#define SM_HANDLER(op)                                                                             \
	int sm_##op(struct lc_request *req, const json_t *in, json_t **out,                        \
		struct codec_error *err)                                                           \
	{                                                                                          \
		return sm_run(req, in, out, err, op);                                              \
	}

SM_HANDLER(create_secret)
SM_HANDLER(put_secret_value)
SM_HANDLER(get_secret_value)
SM_HANDLER(describe_secret)
SM_HANDLER(list_secrets)
SM_HANDLER(list_secret_version_ids)
SM_HANDLER(update_secret)
SM_HANDLER(update_secret_version_stage)
SM_HANDLER(delete_secret)
SM_HANDLER(restore_secret)
SM_HANDLER(tag_resource)
SM_HANDLER(untag_resource)
