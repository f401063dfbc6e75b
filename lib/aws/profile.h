/*
 * profile.h: the shared AWS config and credentials files (~/.aws/config,
 * ~/.aws/credentials), read as awscli reads them.
 *
 * Format (botocore's configloader): "[section]" lines, "key = value" (or
 * "key: value") lines, comments on lines starting with '#' or ';', keys
 * lower-cased.  A key with an empty value followed by indented
 * "sub = value" lines is a nested section (e.g. "s3 =" then
 * "  addressing_style = path"), stored as key "s3.addressing_style".
 * In the config file profiles are "[profile name]" ("[default]" too);
 * other sections are "[sso-session name]" and "[services name]".  In the
 * credentials file profiles are "[name]".  A profile's values in the
 * credentials file take precedence over the config file's.
 *
 * Not inih: Debian's libinih caps lines at 200 bytes, and an
 * aws_session_token line is longer than that.
 *
 * Ownership: struct aws_ini and struct aws_profile_files own everything
 * they point to; the *_get() functions return borrowed strings valid
 * until the release.
 */
#ifndef CALIBER_AWS_PROFILE_H
#define CALIBER_AWS_PROFILE_H

#include <stddef.h>

#include "err.h"

struct aws_ini_entry {
	char *key;
	char *value;
};

struct aws_ini_section {
	char *name;		/* between the brackets, trimmed */
	struct aws_ini_entry *entries;
	size_t n_entries;
};

struct aws_ini {
	struct aws_ini_section *sections;
	size_t n_sections;
};

#define AWS_INI_INIT { NULL, 0 }

/* Parse text; an unparseable line is an error naming its number. */
int aws_ini_parse(struct aws_ini *ini, const char *text, size_t len, struct err *e);
/* Parse the file at path; *found = 0 (and success) when it does not exist. */
int aws_ini_load(struct aws_ini *ini, const char *path, int *found, struct err *e);
/* The value of key in section (last one wins), NULL if absent. */
const char *aws_ini_get(const struct aws_ini *ini, const char *section, const char *key);
int aws_ini_has_section(const struct aws_ini *ini, const char *section);
void aws_ini_release(struct aws_ini *ini);

struct aws_profile_files {
	char *config_path;	/* AWS_CONFIG_FILE, else ~/.aws/config */
	char *credentials_path; /* AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials */
	int config_found;
	int credentials_found;
	struct aws_ini config;
	struct aws_ini credentials;
};

#define AWS_PROFILE_FILES_INIT { NULL, NULL, 0, 0, AWS_INI_INIT, AWS_INI_INIT }

/* Load both files; missing files are not an error, unreadable or invalid ones are. */
int aws_profile_files_load(struct aws_profile_files *f, struct err *e);
void aws_profile_files_release(struct aws_profile_files *f);

/* The profile in use: explicit if not NULL, else AWS_PROFILE, else "default". */
const char *aws_profile_name(const char *explicit_profile);

/* The home directory ($HOME, else the password database); caller frees. */
char *aws_home_dir(void);
/* path with a leading "~/" expanded; caller frees. */
char *aws_path_expand(const char *path);

/* key of profile in the credentials file, then in the config file. */
const char *aws_profile_get(const struct aws_profile_files *f, const char *profile,
	const char *key);
/* Only the config file's [profile name] (or [default]). */
const char *aws_profile_config_get(const struct aws_profile_files *f, const char *profile,
	const char *key);
/* Only the credentials file's [name]. */
const char *aws_profile_credentials_get(const struct aws_profile_files *f, const char *profile,
	const char *key);
int aws_profile_exists(const struct aws_profile_files *f, const char *profile);
/* key of "[kind name]" in the config file, e.g. kind "sso-session" or "services". */
const char *aws_profile_section_get(const struct aws_profile_files *f, const char *kind,
	const char *name, const char *key);

#endif
