/*
 * cmd-local.c: 'caliber local', the local cloud's lifecycle.
 *
 *   start   daemonise caliberd for $CALIBER_HOME (own session, log file,
 *           pid file), wait until it answers, print the endpoint
 *   stop    SIGTERM, wait until it has exited (pid file removed)
 *   status  running or not, endpoint, pid; exit 0 running, 1 not
 *   env     print the export lines for awscli and SDKs:
 *           eval "$(caliber local env)"
 *
 * The state directory and ports are resolved by lib/localcloud/config.c.
 */
#include "compat.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "cmd.h"
#include "spawn.h"
#include "cmd-local-image.h"
#include "localcloud/config.h"

static int cmd_local(int argc, char **argv);

const struct cmd_entry cmd_local_entry = {
	"local",
	"run the local cloud (caliberd): start, stop, status, env",
	"usage: caliber local start [--port N] [--edge-https-port N] [--edge-http-port N]\n"
	"                         [--timeout SECONDS]\n"
	"       caliber local stop [--timeout SECONDS]\n"
	"       caliber local status\n"
	"       caliber local env\n"
	"       caliber local push-image DIR --name NAME [--tag TAG]\n"
	"\n"
	"Run caliberd, the local AWS-compatible cloud, in the background.\n"
	"\n"
	"  start    start caliberd (daemonised; log in $CALIBER_HOME/caliberd.log), wait\n"
	"           until it answers and print its endpoint; does nothing if it runs\n"
	"  stop     stop it (SIGTERM) and wait until it has exited\n"
	"  status   say whether it runs, its endpoint and pid (exit 0 running, 1 not)\n"
	"  env      print 'export AWS_...' lines: eval \"$(caliber local env)\"\n"
	"  push-image  store DIR as an image for ECS task definitions (NAME:TAG, default\n"
	"           tag latest); prints NAME:TAG and the image's sha256 digest\n"
	"\n"
	"  --port N             API port on 127.0.0.1 (CALIBER_LOCAL_PORT, default 4566)\n"
	"  --edge-https-port N  edge https port (CALIBER_EDGE_HTTPS_PORT, default 8443)\n"
	"  --edge-http-port N   edge http port (CALIBER_EDGE_HTTP_PORT, default 8080)\n"
	"  --timeout SECONDS    how long to wait for start or stop (default 30)\n"
	"\n"
	"State: $CALIBER_HOME (default ~/.caliber/local).  Ports given to start are\n"
	"remembered there for the next start, status and env.\n"
	"Exit codes: 0 success, 1 failure (status: not running), 2 usage error.\n",
	cmd_local,
};

struct local_opts {
	const char *action;
	int port, edge_https_port, edge_http_port;
	int timeout;
};

static int parse(int argc, char **argv, struct local_opts *o, struct err *e)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->timeout = 30;
	if (argc < 2)
		return err_usage(e, "missing action: start, stop, status or env");
	o->action = argv[1];
	if (strcmp(o->action, "start") && strcmp(o->action, "stop") &&
		strcmp(o->action, "status") && strcmp(o->action, "env"))
		return err_usage(e, "unknown action '%s': expected start, stop, status or env",
			o->action);
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		int *dst = NULL, is_start = !strcmp(o->action, "start");

		if (!strcmp(a, "--port") && is_start)
			dst = &o->port;
		else if (!strcmp(a, "--edge-https-port") && is_start)
			dst = &o->edge_https_port;
		else if (!strcmp(a, "--edge-http-port") && is_start)
			dst = &o->edge_http_port;
		if (dst != NULL) {
			if (i + 1 >= argc)
				return err_usage(e, "%s needs a value", a);
			if (localcloud_port_parse(argv[++i], a, dst, e) < 0)
				return -1;
			continue;
		}
		if (!strcmp(a, "--timeout") &&
			(is_start || !strcmp(o->action, "stop"))) {
			char *end = NULL;
			long v;

			if (i + 1 >= argc)
				return err_usage(e, "--timeout needs a value");
			v = strtol(argv[++i], &end, 10);
			if (*end != '\0' || end == argv[i] || v < 1 || v > 3600)
				return err_usage(e,
					"invalid --timeout '%s': expected seconds from 1 to 3600",
					argv[i]);
			o->timeout = (int)v;
			continue;
		}
		return err_usage(e, "unknown argument '%s' for 'caliber local %s'", a, o->action);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(void *p, size_t size, size_t n, void *user)
{
	struct buf *b = user;

	buf_append(b, p, size * n);
	return size * n;
}

/* Does the daemon answer its health check? */
/*
 * 1 when caliberd answers on cfg's port and, when pid is not 0, is that
 * process (not another local cloud that holds the port).
 */
