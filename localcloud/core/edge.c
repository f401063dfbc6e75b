/*
 * edge.c: nginx as the edge (see edge.h): the generated configuration, the
 * supervised nginx process, the TLS certificate and cache purges.
 */
#include "compat.h"

#include <ctype.h>
#include <dirent.h>
#include <ftw.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "buf.h"
#include "edge.h"
#include "edge-internal.h"
#include "fsutil.h"
#include "spawn.h"

struct edge_site_copy {
	char *name;
	enum edge_site_kind kind;
	char *distribution_id;
	char *upstreams;
	/* where its lines are in the nginx.conf written last, to blame it for nginx -t */
	unsigned long first_line, last_line;
};

static char *edge_path(const struct edge *edge, const char *rel)
{
	return xasprintf("%s/%s", edge->dir, rel);
}

static int mkdir_owned(struct edge *edge, const char *rel, int worker_owned, struct err *e)
{
	char *p = rel ? (worker_owned ? xasprintf("%s/%s", edge->work, rel) : edge_path(edge, rel))
		: xstrdup(worker_owned ? edge->work : edge->dir);
	int rc = 0;

	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		rc = err_set(e, "unable to create '%s': %s", p, strerror(errno));
	else if (worker_owned && edge->drop_privileges && chown(p, edge->uid, edge->gid) < 0)
		rc = err_set(e, "unable to chown '%s': %s", p, strerror(errno));
	free(p);
	return rc;
}

/*
 * The whole environment of nginx and of the programs the edge runs: never
 * caliberd's (which may hold what its caller had).
 */
static const char *const edge_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL };

/* Run argv to completion; 0 when it exits 0.  Its output goes to log (or /dev/null). */
static int run_wait(char *const argv[], const char *log, struct err *e)
{
	struct spawn_opts o = { 0 };

	o.env = edge_env;
	o.log_path = log != NULL ? log : "/dev/null";
	return spawn_run(argv, &o, NULL, e);
}

/* The unprivileged user nginx's workers run as, created as a system user when missing. */
static int worker_user(struct edge *edge, struct err *e)
{
	struct passwd *pw = getpwnam(edge->user);

	if (pw == NULL) {
		char *argv[] = { "useradd", "--system", "--no-create-home", "--home-dir",
			"/nonexistent", "--shell", "/usr/sbin/nologin", edge->user, NULL };
		struct err ue = ERR_INIT;

		/* Another part of caliberd may create it at the same moment: look again. */
		if (run_wait(argv, NULL, &ue) < 0 && getpwnam(edge->user) == NULL)
			return err_set(e, "unable to create the system user '%s': %s", edge->user,
				ue.msg);
		pw = getpwnam(edge->user);
		if (pw == NULL)
			return err_set(e, "no user '%s' after creating it", edge->user);
	}
	edge->uid = pw->pw_uid;
	edge->gid = pw->pw_gid;
	return 0;
}

/*
 * Root only: the workers' directory, /var/cache/caliber-edge/<hash of the
 * edge directory>, owned by the worker user.  Its "owner" file names the
 * edge directory; directories whose edge directory is gone are removed.
 */
static int work_dir_setup(struct edge *edge, const char *base, struct err *e)
{
	unsigned char md[32];
	char hex[17], *owner = NULL;
	DIR *d;
	struct dirent *de;
	int rc = -1;

	/*
	 * The mode is set explicitly: caliberd's umask (077) would make the
	 * directory 0700 and the workers could not reach their cache below it;
	 * one a umask made so before is mended.
	 */
	if ((mkdir(base, 0755) < 0 && errno != EEXIST) || chmod(base, 0755) < 0)
		return err_set(e, "unable to create '%s' with mode 0755: %s", base, strerror(errno));
	d = opendir(base);
	while (d && (de = readdir(d)) != NULL) {
		char *sub, *marker, line[4096];
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", base, de->d_name);
		marker = xasprintf("%s/owner", sub);
		f = fopen(marker, "re");
		if (f && fgets(line, sizeof(line), f) && access(line, F_OK) < 0)
			fsutil_remove_tree(sub);
		if (f)
			fclose(f);
		free(sub);
		free(marker);
	}
	if (d)
		closedir(d);
	SHA256((const unsigned char *)edge->dir, strlen(edge->dir), md);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	free(edge->work);
	edge->work = xasprintf("%s/%s", base, hex);
	if (mkdir_owned(edge, NULL, 1, e) < 0)
		goto out;
	owner = xasprintf("%s/owner", edge->work);
	{
		FILE *f = fopen(owner, "we");

		if (f == NULL) {
			err_set(e, "unable to write '%s': %s", owner, strerror(errno));
			goto out;
		}
		fputs(edge->dir, f);
		fclose(f);
	}
	rc = 0;
out:
	free(owner);
	return rc;
}

