/*
 * objstore.c: S3 buckets and objects on disk (see objstore.h for the layout
 * and the crash-safety argument).
 */
#include "compat.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "hex.h"
#include "objstore.h"
#include "store.h"

struct objstore {
	char *dir;
	sqlite3 *db;
	pthread_mutex_t lock;
};

struct objstore_writer {
	struct objstore *store;
	int fd;
	char id[33];
	char *tmp_path;
	unsigned checksums;
	EVP_MD_CTX *md5;
	EVP_MD_CTX *sha1;
	EVP_MD_CTX *sha256;
	struct objstore_digests d;
	int finished;
};

static const char *const objstore_schema =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS buckets(name TEXT PRIMARY KEY, region TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS objects(bucket TEXT NOT NULL, key TEXT NOT NULL,"
	" size INTEGER NOT NULL, etag TEXT NOT NULL, mtime_ms INTEGER NOT NULL,"
	" content_type TEXT, cache_control TEXT, content_encoding TEXT,"
	" content_disposition TEXT, content_language TEXT, expires TEXT, user_meta TEXT,"
	" checksum_algorithm TEXT, checksum_value TEXT, file TEXT NOT NULL,"
	" PRIMARY KEY(bucket, key)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS uploads(id TEXT PRIMARY KEY, bucket TEXT NOT NULL,"
	" key TEXT NOT NULL, created_ms INTEGER NOT NULL,"
	" content_type TEXT, cache_control TEXT, content_encoding TEXT,"
	" content_disposition TEXT, content_language TEXT, expires TEXT, user_meta TEXT,"
	" checksum_algorithm TEXT, checksum_value TEXT);"
	"CREATE TABLE IF NOT EXISTS parts(upload_id TEXT NOT NULL, number INTEGER NOT NULL,"
	" size INTEGER NOT NULL, etag TEXT NOT NULL, md5 BLOB NOT NULL,"
	" mtime_ms INTEGER NOT NULL, file TEXT NOT NULL, PRIMARY KEY(upload_id, number));";

/* The attribute columns, in struct objstore_attrs order. */
#define ATTR_COLUMNS                                                                     \
	"content_type, cache_control, content_encoding, content_disposition,"            \
	" content_language, expires, user_meta, checksum_algorithm, checksum_value"
#define N_ATTRS 9

const char *objstore_status_code(enum objstore_status st)
{
	switch (st) {
	case OBJSTORE_OK:
		return "OK";
	case OBJSTORE_ERROR:
		return "InternalError";
	case OBJSTORE_INVALID_BUCKET_NAME:
		return "InvalidBucketName";
	case OBJSTORE_NO_SUCH_BUCKET:
		return "NoSuchBucket";
	case OBJSTORE_BUCKET_EXISTS:
		return "BucketAlreadyOwnedByYou";
	case OBJSTORE_BUCKET_NOT_EMPTY:
		return "BucketNotEmpty";
	case OBJSTORE_NO_SUCH_KEY:
		return "NoSuchKey";
	case OBJSTORE_KEY_TOO_LONG:
		return "KeyTooLongError";
	case OBJSTORE_NO_SUCH_UPLOAD:
		return "NoSuchUpload";
	case OBJSTORE_INVALID_PART:
		return "InvalidPart";
	case OBJSTORE_INVALID_PART_ORDER:
		return "InvalidPartOrder";
	case OBJSTORE_ENTITY_TOO_SMALL:
		return "EntityTooSmall";
	case OBJSTORE_INVALID_ARGUMENT:
		return "InvalidArgument";
	}
	return "InternalError";
}

int objstore_status_http(enum objstore_status st)
{
	switch (st) {
	case OBJSTORE_OK:
		return 200;
	case OBJSTORE_NO_SUCH_BUCKET:
	case OBJSTORE_NO_SUCH_KEY:
	case OBJSTORE_NO_SUCH_UPLOAD:
		return 404;
	case OBJSTORE_BUCKET_EXISTS:
	case OBJSTORE_BUCKET_NOT_EMPTY:
		return 409;
	case OBJSTORE_ERROR:
		return 500;
	default:
		return 400;
	}
}

/*
 * CRC-32 (IEEE, reflected polynomial 0xedb88320, as zlib's crc32) and
 * CRC-32C (Castagnoli, 0x82f63b78): one table lookup per byte.  Written
 * here rather than taken from zlib so that both share one small routine
 * and the daemon does not link zlib for one function.
 */
static uint32_t crc32_table[256];
static uint32_t crc32c_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_tables_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i, d = i;

		for (int k = 0; k < 8; k++) {
			c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
			d = (d & 1) ? (d >> 1) ^ 0x82f63b78u : d >> 1;
		}
		crc32_table[i] = c;
		crc32c_table[i] = d;
	}
}