static int local_answers(const struct localcloud_config *cfg, pid_t pid)
{
	char *url = xasprintf("http://127.0.0.1:%d/_caliber/health", cfg->port);
	struct buf body = BUF_INIT;
	CURL *c = curl_easy_init();
	long code = 0;
	int ok = 0;

	buf_init(&body);
	buf_set_cap(&body, 4096);
	if (c == NULL)
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK &&
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200 &&
		strstr(body.data, "\"running\"") != NULL) {
		json_t *o = json_loads(body.data, 0, NULL);

		ok = pid == 0 ||
			(o != NULL && json_integer_value(json_object_get(o, "pid")) == (json_int_t)pid);
		json_decref(o);
	}
out:
	curl_easy_cleanup(c);
	buf_release(&body);
	free(url);
	return ok;
}

/* The caliberd next to this caliber binary (build/release or build/asan). */
static char *caliberd_path(struct err *e)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *path;

	if (n < 0) {
		err_set(e, "unable to find caliber's own path: %s", strerror(errno));
		return NULL;
	}
	self[n] = '\0';
	path = xasprintf("%s/caliberd", dirname(self));
	if (access(path, X_OK) < 0) {
		err_set(e, "unable to find caliberd at '%s'; build it with 'make'", path);
		free(path);
		return NULL;
	}
	return path;
}

/* Print the last lines of the log, to explain a failed start. */
static void log_tail(const char *log)
{
	char line[1024];
	char *lines[8] = { NULL };
	size_t i, n = 0;
	FILE *f = fopen(log, "re");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		free(lines[n % 8]);
		lines[n % 8] = xstrdup(line);
		n++;
	}
	fclose(f);
	fprintf(stderr, "last lines of '%s':\n", log);
	for (i = n > 8 ? n - 8 : 0; i < n; i++)
		fprintf(stderr, "  %s", lines[i % 8]);
	for (i = 0; i < 8; i++)
		free(lines[i]);
}

/*
 * The environment caliberd runs with: only what it and its children need,
 * never the operator's AWS_* keys, tokens or profile (caliberd has its own
 * local credentials), nor anything else of the caller's shell.  Sanitizer
 * options pass, so that the ASan test run checks the daemon too.  home is
 * "CALIBER_HOME=...", which replaces the caller's.  The array is freed by
 * the caller, not its strings.
 */
static const char **daemon_environment(const char *home)
{
	static const char *const keep[] = { "PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR",
		"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL };
	extern char **environ;
	size_t n = 0, i, k;
	const char **envp;

	for (i = 0; environ[i] != NULL; i++)
		n++;
	envp = xcalloc(n + 2, sizeof(*envp));
	n = 0;
	envp[n++] = home;
	for (i = 0; environ[i] != NULL; i++) {
		const char *kv = environ[i];
		int ok = strncmp(kv, "CALIBER_", 8) == 0 && strncmp(kv, "CALIBER_HOME=", 13) != 0;

		for (k = 0; !ok && keep[k] != NULL; k++) {
			size_t len = strlen(keep[k]);

			ok = strncmp(kv, keep[k], len) == 0 && kv[len] == '=';
		}
		if (ok)
			envp[n++] = environ[i];
	}
	envp[n] = NULL;
	return envp;
}

static int local_start(struct localcloud_config *cfg, const struct local_opts *o)
{
	struct err e = ERR_INIT;
	char *daemon = NULL, *log = NULL, *endpoint = NULL;
	char p1[16], p2[16], p3[16];
	pid_t pid = 0, running_pid = 0;
	double deadline;
	int logfd = -1, status, rc = EXIT_FAILED;

	endpoint = localcloud_endpoint(cfg);
	if (localcloud_running(cfg, &running_pid)) {
		printf("caliberd already runs at %s (pid %ld, state in '%s')\n", endpoint,
			(long)running_pid, cfg->home);
		rc = EXIT_OK;
		goto out;
	}
	daemon = caliberd_path(&e);
	if (daemon == NULL)
		goto fail;
	/* creates the directory; caliberd writes it again, with the same ports */
	if (localcloud_config_save(cfg, &e) < 0)
		goto fail;
	log = localcloud_path(cfg, "caliberd.log");
	logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (logfd < 0) {
		err_set(&e, "unable to open '%s': %s", log, strerror(errno));
		goto fail;
	}
	snprintf(p1, sizeof(p1), "%d", cfg->port);
	snprintf(p2, sizeof(p2), "%d", cfg->edge_https_port);
	snprintf(p3, sizeof(p3), "%d", cfg->edge_http_port);
	{
		char *argv[] = { "caliberd", "--port", p1, "--edge-https-port", p2,
			"--edge-http-port", p3, NULL };
		struct spawn_child c = { .path = daemon, .argv = argv, .fd_in = -1,
			.fd_out = logfd, .fd_err = logfd, .new_session = 1 };
		char *home = xasprintf("CALIBER_HOME=%s", cfg->home);
		const char **envp = daemon_environment(home);
		int started;

		c.env = envp;
		started = spawn_start(&c, &pid, &e);

		free(envp);
		free(home);
		if (started < 0)
			goto fail;
	}
	deadline = now_s() + o->timeout;
	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid) {
			err_set(&e, "caliberd exited at start (%s %d)",
				WIFEXITED(status) ? "status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			log_tail(log);
			goto fail;
		}
		if (localcloud_running(cfg, &running_pid) && running_pid == pid &&
			local_answers(cfg, pid))
			break;
		if (now_s() > deadline) {
			err_set(&e, "caliberd (pid %ld) did not answer on %s within %d s",
				(long)pid, endpoint, o->timeout);
			log_tail(log);
			goto fail;
		}
		usleep(50000);
	}
	printf("caliberd running at %s (pid %ld, state in '%s')\n", endpoint, (long)pid,
		cfg->home);
	rc = EXIT_OK;
	goto out;
fail:
	rc = err_print(&e);
out:
	if (logfd >= 0)
		close(logfd);
	free(daemon);
	free(log);
	free(endpoint);
	return rc;
}

