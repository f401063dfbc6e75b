/*
 * profile.c: reading ~/.aws/config and ~/.aws/credentials.
 *
 * A small line parser of the format botocore's configloader accepts (see
 * profile.h for why not inih).  Sections and entries are kept in file
 * order; lookups scan from the end so that the last definition wins, as
 * with Python's configparser merging duplicate sections.
 */
#include "compat.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <sys/stat.h>

#include "aws/profile.h"
#include "buf.h"

/* A config file larger than this is refused rather than read into memory. */
#define AWS_INI_MAX_SIZE (4 * 1024 * 1024)

static char *trim(char *s, char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

static struct aws_ini_section *section_add(struct aws_ini *ini, const char *name)
{
	struct aws_ini_section *s;

	ini->sections = xrealloc(ini->sections, (ini->n_sections + 1) * sizeof(*ini->sections));
	s = &ini->sections[ini->n_sections++];
	s->name = xstrdup(name);
	s->entries = NULL;
	s->n_entries = 0;
	return s;
}

static struct aws_ini_entry *entry_add(struct aws_ini_section *s, const char *key,
	const char *value)
{
	struct aws_ini_entry *en;
	size_t i;

	s->entries = xrealloc(s->entries, (s->n_entries + 1) * sizeof(*s->entries));
	en = &s->entries[s->n_entries++];
	en->key = xstrdup(key);
	for (i = 0; en->key[i]; i++)
		en->key[i] = (char)tolower((unsigned char)en->key[i]);
	en->value = xstrdup(value);
	return en;
}

/* Split "key = value" or "key: value" at the first delimiter. */
static int split_assignment(char *line, char **key, char **value)
{
	char *eq = strpbrk(line, "=:");

	if (eq == NULL)
		return -1;
	*key = trim(line, eq);
	*value = trim(eq + 1, eq + 1 + strlen(eq + 1));
	return **key ? 0 : -1;
}

int aws_ini_parse(struct aws_ini *ini, const char *text, size_t len, struct err *e)
{
	char *copy = xstrndup(text, len), *p = copy, *next;
	struct aws_ini_section *cur = NULL;
	char *nest = NULL;	/* key of the nested section being read */
	size_t cur_entry = (size_t)-1, lineno = 0;
	int rc = -1;

	for (; p; p = next) {
		char *line, *key, *value;
		int indented;

		lineno++;
		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		indented = *p == ' ' || *p == '\t';
		line = trim(p, p + strlen(p));
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			char *close = strrchr(line, ']');

			if (close == NULL) {
				err_set(e, "line %zu: section header without ']'", lineno);
				goto out;
			}
			cur = section_add(ini, trim(line + 1, close));
			cur_entry = (size_t)-1;
			free(nest);
			nest = NULL;
			continue;
		}
		if (cur == NULL) {
			err_set(e, "line %zu: value outside of any [section]", lineno);
			goto out;
		}
		if (indented && cur_entry != (size_t)-1) {
			struct aws_ini_entry *prev = &cur->entries[cur_entry];

			if (nest) {
				char *full;

				if (split_assignment(line, &key, &value) < 0) {
					err_set(e, "line %zu: expected 'name = value' under '%s'",
						lineno, nest);
					goto out;
				}
				full = xasprintf("%s.%s", nest, key);
				entry_add(cur, full, value);
				free(full);
			} else {
				/* configparser's continuation line */
				char *joined = xasprintf("%s\n%s", prev->value, line);

				free(prev->value);
				prev->value = joined;
			}
			continue;
		}
		if (split_assignment(line, &key, &value) < 0) {
			err_set(e, "line %zu: expected 'name = value' or '[section]'", lineno);
			goto out;
		}
		free(nest);
		nest = NULL;
		entry_add(cur, key, value);
		cur_entry = cur->n_entries - 1;
		if (*value == '\0')
			nest = xstrdup(cur->entries[cur_entry].key);
	}
	rc = 0;
out:
	free(nest);
	free(copy);
	return rc;
}