static uint32_t crc_update(const uint32_t *table, uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	pthread_once(&crc_once, crc_tables_init);
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t objstore_crc32c(uint32_t crc, const void *data, size_t len)
{
	return crc_update(crc32c_table, crc, data, len);
}

uint32_t objstore_crc32(uint32_t crc, const void *data, size_t len)
{
	return crc_update(crc32_table, crc, data, len);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int new_id(char *id, struct err *e)
{
	unsigned char r[16];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return err_set(e, "unable to draw random bytes");
	hex_encode(r, sizeof(r), id);
	return 0;
}

static char *data_path(const struct objstore *s, const char *id)
{
	return xasprintf("%s/data/%.2s/%s", s->dir, id, id);
}

static int mkdir_p1(const char *path, struct err *e)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return err_set(e, "unable to create '%s': %s", path, strerror(errno));
	return 0;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int db_err(struct objstore *s, struct err *e, const char *what)
{
	return err_set(e, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

static sqlite3_stmt *db_prepare(struct objstore *s, const char *sql, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_err(s, e, "prepare");
		return NULL;
	}
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_attrs(sqlite3_stmt *st, int first, const struct objstore_attrs *a)
{
	static const struct objstore_attrs none;

	if (a == NULL)
		a = &none;
	bind_text(st, first, a->content_type);
	bind_text(st, first + 1, a->cache_control);
	bind_text(st, first + 2, a->content_encoding);
	bind_text(st, first + 3, a->content_disposition);
	bind_text(st, first + 4, a->content_language);
	bind_text(st, first + 5, a->expires);
	bind_text(st, first + 6, a->user_meta);
	bind_text(st, first + 7, a->checksum_algorithm);
	bind_text(st, first + 8, a->checksum_value);
}

/* Read attribute columns starting at column first into the (borrowed) attrs of a row. */
static void row_attrs(sqlite3_stmt *st, int first, struct objstore_attrs *a)
{
	a->content_type = (const char *)sqlite3_column_text(st, first);
	a->cache_control = (const char *)sqlite3_column_text(st, first + 1);
	a->content_encoding = (const char *)sqlite3_column_text(st, first + 2);
	a->content_disposition = (const char *)sqlite3_column_text(st, first + 3);
	a->content_language = (const char *)sqlite3_column_text(st, first + 4);
	a->expires = (const char *)sqlite3_column_text(st, first + 5);
	a->user_meta = (const char *)sqlite3_column_text(st, first + 6);
	a->checksum_algorithm = (const char *)sqlite3_column_text(st, first + 7);
	a->checksum_value = (const char *)sqlite3_column_text(st, first + 8);
}

static char *opt_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void attrs_dup(const struct objstore_attrs *a, struct objstore_object *o)
{
	o->content_type = xstrdup(a->content_type ? a->content_type : "binary/octet-stream");
	o->cache_control = opt_dup(a->cache_control);
	o->content_encoding = opt_dup(a->content_encoding);
	o->content_disposition = opt_dup(a->content_disposition);
	o->content_language = opt_dup(a->content_language);
	o->expires = opt_dup(a->expires);
	o->user_meta = opt_dup(a->user_meta);
	o->checksum_algorithm = opt_dup(a->checksum_algorithm);
	o->checksum_value = opt_dup(a->checksum_value);
}

void objstore_object_release(struct objstore_object *o)
{
	if (o == NULL)
		return;
	free(o->bucket);
	free(o->key);
	free(o->content_type);
	free(o->cache_control);
	free(o->content_encoding);
	free(o->content_disposition);
	free(o->content_language);
	free(o->expires);
	free(o->user_meta);
	free(o->checksum_algorithm);
	free(o->checksum_value);
	free(o->path);
	memset(o, 0, sizeof(*o));
}

/* A sorted array of the content file ids the database references. */
struct idset {
	char **ids;
	size_t n, cap;
};

static int idcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int gc_load_ids(struct objstore *s, struct idset *set, struct err *e)
{
	sqlite3_stmt *st = db_prepare(s, "SELECT file FROM objects UNION ALL SELECT file FROM parts", e);

	if (st == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (set->n == set->cap) {
			set->cap = set->cap ? 2 * set->cap : 256;
			set->ids = xrealloc(set->ids, set->cap * sizeof(*set->ids));
		}
		set->ids[set->n++] = store_col_text(st, 0);
	}
	sqlite3_finalize(st);
	if (set->n > 1)
		qsort(set->ids, set->n, sizeof(*set->ids), idcmp);
	return 0;
}

static void remove_dir_files(const char *dir, const struct idset *keep)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		char *path;

		if (name[0] == '.')
			continue;
		if (keep && keep->n > 0 &&
				bsearch(&name, keep->ids, keep->n, sizeof(char *), idcmp))
			continue;
		path = xasprintf("%s/%s", dir, name);
		unlink(path);
		free(path);
	}
	closedir(d);
}

/* Remove bodies a crash left half received and content files nothing references. */
static int objstore_gc(struct objstore *s, struct err *e)
{
	struct idset set = { NULL, 0, 0 };
	char *tmp = xasprintf("%s/tmp", s->dir);
	char *data = xasprintf("%s/data", s->dir);
	DIR *d = NULL;
	struct dirent *de;
	int rc = -1;

	remove_dir_files(tmp, NULL);
	if (gc_load_ids(s, &set, e) < 0)
		goto out;
	d = opendir(data);
	if (d == NULL) {
		err_set(e, "unable to read '%s': %s", data, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		char *sub;

		if (de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", data, de->d_name);
		remove_dir_files(sub, &set);
		free(sub);
	}
	rc = 0;
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < set.n; i++)
		free(set.ids[i]);
	free(set.ids);
	free(tmp);
	free(data);
	return rc;
}

int objstore_open(const char *dir, struct objstore **out, struct err *e)
{
	struct objstore *s = xcalloc(1, sizeof(*s));
	char *path = NULL;
	int rc = -1;

	s->dir = xstrdup(dir);
	pthread_mutex_init(&s->lock, NULL);
	if (mkdir_p1(dir, e) < 0)
		goto out;
	free(path);
	path = xasprintf("%s/tmp", dir);
	if (mkdir_p1(path, e) < 0)
		goto out;
	free(path);
	path = xasprintf("%s/data", dir);
	if (mkdir_p1(path, e) < 0)
		goto out;
	free(path);
	path = xasprintf("%s/meta.db", dir);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		err_set(e, "unable to open '%s': %s", path,
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (store_db_exec(s->db, objstore_schema, e) < 0)
		goto out;
	if (objstore_gc(s, e) < 0)
		goto out;
	rc = 0;
out:
	free(path);
	if (rc < 0) {
		objstore_close(s);
		s = NULL;
	}
	*out = s;
	return rc;
}

void objstore_close(struct objstore *s)
{
	if (s == NULL)
		return;
	if (s->db)
		sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s->dir);
	free(s);
}

int objstore_bucket_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 3 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return 0;
		if (c == '.' && i > 0 && (name[i - 1] == '.' || name[i - 1] == '-'))
			return 0;
		if (c == '-' && i > 0 && name[i - 1] == '.')
			return 0;
	}
	if (!isalnum((unsigned char)name[0]) || !isalnum((unsigned char)name[n - 1]))
		return 0;
	return 1;
}

/* Under s->lock: does the bucket exist? 1 yes, 0 no, -1 error. */
static int bucket_exists_locked(struct objstore *s, const char *name, struct err *e)
{
	sqlite3_stmt *st = db_prepare(s, "SELECT 1 FROM buckets WHERE name = ?", e);
	int rc;

	if (st == NULL)
		return -1;
	bind_text(st, 1, name);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_err(s, e, "bucket lookup");
}

enum objstore_status objstore_bucket_create(struct objstore *s, const char *name,
	const char *region, struct err *e)
{
	sqlite3_stmt *st = NULL;
	enum objstore_status rc = OBJSTORE_ERROR;
	int step;

	if (!objstore_bucket_name_valid(name))
		return OBJSTORE_INVALID_BUCKET_NAME;
	pthread_mutex_lock(&s->lock);
	st = db_prepare(s, "INSERT INTO buckets(name, region, created_ms) VALUES (?, ?, ?)", e);
	if (st == NULL)
		goto out;
	bind_text(st, 1, name);
	bind_text(st, 2, region ? region : "us-east-1");
	sqlite3_bind_int64(st, 3, now_ms());
	step = sqlite3_step(st);
	if (step == SQLITE_CONSTRAINT)
		rc = OBJSTORE_BUCKET_EXISTS;
	else if (step != SQLITE_DONE)
		db_err(s, e, "create bucket");
	else
		rc = OBJSTORE_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Unlink content files named in a list (after the rows naming them are gone). */
static void unlink_ids(struct objstore *s, char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *p = data_path(s, ids[i]);

		unlink(p);
		free(p);
		free(ids[i]);
	}
	free(ids);
}

static int collect_ids(struct objstore *s, const char *sql, const char *arg, char ***ids,
	size_t *n, struct err *e)
{
	sqlite3_stmt *st = db_prepare(s, sql, e);
	size_t cap = 0;

	if (st == NULL)
		return -1;
	bind_text(st, 1, arg);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = store_col_text(st, 0);
	}
	sqlite3_finalize(st);
	return 0;
}