static int id_safe(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s))
			return 0;
	return 1;
}

/*
 * A DNS name nginx and the CA take: at most 253 characters, labels of 1 to
 * 63 letters, digits, hyphens and underscores (Route 53 keeps "_x" names).
 */
static int name_safe(const char *s)
{
	size_t label = 0;

	if (*s == '\0' || strlen(s) > 253)
		return 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' ||
				*s == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

/* "ip:port ip:port": IPv4 addresses and ports only, as the load balancer registers them */
static int upstreams_safe(const char *s)
{
	char *list = xstrdup(s), *save = NULL;
	int ok = 1;

	for (char *t = strtok_r(list, " ", &save); t && ok; t = strtok_r(NULL, " ", &save)) {
		char *colon = strrchr(t, ':'), *end;
		struct in_addr a;
		long port;

		if (colon == NULL) {
			ok = 0;
			break;
		}
		*colon = '\0';
		port = strtol(colon + 1, &end, 10);
		ok = inet_pton(AF_INET, t, &a) == 1 && colon[1] != '\0' && *end == '\0' &&
			port >= 1 && port <= 65535;
	}
	free(list);
	return ok;
}

/* Report a site left out of the edge (the edge keeps serving the others). */
static void edge_warn(struct edge *edge, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void edge_warn(struct edge *edge, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* names come from API callers: one message, one log line */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	if (edge->warn)
		edge->warn(msg);
	else
		fprintf(stderr, "caliberd: edge: %s\n", msg);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Issue a certificate for every site's name when the set changed since the last one. */
static int edge_certificate(struct edge *edge, struct err *e)
{
	const char **names = xcalloc(edge->n_sites + 1, sizeof(char *));
	char *cert = edge_path(edge, "tls/edge.pem"), *key = edge_path(edge, "tls/edge.key");
	char *names_path = edge_path(edge, "tls/names");
	struct buf joined = BUF_INIT;
	size_t n = 0;
	int rc = -1;

	buf_init(&joined);
	names[n++] = "localhost";
	for (size_t i = 0; i < edge->n_sites; i++)
		names[n++] = edge->sites[i].name;
	qsort(names + 1, n - 1, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || i == 1 || strcmp(names[i], names[i - 1]) != 0)
			buf_appendf(&joined, "%s ", names[i]);
	if (edge->cert_names == NULL) {
		/* After a restart: the file says what the certificate on disk covers. */
		FILE *f = fopen(names_path, "re");
		char line[65536];

		if (f && access(cert, R_OK) == 0 && access(key, R_OK) == 0 &&
				fgets(line, sizeof(line), f))
			edge->cert_names = xstrdup(line);
		if (f)
			fclose(f);
	}
	if (edge->cert_names && strcmp(edge->cert_names, joined.data) == 0) {
		rc = 0;
		goto out;
	}
	{
		/* Deduplicated list for the CA. */
		const char **uniq = xcalloc(n, sizeof(char *));
		size_t u = 0;

		for (size_t i = 0; i < n; i++)
			if (i <= 1 || strcmp(names[i], names[i - 1]) != 0)
				uniq[u++] = names[i];
		rc = ca_issue(edge->ca, uniq, u, cert, key, e);
		free(uniq);
	}
	if (rc < 0)
		goto out;
	rc = fsutil_write_atomic(names_path, joined.data, joined.len, 0600, e);
	if (rc < 0)
		goto out;
	free(edge->cert_names);
	edge->cert_names = buf_detach(&joined);
out:
	buf_release(&joined);
	free(names);
	free(cert);
	free(key);
	free(names_path);
	return rc;
}

static void conf_site(struct edge *edge, struct buf *b, const struct edge_site_copy *s, size_t i)
{
	if (s->kind == EDGE_SITE_PROXY && s->upstreams && *s->upstreams) {
		char *list = xstrdup(s->upstreams), *save = NULL;

		buf_appendf(b, "\tupstream site%zu {\n", i);
		for (char *t = strtok_r(list, " ", &save); t; t = strtok_r(NULL, " ", &save))
			buf_appendf(b, "\t\tserver %s max_fails=1 fail_timeout=2s;\n", t);
		buf_appends(b, "\t\tkeepalive 16;\n\t}\n");
		free(list);
	}
	buf_appendf(b, "\tserver {\n\t\tlisten %s:%d ssl;\n\t\tserver_name %s;\n", edge->listen,
		edge->https_port, s->name);
	if (s->kind == EDGE_SITE_DISTRIBUTION) {
		buf_appendf(b,
			"\t\tlocation / {\n"
			"\t\t\tlimit_except GET HEAD { deny all; }\n"
			"\t\t\tproxy_pass http://%s;\n"
			"\t\t\tproxy_http_version 1.1;\n"
			"\t\t\tproxy_set_header Connection \"\";\n"
			"\t\t\tproxy_set_header Host $host;\n"
			"\t\t\tproxy_set_header X-Caliber-Edge-Distribution %s;\n"
			"\t\t\tproxy_set_header X-Caliber-Edge-Token %s;\n"
			/* CloudFront's default cache key: the path, no query string */
			"\t\t\tproxy_cache %s;\n"
			"\t\t\tproxy_cache_key $uri;\n"
			"\t\t\tproxy_cache_lock on;\n"
			"\t\t\tproxy_ignore_headers Set-Cookie;\n"
			"\t\t\tadd_header X-Cache $edge_x_cache always;\n"
			"\t\t\tadd_header Via \"1.1 caliber-edge (CloudFront)\" always;\n"
			"\t\t}\n",
			edge->origin, s->distribution_id, edge->token, s->distribution_id);
	} else if (s->upstreams && *s->upstreams) {
		buf_appendf(b,
			"\t\tlocation / {\n"
			"\t\t\tproxy_pass http://site%zu;\n"
			"\t\t\tproxy_http_version 1.1;\n"
			"\t\t\tproxy_set_header Connection \"\";\n"
			"\t\t\tproxy_set_header Host $host;\n"
			"\t\t\tproxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
			"\t\t\tproxy_set_header X-Forwarded-Proto https;\n"
			"\t\t\tproxy_next_upstream error timeout http_502 http_503;\n"
			"\t\t}\n", i);
	} else {
		buf_appends(b, "\t\tlocation / { return 503; }\n");
	}
	buf_appends(b, "\t}\n");
}

static int edge_write_conf(struct edge *edge, struct err *e)
{
	struct buf b = BUF_INIT;
	char *path = edge_path(edge, "nginx.conf");
	unsigned long line;
	int rc;

	buf_init(&b);
	buf_appends(&b, "# Generated by caliberd: edits are overwritten.\n");
	buf_appends(&b, "daemon off;\nmaster_process on;\nworker_processes 1;\n");
	if (edge->drop_privileges)
		buf_appendf(&b, "user %s;\n", edge->user);
	buf_appendf(&b, "pid %s/nginx.pid;\nerror_log %s/logs/error.log warn;\n", edge->dir,
		edge->dir);
	buf_appends(&b, "events { worker_connections 1024; }\n");
	buf_appends(&b, "http {\n");
	/*
	 * Buckets with room for the longest legal name (253 characters), and
	 * a table that may grow for many names: with nginx's defaults (a
	 * cache line, 512) a name over some 46 characters fails the whole
	 * configuration, every other site's included.
	 */
	buf_appends(&b, "\tserver_names_hash_bucket_size 512;\n\tserver_names_hash_max_size 16384;\n");
	buf_appendf(&b, "\taccess_log %s/logs/access.log;\n", edge->dir);
	buf_appendf(&b,
		"\tclient_body_temp_path %s/temp/client;\n\tproxy_temp_path %s/temp/proxy;\n"
		"\tfastcgi_temp_path %s/temp/fastcgi;\n\tuwsgi_temp_path %s/temp/uwsgi;\n"
		"\tscgi_temp_path %s/temp/scgi;\n",
		edge->work, edge->work, edge->work, edge->work, edge->work);
	buf_appends(&b, "\tserver_tokens off;\n\tsendfile on;\n\tkeepalive_timeout 30;\n");
	buf_appends(&b, "\tclient_max_body_size 64m;\n");
	buf_appendf(&b, "\tssl_certificate %s/tls/edge.pem;\n\tssl_certificate_key %s/tls/edge.key;\n",
		edge->dir, edge->dir);
	buf_appends(&b, "\tssl_protocols TLSv1.2 TLSv1.3;\n");
	buf_appends(&b, "\tmap $upstream_cache_status $edge_x_cache {\n"
		"\t\tHIT \"Hit from cloudfront\";\n\t\tdefault \"Miss from cloudfront\";\n\t}\n");
	for (size_t i = 0; i < edge->n_sites; i++) {
		const struct edge_site_copy *s = &edge->sites[i];
		int seen = 0;

		if (s->kind != EDGE_SITE_DISTRIBUTION)
			continue;
		for (size_t j = 0; j < i; j++)
			if (edge->sites[j].kind == EDGE_SITE_DISTRIBUTION &&
					strcmp(edge->sites[j].distribution_id, s->distribution_id) == 0)
				seen = 1;
		if (!seen)
			buf_appendf(&b, "\tproxy_cache_path %s/cache/%s levels=1:2 keys_zone=%s:4m"
				" max_size=1g inactive=7d use_temp_path=off;\n", edge->work,
				s->distribution_id, s->distribution_id);
	}
	/*
	 * Plain HTTP only redirects, as a viewer protocol policy of
	 * redirect-to-https; and it says which configuration answers, so
	 * that caliberd can tell when a reload has taken effect.
	 */
	edge->generation++;
	buf_appendf(&b, "\tserver {\n\t\tlisten %s:%d default_server;\n", edge->listen,
		edge->http_port);
	buf_appendf(&b, "\t\tlocation = /_caliber/edge-generation {\n"
		"\t\t\tallow 127.0.0.1;\n\t\t\tdeny all;\n"
		"\t\t\treturn 200 \"%lu\\n\";\n\t\t}\n", edge->generation);
	/* in a location: a server-level return would also answer the generation */
	if (edge->https_port == 443)
		buf_appends(&b, "\t\tlocation / { return 301 https://$host$request_uri; }\n\t}\n");
	else
		buf_appendf(&b, "\t\tlocation / { return 301 https://$host:%d$request_uri; }\n"
			"\t}\n", edge->https_port);
	buf_appendf(&b, "\tserver {\n\t\tlisten %s:%d ssl default_server;\n"
		"\t\treturn 421;\n\t}\n", edge->listen, edge->https_port);
	line = 1;
	for (size_t i = 0; i < b.len; i++)
		line += b.data[i] == '\n';
	for (size_t i = 0; i < edge->n_sites; i++) {
		size_t from = b.len;

		edge->sites[i].first_line = line;
		conf_site(edge, &b, &edge->sites[i], i);
		for (size_t j = from; j < b.len; j++)
			line += b.data[j] == '\n';
		edge->sites[i].last_line = line - 1;
	}
	buf_appends(&b, "}\n");
	rc = fsutil_write_atomic(path, b.data, b.len, 0600, e);
	/* the file holds the origin token */
	buf_release_secret(&b);
	free(path);
	return rc;
}

/* Cache directories, owned by the workers, one per distribution. */
static int edge_cache_dirs(struct edge *edge, struct err *e)
{
	for (size_t i = 0; i < edge->n_sites; i++) {
		char *rel;
		int rc;

		if (edge->sites[i].kind != EDGE_SITE_DISTRIBUTION)
			continue;
		rel = xasprintf("cache/%s", edge->sites[i].distribution_id);
		rc = mkdir_owned(edge, rel, 1, e);
		free(rel);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * nginx -t of the configuration written last.  When it fails, *line is the
 * line of nginx.conf that nginx names in its complaint (0: none named).
 */
static int nginx_test(struct edge *edge, unsigned long *line, struct err *e)
{
	char *conf = edge_path(edge, "nginx.conf"), *prefix = xasprintf("%s/", edge->dir);
	char *log = edge_path(edge, "logs/nginx-test.log");
	char *argv[] = { edge->nginx, "-t", "-q", "-p", prefix, "-c", conf, NULL };
	struct stat st;
	off_t from = stat(log, &st) == 0 ? st.st_size : 0;
	int rc = run_wait(argv, log, e);

	*line = 0;
	if (rc < 0) {
		/* "... in /path/nginx.conf:57": the last such mention in what this run wrote */
		int fd = open(log, O_RDONLY | O_CLOEXEC);
		char text[8192], *p, *at = NULL;
		ssize_t k = fd >= 0 ? pread(fd, text, sizeof(text) - 1, from) : -1;

		if (fd >= 0)
			close(fd);
		if (k > 0) {
			char *emerg, *eol;

			text[k] = '\0';
			for (p = strstr(text, "nginx.conf:"); p; p = strstr(p + 1, "nginx.conf:"))
				at = p;
			if (at)
				*line = strtoul(at + strlen("nginx.conf:"), NULL, 10);
			/* nginx's own words say what is wrong */
			emerg = strstr(text, "[emerg] ");
			if (emerg) {
				emerg += strlen("[emerg] ");
				eol = strchr(emerg, '\n');
				if (eol)
					*eol = '\0';
				err_clear(e);
				err_set(e, "%s", emerg);
			}
		}
		err_prefix(e, "nginx rejected '%s' (see '%s')", conf, log);
	}
	free(conf);
	free(prefix);
	free(log);
	return rc;
}

/* Under edge->lock: start nginx as our child. */
static int nginx_spawn(struct edge *edge, struct err *e)
{
	char *conf = edge_path(edge, "nginx.conf"), *prefix = xasprintf("%s/", edge->dir);
	char *log = edge_path(edge, "logs/nginx.out");
	char *argv[] = { edge->nginx, "-p", prefix, "-c", conf, NULL };
	/* If caliberd dies, even by kill -9, nginx stops with it. */
	struct spawn_child c = { .path = argv[0], .argv = argv, .env = edge_env, .fd_in = -1,
		.new_group = 1, .death_signal = SIGTERM };
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	pid_t pid;
	int rc = -1;

	if (fd < 0) {
		err_set(e, "unable to open '%s': %s", log, strerror(errno));
		goto out;
	}
	c.fd_out = c.fd_err = fd;
	if (spawn_start(&c, &pid, e) < 0)
		goto out;
	edge->pid = pid;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(conf);
	free(prefix);
	free(log);
	return rc;
}

/* An nginx left by an earlier caliberd with this directory: stop it. */
static void stop_stale(struct edge *edge)
{
	char *pidfile = edge_path(edge, "nginx.pid"), *cmdline = NULL;
	FILE *f = fopen(pidfile, "re");
	long pid = 0;
	char buf[4096];
	size_t n;

	if (f == NULL)
		goto out;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 1)
		goto out;
	cmdline = xasprintf("/proc/%ld/cmdline", pid);
	f = fopen(cmdline, "re");
	if (f == NULL)
		goto out;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	if (strstr(buf, "nginx") == NULL || strstr(buf, edge->dir) == NULL)
		goto out;
	kill((pid_t)pid, SIGTERM);
	for (int i = 0; i < 50 && kill((pid_t)pid, 0) == 0; i++)
		usleep(100000);
	/* nginx runs in its own process group: its workers go with it */
	kill(-(pid_t)pid, SIGKILL);
out:
	free(pidfile);
	free(cmdline);
}

int edge_port_open(const char *addr, int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* The configuration generation nginx answers with, 0 when it does not answer. */
static unsigned long generation_served(struct edge *edge)
{
	struct sockaddr_in sa;
	char req[] = "GET /_caliber/edge-generation HTTP/1.0\r\n\r\n", resp[512];
	struct timeval tv = { 1, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t got = 0;
	ssize_t k;
	char *body;

	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)edge->http_port);
	inet_pton(AF_INET, edge->listen, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
			write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
		close(fd);
		return 0;
	}
	while (got < sizeof(resp) - 1 && (k = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
		got += (size_t)k;
	close(fd);
	resp[got] = '\0';
	body = strstr(resp, "\r\n\r\n");
	if (strncmp(resp, "HTTP/1.1 200", 12) != 0 || body == NULL)
		return 0;
	return strtoul(body + 4, NULL, 10);
}

/*
 * Wait (up to five seconds) until nginx serves the configuration last
 * written: a few answers in a row from it, so that old workers have
 * stopped taking connections.
 */
static int wait_generation(struct edge *edge, unsigned long gen)
{
	int in_row = 0;

	for (int i = 0; i < 500; i++) {
		if (generation_served(edge) == gen) {
			if (++in_row == 3)
				return 0;
			continue;
		}
		in_row = 0;
		usleep(10000);
	}
	return -1;
}

/*
 * The master's worker processes that still take connections (their title
 * is "nginx: worker process", without "is shutting down"), up to max.
 */
static size_t active_workers(pid_t master, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)) != NULL && n < max) {
		char path[300], line[512], *paren;
		int ppid = 0;
		char state;
		FILE *f;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		paren = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		fclose(f);
		if (paren == NULL || sscanf(paren + 2, "%c %d", &state, &ppid) != 2 ||
				ppid != master || state == 'Z')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		if (fgets(line, sizeof(line), f) && strstr(line, "worker process") &&
				!strstr(line, "shutting down"))
			out[n++] = (pid_t)atoi(de->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

/* Wait (up to five seconds) until none of the workers in old takes connections. */
static void wait_workers_retired(pid_t master, const pid_t *old, size_t n_old)
{
	for (int i = 0; i < 500; i++) {
		pid_t now[64];
		size_t n = active_workers(master, now, ARRAY_SIZE(now)), busy = 0;

		for (size_t j = 0; j < n; j++)
			for (size_t k = 0; k < n_old; k++)
				busy += now[j] == old[k];
		if (busy == 0)
			return;
		usleep(10000);
	}
}

/* Under edge->lock: has our nginx exited?  Reaps it. */
static int nginx_exited(struct edge *edge, int *status)
{
	pid_t r;

	if (edge->pid == 0)
		return 1;
	r = waitpid(edge->pid, status, WNOHANG);
	if (r == edge->pid || (r < 0 && errno == ECHILD)) {
		/*
		 * Workers outlive a master killed by SIGKILL and keep the
		 * listening sockets: end its whole process group.
		 */
		kill(-edge->pid, SIGKILL);
		edge->pid = 0;
		return 1;
	}
	return 0;
}

static void *edge_supervise(void *arg)
{
	struct edge *edge = arg;
	time_t last_start = 0;

	pthread_mutex_lock(&edge->lock);
	while (!edge->stopping) {
		struct timespec ts;
		int status = 0;

		if (nginx_exited(edge, &status) && time(NULL) - last_start >= 1) {
			struct err e = ERR_INIT;

			if (last_start != 0)
				fprintf(stderr, "caliberd: edge: nginx exited (status %d), restarting\n",
					status);
			if (nginx_spawn(edge, &e) < 0)
				fprintf(stderr, "caliberd: edge: %s\n", e.msg);
			else
				edge->restarts += last_start != 0;
			last_start = time(NULL);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&edge->wake, &edge->lock, &ts);
	}
	pthread_mutex_unlock(&edge->lock);
	return NULL;
}

int edge_start(const struct edge_config *cfg, struct ca *ca, struct edge **out, struct err *e)
{
	struct edge *edge = xcalloc(1, sizeof(*edge));
	static const char *const dirs[] = { "temp", "temp/client", "temp/proxy", "temp/fastcgi",
		"temp/uwsgi", "temp/scgi", "cache" };
	unsigned char r[24];
	unsigned long line;
	int rc = -1, ready = 0;

	pthread_mutex_init(&edge->lock, NULL);
	pthread_cond_init(&edge->wake, NULL);
	edge->dir = xstrdup(cfg->dir);
	edge->work = xstrdup(cfg->dir);
	/* generations never repeat across restarts: an nginx left over cannot pass for ours */
	edge->generation = (unsigned long)time(NULL) * 1000;
	edge->nginx = xstrdup(cfg->nginx ? cfg->nginx : "nginx");
	edge->listen = xstrdup(cfg->listen_address ? cfg->listen_address : "127.0.0.1");
	edge->http_port = cfg->http_port;
	edge->https_port = cfg->https_port;
	edge->origin = xstrdup(cfg->origin);
	edge->user = xstrdup(cfg->worker_user ? cfg->worker_user : "caliber");
	edge->warn = cfg->warn;
	edge->ca = ca;
	if (cfg->origin_token) {
		edge->token = xstrdup(cfg->origin_token);
	} else {
		char hex[49];

		if (RAND_bytes(r, sizeof(r)) != 1) {
			err_set(e, "unable to draw random bytes");
			goto out;
		}
		for (size_t i = 0; i < sizeof(r); i++)
			snprintf(hex + 2 * i, 3, "%02x", r[i]);
		edge->token = xstrdup(hex);
	}
	edge->drop_privileges = geteuid() == 0;
	if (edge->drop_privileges && worker_user(edge, e) < 0)
		goto out;
	if (mkdir_owned(edge, NULL, 0, e) < 0 || mkdir_owned(edge, "logs", 0, e) < 0 ||
			mkdir_owned(edge, "tls", 0, e) < 0)
		goto out;
	if (edge->drop_privileges &&
			work_dir_setup(edge, cfg->work_base ? cfg->work_base :
				"/var/cache/caliber-edge", e) < 0)
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (mkdir_owned(edge, dirs[i], 1, e) < 0)
			goto out;
	stop_stale(edge);
	if (edge_certificate(edge, e) < 0 || edge_write_conf(edge, e) < 0 ||
			nginx_test(edge, &line, e) < 0)
		goto out;
	/*
	 * Up to three attempts: a port can be taken for a moment by the local
	 * end of some client's connection (ephemeral ports), and nginx gives
	 * up binding after a few seconds.
	 */
	for (int attempt = 0; attempt < 3 && !ready; attempt++) {
		pthread_mutex_lock(&edge->lock);
		rc = nginx_spawn(edge, e);
		pthread_mutex_unlock(&edge->lock);
		if (rc < 0)
			goto out;
		rc = -1;
		/* Ready when it serves this configuration (or retry if it exits first). */
		for (int i = 0; i < 200; i++) {
			int status = 0, gone;

			if (edge_port_open(edge->listen, edge->https_port) &&
					generation_served(edge) == edge->generation) {
				ready = 1;
				break;
			}
			pthread_mutex_lock(&edge->lock);
			gone = nginx_exited(edge, &status);
			pthread_mutex_unlock(&edge->lock);
			if (gone) {
				err_set(e, "nginx exited at start (status %d); see "
					"'%s/logs/error.log'", status, edge->dir);
				break;
			}
			usleep(50000);
		}
	}
	if (!ready && edge->pid == 0)
		goto out;
	if (!ready) {
		err_set(e, "nginx did not answer within ten seconds; see '%s/logs/error.log'",
			edge->dir);
		goto out;
	}
	if (pthread_create(&edge->supervisor, NULL, edge_supervise, edge) != 0) {
		err_set(e, "unable to start the edge supervisor");
		goto out;
	}
	edge->supervisor_running = 1;
	rc = 0;
out:
	if (rc < 0) {
		edge_close(edge);
		edge = NULL;
	}
	*out = edge;
	return rc;
}

/* Free the strings of n sites, and the array too when whole. */
static void sites_free(struct edge_site_copy *s, size_t n, int whole)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].name);
		free(s[i].distribution_id);
		free(s[i].upstreams);
	}
	if (whole)
		free(s);
}

/* Under edge->lock: the site whose lines of nginx.conf hold line, or -1. */
static long site_at_line(const struct edge *edge, unsigned long line)
{
	for (size_t i = 0; line > 0 && i < edge->n_sites; i++)
		if (edge->sites[i].first_line <= line && line <= edge->sites[i].last_line)
			return (long)i;
	return -1;
}

int edge_apply(struct edge *edge, const struct edge_site *sites, size_t n, struct err *e)
{
	struct edge_site_copy *copy = xcalloc(n + 1, sizeof(*copy)), *old_sites;
	size_t m = 0, old_n, n_old = 0;
	pid_t old_workers[64];
	unsigned long line = 0;
	int rc = -1, ok = 0;

	/*
	 * A site that cannot be served is left out and reported, never the
	 * whole edge: the API refuses what AWS refuses, so this is the last
	 * line of defence, and everyone else's changes still go through.
	 */
	for (size_t i = 0; i < n; i++) {
		const struct edge_site *s = &sites[i];
		int dup = 0;

		if (!name_safe(s->name)) {
			edge_warn(edge, "skipping site '%s': not a DNS name of labels of 1 to 63 "
				"letters, digits, hyphens or underscores, 253 characters at most",
				s->name);
			continue;
		}
		if (s->kind == EDGE_SITE_DISTRIBUTION && (s->distribution_id == NULL ||
				!id_safe(s->distribution_id))) {
			edge_warn(edge, "skipping site '%s': invalid distribution id '%s'", s->name,
				s->distribution_id ? s->distribution_id : "");
			continue;
		}
		if (s->kind == EDGE_SITE_PROXY && s->upstreams && !upstreams_safe(s->upstreams)) {
			edge_warn(edge, "skipping site '%s': upstreams '%s' are not IPv4 "
				"address:port pairs", s->name, s->upstreams);
			continue;
		}
		/* One server per name: the first site given for a name wins. */
		for (size_t j = 0; j < m; j++)
			if (strcmp(copy[j].name, s->name) == 0)
				dup = 1;
		if (dup)
			continue;
		copy[m].name = xstrdup(s->name);
		copy[m].kind = s->kind;
		copy[m].distribution_id = s->distribution_id ? xstrdup(s->distribution_id) : NULL;
		copy[m].upstreams = s->upstreams ? xstrdup(s->upstreams) : NULL;
		m++;
	}
	pthread_mutex_lock(&edge->lock);
	old_sites = edge->sites;
	old_n = edge->n_sites;
	edge->sites = copy;
	edge->n_sites = m;
	/*
	 * Should nginx still refuse the configuration, the site whose lines
	 * it names is left out and the rest tried again; a complaint about no
	 * site's lines is the configuration's own, and nothing changes.
	 */
	for (;;) {
		long bad;

		if (edge_cache_dirs(edge, e) < 0 || edge_certificate(edge, e) < 0 ||
				edge_write_conf(edge, e) < 0)
			break;
		if (nginx_test(edge, &line, e) == 0) {
			ok = 1;
			break;
		}
		bad = site_at_line(edge, line);
		if (bad < 0)
			break;
		edge_warn(edge, "skipping site '%s': %s", edge->sites[bad].name, e->msg);
		err_clear(e);
		sites_free(&edge->sites[bad], 1, 0);
		memmove(&edge->sites[bad], &edge->sites[bad + 1],
			(edge->n_sites - (size_t)bad - 1) * sizeof(*edge->sites));
		edge->n_sites--;
	}
	if (!ok) {
		/* Put the previous configuration back, so a restart runs what is running. */
		struct err ignored = ERR_INIT;

		copy = edge->sites;
		m = edge->n_sites;
		edge->sites = old_sites;
		edge->n_sites = old_n;
		old_sites = copy;
		old_n = m;
		edge_certificate(edge, &ignored);
		edge_write_conf(edge, &ignored);
		goto out;
	}
	/* SIGHUP: nginx rereads its configuration, old workers finish what they serve. */
	if (edge->pid > 0)
		n_old = active_workers(edge->pid, old_workers, ARRAY_SIZE(old_workers));
	if (edge->pid > 0 && kill(edge->pid, SIGHUP) < 0) {
		err_set(e, "unable to signal nginx: %s", strerror(errno));
		goto out;
	}
	/* Answer only once the new names are served (as Route 53's change is then INSYNC). */
	if (edge->pid > 0 && wait_generation(edge, edge->generation) < 0) {
		err_set(e, "nginx did not take its new configuration; see '%s/logs/error.log'",
			edge->dir);
		goto out;
	}
	/* and the old workers no longer accept: every new connection gets the new names */
	if (edge->pid > 0)
		wait_workers_retired(edge->pid, old_workers, n_old);
	rc = 0;
out:
	pthread_mutex_unlock(&edge->lock);
	sites_free(old_sites, old_n, 1);
	return rc;
}

/* Does a cache key match an invalidation path ('*' at the end matches any suffix)? */
static int path_matches(const char *pattern, const char *key)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '*')
		return strncmp(pattern, key, n - 1) == 0;
	return strcmp(pattern, key) == 0;
}