int aws_ini_load(struct aws_ini *ini, const char *path, int *found, struct err *e)
{
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;
	FILE *f = NULL;
	int rc = -1;

	*found = 0;
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_set(e, "unable to open '%s': %s", path, strerror(errno));
	}
	*found = 1;
	buf_set_cap(&b, AWS_INI_MAX_SIZE);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			err_set(e, "'%s' is larger than %d bytes", path, AWS_INI_MAX_SIZE);
			goto out;
		}
	}
	if (ferror(f)) {
		err_set(e, "unable to read '%s'", path);
		goto out;
	}
	if (aws_ini_parse(ini, buf_str(&b), b.len, e) < 0) {
		err_prefix(e, "%s", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	buf_release_secret(&b);
	return rc;
}

const char *aws_ini_get(const struct aws_ini *ini, const char *section, const char *key)
{
	size_t i, j;

	for (i = ini->n_sections; i-- > 0;) {
		const struct aws_ini_section *s = &ini->sections[i];

		if (strcmp(s->name, section) != 0)
			continue;
		for (j = s->n_entries; j-- > 0;) {
			if (strcasecmp(s->entries[j].key, key) == 0)
				return s->entries[j].value;
		}
	}
	return NULL;
}

int aws_ini_has_section(const struct aws_ini *ini, const char *section)
{
	size_t i;

	for (i = 0; i < ini->n_sections; i++) {
		if (strcmp(ini->sections[i].name, section) == 0)
			return 1;
	}
	return 0;
}

void aws_ini_release(struct aws_ini *ini)
{
	size_t i, j;

	for (i = 0; i < ini->n_sections; i++) {
		struct aws_ini_section *s = &ini->sections[i];

		for (j = 0; j < s->n_entries; j++) {
			free(s->entries[j].key);
			/* values may be secrets (aws_secret_access_key) */
			OPENSSL_cleanse(s->entries[j].value, strlen(s->entries[j].value));
			free(s->entries[j].value);
		}
		free(s->entries);
		free(s->name);
	}
	free(ini->sections);
	ini->sections = NULL;
	ini->n_sections = 0;
}

char *aws_home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h)
		return xstrdup(h);
	pw = getpwuid(getuid());
	if (pw && pw->pw_dir)
		return xstrdup(pw->pw_dir);
	return xstrdup("/");
}

char *aws_path_expand(const char *path)
{
	char *home, *r;

	if (path[0] != '~' || (path[1] != '/' && path[1] != '\0'))
		return xstrdup(path);
	home = aws_home_dir();
	r = xasprintf("%s%s", home, path + 1);
	free(home);
	return r;
}

static char *default_path(const char *env, const char *name)
{
	const char *v = getenv(env);
	char *home, *r;

	if (v && *v)
		return aws_path_expand(v);
	home = aws_home_dir();
	r = xasprintf("%s/.aws/%s", home, name);
	free(home);
	return r;
}

int aws_profile_files_load(struct aws_profile_files *f, struct err *e)
{
	f->config_path = default_path("AWS_CONFIG_FILE", "config");
	f->credentials_path = default_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	if (aws_ini_load(&f->config, f->config_path, &f->config_found, e) < 0)
		return -1;
	if (aws_ini_load(&f->credentials, f->credentials_path, &f->credentials_found, e) < 0)
		return -1;
	return 0;
}

void aws_profile_files_release(struct aws_profile_files *f)
{
	free(f->config_path);
	free(f->credentials_path);
	f->config_path = NULL;
	f->credentials_path = NULL;
	aws_ini_release(&f->config);
	aws_ini_release(&f->credentials);
}

const char *aws_profile_name(const char *explicit_profile)
{
	const char *p;

	if (explicit_profile && *explicit_profile)
		return explicit_profile;
	p = getenv("AWS_PROFILE");
	if (p && *p)
		return p;
	return "default";
}

const char *aws_profile_config_get(const struct aws_profile_files *f, const char *profile,
	const char *key)
{
	char *section = xasprintf("profile %s", profile);
	const char *v = aws_ini_get(&f->config, section, key);

	free(section);
	if (v == NULL && strcmp(profile, "default") == 0)
		v = aws_ini_get(&f->config, "default", key);
	return v;
}

const char *aws_profile_credentials_get(const struct aws_profile_files *f, const char *profile,
	const char *key)
{
	return aws_ini_get(&f->credentials, profile, key);
}

const char *aws_profile_get(const struct aws_profile_files *f, const char *profile,
	const char *key)
{
	const char *v = aws_profile_credentials_get(f, profile, key);

	return v ? v : aws_profile_config_get(f, profile, key);
}

int aws_profile_exists(const struct aws_profile_files *f, const char *profile)
{
	char *section = xasprintf("profile %s", profile);
	int r = aws_ini_has_section(&f->config, section) ||
		aws_ini_has_section(&f->credentials, profile) ||
		(strcmp(profile, "default") == 0 && aws_ini_has_section(&f->config, "default"));

	free(section);
	return r;
}

const char *aws_profile_section_get(const struct aws_profile_files *f, const char *kind,
	const char *name, const char *key)
{
	char *section = xasprintf("%s %s", kind, name);
	const char *v = aws_ini_get(&f->config, section, key);

	free(section);
	return v;
}
