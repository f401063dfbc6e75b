/*
 * images.c: the local cloud's image store (see images.h): push a directory
 * tree as an immutable, content-addressed image; resolve NAME:TAG and
 * NAME@sha256:... to the tree.
 *
 * Push walks the source once, depth first with entries in byte order,
 * hashing every file while copying it into a temporary directory of the
 * store; the listing's digest then names the image and the temporary
 * directory is renamed into place (or dropped when that digest is stored
 * already).  The tag file is replaced with rename(), so a reader sees the
 * old or the new digest, never half of either.
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "buf.h"
#include "fsutil.h"
#include "hex.h"
#include "localcloud/images.h"

#define IMAGES_MAX_DEPTH 64

int images_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 200 || name[0] == '/' || name[0] == '.' || name[n - 1] == '/')
		return 0;
	if (strstr(name, "..") != NULL || strstr(name, "//") != NULL || strstr(name, "/.") != NULL)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			    c == '-' || c == '/'))
			return 0;
	}
	return 1;
}

int images_tag_valid(const char *tag)
{
	size_t i, n = strlen(tag);

	if (n == 0 || n > 128 || tag[0] == '.' || tag[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = tag[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int byte_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

/*
 * Hash the file at src (and copy it to dst unless dst is NULL, with mode).
 * hex gets the sha256 of its bytes.
 */
static int file_hash_copy(
	const char *src, const char *dst, mode_t mode, char hex[65], struct err *e)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char chunk[65536];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int in = -1, out = -1, ret = -1;
	ssize_t n;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		err_set(e, "sha256 unavailable");
		goto out;
	}
	in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0) {
		err_set(e, "unable to open '%s': %s", src, strerror(errno));
		goto out;
	}
	if (dst != NULL) {
		out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (out < 0) {
			err_set(e, "unable to create '%s': %s", dst, strerror(errno));
			goto out;
		}
	}
	while ((n = read(in, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set(e, "unable to read '%s': %s", src, strerror(errno));
			goto out;
		}
		EVP_DigestUpdate(ctx, chunk, (size_t)n);
		if (out >= 0) {
			ssize_t off = 0;

			while (off < n) {
				ssize_t w = write(out, chunk + off, (size_t)(n - off));

				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0) {
					err_set(e, "unable to write '%s': %s", dst,
						strerror(errno));
					goto out;
				}
				off += w;
			}
		}
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	hex_encode(md, mdlen, hex);
	if (out >= 0) {
		/* images are read-only: nobody writes through a task's image */
		if (fchmod(out, mode & 0555) < 0 || fsync(out) < 0) {
			err_set(e, "unable to finish '%s': %s", dst, strerror(errno));
			goto out;
		}
	}
	ret = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	EVP_MD_CTX_free(ctx);
	return ret;
}

static void sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, mdlen, hex);
}

/*
 * Walk src/rel depth first, appending listing lines, copying into dst/rel
 * when dst is not NULL.
 */
static int walk(const char *src, const char *dst, const char *rel, int depth, struct buf *listing,
	struct err *e)
{
	struct dirent **ents = NULL;
	char *sdir = NULL, *ddir = NULL, *spath = NULL, *dpath = NULL, *rpath = NULL;
	int n = -1, i, ret = -1;

