/*
 * test-edge.c: the nginx edge manager (localcloud/core/edge.c) with a real
 * nginx: it starts, redirects HTTP to HTTPS, reloads on a new site without
 * changing its master, is restarted after kill -9, purges exactly the
 * cache entries an invalidation names, and leaves out a site it cannot
 * serve while applying the others.
 */
#include "compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>

#include "buf.h"
#include "core/ca.h"
#include "core/edge.h"
#include "core/edge-internal.h"

/*
 * A free port on 127.0.0.1 outside the kernel's ephemeral range (20000-32000
 * when that is outside it): a port picked by binding to 0 can be taken by an
 * outgoing connection before nginx binds it.
 */
static int free_port(void)
{
	struct sockaddr_in sa;
	static int seeded;
	int lo = 32768, hi = 60999, tries, port;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f != NULL) {
		if (fscanf(f, "%d %d", &lo, &hi) != 2) {
			lo = 32768;
			hi = 60999;
		}
		fclose(f);
	}
	if (!seeded) {
		srand((unsigned)getpid() ^ (unsigned)time(NULL));
		seeded = 1;
	}
	for (tries = 0; tries < 1000; tries++) {
		int fd, ok;

		port = 20000 + rand() % 45000;
		if ((port >= lo && port <= hi) || (tries < 500 && port > 32000))
			continue;
		fd = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fd >= 0);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons((uint16_t)port);
		ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (ok)
			return port;
	}
	fail_msg("no free port outside the ephemeral range %d-%d", lo, hi);
	return -1;
}

/* Send a plain HTTP request and return the response head (caller frees). */
static char *http_get(int port, const char *host)
{
	struct sockaddr_in sa;
	char req[256], resp[4096];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n, total = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req), "GET /a/b?x=1 HTTP/1.0\r\nHost: %s\r\n\r\n", host);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, resp + total, sizeof(resp) - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	resp[total] = '\0';
	return xstrdup(resp);
}

/* Processes of process group pgid that are alive (zombies left to init do not count). */
static int live_in_group(int pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[300], line[512], *paren, state;
		int ppid, group;
		FILE *f;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(line, sizeof(line), f) && (paren = strrchr(line, ')')) != NULL &&
			sscanf(paren + 2, "%c %d %d", &state, &ppid, &group) == 3 &&
			group == pgid && state != 'Z')
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static void write_cache_file(const char *dir, const char *name, const char *key)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fprintf(f, "binaryheader\nKEY: %s\nHTTP/1.1 200 OK\r\n\r\nbody", key);
	fclose(f);
	free(p);
}