static int local_stop(struct localcloud_config *cfg, const struct local_opts *o)
{
	char *pidfile = localcloud_path(cfg, "caliberd.pid");
	pid_t pid = 0;
	double deadline;
	int rc = EXIT_FAILED;

	if (!localcloud_running(cfg, &pid)) {
		/* after kill -9 the file stays behind, unlocked */
		unlink(pidfile);
		printf("caliberd is not running (state in '%s')\n", cfg->home);
		rc = EXIT_OK;
		goto out;
	}
	if (pid <= 1 || kill(pid, SIGTERM) < 0) {
		fprintf(stderr, "caliber: error: unable to signal caliberd (pid %ld): %s\n",
			(long)pid, strerror(errno));
		goto out;
	}
	deadline = now_s() + o->timeout;
	while (localcloud_running(cfg, NULL)) {
		if (now_s() > deadline) {
			fprintf(stderr,
				"caliber: error: caliberd (pid %ld) did not stop within %d s; see "
				"'%s/caliberd.log'\n",
				(long)pid, o->timeout, cfg->home);
			goto out;
		}
		usleep(50000);
	}
	printf("caliberd stopped (pid %ld)\n", (long)pid);
	rc = EXIT_OK;
out:
	free(pidfile);
	return rc;
}

static int local_status(struct localcloud_config *cfg)
{
	char *endpoint = localcloud_endpoint(cfg);
	pid_t pid = 0;
	int rc;

	if (localcloud_running(cfg, &pid)) {
		printf("caliberd: running\nendpoint: %s\npid: %ld\nstate: %s\n", endpoint,
			(long)pid, cfg->home);
		rc = EXIT_OK;
	} else {
		printf("caliberd: not running\nstate: %s\n", cfg->home);
		rc = EXIT_FAILED;
	}
	free(endpoint);
	return rc;
}

static int local_env(struct localcloud_config *cfg)
{
	struct localcloud_credentials c;
	struct err e = ERR_INIT;
	char *endpoint;

	if (localcloud_credentials_load(cfg, &c, &e) < 0)
		return err_print(&e);
	endpoint = localcloud_endpoint(cfg);
	printf("export AWS_ENDPOINT_URL='%s'\n"
	       "export AWS_ACCESS_KEY_ID='%s'\n"
	       "export AWS_SECRET_ACCESS_KEY='%s'\n"
	       "export AWS_DEFAULT_REGION='%s'\n",
		endpoint, c.access_key_id, c.secret_access_key, LOCALCLOUD_DEFAULT_REGION);
	{
		/* The local CA that signs the edge's certificates (made at first start). */
		char *ca = localcloud_path(cfg, "ca/ca.pem");

		if (access(ca, R_OK) == 0)
			printf("export AWS_CA_BUNDLE='%s'\n", ca);
		free(ca);
	}
	fflush(stdout);
	localcloud_credentials_wipe(&c);
	free(endpoint);
	return EXIT_OK;
}

static int cmd_local(int argc, char **argv)
{
	struct localcloud_config cfg = LOCALCLOUD_CONFIG_INIT;
	struct local_opts o;
	struct err e = ERR_INIT;
	int rc;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return cmd_help(&cmd_local_entry);
	if (argc >= 2 && !strcmp(argv[1], "push-image"))
		return cmd_local_push_image(argc - 1, argv + 1);
	if (parse(argc, argv, &o, &e) < 0)
		return cmd_usage_error(&cmd_local_entry, &e);
	cfg.port = o.port;
	cfg.edge_https_port = o.edge_https_port;
	cfg.edge_http_port = o.edge_http_port;
	if (localcloud_config_load(&cfg, &e) < 0) {
		rc = e.usage ? cmd_usage_error(&cmd_local_entry, &e) : err_print(&e);
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!strcmp(o.action, "start"))
		rc = local_start(&cfg, &o);
	else if (!strcmp(o.action, "stop"))
		rc = local_stop(&cfg, &o);
	else if (!strcmp(o.action, "status"))
		rc = local_status(&cfg);
	else
		rc = local_env(&cfg);
	curl_global_cleanup();
out:
	localcloud_config_release(&cfg);
	return rc;
}