enum objstore_status objstore_bucket_delete(struct objstore *s, const char *name, struct err *e)
{
	sqlite3_stmt *st = NULL;
	enum objstore_status rc = OBJSTORE_ERROR;
	char **ids = NULL;
	size_t n = 0;
	int ex;

	pthread_mutex_lock(&s->lock);
	ex = bucket_exists_locked(s, name, e);
	if (ex < 0)
		goto out;
	if (ex == 0) {
		rc = OBJSTORE_NO_SUCH_BUCKET;
		goto out;
	}
	st = db_prepare(s, "SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", e);
	if (st == NULL)
		goto out;
	bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		rc = OBJSTORE_BUCKET_NOT_EMPTY;
		goto out;
	}
	/* Incomplete multipart uploads go with the bucket. */
	if (collect_ids(s, "SELECT p.file FROM parts p JOIN uploads u ON p.upload_id = u.id"
			" WHERE u.bucket = ?", name, &ids, &n, e) < 0)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (store_db_exec(s->db, "BEGIN", e) < 0)
		goto out;
	st = db_prepare(s, "DELETE FROM parts WHERE upload_id IN"
		" (SELECT id FROM uploads WHERE bucket = ?1);"
		, e);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, name);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_finalize(st);
	st = db_prepare(s, "DELETE FROM uploads WHERE bucket = ?1", e);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, name);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_finalize(st);
	st = db_prepare(s, "DELETE FROM buckets WHERE name = ?1", e);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, name);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	if (store_db_exec(s->db, "COMMIT", e) < 0)
		goto rollback;
	rc = OBJSTORE_OK;
	goto out;
rollback:
	db_err(s, e, "delete bucket");
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (rc == OBJSTORE_OK)
		unlink_ids(s, ids, n);
	else {
		for (size_t i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
	}
	return rc;
}

enum objstore_status objstore_bucket_head(struct objstore *s, const char *name, char **region,
	struct err *e)
{
	sqlite3_stmt *st;
	enum objstore_status rc = OBJSTORE_ERROR;
	int step;

	pthread_mutex_lock(&s->lock);
	st = db_prepare(s, "SELECT region FROM buckets WHERE name = ?", e);
	if (st == NULL)
		goto out;
	bind_text(st, 1, name);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		if (region)
			*region = store_col_text(st, 0);
		rc = OBJSTORE_OK;
	} else if (step == SQLITE_DONE) {
		rc = OBJSTORE_NO_SUCH_BUCKET;
	} else {
		db_err(s, e, "bucket lookup");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int objstore_bucket_list(struct objstore *s, struct objstore_bucket **out, size_t *n,
	struct err *e)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->lock);
	st = db_prepare(s, "SELECT name, region, created_ms FROM buckets ORDER BY name", e);
	if (st == NULL)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[*n].name = store_col_text(st, 0);
		(*out)[*n].region = store_col_text(st, 1);
		(*out)[*n].created_ms = sqlite3_column_int64(st, 2);
		(*n)++;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void objstore_buckets_release(struct objstore_bucket *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(b[i].name);
		free(b[i].region);
	}
	free(b);
}

int objstore_writer_open(struct objstore *s, unsigned checksums, struct objstore_writer **out,
	struct err *e)
{
	struct objstore_writer *w = xcalloc(1, sizeof(*w));
	int rc = -1;

	w->store = s;
	w->fd = -1;
	w->checksums = checksums;
	if (new_id(w->id, e) < 0)
		goto out;
	w->tmp_path = xasprintf("%s/tmp/%s", s->dir, w->id);
	w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		err_set(e, "unable to create '%s': %s", w->tmp_path, strerror(errno));
		goto out;
	}
	w->md5 = EVP_MD_CTX_new();
	if (w->md5 == NULL || EVP_DigestInit_ex(w->md5, EVP_md5(), NULL) != 1) {
		err_set(e, "unable to start md5");
		goto out;
	}
	if (checksums & OBJSTORE_CK_SHA1) {
		w->sha1 = EVP_MD_CTX_new();
		if (w->sha1 == NULL || EVP_DigestInit_ex(w->sha1, EVP_sha1(), NULL) != 1) {
			err_set(e, "unable to start sha1");
			goto out;
		}
	}
	if (checksums & OBJSTORE_CK_SHA256) {
		w->sha256 = EVP_MD_CTX_new();
		if (w->sha256 == NULL || EVP_DigestInit_ex(w->sha256, EVP_sha256(), NULL) != 1) {
			err_set(e, "unable to start sha256");
			goto out;
		}
	}
	rc = 0;
out:
	if (rc < 0) {
		objstore_writer_abort(w);
		w = NULL;
	}
	*out = w;
	return rc;
}

/* Update the digests with data already in the file. */
static void writer_digest(struct objstore_writer *w, const void *data, size_t len)
{
	EVP_DigestUpdate(w->md5, data, len);
	if (w->sha1)
		EVP_DigestUpdate(w->sha1, data, len);
	if (w->sha256)
		EVP_DigestUpdate(w->sha256, data, len);
	if (w->checksums & OBJSTORE_CK_CRC32)
		w->d.crc32 = objstore_crc32(w->d.crc32, data, len);
	if (w->checksums & OBJSTORE_CK_CRC32C)
		w->d.crc32c = objstore_crc32c(w->d.crc32c, data, len);
	w->d.size += len;
}

int objstore_writer_write(struct objstore_writer *w, const void *data, size_t len,
	struct err *e)
{
	const char *p = data;
	size_t left = len;

	if (w->finished)
		return err_set(e, "write after the body ended");
	while (left > 0) {
		ssize_t k = write(w->fd, p, left);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return err_set(e, "unable to write '%s': %s", w->tmp_path, strerror(errno));
		p += k;
		left -= (size_t)k;
	}
	writer_digest(w, data, len);
	return 0;
}

