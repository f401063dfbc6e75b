/*
 * auth.c: SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677) as MongoDB
 * speaks them over saslStart/saslContinue and hello's
 * speculativeAuthenticate, and the user commands.
 *
 * A user row keeps, per mechanism, "iterations$salt$StoredKey$ServerKey"
 * (base64): never the password.  SCRAM-SHA-1's password is MongoDB's
 * digest hex(MD5(user ":mongo:" password)); SCRAM-SHA-256's is the
 * password itself (ASCII; SASLprep of other characters is not done, so
 * createUser refuses them).  Every buffer that held a password or a key
 * is wiped before it is freed.
 */
#include "compat.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "cmd.h"
#include "store.h"

struct scram_state {
	const EVP_MD *md;
	size_t hlen;
	char *db, *user;
	char *client_first_bare, *server_first, *nonce;
	unsigned char stored_key[EVP_MAX_MD_SIZE], server_key[EVP_MAX_MD_SIZE];
	bson_t *roles;		/* heap: bson_t needs 128-byte alignment */
	bool skip_empty;
	int step;		/* 1: server-first sent; 2: server-final sent, awaiting the empty exchange */
};

static void scram_free(struct scram_state *s)
{
	if (s == NULL)
		return;
	free(s->db);
	free(s->user);
	free(s->client_first_bare);
	free(s->server_first);
	free(s->nonce);
	if (s->roles)
		bson_destroy(s->roles);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

void auth_conn_release(struct docdb_conn *c)
{
	scram_free(c->scram);
	c->scram = NULL;
	for (size_t i = 0; i < c->nusers; i++) {
		free(c->users[i].db);
		free(c->users[i].name);
		bson_destroy(c->users[i].roles);
	}
	free(c->users);
	c->users = NULL;
	c->nusers = 0;
}

static char *b64(const unsigned char *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* Decode base64 s into out (cap bytes); the length, or -1. */
static int unb64(const char *s, unsigned char *out, size_t cap)
{
	size_t n = strlen(s);
	int len, pad = 0;
	unsigned char *tmp;

	if (n % 4 != 0 || n / 4 * 3 > cap + 2)
		return -1;
	tmp = xmalloc(n / 4 * 3 + 1);
	len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (n >= 2 && s[n - 2] == '=')
		pad++;
	if (len < 0 || (size_t)(len - pad) > cap) {
		free(tmp);
		return -1;
	}
	len -= pad;
	memcpy(out, tmp, (size_t)len);
	OPENSSL_cleanse(tmp, n / 4 * 3 + 1);
	free(tmp);
	return len;
}

static const EVP_MD *mech_md(const char *mech)
{
	if (strcmp(mech, "SCRAM-SHA-1") == 0)
		return EVP_sha1();
	if (strcmp(mech, "SCRAM-SHA-256") == 0)
		return EVP_sha256();
	return NULL;
}

/* The SCRAM password input for mech: MongoDB's digest for SHA-1. */
static char *scram_password(const char *mech, const char *user, const char *pwd)
{
	if (strcmp(mech, "SCRAM-SHA-1") == 0) {
		unsigned char d[16];
		char *in = xasprintf("%s:mongo:%s", user, pwd), *hex = xmalloc(33);
		unsigned int dl = 0;

		EVP_Digest(in, strlen(in), d, &dl, EVP_md5(), NULL);
		for (int i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", d[i]);
		OPENSSL_cleanse(in, strlen(in));
		free(in);
		OPENSSL_cleanse(d, sizeof(d));
		return hex;
	}
	return xstrdup(pwd);
}

/* "iterations$salt$StoredKey$ServerKey" for a new random salt. */
static char *scram_credentials(const char *mech, const char *user, const char *pwd)
{
	const EVP_MD *md = mech_md(mech);
	size_t hlen = (size_t)EVP_MD_size(md), saltlen = md == EVP_sha1() ? 16 : 28;
	int iter = md == EVP_sha1() ? 10000 : 15000;
	unsigned char salt[28], salted[EVP_MAX_MD_SIZE], ck[EVP_MAX_MD_SIZE], sk[EVP_MAX_MD_SIZE], st[EVP_MAX_MD_SIZE];
	unsigned int l;
	char *pw = scram_password(mech, user, pwd), *s1, *s2, *s3, *out;

	RAND_bytes(salt, (int)saltlen);
	PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, (int)saltlen, iter, md, (int)hlen, salted);
	HMAC(md, salted, (int)hlen, (const unsigned char *)"Client Key", 10, ck, &l);
	HMAC(md, salted, (int)hlen, (const unsigned char *)"Server Key", 10, sk, &l);
	EVP_Digest(ck, hlen, st, &l, md, NULL);
	s1 = b64(salt, saltlen);
	s2 = b64(st, hlen);
	s3 = b64(sk, hlen);
	out = xasprintf("%d$%s$%s$%s", iter, s1, s2, s3);
	free(s1);
	free(s2);
	free(s3);
	OPENSSL_cleanse(pw, strlen(pw));
	free(pw);
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(ck, sizeof(ck));
	OPENSSL_cleanse(sk, sizeof(sk));
	return out;
}

/* ---- users in the catalog ---- */

struct user_row {
	bson_t roles;
	char *cred[2];		/* SCRAM-SHA-1, SCRAM-SHA-256; NULL when absent */
};

static void user_row_release(struct user_row *u)
{
	bson_destroy(&u->roles);
	for (int i = 0; i < 2; i++) {
		if (u->cred[i])
			OPENSSL_cleanse(u->cred[i], strlen(u->cred[i]));
		free(u->cred[i]);
	}
}

/* 1 found, 0 not, -1 error. */
static int user_load(PGconn *pg, const char *db, const char *name, struct user_row *u, struct docdb_error *de)
{
	const char *pv[2] = { db, name };
	int lens[2] = { (int)strlen(db), (int)strlen(name) };
	PGresult *r = store_exec(pg, "SELECT roles, sha1, sha256 FROM caliber_docdb.users WHERE db = $1 AND name = $2",
		2, pv, lens);
	int rc;

	memset(u, 0, sizeof(*u));
	bson_init(&u->roles);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = store_pg_error(r, pg, de);
	} else if (PQntuples(r) == 0) {
		rc = 0;
	} else {
		bson_t tmp;

		if (bson_init_static(&tmp, (const uint8_t *)PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0)))
			bson_concat(&u->roles, &tmp);
		for (int i = 0; i < 2; i++)
			if (!PQgetisnull(r, 0, 1 + i))
				u->cred[i] = xstrndup(PQgetvalue(r, 0, 1 + i), (size_t)PQgetlength(r, 0, 1 + i));
		rc = 1;
	}
	PQclear(r);
	return rc;
}