static void test_edge_serves_reloads_restarts_and_purges(void **state)
{
	char tmpl[] = "/tmp/test-edge-XXXXXX";
	struct ca *ca = NULL;
	struct edge *edge = NULL;
	struct err e = ERR_INIT;
	struct edge_config cfg;
	char *cadir, *edgedir, *resp, *want, *cache, *p;
	int http_port = free_port(), https_port = free_port(), pid, pid2 = 0;
	struct edge_site sites[] = {
		{"www.acme.hicaliber.localhost", EDGE_SITE_DISTRIBUTION, "E2TESTDIST", NULL},
		{"acme.hicaliber.localhost", EDGE_SITE_PROXY, NULL, "127.0.0.1:9"},
	};
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	cadir = xasprintf("%s/ca", tmpl);
	edgedir = xasprintf("%s/edge", tmpl);
	assert_int_equal(ca_open(cadir, &ca, &e), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = edgedir;
	cfg.http_port = http_port;
	cfg.https_port = https_port;
	cfg.origin = "127.0.0.1:9";
	if (edge_start(&cfg, ca, &edge, &e) < 0)
		fail_msg("edge_start: %s", e.msg);
	pid = edge_pid(edge);
	assert_true(pid > 0);

	resp = http_get(http_port, "www.acme.hicaliber.localhost");
	want = xasprintf("Location: https://www.acme.hicaliber.localhost:%d/a/b?x=1", https_port);
	assert_non_null(strstr(resp, "301"));
	assert_non_null(strstr(resp, want));
	free(resp);
	free(want);

	/* A new site: same master (a graceful reload), certificate for the new names. */
	if (edge_apply(edge, sites, 2, &e) < 0)
		fail_msg("edge_apply: %s", e.msg);
	assert_int_equal(edge_pid(edge), pid);
	p = xasprintf("%s/tls/names", edgedir);
	resp = NULL;
	{
		FILE *f = fopen(p, "r");
		char line[512] = "";

		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		fclose(f);
		assert_non_null(strstr(line, "www.acme.hicaliber.localhost"));
	}
	free(p);
	cache = xasprintf("%s/cache/E2TESTDIST", edge_cache_dir(edge));
	if (geteuid() == 0) {
		/* the workers' directory is theirs, outside the private state directory */
		assert_null(strstr(edge_cache_dir(edge), tmpl));
		assert_int_equal(stat(edge_cache_dir(edge), &st), 0);
		assert_int_equal(st.st_uid, edge->uid);
	}
	assert_int_equal(stat(cache, &st), 0);

	/*
	 * Sites that cannot be served are left out, never the whole edge: the
	 * good sites given with them are applied, the bad ones never reach
	 * nginx.conf.  A name longer than nginx's default hash bucket is good.
	 */
	{
		struct edge_site mixed[] = {
			{"bad name;", EDGE_SITE_PROXY, NULL, NULL},
			{"up.acme.hicaliber.localhost", EDGE_SITE_PROXY, NULL, "127.100.0.7:8000/#"},
			{"a-load-balancer-of-32-characters-12345678.us-east-1.elb.localhost",
				EDGE_SITE_PROXY, NULL, "127.0.0.1:9"},
			{"_x.acme.hicaliber.localhost", EDGE_SITE_DISTRIBUTION, "E2TESTDIST", NULL},
		};
		char *conf = xasprintf("%s/nginx.conf", edgedir), text[65536];
		FILE *f;
		size_t k;

		assert_int_equal(edge_apply(edge, mixed, ARRAY_SIZE(mixed), &e), 0);
		f = fopen(conf, "r");
		assert_non_null(f);
		k = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[k] = '\0';
		assert_null(strstr(text, "bad name"));
		assert_null(strstr(text, "/#"));
		assert_non_null(strstr(text, "server_name a-load-balancer-of-32-characters"));
		assert_non_null(strstr(text, "server_name _x.acme.hicaliber.localhost;"));
		free(conf);
	}

	/* kill -9 of nginx: the supervisor starts a new one. */
	kill(pid, SIGKILL);
	for (int i = 0; i < 100; i++) {
		pid2 = edge_pid(edge);
		if (pid2 > 0 && pid2 != pid && edge_port_open("127.0.0.1", https_port))
			break;
		usleep(100000);
	}
	assert_true(pid2 > 0 && pid2 != pid);

	/* Purge: exact paths and trailing-* prefixes, nothing else. */
	write_cache_file(cache, "k1", "/index.html");
	write_cache_file(cache, "k2", "/assets/app.js");
	write_cache_file(cache, "k3", "/assets/app.css");
	write_cache_file(cache, "k4", "/");
	assert_int_equal(
		edge_purge(edge, "E2TESTDIST", (const char *[]){"/index.html", "/assets/*"}, 2, &e),
		0);
	p = xasprintf("%s/k1", cache);
	assert_int_not_equal(stat(p, &st), 0);
	free(p);
	p = xasprintf("%s/k3", cache);
	assert_int_not_equal(stat(p, &st), 0);
	free(p);
	p = xasprintf("%s/k4", cache);
	assert_int_equal(stat(p, &st), 0);
	free(p);
	assert_int_equal(edge_purge(edge, "../x", (const char *[]){"/*"}, 1, &e), -1);

	p = xstrdup(edge_cache_dir(edge));
	edge_close(edge);
	/* a clean stop removes the workers' directory of its own (root) */
	if (geteuid() == 0)
		assert_int_not_equal(stat(p, &st), 0);
	free(p);
	assert_int_equal(kill(pid2, 0), -1);
	/* no worker outlived its master (kill -9 above): the process group is gone */
	assert_int_equal(live_in_group(pid), 0);
	assert_int_equal(live_in_group(pid2), 0);
	ca_close(ca);
	p = xasprintf("rm -rf '%s'", tmpl);
	assert_int_equal(system(p), 0);
	free(p);
	free(cache);
	free(cadir);
	free(edgedir);
}

/*
 * On a fresh machine under caliberd's umask (077), the machine-wide base of
 * the workers' directories is made 0755 (and a base a umask made 0700
 * before is mended), so that the unprivileged workers reach their cache.
 */
static void test_edge_work_base_is_reachable_by_workers_under_umask_077(void **state)
{
	char tmpl[] = "/tmp/test-edge-umask-XXXXXX";
	struct ca *ca = NULL;
	struct edge *edge = NULL;
	struct err e = ERR_INIT;
	struct edge_config cfg;
	char *cadir, *edgedir, *base, *cache, *p;
	struct stat st;
	mode_t old;
	pid_t child;
	int status;

	(void)state;
	if (geteuid() != 0)
		skip(); /* the workers' base exists only when nginx drops privileges */
	assert_non_null(mkdtemp(tmpl));
	cadir = xasprintf("%s/ca", tmpl);
	edgedir = xasprintf("%s/edge", tmpl);
	base = xasprintf("%s/var-cache-caliber-edge", tmpl);
	assert_int_equal(chmod(tmpl, 0755), 0);
	assert_int_equal(ca_open(cadir, &ca, &e), 0);
	for (int round = 0; round < 2; round++) {
		old = umask(077);
		if (round == 1) /* as an older caliberd left it */
			assert_int_equal(chmod(base, 0700), 0);
		memset(&cfg, 0, sizeof(cfg));
		cfg.dir = edgedir;
		cfg.http_port = free_port();
		cfg.https_port = free_port();
		cfg.origin = "127.0.0.1:9";
		cfg.work_base = base;
		if (edge_start(&cfg, ca, &edge, &e) < 0)
			fail_msg("edge_start: %s", e.msg);
		umask(old);
		assert_int_equal(stat(base, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0755);
		cache = xasprintf("%s/cache", edge_cache_dir(edge));
		/* the worker user can write its cache */
		child = fork();
		assert_true(child >= 0);
		if (child == 0) {
			if (setgid(edge->gid) < 0 || setuid(edge->uid) < 0)
				_exit(2);
			_exit(access(cache, W_OK | X_OK) == 0 ? 0 : 1);
		}
		assert_int_equal(waitpid(child, &status, 0), child);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		free(cache);
		edge_close(edge);
		edge = NULL;
	}
	ca_close(ca);
	p = xasprintf("rm -rf '%s'", tmpl);
	assert_int_equal(system(p), 0);
	free(p);
	free(base);
	free(cadir);
	free(edgedir);
}

static char warned[4096];

static void record_warning(const char *msg)
{
	size_t n = strlen(warned);

	snprintf(warned + n, sizeof(warned) - n, "%s\n", msg);
}

/*
 * A site nginx -t refuses though it passed the edge's own checks is left
 * out, with nginx's complaint reported; the other sites are applied.  The
 * nginx here is real but for a wrapper whose -t refuses one server, naming
 * its line as nginx does.
 */
static void test_edge_leaves_out_the_site_nginx_refuses_and_applies_the_rest(void **state)
{
	char tmpl[] = "/tmp/test-edge-blame-XXXXXX";
	struct ca *ca = NULL;
	struct edge *edge = NULL;
	struct err e = ERR_INIT;
	struct edge_config cfg;
	char *cadir, *edgedir, *wrapper, *conf, *p, text[65536];
	struct edge_site sites[] = {
		{"good.acme.hicaliber.localhost", EDGE_SITE_PROXY, NULL, "127.0.0.1:9"},
		{"blame.acme.hicaliber.localhost", EDGE_SITE_PROXY, NULL, "127.0.0.1:9"},
		{"also-good.acme.hicaliber.localhost", EDGE_SITE_DISTRIBUTION, "E2TESTDIST", NULL},
	};
	FILE *f;
	size_t k;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	assert_int_equal(chmod(tmpl, 0755), 0);
	cadir = xasprintf("%s/ca", tmpl);
	edgedir = xasprintf("%s/edge", tmpl);
	wrapper = xasprintf("%s/nginx", tmpl);
	conf = xasprintf("%s/nginx.conf", edgedir);
	f = fopen(wrapper, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n"
		"for a; do conf=$a; done\n"
		"case \" $* \" in *\" -t \"*)\n"
		"  line=$(grep -n 'server_name blame\\.' \"$conf\" | cut -d: -f1)\n"
		"  if [ -n \"$line\" ]; then\n"
		"    echo \"nginx: [emerg] refused by the test in $conf:$line\" >&2; exit 1\n"
		"  fi;;\n"
		"esac\n"
		"exec %s \"$@\"\n", access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : "nginx");
	fclose(f);
	assert_int_equal(chmod(wrapper, 0755), 0);
	assert_int_equal(ca_open(cadir, &ca, &e), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = edgedir;
	cfg.nginx = wrapper;
	cfg.http_port = free_port();
	cfg.https_port = free_port();
	cfg.origin = "127.0.0.1:9";
	cfg.warn = record_warning;
	if (edge_start(&cfg, ca, &edge, &e) < 0)
		fail_msg("edge_start: %s", e.msg);
	warned[0] = '\0';
	if (edge_apply(edge, sites, ARRAY_SIZE(sites), &e) < 0)
		fail_msg("edge_apply: %s", e.msg);
	assert_non_null(strstr(warned, "skipping site 'blame.acme.hicaliber.localhost': "));
	assert_non_null(strstr(warned, "refused by the test"));
	f = fopen(conf, "r");
	assert_non_null(f);
	k = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[k] = '\0';
	assert_null(strstr(text, "blame."));
	assert_non_null(strstr(text, "server_name good.acme.hicaliber.localhost;"));
	assert_non_null(strstr(text, "server_name also-good.acme.hicaliber.localhost;"));
	edge_close(edge);
	ca_close(ca);
	p = xasprintf("rm -rf '%s'", tmpl);
	assert_int_equal(system(p), 0);
	free(p);
	free(conf);
	free(wrapper);
	free(cadir);
	free(edgedir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_serves_reloads_restarts_and_purges),
		cmocka_unit_test(test_edge_work_base_is_reachable_by_workers_under_umask_077),
		cmocka_unit_test(test_edge_leaves_out_the_site_nginx_refuses_and_applies_the_rest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