int objstore_writer_adopt(struct objstore *s, const char *path, unsigned checksums,
	struct objstore_writer **out, struct err *e)
{
	struct objstore_writer *w = NULL;
	char *buf = NULL;
	int rc = -1;

	if (objstore_writer_open(s, checksums, &w, e) < 0)
		return -1;
	close(w->fd);
	w->fd = -1;
	if (rename(path, w->tmp_path) < 0) {
		err_set(e, "unable to move '%s' into the store: %s", path, strerror(errno));
		goto out;
	}
	w->fd = open(w->tmp_path, O_RDWR | O_CLOEXEC);
	if (w->fd < 0) {
		err_set(e, "unable to open '%s': %s", w->tmp_path, strerror(errno));
		goto out;
	}
	buf = xmalloc(1 << 16);
	for (;;) {
		ssize_t k = read(w->fd, buf, 1 << 16);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			err_set(e, "unable to read '%s': %s", w->tmp_path, strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		writer_digest(w, buf, (size_t)k);
	}
	rc = 0;
out:
	free(buf);
	if (rc < 0) {
		objstore_writer_abort(w);
		w = NULL;
	}
	*out = w;
	return rc;
}

static void writer_finish(struct objstore_writer *w)
{
	unsigned int n;

	if (w->finished)
		return;
	w->finished = 1;
	EVP_DigestFinal_ex(w->md5, w->d.md5, &n);
	if (w->sha1)
		EVP_DigestFinal_ex(w->sha1, w->d.sha1, &n);
	if (w->sha256)
		EVP_DigestFinal_ex(w->sha256, w->d.sha256, &n);
}

const struct objstore_digests *objstore_writer_digests(struct objstore_writer *w)
{
	writer_finish(w);
	return &w->d;
}

void objstore_writer_abort(struct objstore_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp_path)
		unlink(w->tmp_path);
	free(w->tmp_path);
	EVP_MD_CTX_free(w->md5);
	EVP_MD_CTX_free(w->sha1);
	EVP_MD_CTX_free(w->sha256);
	free(w);
}

/*
 * Make the writer's content durable under data/: fsync, rename, fsync the
 * directory.  On success the file id is in w->id and the tmp file is gone.
 */
static int writer_settle(struct objstore_writer *w, struct err *e)
{
	struct objstore *s = w->store;
	char *sub = xasprintf("%s/data/%.2s", s->dir, w->id);
	char *dst = data_path(s, w->id);
	int rc = -1;

	writer_finish(w);
	if (fsync(w->fd) < 0) {
		err_set(e, "unable to sync '%s': %s", w->tmp_path, strerror(errno));
		goto out;
	}
	close(w->fd);
	w->fd = -1;
	if (mkdir_p1(sub, e) < 0)
		goto out;
	if (rename(w->tmp_path, dst) < 0) {
		err_set(e, "unable to rename '%s': %s", w->tmp_path, strerror(errno));
		goto out;
	}
	free(w->tmp_path);
	w->tmp_path = NULL;
	fsync_dir(sub);
	rc = 0;
out:
	free(sub);
	free(dst);
	return rc;
}

static int key_valid(const char *key)
{
	size_t n = strlen(key);

	return n >= 1 && n <= OBJSTORE_MAX_KEY;
}

/*
 * Under s->lock, inside a transaction: make (bucket, key) name file id
 * with the given size, etag and attributes.  The file the row named
 * before (if any) is returned in *old for unlinking after commit.
 */
static int object_upsert_locked(struct objstore *s, const char *bucket, const char *key,
	const char *id, uint64_t size, const char *etag, int64_t mtime,
	const struct objstore_attrs *attrs, char **old, struct err *e)
{
	sqlite3_stmt *st = db_prepare(s, "SELECT file FROM objects WHERE bucket = ? AND key = ?", e);
	int rc = -1;

	if (st == NULL)
		return -1;
	bind_text(st, 1, bucket);
	bind_text(st, 2, key);
	if (sqlite3_step(st) == SQLITE_ROW)
		*old = store_col_text(st, 0);
	sqlite3_finalize(st);
	st = db_prepare(s, "INSERT OR REPLACE INTO objects(bucket, key, size, etag, mtime_ms, "
		ATTR_COLUMNS ", file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", e);
	if (st == NULL)
		return -1;
	bind_text(st, 1, bucket);
	bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)size);
	bind_text(st, 4, etag);
	sqlite3_bind_int64(st, 5, mtime);
	bind_attrs(st, 6, attrs);
	bind_text(st, 6 + N_ATTRS, id);
	if (sqlite3_step(st) != SQLITE_DONE)
		db_err(s, e, "insert object");
	else
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

static void unlink_id(struct objstore *s, const char *id)
{
	char *p = data_path(s, id);

	unlink(p);
	free(p);
}

enum objstore_status objstore_put(struct objstore *s, const char *bucket, const char *key,
	struct objstore_writer *w, const struct objstore_attrs *attrs, char *etag, struct err *e)
{
	enum objstore_status rc = OBJSTORE_ERROR;
	char *old = NULL;
	int settled = 0, ex;