static int user_store(PGconn *pg, const char *db, const char *name, const bson_t *roles, const char *pwd,
	bool upsert, struct docdb_error *de)
{
	char *c1 = pwd ? scram_credentials("SCRAM-SHA-1", name, pwd) : NULL;
	char *c2 = pwd ? scram_credentials("SCRAM-SHA-256", name, pwd) : NULL;
	const char *pv[5] = { db, name, (const char *)bson_get_data(roles), c1, c2 };
	int lens[5] = { (int)strlen(db), (int)strlen(name), (int)roles->len, c1 ? (int)strlen(c1) : 0,
		c2 ? (int)strlen(c2) : 0 };
	const char *sql = upsert ?
		"INSERT INTO caliber_docdb.users (db, name, roles, sha1, sha256) VALUES ($1, $2, $3, $4, $5)"
		" ON CONFLICT (db, name) DO UPDATE SET roles = $3, sha1 = $4, sha256 = $5" :
		"INSERT INTO caliber_docdb.users (db, name, roles, sha1, sha256) VALUES ($1, $2, $3, $4, $5)";
	PGresult *r = store_exec(pg, sql, 5, pv, lens);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		if (state && strcmp(state, "23505") == 0)
			rc = docdb_fail(de, DOCDB_DUPLICATE_USER, "User \"%s@%s\" already exists", name, db);
		else
			rc = store_pg_error(r, pg, de);
	}
	PQclear(r);
	if (c1) {
		OPENSSL_cleanse(c1, strlen(c1));
		OPENSSL_cleanse(c2, strlen(c2));
	}
	free(c1);
	free(c2);
	return rc;
}

