/*
 * caliberd.c: the local cloud daemon.  Sets up the state directory
 * ($CALIBER_HOME: credentials, master key, SQLite control plane), starts
 * every service (the catalogue, services.c), then the edge and the HTTP
 * front, then waits for SIGTERM or SIGINT and shuts down cleanly.  It runs in the foreground: 'caliber local start'
 * daemonises it (own session, log file, pid file).
 *
 * usage: caliberd [--port N] [--edge-https-port N] [--edge-http-port N]
 * Exit codes: 0 stopped by a signal, 1 failed to start, 2 usage error.
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/caliberd.h"
#include "core/crypt.h"
#include "core/edgectl.h"
#include "core/http.h"
#include "core/router.h"
#include "ecs/ecs.h"
#include "elbv2/elbv2.h"
#include "rds/rds.h"
#include "s3/s3.h"

static const char caliberd_usage[] =
	"usage: caliberd [--port N] [--edge-https-port N] [--edge-http-port N]\n"
	"\n"
	"The local cloud's daemon; normally started by 'caliber local start'.\n"
	"State lives in $CALIBER_HOME (default ~/.caliber/local).  Ports default to\n"
	"$CALIBER_LOCAL_PORT, $CALIBER_EDGE_HTTPS_PORT, $CALIBER_EDGE_HTTP_PORT, the\n"
	"last ones used (local.conf), then 4566, 8443 and 8080.\n";

static int parse_args(int argc, char **argv, struct localcloud_config *cfg, struct err *e)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int *dst = NULL;

		if (!strcmp(a, "--port"))
			dst = &cfg->port;
		else if (!strcmp(a, "--edge-https-port"))
			dst = &cfg->edge_https_port;
		else if (!strcmp(a, "--edge-http-port"))
			dst = &cfg->edge_http_port;
		else
			return err_usage(e, "unknown argument '%s'", a);
		if (i + 1 >= argc)
			return err_usage(e, "%s needs a value", a);
		if (localcloud_port_parse(argv[++i], a, dst, e) < 0)
			return -1;
	}
	return 0;
}

/* Create dir (mode 0700) unless it exists. */
static int make_dir(const char *dir, struct err *e)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_set(e, "unable to create '%s': %s", dir, strerror(errno));
	return 0;
}

/*
 * Take the pid file's lock (held until exit) and write our pid.  Another
 * caliberd on the same state directory holds the lock: refuse to start.
 */
static int pidfile_take(struct lc_server *srv, int *fd_out, struct err *e)
{
	char *path = localcloud_path(&srv->cfg, "caliberd.pid");
	char text[32];
	int fd, tries, ret = -1;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_set(e, "unable to open '%s': %s", path, strerror(errno));
		goto out;
	}
	/* 'caliber local status' may hold a shared lock for an instant */
	for (tries = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; tries++) {
		if (errno != EWOULDBLOCK || tries >= 20) {
			err_set(e, "another caliberd already runs with '%s'", srv->cfg.home);
			goto out;
		}
		usleep(10000);
	}
	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, strlen(text), 0) < 0) {
		err_set(e, "unable to write '%s': %s", path, strerror(errno));
		goto out;
	}
	*fd_out = fd;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return ret;
}

/*
 * Remove the streamed bodies a killed caliberd left half written in tmp
 * (only ours: regular files named LC_TMP_BODY_PREFIX*).  Nothing runs yet
 * that could be writing one.
 */
static int tmp_dir_clean(const char *dir, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return err_set(e, "unable to read '%s': %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strncmp(de->d_name, LC_TMP_BODY_PREFIX, strlen(LC_TMP_BODY_PREFIX)) != 0 ||
			fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			!S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			lc_log("unable to remove '%s/%s': %s", dir, de->d_name, strerror(errno));
	}
	closedir(d);
	return 0;
}