	if (!key_valid(key)) {
		rc = OBJSTORE_KEY_TOO_LONG;
		goto out_unlocked;
	}
	if (writer_settle(w, e) < 0)
		goto out_unlocked;
	settled = 1;
	hex_encode(w->d.md5, 16, etag);
	pthread_mutex_lock(&s->lock);
	ex = bucket_exists_locked(s, bucket, e);
	if (ex <= 0) {
		rc = ex < 0 ? OBJSTORE_ERROR : OBJSTORE_NO_SUCH_BUCKET;
		goto out;
	}
	if (store_db_exec(s->db, "BEGIN IMMEDIATE", e) < 0)
		goto out;
	if (object_upsert_locked(s, bucket, key, w->id, w->d.size, etag, now_ms(), attrs, &old,
			e) < 0 || store_db_exec(s->db, "COMMIT", e) < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	rc = OBJSTORE_OK;
out:
	pthread_mutex_unlock(&s->lock);
out_unlocked:
	if (rc != OBJSTORE_OK && settled)
		unlink_id(s, w->id);
	if (old) {
		unlink_id(s, old);
		free(old);
	}
	objstore_writer_abort(w);
	return rc;
}

/* Under s->lock: fill obj from the row of bucket/key. */
static enum objstore_status object_load_locked(struct objstore *s, const char *bucket,
	const char *key, struct objstore_object *obj, struct err *e)
{
	sqlite3_stmt *st = db_prepare(s, "SELECT size, etag, mtime_ms, " ATTR_COLUMNS
		", file FROM objects WHERE bucket = ? AND key = ?", e);
	struct objstore_attrs a;
	enum objstore_status rc = OBJSTORE_ERROR;
	int step;

	if (st == NULL)
		return OBJSTORE_ERROR;
	bind_text(st, 1, bucket);
	bind_text(st, 2, key);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = OBJSTORE_NO_SUCH_KEY;
		goto out;
	}
	if (step != SQLITE_ROW) {
		db_err(s, e, "object lookup");
		goto out;
	}
	memset(obj, 0, sizeof(*obj));
	obj->bucket = xstrdup(bucket);
	obj->key = xstrdup(key);
	obj->size = (uint64_t)sqlite3_column_int64(st, 0);
	snprintf(obj->etag, sizeof(obj->etag), "%s", sqlite3_column_text(st, 1));
	obj->mtime_ms = sqlite3_column_int64(st, 2);
	row_attrs(st, 3, &a);
	attrs_dup(&a, obj);
	obj->path = data_path(s, (const char *)sqlite3_column_text(st, 3 + N_ATTRS));
	rc = OBJSTORE_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

enum objstore_status objstore_get(struct objstore *s, const char *bucket, const char *key,
	struct objstore_object *obj, int *fd, struct err *e)
{
	enum objstore_status rc;
	int ex;