int auth_ensure_master(PGconn *pg, const char *user, const char *password, struct err *e)
{
	bson_t roles = BSON_INITIALIZER, r;
	struct docdb_error de = { 0, "" };
	int rc;

	BSON_APPEND_DOCUMENT_BEGIN(&roles, "0", &r);
	BSON_APPEND_UTF8(&r, "role", "root");
	BSON_APPEND_UTF8(&r, "db", "admin");
	bson_append_document_end(&roles, &r);
	rc = user_store(pg, "admin", user, &roles, password, true, &de);
	bson_destroy(&roles);
	if (rc < 0)
		return err_set(e, "cannot store the master user '%s': %s", user, de.msg);
	return 0;
}

/* ---- the SCRAM conversation ---- */

static const char *attr(const char *msg, char name, char *out, size_t cap)
{
	const char *p = msg;

	while (p && *p) {
		if (p[0] == name && p[1] == '=') {
			const char *end = strchr(p + 2, ',');
			size_t n = end ? (size_t)(end - p - 2) : strlen(p + 2);

			if (n >= cap)
				return NULL;
			memcpy(out, p + 2, n);
			out[n] = 0;
			return out;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return NULL;
}

/* SCRAM's saslname: "=2C" is ',' and "=3D" is '='. */
static int unescape_name(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '=') {
			if (strncmp(r, "=2C", 3) == 0)
				*w++ = ',';
			else if (strncmp(r, "=3D", 3) == 0)
				*w++ = '=';
			else
				return -1;
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
	return 0;
}

static int payload_of(const bson_t *cmd, char *out, size_t cap, struct docdb_error *de)
{
	bson_iter_t it;
	const uint8_t *data = NULL;
	uint32_t len = 0;
	bson_subtype_t st;

	if (!bson_iter_init_find(&it, cmd, "payload"))
		return docdb_fail(de, DOCDB_BAD_VALUE, "SASL payload missing");
	if (BSON_ITER_HOLDS_BINARY(&it))
		bson_iter_binary(&it, &st, &len, &data);
	else if (BSON_ITER_HOLDS_UTF8(&it))
		data = (const uint8_t *)bson_iter_utf8(&it, &len);
	if (len >= cap || (len > 0 && memchr(data, 0, len)))
		return docdb_fail(de, DOCDB_BAD_VALUE, "SASL payload of %u bytes is not valid", len);
	if (len > 0)
		memcpy(out, data, len);
	out[len] = 0;
	return 0;
}

static int auth_failed(struct docdb_conn *c, struct docdb_error *de)
{
	scram_free(c->scram);
	c->scram = NULL;
	return docdb_fail(de, DOCDB_AUTH_FAILED, "Authentication failed.");
}

static int sasl_start(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	char payload[2048], user[512], cnonce[512];
	const char *mech = NULL, *bare;
	bson_iter_t it, o;
	struct user_row u;
	struct scram_state *s;
	unsigned char rnd[24];
	char *snonce, *salt_b64, *stored_b64, *server_b64, *cred, *save = NULL;
	unsigned char buf[EVP_MAX_MD_SIZE];
	int idx, found;

	if (bson_iter_init_find(&it, cmd, "mechanism") && BSON_ITER_HOLDS_UTF8(&it))
		mech = bson_iter_utf8(&it, NULL);
	if (mech == NULL || mech_md(mech) == NULL)
		return docdb_fail(de, DOCDB_BAD_MECHANISM, "Received authentication for mechanism %s which is not enabled",
			mech ? mech : "(none)");
	if (payload_of(cmd, payload, sizeof(payload), de) < 0)
		return -1;
	/* gs2 header: "n,," (no channel binding) or "y,,"; then client-first-bare */
	if ((payload[0] != 'n' && payload[0] != 'y') || payload[1] != ',' || payload[2] != ',')
		return auth_failed(c, de);
	bare = payload + 3;
	if (attr(bare, 'n', user, sizeof(user)) == NULL || unescape_name(user) < 0 ||
	    attr(bare, 'r', cnonce, sizeof(cnonce)) == NULL)
		return auth_failed(c, de);
	found = user_load(c->pg, db, user, &u, de);
	if (found < 0)
		return -1;
	idx = strcmp(mech, "SCRAM-SHA-1") == 0 ? 0 : 1;
	if (found == 0 || u.cred[idx] == NULL) {
		user_row_release(&u);
		docdb_log("authentication of '%s@%s' failed: no such user or mechanism", user, db);
		return auth_failed(c, de);
	}
	scram_free(c->scram);
	s = xcalloc(1, sizeof(*s));
	s->md = mech_md(mech);
	s->hlen = (size_t)EVP_MD_size(s->md);
	s->db = xstrdup(db);
	s->user = xstrdup(user);
	s->client_first_bare = xstrdup(bare);
	s->roles = bson_copy(&u.roles);
	cred = xstrdup(u.cred[idx]);
	user_row_release(&u);
	{
		char *iter = strtok_r(cred, "$", &save);

		salt_b64 = strtok_r(NULL, "$", &save);
		stored_b64 = strtok_r(NULL, "$", &save);
		server_b64 = strtok_r(NULL, "$", &save);
		if (iter == NULL || server_b64 == NULL || unb64(stored_b64, buf, sizeof(buf)) != (int)s->hlen) {
			free(cred);
			scram_free(s);
			return auth_failed(c, de);
		}
		memcpy(s->stored_key, buf, s->hlen);
		if (unb64(server_b64, buf, sizeof(buf)) != (int)s->hlen) {
			free(cred);
			scram_free(s);
			return auth_failed(c, de);
		}
		memcpy(s->server_key, buf, s->hlen);
		RAND_bytes(rnd, sizeof(rnd));
		snonce = b64(rnd, sizeof(rnd));
		s->nonce = xasprintf("%s%s", cnonce, snonce);
		s->server_first = xasprintf("r=%s,s=%s,i=%s", s->nonce, salt_b64, iter);
		free(snonce);
	}
	OPENSSL_cleanse(cred, strlen(cred));
	free(cred);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (bson_iter_init_find(&it, cmd, "options") && BSON_ITER_HOLDS_DOCUMENT(&it) && bson_iter_recurse(&it, &o) &&
	    bson_iter_find(&o, "skipEmptyExchange"))
		s->skip_empty = bson_iter_as_bool(&o);
	s->step = 1;
	c->scram = s;
	BSON_APPEND_INT32(reply, "conversationId", 1);
	BSON_APPEND_BOOL(reply, "done", false);
	bson_append_binary(reply, "payload", -1, BSON_SUBTYPE_BINARY, (const uint8_t *)s->server_first,
		(uint32_t)strlen(s->server_first));
	return 0;
}

int cmd_sasl_start(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	return sasl_start(c, db, cmd, reply, de);
}

int auth_speculative(struct docdb_conn *c, const bson_t *spec, bson_t *reply, struct docdb_error *de)
{
	bson_iter_t it;
	bson_t sub = BSON_INITIALIZER;
	const char *db = "admin";
	int rc;

	if (bson_iter_init_find(&it, spec, "db") && BSON_ITER_HOLDS_UTF8(&it))
		db = bson_iter_utf8(&it, NULL);
	rc = sasl_start(c, db, spec, &sub, de);
	if (rc == 0)
		BSON_APPEND_DOCUMENT(reply, "speculativeAuthenticate", &sub);
	bson_destroy(&sub);
	return rc;
}

static void add_user(struct docdb_conn *c, const struct scram_state *s)
{
	for (size_t i = 0; i < c->nusers; i++)
		if (strcmp(c->users[i].db, s->db) == 0 && strcmp(c->users[i].name, s->user) == 0)
			return;
	c->users = xrealloc(c->users, (c->nusers + 1) * sizeof(*c->users));
	c->users[c->nusers].db = xstrdup(s->db);
	c->users[c->nusers].name = xstrdup(s->user);
	c->users[c->nusers].roles = bson_copy(s->roles);
	c->nusers++;
}

int cmd_sasl_continue(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	struct scram_state *s = c->scram;
	char payload[2048], nonce[512], proof_b64[256], cbind[64];
	unsigned char proof[EVP_MAX_MD_SIZE], sig[EVP_MAX_MD_SIZE], key[EVP_MAX_MD_SIZE], stored[EVP_MAX_MD_SIZE];
	unsigned int l;
	const char *p;
	char *auth_msg, *without_proof, *ssig, *final;
	bool ok;

	(void)db;
	if (s == NULL)
		return docdb_fail(de, DOCDB_AUTH_FAILED, "No SASL session state found");
	if (payload_of(cmd, payload, sizeof(payload), de) < 0)
		return auth_failed(c, de);
	if (s->step == 2) {
		/* the empty exchange of drivers that do not skip it */
		add_user(c, s);
		scram_free(s);
		c->scram = NULL;
		BSON_APPEND_INT32(reply, "conversationId", 1);
		BSON_APPEND_BOOL(reply, "done", true);
		bson_append_binary(reply, "payload", -1, BSON_SUBTYPE_BINARY, (const uint8_t *)"", 0);
		return 0;
	}
	p = strstr(payload, ",p=");
	if (attr(payload, 'c', cbind, sizeof(cbind)) == NULL || (strcmp(cbind, "biws") != 0 && strcmp(cbind, "eSws") != 0) ||
	    attr(payload, 'r', nonce, sizeof(nonce)) == NULL || strcmp(nonce, s->nonce) != 0 || p == NULL ||
	    attr(p + 1, 'p', proof_b64, sizeof(proof_b64)) == NULL ||
	    unb64(proof_b64, proof, sizeof(proof)) != (int)s->hlen)
		return auth_failed(c, de);
	without_proof = xstrndup(payload, (size_t)(p - payload));
	auth_msg = xasprintf("%s,%s,%s", s->client_first_bare, s->server_first, without_proof);
	free(without_proof);
	HMAC(s->md, s->stored_key, (int)s->hlen, (const unsigned char *)auth_msg, strlen(auth_msg), sig, &l);
	for (size_t i = 0; i < s->hlen; i++)
		key[i] = proof[i] ^ sig[i];
	EVP_Digest(key, s->hlen, stored, &l, s->md, NULL);
	ok = CRYPTO_memcmp(stored, s->stored_key, s->hlen) == 0;
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok) {
		docdb_log("authentication of '%s@%s' failed: wrong proof", s->user, s->db);
		free(auth_msg);
		return auth_failed(c, de);
	}
	HMAC(s->md, s->server_key, (int)s->hlen, (const unsigned char *)auth_msg, strlen(auth_msg), sig, &l);
	free(auth_msg);
	ssig = b64(sig, s->hlen);
	final = xasprintf("v=%s", ssig);
	free(ssig);
	BSON_APPEND_INT32(reply, "conversationId", 1);
	BSON_APPEND_BOOL(reply, "done", s->skip_empty);
	bson_append_binary(reply, "payload", -1, BSON_SUBTYPE_BINARY, (const uint8_t *)final, (uint32_t)strlen(final));
	free(final);
	if (s->skip_empty) {
		add_user(c, s);
		scram_free(s);
		c->scram = NULL;
	} else {
		s->step = 2;
	}
	return 0;
}

int cmd_logout(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	(void)db, (void)cmd, (void)reply, (void)de;
	auth_conn_release(c);
	return 0;
}

void auth_supported_mechs(struct docdb_conn *c, const char *dbuser, bson_t *reply)
{
	const char *dot = strchr(dbuser, '.');
	struct user_row u;
	struct docdb_error de;
	bson_t arr;
	char *db;
	int n = 0;

	if (dot == NULL)
		return;
	db = xstrndup(dbuser, (size_t)(dot - dbuser));
	if (user_load(c->pg, db, dot + 1, &u, &de) == 1) {
		BSON_APPEND_ARRAY_BEGIN(reply, "saslSupportedMechs", &arr);
		if (u.cred[0])
			bson_append_utf8(&arr, n++ ? "1" : "0", -1, "SCRAM-SHA-1", -1);
		if (u.cred[1])
			bson_append_utf8(&arr, n++ ? "1" : "0", -1, "SCRAM-SHA-256", -1);
		bson_append_array_end(reply, &arr);
	}
	user_row_release(&u);
	free(db);
}

/* ---- user commands ---- */

static const char *const known_roles[] = { "read", "readWrite", "dbAdmin", "dbOwner", "userAdmin", "root",
	"readAnyDatabase", "readWriteAnyDatabase", "dbAdminAnyDatabase", "userAdminAnyDatabase", "clusterAdmin",
	"clusterMonitor" };

/* roles as given ("name" or {role, db}) into [{role, db}], appended to out. */
static int parse_roles(const char *db, const bson_t *cmd, const char *key, bson_t *out, unsigned *n,
	struct docdb_error *de)
{
	bson_iter_t it, r;

	if (!bson_iter_init_find(&it, cmd, key) || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &r))
		return docdb_fail(de, DOCDB_BAD_VALUE, "'%s' must be an array of roles", key);
	while (bson_iter_next(&r)) {
		const char *role = NULL, *rdb = db;
		bson_iter_t f;
		bson_t e;
		char ibuf[16];
		const char *ik;
		size_t i;

		if (BSON_ITER_HOLDS_UTF8(&r)) {
			role = bson_iter_utf8(&r, NULL);
		} else if (BSON_ITER_HOLDS_DOCUMENT(&r) && bson_iter_recurse(&r, &f)) {
			while (bson_iter_next(&f)) {
				if (strcmp(bson_iter_key(&f), "role") == 0 && BSON_ITER_HOLDS_UTF8(&f))
					role = bson_iter_utf8(&f, NULL);
				else if (strcmp(bson_iter_key(&f), "db") == 0 && BSON_ITER_HOLDS_UTF8(&f))
					rdb = bson_iter_utf8(&f, NULL);
			}
		}
		if (role == NULL)
			return docdb_fail(de, DOCDB_BAD_VALUE, "a role must be a name or {role: <name>, db: <db>}");
		for (i = 0; i < ARRAY_SIZE(known_roles); i++)
			if (strcmp(known_roles[i], role) == 0)
				break;
		if (i == ARRAY_SIZE(known_roles) || (i >= 5 && strcmp(rdb, "admin") != 0))
			return docdb_fail(de, DOCDB_ROLE_NOT_FOUND, "Could not find role: %s@%s", role, rdb);
		bson_uint32_to_string((*n)++, &ik, ibuf, sizeof(ibuf));
		bson_append_document_begin(out, ik, -1, &e);
		BSON_APPEND_UTF8(&e, "role", role);
		BSON_APPEND_UTF8(&e, "db", rdb);
		bson_append_document_end(out, &e);
	}
	return 0;
}