	if (depth > IMAGES_MAX_DEPTH)
		return err_set(e, "'%s' is nested more than %d levels deep", src, IMAGES_MAX_DEPTH);
	sdir = rel[0] ? xasprintf("%s/%s", src, rel) : xstrdup(src);
	if (dst != NULL)
		ddir = rel[0] ? xasprintf("%s/%s", dst, rel) : xstrdup(dst);
	n = scandir(sdir, &ents, skip_dots, byte_order);
	if (n < 0) {
		err_set(e, "unable to read directory '%s': %s", sdir, strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		struct stat st;
		char hex[65];

		free(spath);
		free(dpath);
		free(rpath);
		dpath = NULL;
		spath = xasprintf("%s/%s", sdir, name);
		rpath = rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
		if (ddir != NULL)
			dpath = xasprintf("%s/%s", ddir, name);
		if (strchr(name, '\n') != NULL) {
			err_set(e, "unable to store '%s': a newline in a file name", spath);
			goto out;
		}
		if (lstat(spath, &st) < 0) {
			err_set(e, "unable to stat '%s': %s", spath, strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			buf_appendf(
				listing, "d %04o - %s\n", (unsigned)(st.st_mode & 07777), rpath);
			if (dpath != NULL && mkdir(dpath, 0700) < 0) {
				err_set(e, "unable to create '%s': %s", dpath, strerror(errno));
				goto out;
			}
			if (walk(src, dst, rpath, depth + 1, listing, e) < 0)
				goto out;
			if (dpath != NULL && chmod(dpath, st.st_mode & 0555) < 0) {
				err_set(e, "unable to chmod '%s': %s", dpath, strerror(errno));
				goto out;
			}
		} else if (S_ISREG(st.st_mode)) {
			if (file_hash_copy(spath, dpath, st.st_mode, hex, e) < 0)
				goto out;
			buf_appendf(listing, "f %04o %s %s\n", (unsigned)(st.st_mode & 07777), hex,
				rpath);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t len = readlink(spath, target, sizeof(target) - 1);

			if (len < 0) {
				err_set(e, "unable to read link '%s': %s", spath, strerror(errno));
				goto out;
			}
			target[len] = '\0';
			sha256_hex(target, (size_t)len, hex);
			buf_appendf(listing, "l 0777 %s %s\n", hex, rpath);
			if (dpath != NULL && symlink(target, dpath) < 0) {
				err_set(e, "unable to create link '%s': %s", dpath,
					strerror(errno));
				goto out;
			}
		} else {
			err_set(e, "unable to store '%s': not a file, directory or symlink", spath);
			goto out;
		}
	}
	ret = 0;
out:
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(sdir);
	free(ddir);
	free(spath);
	free(dpath);
	free(rpath);
	return ret;
}

static int mkdirs(const char *path, struct err *e)
{
	char *p = xstrdup(path), *s;
	int ret = -1;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			err_set(e, "unable to create '%s': %s", p, strerror(errno));
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST) {
		err_set(e, "unable to create '%s': %s", p, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(p);
	return ret;
}

int images_digest(const char *dir, char digest[IMAGES_DIGEST_LEN], struct err *e)
{
	struct buf listing = BUF_INIT;
	char hex[65];
	int ret = -1;

	buf_init(&listing);
	if (walk(dir, NULL, "", 0, &listing, e) < 0)
		goto out;
	sha256_hex(listing.data ? listing.data : "", listing.len, hex);
	snprintf(digest, IMAGES_DIGEST_LEN, "sha256:%s", hex);
	ret = 0;
out:
	buf_release(&listing);
	return ret;
}

/*
 * Tags are files at images/tags/<name>/<tag>, and a name may hold '/': so
 * "api" tagged "v1" and a name "api/v1" would need the same path as a file
 * and as a directory.  Refuse the one pushed second, before anything is
 * written (0 when name:tag is free of such a collision).
 */
static int images_tag_path_free(const char *home, const char *name, const char *tag,
	struct err *e)
{
	char *path = xasprintf("%s/images/tags/%s/%s", home, name, tag);
	size_t base = strlen(home) + strlen("/images/tags/");
	struct stat st;
	int rc = 0;

	/* each proper prefix of the name, as a tag of the name before it */
	for (char *slash = strchr(path + base, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
			char *other = xstrdup(path + base), *cut = strrchr(other, '/');

			if (cut != NULL)
				*cut = ':';
			rc = err_usage(e,
				"image '%s:%s' collides with the image '%s' already pushed (a name "
				"cannot extend another's name:tag): choose another name or tag",
				name, tag, other);
			free(other);
			goto out;
		}
		*slash = '/';
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		rc = err_usage(e,
			"image '%s:%s' collides with the images named '%s/%s/...' already pushed: "
			"choose another name or tag",
			name, tag, name, tag);
out:
	free(path);
	return rc;
}

int images_push(const char *home, const char *src, const char *name, const char *tag,
	char digest[IMAGES_DIGEST_LEN], struct err *e)
{
	struct buf listing = BUF_INIT;
	unsigned char rnd[8];
	char rhex[17], hex[65];
	char *tmpdir = NULL, *rootfs = NULL, *final = NULL, *tagdir = NULL, *tagpath = NULL;
	char *path = NULL, *text = NULL;
	struct stat st;
	int ret = -1;

	buf_init(&listing);
	if (!images_name_valid(name))
		return err_usage(e,
			"invalid image name '%s': use lower-case letters, digits and . _ - /",
			name);
	if (!images_tag_valid(tag))
		return err_usage(
			e, "invalid tag '%s': use letters, digits and . _ - (up to 128)", tag);
	if (stat(src, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_usage(e, "'%s' is not a directory", src);
	if (images_tag_path_free(home, name, tag, e) < 0)
		return -1;
	RAND_bytes(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), rhex);
	tmpdir = xasprintf("%s/images/tmp/%s", home, rhex);
	rootfs = xasprintf("%s/rootfs", tmpdir);
	if (mkdirs(rootfs, e) < 0)
		goto out;
	if (walk(src, rootfs, "", 0, &listing, e) < 0)
		goto out;
	if (chmod(rootfs, st.st_mode & 0555) < 0) {
		err_set(e, "unable to chmod '%s': %s", rootfs, strerror(errno));
		goto out;
	}
	sha256_hex(listing.data ? listing.data : "", listing.len, hex);
	snprintf(digest, IMAGES_DIGEST_LEN, "sha256:%s", hex);
	path = xasprintf("%s/listing", tmpdir);
	if (fsutil_write_atomic(path, listing.data ? listing.data : "", listing.len, 0600, e) < 0)
		goto out;
	free(path);
	path = xasprintf("%s/images/sha256", home);
	if (mkdirs(path, e) < 0)
		goto out;
	final = xasprintf("%s/%s", path, hex);
	if (rename(tmpdir, final) < 0) {
		/* the same tree was pushed before: keep the stored one */
		if (errno != EEXIST && errno != ENOTEMPTY) {
			err_set(e, "unable to store image '%s': %s", final, strerror(errno));
			goto out;
		}
		fsutil_remove_tree(tmpdir);
	}
	free(tmpdir);
	tmpdir = NULL;
	tagdir = xasprintf("%s/images/tags/%s", home, name);
	if (mkdirs(tagdir, e) < 0)
		goto out;
	tagpath = xasprintf("%s/%s", tagdir, tag);
	text = xasprintf("%s\n", digest);
	if (fsutil_write_atomic(tagpath, text, strlen(text), 0600, e) < 0)
		goto out;
	ret = 0;
out:
	if (tmpdir != NULL)
		fsutil_remove_tree(tmpdir);
	buf_release(&listing);
	free(tmpdir);
	free(rootfs);
	free(final);
	free(tagdir);
	free(tagpath);
	free(path);
	free(text);
	return ret;
}

static int hex64_valid(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

int images_resolve(const char *home, const char *ref, char **rootfs_out,
	char digest[IMAGES_DIGEST_LEN], struct err *e)
{
	char *name = NULL, *tagpath = NULL, *rootfs = NULL;
	const char *at, *colon, *slash, *tag = "latest";
	char text[128];
	struct stat st;
	int fd, ret = -1;
	ssize_t n;

	*rootfs_out = NULL;
	at = strchr(ref, '@');
	if (at != NULL) {
		name = xstrndup(ref, (size_t)(at - ref));
		if (strncmp(at + 1, "sha256:", 7) || !hex64_valid(at + 8)) {
			err_set(e, "invalid image reference '%s': expected NAME@sha256:<64 hex>",
				ref);
			goto out;
		}
		snprintf(digest, IMAGES_DIGEST_LEN, "%s", at + 1);
	} else {
		slash = strrchr(ref, '/');
		colon = strrchr(ref, ':');
		if (colon != NULL && (slash == NULL || colon > slash)) {
			name = xstrndup(ref, (size_t)(colon - ref));
			tag = colon + 1;
		} else {
			name = xstrdup(ref);
		}
	}
	if (!images_name_valid(name) || !images_tag_valid(tag)) {
		err_set(e, "invalid image reference '%s'", ref);
		goto out;
	}
	if (at == NULL) {
		tagpath = xasprintf("%s/images/tags/%s/%s", home, name, tag);
		fd = open(tagpath, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err_set(e, "image '%s:%s' not found in the local image store", name, tag);
			goto out;
		}
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n < 72) {
			err_set(e, "unreadable tag file '%s'", tagpath);
			goto out;
		}
		text[71] = '\0';
		if (strncmp(text, "sha256:", 7) || !hex64_valid(text + 7)) {
			err_set(e, "unreadable tag file '%s'", tagpath);
			goto out;
		}
		memcpy(digest, text, 72);
	}
	rootfs = xasprintf("%s/images/sha256/%s/rootfs", home, digest + 7);
	if (stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err_set(e, "image '%s' (%s) not found in the local image store", ref, digest);
		goto out;
	}
	*rootfs_out = rootfs;
	rootfs = NULL;
	ret = 0;
out:
	free(name);
	free(tagpath);
	free(rootfs);
	return ret;
}