	memset(obj, 0, sizeof(*obj));
	if (fd)
		*fd = -1;
	pthread_mutex_lock(&s->lock);
	ex = bucket_exists_locked(s, bucket, e);
	if (ex <= 0) {
		rc = ex < 0 ? OBJSTORE_ERROR : OBJSTORE_NO_SUCH_BUCKET;
		goto out;
	}
	rc = object_load_locked(s, bucket, key, obj, e);
	/* Open under the lock, so that a concurrent overwrite cannot unlink it first. */
	if (rc == OBJSTORE_OK && fd) {
		*fd = open(obj->path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0) {
			err_set(e, "unable to open '%s': %s", obj->path, strerror(errno));
			objstore_object_release(obj);
			rc = OBJSTORE_ERROR;
		}
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

enum objstore_status objstore_delete(struct objstore *s, const char *bucket, const char *key,
	struct err *e)
{
	sqlite3_stmt *st = NULL;
	enum objstore_status rc = OBJSTORE_ERROR;
	char *old = NULL;
	int ex;

	pthread_mutex_lock(&s->lock);
	ex = bucket_exists_locked(s, bucket, e);
	if (ex <= 0) {
		rc = ex < 0 ? OBJSTORE_ERROR : OBJSTORE_NO_SUCH_BUCKET;
		goto out;
	}
	st = db_prepare(s, "DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING file", e);
	if (st == NULL)
		goto out;
	bind_text(st, 1, bucket);
	bind_text(st, 2, key);
	if (sqlite3_step(st) == SQLITE_ROW)
		old = store_col_text(st, 0);
	if (sqlite3_step(st) != SQLITE_DONE && old == NULL) {
		db_err(s, e, "delete object");
		goto out;
	}
	rc = OBJSTORE_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (old) {
		unlink_id(s, old);
		free(old);
	}
	return rc;
}

enum objstore_status objstore_copy(struct objstore *s, const char *src_bucket,
	const char *src_key, const char *dst_bucket, const char *dst_key,
	const struct objstore_attrs *attrs, struct objstore_object *obj, struct err *e)
{
	struct objstore_object src = { 0 };
	struct objstore_attrs keep;
	enum objstore_status rc;
	char id[33], *dst = NULL, *sub = NULL, *old = NULL;
	int64_t mtime = now_ms();
	int linked = 0, ex;

	if (obj)
		memset(obj, 0, sizeof(*obj));
	if (!key_valid(dst_key))
		return OBJSTORE_KEY_TOO_LONG;
	if (new_id(id, e) < 0)
		return OBJSTORE_ERROR;
	dst = data_path(s, id);
	sub = xasprintf("%s/data/%.2s", s->dir, id);
	pthread_mutex_lock(&s->lock);
	ex = bucket_exists_locked(s, src_bucket, e);
	if (ex <= 0) {
		rc = ex < 0 ? OBJSTORE_ERROR : OBJSTORE_NO_SUCH_BUCKET;
		goto out;
	}
	ex = bucket_exists_locked(s, dst_bucket, e);
	if (ex <= 0) {
		rc = ex < 0 ? OBJSTORE_ERROR : OBJSTORE_NO_SUCH_BUCKET;
		goto out;
	}
	rc = object_load_locked(s, src_bucket, src_key, &src, e);
	if (rc != OBJSTORE_OK)
		goto out;
	rc = OBJSTORE_ERROR;
	/* Content files are immutable, so the copy can share the source's inode. */
	if (mkdir_p1(sub, e) < 0)
		goto out;
	if (link(src.path, dst) < 0) {
		err_set(e, "unable to link '%s': %s", dst, strerror(errno));
		goto out;
	}
	linked = 1;
	fsync_dir(sub);
	if (attrs == NULL) {
		keep = (struct objstore_attrs){ src.content_type, src.cache_control,
			src.content_encoding, src.content_disposition, src.content_language,
			src.expires, src.user_meta, src.checksum_algorithm, src.checksum_value };
		attrs = &keep;
	}
	if (store_db_exec(s->db, "BEGIN IMMEDIATE", e) < 0)
		goto out;
	if (object_upsert_locked(s, dst_bucket, dst_key, id, src.size, src.etag, mtime, attrs,
			&old, e) < 0 || store_db_exec(s->db, "COMMIT", e) < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	linked = 0;
	rc = OBJSTORE_OK;
	if (obj) {
		obj->bucket = xstrdup(dst_bucket);
		obj->key = xstrdup(dst_key);
		obj->size = src.size;
		memcpy(obj->etag, src.etag, sizeof(obj->etag));
		obj->mtime_ms = mtime;
		attrs_dup(attrs, obj);
		obj->path = xstrdup(dst);
	}
out:
	pthread_mutex_unlock(&s->lock);
	if (linked)
		unlink(dst);
	if (old) {
		unlink_id(s, old);
		free(old);
	}
	objstore_object_release(&src);
	free(dst);
	free(sub);
	return rc;
}

/* Continuation markers: "K" + last key returned, or "P" + last common prefix, hex-encoded. */
static char *marker_make(char kind, const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(2 * n + 2);

	out[0] = kind;
	hex_encode((const unsigned char *)s, n, out + 1);
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int marker_parse(const char *m, char *kind, char **s)
{
	size_t n = strlen(m);
	char *out;

	if (n < 1 || (m[0] != 'K' && m[0] != 'P') || (n - 1) % 2 != 0)
		return -1;
	out = xmalloc((n - 1) / 2 + 1);
	for (size_t i = 0; i < (n - 1) / 2; i++) {
		int hi = hexval(m[1 + 2 * i]), lo = hexval(m[2 + 2 * i]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return -1;
		}
		out[i] = (char)(hi << 4 | lo);
	}
	out[(n - 1) / 2] = '\0';
	*kind = m[0];
	*s = out;
	return 0;
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum objstore_status objstore_list(struct objstore *s, const char *bucket,
	const struct objstore_list_params *p, struct objstore_list *out, struct err *e)
{
	const char *prefix = p->prefix ? p->prefix : "";
	const char *delim = p->delimiter && *p->delimiter ? p->delimiter : NULL;
	sqlite3_stmt *st = NULL;
	enum objstore_status rc = OBJSTORE_ERROR;
	char *after = NULL, *skip_prefix = NULL, kind = 0;
	size_t cap_o = 0, cap_p = 0, count = 0, max = (size_t)(p->max_keys < 0 ? 0 : p->max_keys);
	int ex, step;

	memset(out, 0, sizeof(*out));
	if (p->marker && *p->marker) {
		if (marker_parse(p->marker, &kind, &after) < 0) {
			err_set(e, "the continuation token provided is incorrect");
			return OBJSTORE_INVALID_ARGUMENT;
		}
		if (kind == 'P')
			skip_prefix = xstrdup(after);
	} else if (p->start_after && *p->start_after) {
		after = xstrdup(p->start_after);
	}
	pthread_mutex_lock(&s->lock);
	ex = bucket_exists_locked(s, bucket, e);
	if (ex <= 0) {
		rc = ex < 0 ? OBJSTORE_ERROR : OBJSTORE_NO_SUCH_BUCKET;
		goto out;
	}
	/* Keys compare as bytes (SQLite's BINARY collation), the order S3 lists in. */
	st = db_prepare(s, "SELECT key, size, etag, mtime_ms, " ATTR_COLUMNS ", file FROM objects"
		" WHERE bucket = ?1 AND key > ?2 AND key >= ?3 ORDER BY key", e);
	if (st == NULL)
		goto out;
	bind_text(st, 1, bucket);
	bind_text(st, 2, after ? after : "");
	bind_text(st, 3, prefix);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		const char *d;

		if (!starts_with(key, prefix))
			break;
		if (skip_prefix && starts_with(key, skip_prefix))
			continue;
		d = delim ? strstr(key + strlen(prefix), delim) : NULL;
		if (d) {
			size_t n = (size_t)(d - key) + strlen(delim);

			if (count == max) {
				out->truncated = 1;
				break;
			}
			if (out->n_prefixes == cap_p) {
				cap_p = cap_p ? 2 * cap_p : 16;
				out->prefixes = xrealloc(out->prefixes, cap_p * sizeof(char *));
			}
			out->prefixes[out->n_prefixes++] = xstrndup(key, n);
			free(skip_prefix);
			skip_prefix = xstrndup(key, n);
			count++;
			continue;
		}
		if (count == max) {
			out->truncated = 1;
			break;
		}
		if (out->n_objects == cap_o) {
			cap_o = cap_o ? 2 * cap_o : 64;
			out->objects = xrealloc(out->objects, cap_o * sizeof(*out->objects));
		}
		{
			struct objstore_object *o = &out->objects[out->n_objects++];
			struct objstore_attrs a;

			memset(o, 0, sizeof(*o));
			o->bucket = xstrdup(bucket);
			o->key = xstrdup(key);
			o->size = (uint64_t)sqlite3_column_int64(st, 1);
			snprintf(o->etag, sizeof(o->etag), "%s", sqlite3_column_text(st, 2));
			o->mtime_ms = sqlite3_column_int64(st, 3);
			row_attrs(st, 4, &a);
			attrs_dup(&a, o);
			o->path = data_path(s, (const char *)sqlite3_column_text(st, 4 + N_ATTRS));
		}
		count++;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		db_err(s, e, "list objects");
		goto out;
	}
	if (out->truncated) {
		/* Resume after whichever came last: a key or a common prefix. */
		const char *last_key = out->n_objects ? out->objects[out->n_objects - 1].key : NULL;
		const char *last_prefix = out->n_prefixes ? out->prefixes[out->n_prefixes - 1] : NULL;

		if (last_prefix && (!last_key || strcmp(last_prefix, last_key) > 0))
			out->next_marker = marker_make('P', last_prefix);
		else if (last_key)
			out->next_marker = marker_make('K', last_key);
		else
			out->truncated = 0;	/* max-keys 0: nothing returned, nothing to resume */
	}
	rc = OBJSTORE_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	free(after);
	free(skip_prefix);
	if (rc != OBJSTORE_OK)
		objstore_list_release(out);
	return rc;
}

void objstore_list_release(struct objstore_list *l)
{
	for (size_t i = 0; i < l->n_objects; i++)
		objstore_object_release(&l->objects[i]);
	free(l->objects);
	for (size_t i = 0; i < l->n_prefixes; i++)
		free(l->prefixes[i]);
	free(l->prefixes);
	free(l->next_marker);
	memset(l, 0, sizeof(*l));
}

enum objstore_status objstore_upload_create(struct objstore *s, const char *bucket,
	const char *key, const struct objstore_attrs *attrs, char *upload_id, struct err *e)
{
	sqlite3_stmt *st = NULL;
	enum objstore_status rc = OBJSTORE_ERROR;
	char id[33];
	int ex;

	if (!key_valid(key))
		return OBJSTORE_KEY_TOO_LONG;
	if (new_id(id, e) < 0)
		return OBJSTORE_ERROR;
	pthread_mutex_lock(&s->lock);
	ex = bucket_exists_locked(s, bucket, e);
	if (ex <= 0) {
		rc = ex < 0 ? OBJSTORE_ERROR : OBJSTORE_NO_SUCH_BUCKET;
		goto out;
	}
	st = db_prepare(s, "INSERT INTO uploads(id, bucket, key, created_ms, " ATTR_COLUMNS
		") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", e);
	if (st == NULL)
		goto out;
	bind_text(st, 1, id);
	bind_text(st, 2, bucket);
	bind_text(st, 3, key);
	sqlite3_bind_int64(st, 4, now_ms());
	bind_attrs(st, 5, attrs);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_err(s, e, "create upload");
		goto out;
	}
	memcpy(upload_id, id, sizeof(id));
	rc = OBJSTORE_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Under s->lock: does the upload exist for this bucket and key? */
static enum objstore_status upload_check_locked(struct objstore *s, const char *bucket,
	const char *key, const char *upload_id, struct err *e)
{
	sqlite3_stmt *st = db_prepare(s, "SELECT 1 FROM uploads WHERE id = ? AND bucket = ?"
		" AND key = ?", e);
	int step, ex;

	if (st == NULL)
		return OBJSTORE_ERROR;
	ex = bucket_exists_locked(s, bucket, e);
	if (ex <= 0) {
		sqlite3_finalize(st);
		return ex < 0 ? OBJSTORE_ERROR : OBJSTORE_NO_SUCH_BUCKET;
	}
	bind_text(st, 1, upload_id);
	bind_text(st, 2, bucket);
	bind_text(st, 3, key);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_ROW)
		return OBJSTORE_OK;
	if (step == SQLITE_DONE)
		return OBJSTORE_NO_SUCH_UPLOAD;
	db_err(s, e, "upload lookup");
	return OBJSTORE_ERROR;
}

enum objstore_status objstore_part_put(struct objstore *s, const char *bucket, const char *key,
	const char *upload_id, int part_number, struct objstore_writer *w, char *etag,
	struct err *e)
{
	sqlite3_stmt *st = NULL;
	enum objstore_status rc = OBJSTORE_ERROR;
	char *old = NULL;
	int settled = 0;

	if (part_number < 1 || part_number > 10000) {
		err_set(e, "part number must be an integer between 1 and 10000, inclusive");
		rc = OBJSTORE_INVALID_ARGUMENT;
		goto out_unlocked;
	}
	if (writer_settle(w, e) < 0)
		goto out_unlocked;
	settled = 1;
	hex_encode(w->d.md5, 16, etag);
	pthread_mutex_lock(&s->lock);
	rc = upload_check_locked(s, bucket, key, upload_id, e);
	if (rc != OBJSTORE_OK)
		goto out;
	rc = OBJSTORE_ERROR;
	if (store_db_exec(s->db, "BEGIN IMMEDIATE", e) < 0)
		goto out;
	st = db_prepare(s, "SELECT file FROM parts WHERE upload_id = ? AND number = ?", e);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, upload_id);
	sqlite3_bind_int(st, 2, part_number);
	if (sqlite3_step(st) == SQLITE_ROW)
		old = store_col_text(st, 0);
	sqlite3_finalize(st);
	st = db_prepare(s, "INSERT OR REPLACE INTO parts(upload_id, number, size, etag, md5,"
		" mtime_ms, file) VALUES (?, ?, ?, ?, ?, ?, ?)", e);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, upload_id);
	sqlite3_bind_int(st, 2, part_number);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)w->d.size);
	bind_text(st, 4, etag);
	sqlite3_bind_blob(st, 5, w->d.md5, 16, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, now_ms());
	bind_text(st, 7, w->id);
	if (sqlite3_step(st) != SQLITE_DONE || store_db_exec(s->db, "COMMIT", e) < 0)
		goto rollback;
	rc = OBJSTORE_OK;
	goto out;
rollback:
	db_err(s, e, "store part");
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	free(old);
	old = NULL;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
out_unlocked:
	if (rc != OBJSTORE_OK && settled)
		unlink_id(s, w->id);
	if (old) {
		unlink_id(s, old);
		free(old);
	}
	objstore_writer_abort(w);
	return rc;
}

