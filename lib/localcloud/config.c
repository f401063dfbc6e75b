/*
 * config.c: the local cloud's state directory, ports, credentials and pid
 * file, as caliberd writes them and caliber reads them.
 */
#include "compat.h"

#include <fcntl.h>
#include <ini.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "buf.h"
#include "fsutil.h"
#include "localcloud/config.h"

int localcloud_port_parse(const char *s, const char *what, int *out, struct err *e)
{
	char *end = NULL;
	long v;

	if (s == NULL || *s == '\0')
		return err_usage(e, "%s needs a port number", what);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v < 1 || v > 65535)
		return err_usage(e, "invalid %s '%s': expected a port number from 1 to 65535", what,
			s);
	*out = (int)v;
	return 0;
}

static int config_home(struct localcloud_config *cfg, struct err *e)
{
	const char *h = getenv("CALIBER_HOME");
	char *abs = NULL;

	if (h != NULL && *h != '\0') {
		if (h[0] == '/') {
			cfg->home = xstrdup(h);
		} else {
			char *cwd = getcwd(NULL, 0);

			if (cwd == NULL)
				return err_set(e, "unable to read the current directory: %s",
					strerror(errno));
			abs = xasprintf("%s/%s", cwd, h);
			free(cwd);
			cfg->home = abs;
		}
	} else {
		const char *home = getenv("HOME");

		if (home == NULL || *home == '\0') {
			struct passwd *pw = getpwuid(getuid());

			if (pw == NULL)
				return err_set(e, "unable to find the home directory; set CALIBER_HOME");
			home = pw->pw_dir;
		}
		cfg->home = xasprintf("%s/.caliber/local", home);
	}
	/* trailing slashes make every derived path look odd in messages */
	while (strlen(cfg->home) > 1 && cfg->home[strlen(cfg->home) - 1] == '/')
		cfg->home[strlen(cfg->home) - 1] = '\0';
	return 0;
}

struct conf_read {
	struct localcloud_config *cfg;
	int port, https, http;
	int bad;
};

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_read *r = user;
	int *dst = NULL;
	int v;

	(void)section;
	if (!strcmp(name, "port"))
		dst = &r->port;
	else if (!strcmp(name, "edge_https_port"))
		dst = &r->https;
	else if (!strcmp(name, "edge_http_port"))
		dst = &r->http;
	if (dst == NULL)
		return 1;
	if (localcloud_port_parse(value, name, &v, NULL) < 0) {
		r->bad = 1;
		return 1;
	}
	*dst = v;
	return 1;
}

static int env_port(const char *var, int *dst, struct err *e)
{
	const char *v = getenv(var);

	if (v == NULL || *v == '\0')
		return 0;
	return localcloud_port_parse(v, var, dst, e);
}

int localcloud_config_load(struct localcloud_config *cfg, struct err *e)
{
	struct conf_read r = { cfg, 0, 0, 0, 0 };
	char *path = NULL;
	int env_p = 0, env_s = 0, env_h = 0;
	int ret = -1;

	if (cfg->home == NULL && config_home(cfg, e) < 0)
		goto out;
	if (env_port("CALIBER_LOCAL_PORT", &env_p, e) < 0 ||
		env_port("CALIBER_EDGE_HTTPS_PORT", &env_s, e) < 0 ||
		env_port("CALIBER_EDGE_HTTP_PORT", &env_h, e) < 0)
		goto out;
	path = localcloud_path(cfg, "local.conf");
	if (access(path, F_OK) == 0) {
		if (ini_parse(path, conf_handler, &r) != 0 || r.bad) {
			err_set(e, "unable to read '%s': expected lines 'port = N'", path);
			goto out;
		}
	}
	if (cfg->port == 0)
		cfg->port = env_p ? env_p : r.port ? r.port : LOCALCLOUD_DEFAULT_PORT;
	if (cfg->edge_https_port == 0)
		cfg->edge_https_port = env_s	 ? env_s
				       : r.https ? r.https
						 : LOCALCLOUD_DEFAULT_EDGE_HTTPS_PORT;
	if (cfg->edge_http_port == 0)
		cfg->edge_http_port = env_h	? env_h
				      : r.http ? r.http
					       : LOCALCLOUD_DEFAULT_EDGE_HTTP_PORT;
	ret = 0;
out:
	free(path);
	return ret;
}