static int server_open(struct lc_server *srv, struct err *e)
{
	char *path = NULL;
	size_t i;
	int ret = -1;

	/* the directory holds the keys: nobody else may even list it */
	if (chmod(srv->cfg.home, 0700) < 0)
		return err_set(e, "unable to make '%s' private: %s", srv->cfg.home, strerror(errno));
	if (localcloud_credentials_ensure(&srv->cfg, &srv->creds, e) < 0)
		goto out;
	path = localcloud_path(&srv->cfg, "master.key");
	if (crypt_key_load(path, srv->master_key, e) < 0)
		goto out;
	free(path);
	path = NULL;
	srv->tmp_dir = localcloud_path(&srv->cfg, "tmp");
	srv->objects_dir = localcloud_path(&srv->cfg, "objects");
	if (make_dir(srv->tmp_dir, e) < 0 || make_dir(srv->objects_dir, e) < 0 ||
		tmp_dir_clean(srv->tmp_dir, e) < 0)
		goto out;
	path = localcloud_path(&srv->cfg, "caliberd.db");
	if (store_open(path, &srv->store, e) < 0)
		goto out;
	for (i = 0; i < lc_n_services; i++) {
		if (lc_services[i]->init != NULL && lc_services[i]->init(srv, e) < 0) {
			err_prefix(e, "unable to start %s", lc_services[i]->name);
			goto out;
		}
	}
	/* every source of sites and the origin are registered: the edge comes up */
	if (edgectl_start(srv, e) < 0) {
		err_prefix(e, "unable to start the edge");
		goto out;
	}
	ret = 0;
out:
	free(path);
	return ret;
}

static void server_close(struct lc_server *srv)
{
	http_stop(srv);
	ecs_shutdown();	/* the supervisor joined, no task left running */
	elb_shutdown();	/* the health checker joined */
	/* the edge (nginx, its origin server, the CA) and the S3 object store */
	edgectl_stop();
	s3_shutdown();
	rds_shutdown();	/* RDS workers off the store, database servers stopped */
	store_close(srv->store);
	srv->store = NULL;
	free(srv->tmp_dir);
	free(srv->objects_dir);
	localcloud_credentials_wipe(&srv->creds);
	OPENSSL_cleanse(srv->master_key, sizeof(srv->master_key));
	localcloud_config_release(&srv->cfg);
}

int main(int argc, char **argv)
{
	struct lc_server srv;
	struct err e = ERR_INIT;
	sigset_t sigs;
	char *pidpath = NULL;
	int pidfd = -1, sig = 0, rc = EXIT_FAILED;

	memset(&srv, 0, sizeof(srv));
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(caliberd_usage, stdout);
		return EXIT_OK;
	}
	if (parse_args(argc, argv, &srv.cfg, &e) < 0) {
		fprintf(stderr, "caliberd: error: %s\n%s", e.msg, caliberd_usage);
		return EXIT_USAGE;
	}
	if (localcloud_config_load(&srv.cfg, &e) < 0) {
		fprintf(stderr, "caliberd: error: %s\n", e.msg);
		localcloud_config_release(&srv.cfg);
		return e.usage ? EXIT_USAGE : EXIT_FAILED;
	}
	umask(077);
	/* every thread inherits this mask; the main thread takes the signals */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (localcloud_config_save(&srv.cfg, &e) < 0 || pidfile_take(&srv, &pidfd, &e) < 0 ||
		server_open(&srv, &e) < 0 || http_start(&srv, &e) < 0) {
		lc_log("error: %s", e.msg);
		goto out;
	}
	lc_log("listening on http://127.0.0.1:%d (state in '%s', pid %ld)", srv.cfg.port,
		srv.cfg.home, (long)getpid());
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			continue;
		break;
	}
	lc_log("signal %d: shutting down", sig);
	rc = EXIT_OK;
out:
	if (srv.cfg.home != NULL && pidfd >= 0)
		pidpath = localcloud_path(&srv.cfg, "caliberd.pid");
	server_close(&srv);
	if (pidpath != NULL) {
		unlink(pidpath);
		free(pidpath);
	}
	if (pidfd >= 0)
		close(pidfd);
	if (rc == EXIT_OK)
		lc_log("stopped");
	return rc;
}