/* nginx cache files hold "\nKEY: <key>\n" in their header. */
static void purge_file(const char *path, const char *const *paths, size_t n)
{
	char head[8192], *k, *end;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len;

	if (fd < 0)
		return;
	len = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (len <= 0)
		return;
	head[len] = '\0';
	k = memmem(head, (size_t)len, "\nKEY: ", 6);
	if (k == NULL)
		return;
	k += 6;
	end = memchr(k, '\n', (size_t)(head + len - k));
	if (end == NULL)
		return;
	*end = '\0';
	for (size_t i = 0; i < n; i++)
		if (path_matches(paths[i], k)) {
			unlink(path);
			return;
		}
}

static void purge_dir(const char *dir, const char *const *paths, size_t n, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR && depth < 3)
			purge_dir(p, paths, n, depth + 1);
		else if (de->d_type == DT_REG)
			purge_file(p, paths, n);
		free(p);
	}
	closedir(d);
}

int edge_purge(struct edge *edge, const char *distribution_id, const char *const *paths,
	size_t n, struct err *e)
{
	char *dir;

	if (!id_safe(distribution_id))
		return err_set(e, "edge: invalid distribution id '%s'", distribution_id);
	dir = xasprintf("%s/cache/%s", edge->work, distribution_id);
	/*
	 * nginx notices a removed cache file on the next request for it and
	 * fetches from the origin: removing the files is the purge.
	 */
	purge_dir(dir, paths, n, 0);
	free(dir);
	return 0;
}