static int mkdir_p(const char *dir, struct err *e)
{
	char *p = xstrdup(dir), *s;
	int ret = -1;

	for (s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST) {
				err_set(e, "unable to create '%s': %s", p, strerror(errno));
				goto out;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	ret = 0;
out:
	free(p);
	return ret;
}

int localcloud_config_save(const struct localcloud_config *cfg, struct err *e)
{
	char *path = NULL, *text = NULL;
	int ret = -1;

	if (mkdir_p(cfg->home, e) < 0)
		goto out;
	path = localcloud_path(cfg, "local.conf");
	text = xasprintf("# written by caliber local start: the ports of this local cloud\n"
			 "port = %d\nedge_https_port = %d\nedge_http_port = %d\n",
		cfg->port, cfg->edge_https_port, cfg->edge_http_port);
	ret = fsutil_write_atomic(path, text, strlen(text), 0600, e);
out:
	free(path);
	free(text);
	return ret;
}

void localcloud_config_release(struct localcloud_config *cfg)
{
	free(cfg->home);
	cfg->home = NULL;
}

char *localcloud_endpoint(const struct localcloud_config *cfg)
{
	return xasprintf("http://127.0.0.1:%d", cfg->port);
}

char *localcloud_path(const struct localcloud_config *cfg, const char *name)
{
	return xasprintf("%s/%s", cfg->home, name);
}

struct cred_read {
	struct localcloud_credentials *c;
	int in_default;
};

static int cred_handler(void *user, const char *section, const char *name, const char *value)
{
	struct cred_read *r = user;

	if (strcmp(section, "default") != 0)
		return 1;
	if (!strcmp(name, "aws_access_key_id"))
		snprintf(r->c->access_key_id, sizeof(r->c->access_key_id), "%s", value);
	else if (!strcmp(name, "aws_secret_access_key"))
		snprintf(r->c->secret_access_key, sizeof(r->c->secret_access_key), "%s", value);
	return 1;
}

int localcloud_credentials_load(const struct localcloud_config *cfg,
	struct localcloud_credentials *out, struct err *e)
{
	struct cred_read r = { out, 0 };
	char *path = localcloud_path(cfg, "credentials");
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (access(path, F_OK) < 0) {
		err_set(e, "no local cloud in '%s' (no credentials file); run 'caliber local start'",
			cfg->home);
		goto out;
	}
	if (ini_parse(path, cred_handler, &r) != 0 || out->access_key_id[0] == '\0' ||
		out->secret_access_key[0] == '\0') {
		err_set(e, "unable to read the credentials in '%s'", path);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		localcloud_credentials_wipe(out);
	free(path);
	return ret;
}

/* n random characters from alphabet into out (NUL-terminated). */
static int random_chars(char *out, size_t n, const char *alphabet, struct err *e)
{
	unsigned char raw[64];
	size_t i, k = strlen(alphabet);

	if (n > sizeof(raw) || RAND_bytes(raw, (int)n) != 1)
		return err_set(e, "unable to generate random bytes");
	/* 256 % k bias is negligible for keys that only need to be unguessable */
	for (i = 0; i < n; i++)
		out[i] = alphabet[raw[i] % k];
	out[n] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int localcloud_credentials_ensure(const struct localcloud_config *cfg,
	struct localcloud_credentials *out, struct err *e)
{
	struct localcloud_credentials c;
	char *path = localcloud_path(cfg, "credentials");
	char *text = NULL;
	int ret = -1;

	memset(&c, 0, sizeof(c));
	if (access(path, F_OK) == 0) {
		ret = localcloud_credentials_load(cfg, out, e);
		goto out;
	}
	if (mkdir_p(cfg->home, e) < 0)
		goto out;
	memcpy(c.access_key_id, "AKIA", 4);
	if (random_chars(c.access_key_id + 4, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", e) < 0 ||
		random_chars(c.secret_access_key, 40,
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", e) < 0)
		goto out;
	text = xasprintf("# the local cloud's credentials (caliber local env prints them)\n"
			 "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		c.access_key_id, c.secret_access_key);
	if (fsutil_write_atomic(path, text, strlen(text), 0600, e) < 0)
		goto out;
	*out = c;
	ret = 0;
out:
	if (text != NULL) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	localcloud_credentials_wipe(&c);
	free(path);
	return ret;
}

void localcloud_credentials_wipe(struct localcloud_credentials *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

int localcloud_running(const struct localcloud_config *cfg, pid_t *pid)
{
	char *path = localcloud_path(cfg, "caliberd.pid");
	char text[32];
	ssize_t n;
	int fd, running = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;
	/* a lock we can take means no daemon holds it: the file is stale */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		goto out;
	if (errno != EWOULDBLOCK)
		goto out;
	n = read(fd, text, sizeof(text) - 1);
	if (n <= 0)
		goto out;
	text[n] = '\0';
	if (pid != NULL)
		*pid = (pid_t)strtol(text, NULL, 10);
	running = 1;
out:
	close(fd);
	return running;
}