static int get_password(const bson_t *cmd, const char **pwd, struct docdb_error *de)
{
	bson_iter_t it;

	*pwd = NULL;
	if (!bson_iter_init_find(&it, cmd, "pwd"))
		return 0;
	if (!BSON_ITER_HOLDS_UTF8(&it))
		return docdb_fail(de, DOCDB_BAD_VALUE, "'pwd' must be a string");
	*pwd = bson_iter_utf8(&it, NULL);
	if (**pwd == 0)
		return docdb_fail(de, DOCDB_BAD_VALUE, "Password cannot be empty");
	for (const char *p = *pwd; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return docdb_fail(de, DOCDB_BAD_VALUE,
				"passwords are limited to printable ASCII here (SASLprep is not implemented)");
	if (bson_iter_init_find(&it, cmd, "digestPassword") && !bson_iter_as_bool(&it))
		return docdb_fail(de, DOCDB_BAD_VALUE, "digestPassword: false is not supported");
	return 0;
}

static const char *user_name(const bson_t *cmd, struct docdb_error *de)
{
	bson_iter_t it;

	if (!bson_iter_init(&it, cmd) || !bson_iter_next(&it) || !BSON_ITER_HOLDS_UTF8(&it) ||
	    bson_iter_utf8(&it, NULL)[0] == 0) {
		docdb_fail(de, DOCDB_BAD_VALUE, "the user name must be a non-empty string");
		return NULL;
	}
	return bson_iter_utf8(&it, NULL);
}

int cmd_create_user(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	const char *name = user_name(cmd, de), *pwd;
	bson_t roles = BSON_INITIALIZER;
	unsigned n = 0;
	int rc = -1;

	(void)reply;
	if (name == NULL || get_password(cmd, &pwd, de) < 0 || store_check_db(db, de) < 0)
		goto out;
	if (pwd == NULL) {
		docdb_fail(de, DOCDB_BAD_VALUE, "Must provide a 'pwd' field for all user documents");
		goto out;
	}
	if (parse_roles(db, cmd, "roles", &roles, &n, de) < 0)
		goto out;
	rc = user_store(c->pg, db, name, &roles, pwd, false, de);
out:
	bson_destroy(&roles);
	return rc;
}

int cmd_update_user(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	const char *name = user_name(cmd, de), *pwd;
	struct user_row u;
	bson_t roles = BSON_INITIALIZER;
	bson_iter_t it;
	unsigned n = 0;
	int found, rc = -1;

	(void)reply;
	if (name == NULL || get_password(cmd, &pwd, de) < 0)
		return -1;
	found = user_load(c->pg, db, name, &u, de);
	if (found <= 0) {
		if (found == 0)
			docdb_fail(de, DOCDB_USER_NOT_FOUND, "Could not find user \"%s\" for db \"%s\"", name, db);
		goto out;
	}
	if (bson_iter_init_find(&it, cmd, "roles")) {
		if (parse_roles(db, cmd, "roles", &roles, &n, de) < 0)
			goto out;
	} else {
		bson_concat(&roles, &u.roles);
	}
	if (pwd != NULL) {
		rc = user_store(c->pg, db, name, &roles, pwd, true, de);
	} else {
		const char *pv[3] = { db, name, (const char *)bson_get_data(&roles) };
		int lens[3] = { (int)strlen(db), (int)strlen(name), (int)roles.len };
		PGresult *r = store_exec(c->pg, "UPDATE caliber_docdb.users SET roles = $3 WHERE db = $1 AND name = $2", 3,
			pv, lens);

		rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : store_pg_error(r, c->pg, de);
		PQclear(r);
	}
out:
	user_row_release(&u);
	bson_destroy(&roles);
	return rc;
}

int cmd_grant_roles(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	const char *name = user_name(cmd, de);
	struct user_row u;
	bson_t roles = BSON_INITIALIZER;
	bson_iter_t it;
	unsigned n = 0;
	int found, rc = -1;

	(void)reply;
	if (name == NULL)
		return -1;
	found = user_load(c->pg, db, name, &u, de);
	if (found <= 0) {
		if (found == 0)
			docdb_fail(de, DOCDB_USER_NOT_FOUND, "Could not find user \"%s\" for db \"%s\"", name, db);
		goto out;
	}
	bson_iter_init(&it, &u.roles);
	while (bson_iter_next(&it)) {
		char ibuf[16];
		const char *ik;

		bson_uint32_to_string(n++, &ik, ibuf, sizeof(ibuf));
		bson_append_value(&roles, ik, -1, bson_iter_value(&it));
	}
	if (parse_roles(db, cmd, "roles", &roles, &n, de) < 0)
		goto out;
	{
		const char *pv[3] = { db, name, (const char *)bson_get_data(&roles) };
		int lens[3] = { (int)strlen(db), (int)strlen(name), (int)roles.len };
		PGresult *r = store_exec(c->pg, "UPDATE caliber_docdb.users SET roles = $3 WHERE db = $1 AND name = $2", 3,
			pv, lens);

		rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : store_pg_error(r, c->pg, de);
		PQclear(r);
	}
out:
	user_row_release(&u);
	bson_destroy(&roles);
	return rc;
}

int cmd_drop_user(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	const char *name = user_name(cmd, de);
	const char *pv[2];
	int lens[2];
	PGresult *r;
	int rc = 0;

	(void)reply;
	if (name == NULL)
		return -1;
	pv[0] = db;
	pv[1] = name;
	lens[0] = (int)strlen(db);
	lens[1] = (int)strlen(name);
	r = store_exec(c->pg, "DELETE FROM caliber_docdb.users WHERE db = $1 AND name = $2", 2, pv, lens);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = store_pg_error(r, c->pg, de);
	else if (strcmp(PQcmdTuples(r), "0") == 0)
		rc = docdb_fail(de, DOCDB_USER_NOT_FOUND, "User '%s@%s' not found", name, db);
	PQclear(r);
	return rc;
}

int cmd_users_info(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	bson_iter_t it;
	const char *only = NULL;
	const char *pv[1] = { db };
	int lens[1] = { (int)strlen(db) };
	PGresult *r;
	bson_t users;
	unsigned n = 0;

	if (bson_iter_init_find(&it, cmd, "usersInfo")) {
		if (BSON_ITER_HOLDS_UTF8(&it)) {
			only = bson_iter_utf8(&it, NULL);
		} else if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
			bson_iter_t f;

			if (bson_iter_recurse(&it, &f) && bson_iter_find(&f, "user") && BSON_ITER_HOLDS_UTF8(&f))
				only = bson_iter_utf8(&f, NULL);
		}
	}
	r = store_exec(c->pg, "SELECT name, roles, sha1 IS NOT NULL, sha256 IS NOT NULL FROM caliber_docdb.users"
		" WHERE db = $1 ORDER BY name", 1, pv, lens);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		store_pg_error(r, c->pg, de);
		PQclear(r);
		return -1;
	}
	bson_append_array_begin(reply, "users", -1, &users);
	for (int i = 0; i < PQntuples(r); i++) {
		char *name = xstrndup(PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
		char *id = xasprintf("%s.%s", db, name);
		bson_t e, roles, mechs;
		char ibuf[16];
		const char *ik;
		int m = 0;

		if (only != NULL && strcmp(only, name) != 0) {
			free(name);
			free(id);
			continue;
		}
		bson_uint32_to_string(n++, &ik, ibuf, sizeof(ibuf));
		bson_append_document_begin(&users, ik, -1, &e);
		BSON_APPEND_UTF8(&e, "_id", id);
		BSON_APPEND_UTF8(&e, "user", name);
		BSON_APPEND_UTF8(&e, "db", db);
		if (bson_init_static(&roles, (const uint8_t *)PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1)))
			BSON_APPEND_ARRAY(&e, "roles", &roles);
		BSON_APPEND_ARRAY_BEGIN(&e, "mechanisms", &mechs);
		if (PQgetvalue(r, i, 2)[0])
			bson_append_utf8(&mechs, m++ ? "1" : "0", -1, "SCRAM-SHA-1", -1);
		if (PQgetvalue(r, i, 3)[0])
			bson_append_utf8(&mechs, m++ ? "1" : "0", -1, "SCRAM-SHA-256", -1);
		bson_append_array_end(&e, &mechs);
		bson_append_document_end(&users, &e);
		free(name);
		free(id);
	}
	bson_append_array_end(reply, &users);
	PQclear(r);
	return 0;
}