const char *edge_cache_dir(const struct edge *edge)
{
	return edge->work;
}

unsigned long edge_generation(struct edge *edge)
{
	unsigned long g;

	pthread_mutex_lock(&edge->lock);
	g = edge->generation;
	pthread_mutex_unlock(&edge->lock);
	return g;
}

int edge_pid(struct edge *edge)
{
	int pid;

	pthread_mutex_lock(&edge->lock);
	pid = (int)edge->pid;
	pthread_mutex_unlock(&edge->lock);
	return pid;
}

void edge_close(struct edge *edge)
{
	pid_t pid;

	if (edge == NULL)
		return;
	pthread_mutex_lock(&edge->lock);
	edge->stopping = 1;
	pthread_cond_broadcast(&edge->wake);
	pthread_mutex_unlock(&edge->lock);
	if (edge->supervisor_running)
		pthread_join(edge->supervisor, NULL);
	pid = edge->pid;
	if (pid > 0) {
		int status;

		/* SIGQUIT: graceful shutdown; SIGTERM after five seconds. */
		kill(pid, SIGQUIT);
		for (int i = 0; i < 100; i++) {
			if (waitpid(pid, &status, WNOHANG) != 0)
				goto reaped;
			usleep(50000);
		}
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
reaped:
	if (pid > 0)
		kill(-pid, SIGKILL);
	/*
	 * The workers' directory of its own (root) goes with a clean stop: it
	 * holds only cache and temp files, and its state directory may be
	 * deleted before the next start would notice.
	 */
	if (edge->work && strcmp(edge->work, edge->dir) != 0)
		fsutil_remove_tree(edge->work);
	sites_free(edge->sites, edge->n_sites, 1);
	free(edge->cert_names);
	free(edge->dir);
	free(edge->work);
	free(edge->nginx);
	free(edge->listen);
	free(edge->origin);
	if (edge->token)
		OPENSSL_cleanse(edge->token, strlen(edge->token));
	free(edge->token);
	free(edge->user);
	pthread_mutex_destroy(&edge->lock);
	pthread_cond_destroy(&edge->wake);
	free(edge);
}