enum objstore_status objstore_part_list(struct objstore *s, const char *bucket, const char *key,
	const char *upload_id, int after, int max_parts, struct objstore_part **parts, size_t *n,
	int *truncated, struct err *e)
{
	sqlite3_stmt *st = NULL;
	enum objstore_status rc;
	size_t cap = 0;

	*parts = NULL;
	*n = 0;
	*truncated = 0;
	pthread_mutex_lock(&s->lock);
	rc = upload_check_locked(s, bucket, key, upload_id, e);
	if (rc != OBJSTORE_OK)
		goto out;
	st = db_prepare(s, "SELECT number, etag, size, mtime_ms FROM parts WHERE upload_id = ?"
		" AND number > ? ORDER BY number", e);
	if (st == NULL) {
		rc = OBJSTORE_ERROR;
		goto out;
	}
	bind_text(st, 1, upload_id);
	sqlite3_bind_int(st, 2, after);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct objstore_part *p;

		if ((int)*n >= max_parts) {
			*truncated = 1;
			break;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*parts = xrealloc(*parts, cap * sizeof(**parts));
		}
		p = &(*parts)[(*n)++];
		p->number = sqlite3_column_int(st, 0);
		snprintf(p->etag, sizeof(p->etag), "%s", sqlite3_column_text(st, 1));
		p->size = (uint64_t)sqlite3_column_int64(st, 2);
		p->mtime_ms = sqlite3_column_int64(st, 3);
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

struct stored_part {
	int number;
	char etag[48];
	unsigned char md5[16];
	uint64_t size;
	char *file;
};

static int copy_file_into(struct objstore_writer *w, const char *path, struct err *e)
{
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = -1;

	if (fd < 0)
		return err_set(e, "unable to open '%s': %s", path, strerror(errno));
	for (;;) {
		ssize_t k = read(fd, buf, sizeof(buf));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			err_set(e, "unable to read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		/* Straight to the file: the object's MD5 is not its ETag, so skip hashing. */
		for (ssize_t off = 0; off < k;) {
			ssize_t wr = write(w->fd, buf + off, (size_t)(k - off));

			if (wr < 0 && errno == EINTR)
				continue;
			if (wr < 0) {
				err_set(e, "unable to write '%s': %s", w->tmp_path,
					strerror(errno));
				goto out;
			}
			off += wr;
		}
		w->d.size += (uint64_t)k;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static void stored_parts_free(struct stored_part *sp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(sp[i].file);
	free(sp);
}

enum objstore_status objstore_upload_complete(struct objstore *s, const char *bucket,
	const char *key, const char *upload_id, const struct objstore_part *parts, size_t n,
	char *etag, struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct stored_part *sp = NULL;
	struct objstore_attrs attrs;
	struct objstore_writer *w = NULL;
	enum objstore_status rc;
	size_t n_sp = 0, cap = 0;
	char *old = NULL, *attr_copy[N_ATTRS] = { 0 };
	EVP_MD_CTX *md = NULL;
	unsigned char sum[16];
	unsigned int sum_len;
	int locked = 1, committed = 0;

	memset(&attrs, 0, sizeof(attrs));
	if (n == 0 || n > 10000) {
		err_set(e, "you must specify between 1 and 10000 parts");
		return OBJSTORE_INVALID_ARGUMENT;
	}
	pthread_mutex_lock(&s->lock);
	rc = upload_check_locked(s, bucket, key, upload_id, e);
	if (rc != OBJSTORE_OK)
		goto out;
	rc = OBJSTORE_ERROR;
	st = db_prepare(s, "SELECT number, etag, md5, size, file FROM parts WHERE upload_id = ?"
		" ORDER BY number", e);
	if (st == NULL)
		goto out;
	bind_text(st, 1, upload_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n_sp == cap) {
			cap = cap ? 2 * cap : 16;
			sp = xrealloc(sp, cap * sizeof(*sp));
		}
		sp[n_sp].number = sqlite3_column_int(st, 0);
		snprintf(sp[n_sp].etag, sizeof(sp[n_sp].etag), "%s", sqlite3_column_text(st, 1));
		memcpy(sp[n_sp].md5, sqlite3_column_blob(st, 2), 16);
		sp[n_sp].size = (uint64_t)sqlite3_column_int64(st, 3);
		sp[n_sp].file = store_col_text(st, 4);
		n_sp++;
	}
	sqlite3_finalize(st);
	st = db_prepare(s, "SELECT " ATTR_COLUMNS " FROM uploads WHERE id = ?", e);
	if (st == NULL)
		goto out;
	bind_text(st, 1, upload_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < N_ATTRS; i++)
			attr_copy[i] = store_col_text(st, i);
	}
	sqlite3_finalize(st);
	st = NULL;
	pthread_mutex_unlock(&s->lock);
	locked = 0;
	attrs = (struct objstore_attrs){ attr_copy[0], attr_copy[1], attr_copy[2], attr_copy[3],
		attr_copy[4], attr_copy[5], attr_copy[6], attr_copy[7], attr_copy[8] };

	/* Check the client's list against what was stored: order, ETags, sizes. */
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1) {
		err_set(e, "unable to start md5");
		goto out;
	}
	for (size_t i = 1; i < n; i++) {
		if (parts[i].number <= parts[i - 1].number) {
			rc = OBJSTORE_INVALID_PART_ORDER;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct stored_part *found = NULL;
		const char *want = parts[i].etag;
		size_t wl = strlen(want);

		for (size_t j = 0; j < n_sp; j++)
			if (sp[j].number == parts[i].number)
				found = &sp[j];
		/* ETags may come quoted or not */
		if (wl >= 2 && want[0] == '"' && want[wl - 1] == '"') {
			want++;
			wl -= 2;
		}
		if (found == NULL || strlen(found->etag) != wl || strncmp(found->etag, want, wl)) {
			rc = OBJSTORE_INVALID_PART;
			goto out;
		}
		if (i + 1 < n && found->size < OBJSTORE_MIN_PART) {
			rc = OBJSTORE_ENTITY_TOO_SMALL;
			goto out;
		}
		EVP_DigestUpdate(md, found->md5, 16);
	}
	EVP_DigestFinal_ex(md, sum, &sum_len);
	hex_encode(sum, 16, etag);
	snprintf(etag + 32, 16, "-%d", (int)(n % 100000));

	if (objstore_writer_open(s, 0, &w, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n_sp; j++) {
			if (sp[j].number != parts[i].number)
				continue;
			char *p = data_path(s, sp[j].file);
			int crc = copy_file_into(w, p, e);

			free(p);
			if (crc < 0)
				goto out;
		}
	}
	if (writer_settle(w, e) < 0)
		goto out;

	pthread_mutex_lock(&s->lock);
	locked = 1;
	rc = upload_check_locked(s, bucket, key, upload_id, e);
	if (rc != OBJSTORE_OK)
		goto out;
	rc = OBJSTORE_ERROR;
	if (store_db_exec(s->db, "BEGIN IMMEDIATE", e) < 0)
		goto out;
	if (object_upsert_locked(s, bucket, key, w->id, w->d.size, etag, now_ms(), &attrs, &old,
			e) < 0)
		goto rollback;
	st = db_prepare(s, "DELETE FROM parts WHERE upload_id = ?1", e);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, upload_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_finalize(st);
	st = db_prepare(s, "DELETE FROM uploads WHERE id = ?1", e);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, upload_id);
	if (sqlite3_step(st) != SQLITE_DONE || store_db_exec(s->db, "COMMIT", e) < 0)
		goto rollback;
	committed = 1;
	rc = OBJSTORE_OK;
	goto out;
rollback:
	db_err(s, e, "complete upload");
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(st);
	if (locked)
		pthread_mutex_unlock(&s->lock);
	if (w && !committed && w->tmp_path == NULL)
		unlink_id(s, w->id);
	objstore_writer_abort(w);
	if (committed) {
		/* The parts were concatenated into the object: their files can go. */
		for (size_t j = 0; j < n_sp; j++)
			unlink_id(s, sp[j].file);
	}
	if (old) {
		unlink_id(s, old);
		free(old);
	}
	stored_parts_free(sp, n_sp);
	for (int i = 0; i < N_ATTRS; i++)
		free(attr_copy[i]);
	EVP_MD_CTX_free(md);
	return rc;
}

enum objstore_status objstore_upload_abort(struct objstore *s, const char *bucket,
	const char *key, const char *upload_id, struct err *e)
{
	sqlite3_stmt *st = NULL;
	enum objstore_status rc;
	char **ids = NULL;
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	rc = upload_check_locked(s, bucket, key, upload_id, e);
	if (rc != OBJSTORE_OK)
		goto out;
	rc = OBJSTORE_ERROR;
	if (collect_ids(s, "SELECT file FROM parts WHERE upload_id = ?", upload_id, &ids, &n,
			e) < 0)
		goto out;
	if (store_db_exec(s->db, "BEGIN IMMEDIATE", e) < 0)
		goto out;
	st = db_prepare(s, "DELETE FROM parts WHERE upload_id = ?1", e);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, upload_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_finalize(st);
	st = db_prepare(s, "DELETE FROM uploads WHERE id = ?1", e);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, upload_id);
	if (sqlite3_step(st) != SQLITE_DONE || store_db_exec(s->db, "COMMIT", e) < 0)
		goto rollback;
	rc = OBJSTORE_OK;
	goto out;
rollback:
	db_err(s, e, "abort upload");
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (rc == OBJSTORE_OK) {
		unlink_ids(s, ids, n);
	} else {
		for (size_t i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
	}
	return rc;
}
