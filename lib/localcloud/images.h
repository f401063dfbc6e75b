/*
 * images.h: the local cloud's image store.
 *
 * An image is a directory tree, pushed once and never changed.  It is
 * addressed by its content digest: sha256 over a canonical listing of the
 * tree (one line per entry, sorted by path: type, permission bits, the
 * sha256 of a file's bytes or a symlink's target, path).  Two pushes of
 * the same tree give the same digest; any change of a byte, a mode or a
 * name gives another.  Tags are names pointing at digests and move when a
 * new tree is pushed under the same NAME:TAG; digests never move.
 *
 * Layout under <home>/images:
 *   sha256/<hex>/rootfs/         the tree, read-only (files and dirs a-w)
 *   sha256/<hex>/listing         the canonical listing the digest hashes
 *   tags/<name>/<tag>            "sha256:<hex>\n" (replaced atomically)
 *
 * References (as in an ECS container definition's "image"): NAME:TAG,
 * NAME (tag "latest") or NAME@sha256:<64 hex>.  NAME is lower-case
 * letters, digits and . _ - / (no "..", not starting with / or .);
 * TAG is [A-Za-z0-9_.-]{1,128} not starting with . or -.
 *
 * Used by 'caliber local push-image' (writes) and by caliberd's ECS
 * supervisor (resolves when a task starts, so a moved tag is picked up by
 * the next task).  Both run as the same user on the same <home>.
 */
#ifndef CALIBER_LOCALCLOUD_IMAGES_H
#define CALIBER_LOCALCLOUD_IMAGES_H

#include "err.h"

/* "sha256:" + 64 hex + NUL */
#define IMAGES_DIGEST_LEN 72

/*
 * Copy the tree at src into the store (unless an image with the same
 * digest is there already) and point name:tag at it.  digest gets
 * "sha256:<hex>".  Symlinks are copied as links; other special files are
 * refused.
 */
int images_push(const char *home, const char *src, const char *name, const char *tag,
	char digest[IMAGES_DIGEST_LEN], struct err *e);

/*
 * Resolve a reference to the image's rootfs directory (*rootfs, caller
 * frees) and digest.  Errors say which name, tag or digest is missing.
 */
int images_resolve(const char *home, const char *ref, char **rootfs, char digest[IMAGES_DIGEST_LEN],
	struct err *e);

/*
 * Compute the digest of the tree at dir without storing it (the digest
 * images_push would give).
 */
int images_digest(const char *dir, char digest[IMAGES_DIGEST_LEN], struct err *e);

/* Validation of the parts of a reference; 1 valid, 0 not. */
int images_name_valid(const char *name);
int images_tag_valid(const char *tag);

#endif
