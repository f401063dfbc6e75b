/*
 * engine-postgres.c: real PostgreSQL 15 clusters for caliberd's RDS (see
 * engine-postgres.h for the layout and the rules on passwords).
 *
 * Children (initdb, postgres, pg_basebackup, cp) are started with fork and
 * execve, never through a shell, with a small fixed environment, all
 * signals unblocked (caliberd blocks SIGTERM/SIGINT in every thread, and
 * a blocked mask survives exec) and every descriptor above stderr closed
 * (caliberd's pid file lock and listening socket must not leak into a
 * server that outlives it).  When caliberd is root they drop to the
 * instance's own system user before exec.  postgres itself is double-forked
 * into its own session so that it belongs to no caliberd process.
 *
 * Isolation (caliberd as root): each instance's server, and the tools that
 * write its files, run as a system user of its own, 'caliber-db-<16 hex
 * digits of SHA-256(root/id)>', whose primary group is 'caliber-db'.  The
 * root is root:caliber-db 0710 (servers traverse it, none lists it), an
 * instance directory is its user's, 0700.  Snapshots are root's (0700)
 * once taken: a uid freed by a deleted instance may be given to a new one,
 * which must not find the old instance's files its own.  Restores copy as
 * root, then hand the copy to the new instance's user.  Files caliberd
 * opens as root inside an instance directory (which its server can write)
 * are opened with O_NOFOLLOW.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "buf.h"
#include "engine-postgres.h"
#include "spawn.h"

#define PGE_BIN "/usr/lib/postgresql/15/bin"
#define PGE_USER "caliber-db"
#define PGE_SHARED_ROOT "/var/lib/caliber/rds"
#define PGE_GUARD "caliber_rds_guard.so"

/* The OS user a child runs as, and the owner of what is made for it. */
struct pge_user {
	uid_t uid;
	gid_t gid;
};

static char *pge_root_dir;
static char *pge_guard_path;	/* the guard module the servers preload, NULL when missing */
static int pge_drop;		/* caliberd is root: children run as instance users */
static uid_t pge_uid;		/* caliber-db (root: the reachability probe) or caliberd */
static gid_t pge_gid;		/* caliber-db: every instance user's primary group */
static pthread_mutex_t pge_users_lock = PTHREAD_MUTEX_INITIALIZER;

const char *pge_root(void)
{
	return pge_root_dir;
}

static void pge_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double pge_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * mkdir (existing is fine) with an explicit mode (caliberd's umask is 077),
 * owned by uid:gid when caliberd is root.  Never follows a symbolic link.
 */
static int pge_mkdir(const char *path, mode_t mode, uid_t uid, gid_t gid, struct err *e)
{
	struct stat st;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return err_set(e, "unable to create '%s': %s", path, strerror(errno));
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(e, "'%s' is not a directory", path);
	if (pge_drop && chown(path, uid, gid) < 0)
		return err_set(e, "unable to chown '%s': %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		return err_set(e, "unable to chmod '%s': %s", path, strerror(errno));
	return 0;
}

/* Write a whole file (0600, owned by owner when caliberd is root; NULL: root's). */
static int pge_write_file(const char *path, const char *data, size_t len,
	const struct pge_user *owner, struct err *e)
{
	int fd, ret = -1;
	size_t off = 0;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(e, "unable to create '%s': %s", path, strerror(errno));
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(e, "unable to write '%s': %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (pge_drop && fchown(fd, owner ? owner->uid : 0, owner ? owner->gid : 0) < 0) {
		err_set(e, "unable to chown '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fsync(fd) < 0) {
		err_set(e, "unable to sync '%s': %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* The last non-empty line of a log file into out (for error messages). */
static void pge_log_tail(const char *path, char *out, size_t outlen)
{
	char chunk[512];
	int fd;
	off_t size;
	ssize_t n;
	char *p, *start;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size < 0) {
		close(fd);
		return;
	}
	n = pread(fd, chunk, sizeof(chunk) - 1, size > (off_t)sizeof(chunk) - 1 ?
		size - (off_t)sizeof(chunk) + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	chunk[n] = '\0';
	while (n > 0 && (chunk[n - 1] == '\n' || chunk[n - 1] == '\r'))
		chunk[--n] = '\0';
	p = strrchr(chunk, '\n');
	start = p ? p + 1 : chunk;
	n = (ssize_t)strlen(start);
	if ((size_t)n >= outlen)
		n = (ssize_t)outlen - 1;
	memcpy(out, start, (size_t)n);
	out[n] = '\0';
}

/*
 * Run argv[0] (an absolute path).  as: the instance user to run as (NULL:
 * caliberd's own user).  log: file for stdout/stderr (appended), NULL for
 * /dev/null.  daemon: detach (setsid + second fork) and do not wait.
 * env_add: extra NAME=value.
 */
static int pge_exec(char *const argv[], const char *const env_add[], const char *log,
	const struct pge_user *as, int daemon, struct err *e)
{
	const char *envp[16];
	size_t n = 0, i;
	/*
	 * A tool (initdb, pg_basebackup, cp) dies with the thread waiting for
	 * it, so a caliberd killed mid-create leaves nothing writing into the
	 * directory the next start re-creates.
	 */
	struct spawn_child c = { .path = argv[0], .argv = argv, .env = envp, .fd_in = -1,
		.fd_out = -1, .fd_err = -1, .cwd = pge_root_dir ? pge_root_dir : "/",
		.new_session = daemon, .daemon = daemon, .death_signal = daemon ? 0 : SIGKILL,
		.drop = as != NULL && pge_drop, .uid = as ? as->uid : 0, .gid = as ? as->gid : 0 };
	int logfd = -1, ret = -1;
	pid_t pid;
	char tail[256];

	envp[n++] = "PATH=" PGE_BIN ":/usr/bin:/bin";
	envp[n++] = "LC_ALL=C.UTF-8";
	envp[n++] = "LANG=C.UTF-8";
	envp[n++] = "HOME=/nonexistent";
	envp[n++] = "TZ=UTC";
	for (i = 0; env_add && env_add[i] && n < 15; i++)
		envp[n++] = env_add[i];
	envp[n] = NULL;

	if (log != NULL) {
		logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (logfd < 0)
			return err_set(e, "unable to open '%s': %s", log, strerror(errno));
		c.fd_out = c.fd_err = logfd;
	}
	if (spawn_start(&c, &pid, e) < 0)
		goto out;
	if (spawn_wait(pid, argv[0], NULL, e) < 0) {
		tail[0] = '\0';
		if (log != NULL)
			pge_log_tail(log, tail, sizeof(tail));
		if (tail[0]) {
			char *why = xstrdup(e->msg);

			err_clear(e);
			err_set(e, "%s: %s", why, tail);
			free(why);
		}
		goto out;
	}
	ret = 0;
out:
	if (logfd >= 0)
		close(logfd);
	return ret;
}

/*
 * SIGKILL every PostgreSQL process of uid (the instance's user) working
 * inside dir (a directory about to be re-created): what a caliberd killed
 * mid-create may leave, such as the bootstrap postgres initdb started,
 * which outlives initdb.  Nothing else is touched, whoever stands in the
 * directory.
 */
static void pge_kill_inside(const char *dir, uid_t uid)
{
	char real[4096], link[64], cwd[4096];
	size_t len;
	DIR *d;
	struct dirent *de;

	if (realpath(dir, real) == NULL)
		return;
	len = strlen(real);
	d = opendir("/proc");
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		ssize_t n;
		long pid = strtol(de->d_name, NULL, 10);

		struct stat st;
		const char *base;

		if (pid <= 1 || pid == (long)getpid())
			continue;
		/*
		 * Only a PostgreSQL process of the servers' user: never an
		 * operator's shell (or anything else) that stands in the
		 * directory.
		 */
		snprintf(link, sizeof(link), "/proc/%ld", pid);
		if (stat(link, &st) < 0 || st.st_uid != uid)
			continue;
		snprintf(link, sizeof(link), "/proc/%ld/exe", pid);
		n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n < 0)
			continue;
		cwd[n] = '\0';
		base = strrchr(cwd, '/');
		if (base == NULL || (strcmp(base, "/postgres") != 0 && strcmp(base, "/initdb") != 0))
			continue;
		snprintf(link, sizeof(link), "/proc/%ld/cwd", pid);
		n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n < 0)
			continue;
		cwd[n] = '\0';
		if (strncmp(cwd, real, len) == 0 && (cwd[len] == '\0' || cwd[len] == '/'))
			kill((pid_t)pid, SIGKILL);
	}
	closedir(d);
}

/* rm -rf path (as root: the tree may hold root-owned files). */
static int pge_rmtree(const char *path, struct err *e)
{
	char *argv[] = { "/bin/rm", "-rf", "--", (char *)path, NULL };

	return pge_exec(argv, NULL, NULL, NULL, 0, e);
}

/* chown -R uid:gid of u, never following symbolic links (no-op without root). */
static int pge_chown_tree(const char *path, const struct pge_user *u, struct err *e)
{
	char owner[64];
	char *argv[] = { "/bin/chown", "-R", "-P", "--", owner, (char *)path, NULL };

	if (!pge_drop)
		return 0;
	snprintf(owner, sizeof(owner), "%lu:%lu", (unsigned long)u->uid, (unsigned long)u->gid);
	return pge_exec(argv, NULL, NULL, NULL, 0, e);
}

/* The system user of instance id under root: 'caliber-db-' and 16 hex digits. */
static void pge_user_name(const char *root, const char *id, char *name, size_t len)
{
	char *key = xasprintf("%s/%s", root, id);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char hex[17] = "";

	EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 8 && i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(name, len, "%s-%s", PGE_USER, hex);
	free(key);
}

static int pge_user_lookup(const char *name, struct pge_user *u)
{
	struct passwd pw, *found = NULL;
	char buf[16384];

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &found) != 0 || found == NULL)
		return -1;
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	return 0;
}

/*
 * The system user of instance id into u, created when missing if create is
 * set.  Without root: caliberd's own user (no isolation is possible then).
 */
static int pge_instance_user(const char *id, int create, struct pge_user *u, struct err *e)
{
	char name[64], group[32], comment[128];
	char *argv[] = { "useradd", "--system", "--gid", group, "--no-create-home", "--home-dir",
		"/nonexistent", "--shell", "/usr/sbin/nologin", "--comment", comment, name, NULL };
	struct spawn_opts opts = { 0 };
	struct err ue = ERR_INIT;
	int tries, ret = -1;

	if (!pge_drop) {
		u->uid = geteuid();
		u->gid = getegid();
		return 0;
	}
	pge_user_name(pge_root_dir, id, name, sizeof(name));
	snprintf(group, sizeof(group), "%lu", (unsigned long)pge_gid);
	snprintf(comment, sizeof(comment), "caliberd RDS instance %s", id);
	opts.stderr_null = 1;
	/* caliberd's threads take turns; another caliberd's useradd may hold the lock of /etc/passwd */
	pthread_mutex_lock(&pge_users_lock);
	for (tries = 0; pge_user_lookup(name, u) < 0; tries++) {
		if (!create) {
			err_set(e, "no system user '%s' for instance '%s'", name, id);
			goto out;
		}
		if (tries == 50) {
			err_set(e, "unable to create the system user '%s': %s", name,
				ue.msg[0] ? ue.msg : "useradd failed");
			goto out;
		}
		if (tries > 0)
			pge_sleep_ms(100);
		err_clear(&ue);
		spawn_run(argv, &opts, NULL, &ue);
	}
	if (u->gid != pge_gid || u->uid == 0) {
		err_set(e, "system user '%s' exists but is not one of caliberd's ('%s' group)", name,
			PGE_USER);
		goto out;
	}
	ret = 0;
out:
	pthread_mutex_unlock(&pge_users_lock);
	return ret;
}

/* Remove instance id's system user under root (it owns nothing any more); errors ignored. */
static void pge_instance_user_remove(const char *root, const char *id)
{
	char name[64];
	char *argv[] = { "userdel", name, NULL };
	struct spawn_opts opts = { 0 };
	struct err ue = ERR_INIT;
	struct pge_user u;

	if (!pge_drop)
		return;
	pge_user_name(root, id, name, sizeof(name));
	opts.stderr_null = 1;
	pthread_mutex_lock(&pge_users_lock);
	if (pge_user_lookup(name, &u) == 0 && u.gid == pge_gid)
		spawn_run(argv, &opts, NULL, &ue);
	pthread_mutex_unlock(&pge_users_lock);
}

static int pge_file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * The postmaster of data directory `data` when it runs: postmaster.pid's
 * pid is alive, not a zombie, and its working directory is `data` (the
 * postmaster chdirs there), so a recycled pid is not mistaken for it.
 */
static pid_t pge_postmaster(const char *data)
{
	char *path = xasprintf("%s/postmaster.pid", data);
	char line[64], proc[64], cwd[4096], real[4096], stat[512];
	FILE *f;
	long pid = 0;
	ssize_t n;
	char *p;

	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) != NULL)
		pid = strtol(line, NULL, 10);
	fclose(f);
	if (pid <= 1)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/%ld/cwd", pid);
	n = readlink(proc, cwd, sizeof(cwd) - 1);
	if (n < 0)
		return 0;
	cwd[n] = '\0';
	if (realpath(data, real) == NULL || strcmp(cwd, real) != 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/%ld/stat", pid);
	f = fopen(proc, "re");
	if (f == NULL)
		return 0;
	n = (ssize_t)fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	if (n <= 0)
		return 0;
	stat[n] = '\0';
	p = strrchr(stat, ')');
	if (p == NULL || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	return (pid_t)pid;
}

int pge_available(struct err *e)
{
	static const char *const tools[] = { PGE_BIN "/initdb", PGE_BIN "/postgres",
		PGE_BIN "/pg_basebackup", PGE_BIN "/pg_archivecleanup" };
	size_t i;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (access(tools[i], X_OK) < 0)
			return err_set(e, "PostgreSQL 15 is not installed: no '%s' (Debian package "
					  "postgresql-15, see tools/install-deps.sh)",
				tools[i]);
	if (pge_guard_path == NULL)
		return err_set(e, "the RDS guard module '%s' is not next to caliberd (build it with "
				  "'make'; it needs the Debian package postgresql-server-dev-15)",
			PGE_GUARD);
	return 0;
}

int pge_running(const char *id)
{
	char *data = xasprintf("%s/%s/data", pge_root_dir, id);
	pid_t pid = pge_postmaster(data);

	free(data);
	return pid > 0;
}

/* Fast shutdown of the server of `data`, then immediate if it lingers. */
static int pge_stop_data(const char *data, struct err *e)
{
	pid_t pid = pge_postmaster(data);
	int i;

	if (pid <= 0)
		return 0;
	kill(pid, SIGINT);
	for (i = 0; i < 600 && pge_postmaster(data) > 0; i++)
		pge_sleep_ms(50);
	if (pge_postmaster(data) <= 0)
		return 0;
	kill(pid, SIGQUIT);
	for (i = 0; i < 200 && pge_postmaster(data) > 0; i++)
		pge_sleep_ms(50);
	if (pge_postmaster(data) > 0)
		return err_set(e, "postgres (pid %ld) of '%s' does not stop", (long)pid, data);
	return 0;
}

int pge_stop(const char *id, struct err *e)
{
	char *data = xasprintf("%s/%s/data", pge_root_dir, id);
	int ret = pge_stop_data(data, e);

	free(data);
	return ret;
}

/* Stop every server under root (caliberd's exit, clean-up of stale roots). */
static void pge_stop_root(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *de;
	struct err e = ERR_INIT;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *data;

		if (de->d_name[0] == '.')
			continue;
		data = xasprintf("%s/%s/data", root, de->d_name);
		pge_stop_data(data, &e);
		free(data);
	}
	closedir(d);
}

void pge_stop_all(void)
{
	if (pge_root_dir != NULL)
		pge_stop_root(pge_root_dir);
}

/*
 * postgresql.conf and pg_hba.conf, rewritten before every start: the port
 * is the control plane's, and a copy from a snapshot must not keep its
 * source's.  archive_command paths are relative to the data directory
 * (the server's working directory).
 */
static int pge_write_conf(const char *id, int port, const struct pge_user *u, struct err *e)
{
	struct buf conf = BUF_INIT;
	char *path = NULL;
	static const char hba[] =
		"# written by caliberd: password (SCRAM) authentication over loopback TCP only\n"
		"host all all 127.0.0.1/32 scram-sha-256\n"
		"host replication all 127.0.0.1/32 scram-sha-256\n";
	int ret = -1;

	/* no server runs without the guard: it keeps the master from the OS (see rds-guard/) */
	if (pge_guard_path == NULL)
		return pge_available(e);
	buf_appendf(&conf,
		"# written by caliberd before every start; edits are lost\n"
		"listen_addresses = '127.0.0.1'\n"
		"port = %d\n"
		"shared_preload_libraries = '%s'\n"
		"unix_socket_directories = ''\n"
		"max_connections = 50\n"
		"shared_buffers = 16MB\n"
		"dynamic_shared_memory_type = posix\n"
		"password_encryption = 'scram-sha-256'\n"
		"wal_level = replica\n"
		"max_wal_senders = 4\n"
		"archive_mode = on\n"
		"archive_command = 'test ! -f ../wal-archive/%%f && cp %%p ../wal-archive/%%f.tmp && mv ../wal-archive/%%f.tmp ../wal-archive/%%f'\n"
		"archive_timeout = 5\n"
		"log_destination = 'stderr'\n"
		"log_line_prefix = '%%m [%%p] '\n"
		"log_timezone = 'UTC'\n"
		"timezone = 'UTC'\n"
		"datestyle = 'iso, mdy'\n"
		"lc_messages = 'C.UTF-8'\n"
		"default_text_search_config = 'pg_catalog.english'\n"
		"include_if_exists = 'caliber-recovery.conf'\n",
		port, pge_guard_path);
	path = xasprintf("%s/%s/data/postgresql.conf", pge_root_dir, id);
	if (pge_write_file(path, conf.data, conf.len, u, e) < 0)
		goto out;
	free(path);
	path = xasprintf("%s/%s/data/pg_hba.conf", pge_root_dir, id);
	if (pge_write_file(path, hba, sizeof(hba) - 1, u, e) < 0)
		goto out;
	ret = 0;
out:
	free(path);
	buf_release(&conf);
	return ret;
}

/*
 * Wait until the server of id answers on port (PQping: accepting
 * connections).  promoted: also until recovery.signal is gone (a point in
 * time restore has ended and the server was promoted).
 */
static int pge_wait_ready(const char *id, int port, int promoted, double timeout, struct err *e)
{
	char conninfo[128], tail[256];
	char *data = xasprintf("%s/%s/data", pge_root_dir, id);
	char *signal_path = xasprintf("%s/recovery.signal", data);
	char *log = xasprintf("%s/%s/postgres.log", pge_root_dir, id);
	double start = pge_now();
	int ret = -1;

	snprintf(conninfo, sizeof(conninfo),
		"host=127.0.0.1 port=%d dbname=postgres connect_timeout=2", port);
	for (;;) {
		if (PQping(conninfo) == PQPING_OK &&
			(!promoted || !pge_file_exists(signal_path))) {
			ret = 0;
			break;
		}
		if (pge_now() - start > 1.0 && pge_postmaster(data) <= 0) {
			pge_log_tail(log, tail, sizeof(tail));
			err_set(e, "postgres of '%s' exited%s%s", id, tail[0] ? ": " : "", tail);
			break;
		}
		if (pge_now() - start > timeout) {
			err_set(e, "postgres of '%s' not ready after %.0f s", id, timeout);
			break;
		}
		pge_sleep_ms(25);
	}
	free(data);
	free(signal_path);
	free(log);
	return ret;
}

static int pge_launch(const char *id, int port, struct err *e)
{
	char *dir = xasprintf("%s/%s", pge_root_dir, id);
	char *data = xasprintf("%s/data", dir);
	char *log = xasprintf("%s/postgres.log", dir);
	char *argv[] = { PGE_BIN "/postgres", "-D", data, NULL };
	struct pge_user u;
	struct stat st;
	int ret = -1;

	if (pge_postmaster(data) > 0) {
		ret = 0;	/* it outlived a caliberd: adopt it */
		goto out;
	}
	if (pge_instance_user(id, 1, &u, e) < 0)
		goto out;
	if (lstat(dir, &st) < 0) {
		err_set(e, "unable to stat '%s': %s", dir, strerror(errno));
		goto out;
	}
	/* made by an earlier caliberd (one 'caliber-db' for all), or the user was re-created */
	if (pge_drop && (st.st_uid != u.uid || st.st_gid != u.gid) &&
		pge_chown_tree(dir, &u, e) < 0)
		goto out;
	if (pge_mkdir(dir, 0700, u.uid, u.gid, e) < 0 || pge_write_conf(id, port, &u, e) < 0)
		goto out;
	ret = pge_exec(argv, NULL, log, &u, 1, e);
out:
	free(dir);
	free(data);
	free(log);
	return ret;
}

int pge_start(const char *id, int port, struct err *e)
{
	if (pge_launch(id, port, e) < 0)
		return -1;
	return pge_wait_ready(id, port, 0, 120, e);
}

static int pge_connect(int port, const char *admin_password, PGconn **out, struct err *e)
{
	char portstr[16];
	const char *keys[] = { "host", "port", "user", "password", "dbname", "connect_timeout",
		"application_name", NULL };
	const char *vals[] = { "127.0.0.1", portstr, PGE_ADMIN_USER, admin_password, "postgres",
		"10", "caliberd", NULL };
	PGconn *c;

	snprintf(portstr, sizeof(portstr), "%d", port);
	c = PQconnectdbParams(keys, vals, 0);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		err_set(e, "unable to connect to postgres on port %d: %s", port,
			c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return -1;
	}
	*out = c;
	return 0;
}

/* Run one statement; sql may hold a SCRAM verifier but never a plain password. */
static int pge_sql(PGconn *c, const char *sql, char *result, size_t result_len, struct err *e)
{
	PGresult *r = PQexec(c, sql);
	int st = PQresultStatus(r);
	int ret = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char *nl;

		err_set(e, "postgres refused the statement: %s", PQresultErrorMessage(r));
		nl = strchr(e->msg, '\n');
		if (nl)
			*nl = '\0';
		ret = -1;
	} else if (result != NULL && result_len > 0) {
		snprintf(result, result_len, "%s",
			PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	}
	PQclear(r);
	return ret;
}

/* CREATE/ALTER ROLE user ... PASSWORD '<SCRAM verifier>' */
static int pge_role_password(PGconn *c, const char *verb, const char *user, const char *options,
	const char *password, struct err *e)
{
	char *verifier = NULL, *ident = NULL, *lit = NULL, *sql = NULL;
	int ret = -1;

	verifier = PQencryptPasswordConn(c, password, user, "scram-sha-256");
	if (verifier == NULL) {
		err_set(e, "unable to hash the password: %s", PQerrorMessage(c));
		goto out;
	}
	ident = PQescapeIdentifier(c, user, strlen(user));
	lit = PQescapeLiteral(c, verifier, strlen(verifier));
	if (ident == NULL || lit == NULL) {
		err_set(e, "unable to quote '%s': %s", user, PQerrorMessage(c));
		goto out;
	}
	sql = xasprintf("%s ROLE %s %s PASSWORD %s", verb, ident, options, lit);
	ret = pge_sql(c, sql, NULL, 0, e);
out:
	if (verifier)
		OPENSSL_cleanse(verifier, strlen(verifier));
	PQfreemem(verifier);
	PQfreemem(ident);
	PQfreemem(lit);
	free(sql);
	return ret;
}

int pge_create(const char *id, int port, const char *admin_password, const char *master_user,
	const char *master_password, const char *db_name, struct err *e)
{
	char *dir = xasprintf("%s/%s", pge_root_dir, id);
	char *data = xasprintf("%s/data", dir);
	char *archive = xasprintf("%s/wal-archive", dir);
	char *pwfile = xasprintf("%s/.pwfile", dir);
	char *pwopt = xasprintf("--pwfile=%s", pwfile);
	char *log = xasprintf("%s/postgres.log", dir);
	char *argv[] = { PGE_BIN "/initdb", "-D", data, "-U", PGE_ADMIN_USER, pwopt,
		"-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--wal-segsize=1",
		"--no-instructions", "--no-sync", NULL };
	struct buf pw = BUF_INIT;
	PGconn *c = NULL;
	char *ident = NULL, *owner = NULL, *sql = NULL;
	struct pge_user u;
	int ret = -1;

	/* a server (or initdb's bootstrap backend) left by an interrupted attempt goes first */
	if (pge_stop(id, e) < 0)
		goto out;
	if (pge_instance_user(id, 0, &u, NULL) == 0)
		pge_kill_inside(dir, u.uid);
	if (pge_rmtree(dir, e) < 0 || pge_instance_user(id, 1, &u, e) < 0 ||
		pge_mkdir(dir, 0700, u.uid, u.gid, e) < 0 ||
		pge_mkdir(archive, 0700, u.uid, u.gid, e) < 0)
		goto out;
	buf_appends(&pw, admin_password);
	buf_appendc(&pw, '\n');
	if (pge_write_file(pwfile, pw.data, pw.len, &u, e) < 0)
		goto out;
	if (pge_exec(argv, NULL, log, &u, 0, e) < 0)
		goto out;
	if (pge_start(id, port, e) < 0 || pge_connect(port, admin_password, &c, e) < 0)
		goto out;
	if (pge_role_password(c, "CREATE", master_user, "LOGIN CREATEDB CREATEROLE",
		    master_password, e) < 0)
		goto out;
	owner = PQescapeIdentifier(c, master_user, strlen(master_user));
	sql = xasprintf("GRANT pg_monitor, pg_signal_backend TO %s", owner ? owner : "");
	if (owner == NULL || pge_sql(c, sql, NULL, 0, e) < 0)
		goto out;
	if (db_name != NULL && *db_name) {
		free(sql);
		ident = PQescapeIdentifier(c, db_name, strlen(db_name));
		sql = xasprintf("CREATE DATABASE %s OWNER %s", ident ? ident : "", owner);
		if (ident == NULL || pge_sql(c, sql, NULL, 0, e) < 0)
			goto out;
	}
	ret = 0;
out:
	if (pge_file_exists(pwfile)) {
		/* overwrite before unlinking: the file held a password */
		char zero[256] = { 0 };

		pge_write_file(pwfile, zero, pw.len < sizeof(zero) ? pw.len : sizeof(zero), NULL,
			NULL);
		unlink(pwfile);
	}
	buf_release_secret(&pw);
	PQfinish(c);
	PQfreemem(ident);
	PQfreemem(owner);
	free(sql);
	free(dir);
	free(data);
	free(archive);
	free(pwfile);
	free(pwopt);
	free(log);
	return ret;
}

int pge_destroy(const char *id, struct err *e)
{
	char *dir = xasprintf("%s/%s", pge_root_dir, id);
	int ret = -1;

	if (pge_stop(id, e) < 0 || pge_rmtree(dir, e) < 0)
		goto out;
	pge_instance_user_remove(pge_root_dir, id);
	ret = 0;
out:
	free(dir);
	return ret;
}

int pge_set_password(const char *id, int port, const char *admin_password, const char *user,
	const char *password, struct err *e)
{
	PGconn *c = NULL;
	int ret = -1;

	(void)id;
	if (pge_connect(port, admin_password, &c, e) < 0)
		goto out;
	ret = pge_role_password(c, "ALTER", user, "", password, e);
out:
	PQfinish(c);
	return ret;
}

int pge_snapshot(const char *id, int port, const char *admin_password, const char *snap,
	struct err *e)
{
	char *snaps = xasprintf("%s/.snapshots", pge_root_dir);
	char *dir = xasprintf("%s/%s", snaps, snap);
	char *data = xasprintf("%s/data", dir);
	char *log = xasprintf("%s/backup.log", dir);
	char *pwenv = xasprintf("PGPASSWORD=%s", admin_password);
	const char *env[] = { pwenv, NULL };
	char portstr[16];
	char *argv[] = { PGE_BIN "/pg_basebackup", "-h", "127.0.0.1", "-p", portstr, "-U",
		PGE_ADMIN_USER, "-D", data, "-X", "stream", "-c", "fast", "-w", "--no-sync", NULL };
	struct pge_user u, root = { 0, 0 };
	int ret = -1;

	snprintf(portstr, sizeof(portstr), "%d", port);
	/*
	 * Taken as the instance's user (pg_basebackup writes what its server
	 * sends), then made root's: the user's uid may later be another's.
	 */
	if (pge_instance_user(id, 1, &u, e) < 0 || pge_mkdir(snaps, 0710, 0, pge_gid, e) < 0 ||
		pge_rmtree(dir, e) < 0 || pge_mkdir(dir, 0700, u.uid, u.gid, e) < 0)
		goto out;
	if (pge_exec(argv, env, log, &u, 0, e) < 0 || pge_chown_tree(dir, &root, e) < 0)
		goto out;
	ret = 0;
out:
	OPENSSL_cleanse(pwenv, strlen(pwenv));
	free(pwenv);
	free(snaps);
	free(dir);
	free(data);
	free(log);
	return ret;
}

int pge_snapshot_delete(const char *snap, struct err *e)
{
	char *dir = xasprintf("%s/.snapshots/%s", pge_root_dir, snap);
	int ret = pge_rmtree(dir, e);

	free(dir);
	return ret;
}

int pge_archive_now(const char *id, int port, const char *admin_password, struct err *e)
{
	PGconn *c = NULL;
	char name[64], *path = NULL;
	double start;
	int ret = -1;

	if (pge_connect(port, admin_password, &c, e) < 0)
		goto out;
	if (pge_sql(c, "SELECT txid_current()", NULL, 0, e) < 0 ||
		pge_sql(c, "SELECT pg_walfile_name(pg_switch_wal())", name, sizeof(name), e) < 0)
		goto out;
	path = xasprintf("%s/%s/wal-archive/%s", pge_root_dir, id, name);
	for (start = pge_now(); !pge_file_exists(path); pge_sleep_ms(25)) {
		if (pge_now() - start > 60) {
			err_set(e, "WAL segment '%s' of '%s' not archived after 60 s", name, id);
			goto out;
		}
	}
	ret = 0;
out:
	PQfinish(c);
	free(path);
	return ret;
}

/*
 * Until the server says it is out of recovery: it accepts connections
 * (read-only) before its end-of-recovery checkpoint is done, and a base
 * backup begun then fails ("the standby was promoted during online backup").
 */
static int pge_wait_promoted(int port, const char *admin_password, struct err *e)
{
	double start = pge_now();
	char in_recovery[8] = "t";
	PGconn *c = NULL;
	int ret = -1;

	if (pge_connect(port, admin_password, &c, e) < 0)
		return -1;
	for (;;) {
		if (pge_sql(c, "SELECT pg_is_in_recovery()", in_recovery, sizeof(in_recovery), e) < 0)
			break;
		if (!strcmp(in_recovery, "f")) {
			ret = 0;
			break;
		}
		if (pge_now() - start > 600) {
			err_set(e, "postgres on port %d still in recovery after 600 s", port);
			break;
		}
		pge_sleep_ms(25);
	}
	PQfinish(c);
	return ret;
}

int pge_restore(const char *snap, const char *new_id, int port, const char *admin_password,
	const char *src_id, double target_time, struct err *e)
{
	char *dir = xasprintf("%s/%s", pge_root_dir, new_id);
	char *data = xasprintf("%s/data", dir);
	char *from = xasprintf("%s/.snapshots/%s/data", pge_root_dir, snap);
	char *archive = xasprintf("%s/wal-archive", dir);
	char *restore_wal = xasprintf("%s/restore-wal", dir);
	char *src_archive = NULL, *path = NULL;
	char *log = xasprintf("%s/postgres.log", dir);
	char *cp_data[] = { "/bin/cp", "-a", "--", from, data, NULL };
	struct buf conf = BUF_INIT;
	struct pge_user u;
	int ret = -1;

	if (pge_stop(new_id, e) < 0)
		goto out;
	if (pge_instance_user(new_id, 0, &u, NULL) == 0)
		pge_kill_inside(dir, u.uid);
	if (pge_rmtree(dir, e) < 0 || pge_instance_user(new_id, 1, &u, e) < 0 ||
		pge_mkdir(dir, 0700, u.uid, u.gid, e) < 0 ||
		pge_mkdir(archive, 0700, u.uid, u.gid, e) < 0)
		goto out;
	/* as root (the snapshot is root's), then the copy is handed to the new instance's user */
	if (pge_exec(cp_data, NULL, log, NULL, 0, e) < 0)
		goto out;
	path = xasprintf("%s/postmaster.pid", data);
	unlink(path);
	free(path);
	path = NULL;
	if (src_id != NULL) {
		char *cp_wal[] = { "/bin/cp", "-R", "-P", "--preserve=mode,timestamps", "--", NULL,
			NULL, NULL };

		/*
		 * Copies, not hard links: the copies change owner, and a link
		 * would hand the source's own archive to the new instance's user.
		 */
		src_archive = xasprintf("%s/%s/wal-archive/.", pge_root_dir, src_id);
		cp_wal[5] = src_archive;
		cp_wal[6] = restore_wal;
		if (pge_mkdir(restore_wal, 0700, u.uid, u.gid, e) < 0 ||
			pge_exec(cp_wal, NULL, log, NULL, 0, e) < 0)
			goto out;
	}
	if (pge_chown_tree(dir, &u, e) < 0)
		goto out;
	if (src_id != NULL) {
		buf_appends(&conf, "# point in time restore, written by caliberd\n"
				   "restore_command = 'cp ../restore-wal/%f %p'\n"
				   "recovery_target_action = 'promote'\n"
				   "recovery_target_timeline = 'latest'\n");
		if (target_time >= 0) {
			time_t secs = (time_t)target_time;
			long usec = (long)((target_time - (double)secs) * 1e6);
			struct tm tm;
			char when[64];

			gmtime_r(&secs, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			buf_appendf(&conf, "recovery_target_time = '%s.%06ld+00'\n", when, usec);
		}
		path = xasprintf("%s/caliber-recovery.conf", data);
		if (pge_write_file(path, conf.data, conf.len, &u, e) < 0)
			goto out;
		free(path);
		path = xasprintf("%s/recovery.signal", data);
		if (pge_write_file(path, "", 0, &u, e) < 0)
			goto out;
	}
	if (pge_launch(new_id, port, e) < 0 ||
		pge_wait_ready(new_id, port, src_id != NULL, 600, e) < 0)
		goto out;
	if (src_id != NULL && pge_wait_promoted(port, admin_password, e) < 0)
		goto out;
	if (src_id != NULL) {
		free(path);
		path = xasprintf("%s/caliber-recovery.conf", data);
		unlink(path);
		if (pge_rmtree(restore_wal, e) < 0)
			goto out;
	}
	ret = 0;
out:
	buf_release(&conf);
	free(dir);
	free(data);
	free(from);
	free(archive);
	free(restore_wal);
	free(src_archive);
	free(path);
	free(log);
	return ret;
}

int pge_archive_prune(const char *id, const char *snap, struct err *e)
{
	char *label = xasprintf("%s/.snapshots/%s/data/backup_label", pge_root_dir, snap);
	char *archive = xasprintf("%s/%s/wal-archive", pge_root_dir, id);
	char line[256], file[64] = "";
	char *argv[] = { PGE_BIN "/pg_archivecleanup", archive, file, NULL };
	FILE *f = fopen(label, "re");
	struct pge_user u;
	struct stat st;
	int ret = -1;

	if (f == NULL) {
		err_set(e, "unable to open '%s': %s", label, strerror(errno));
		goto out;
	}
	/* START WAL LOCATION: 0/2000028 (file 000000010000000000000002) */
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strstr(line, "(file ");

		if (strncmp(line, "START WAL LOCATION:", 19) == 0 && p != NULL &&
			strlen(p + 6) >= 24 && strspn(p + 6, "0123456789ABCDEF") == 24) {
			memcpy(file, p + 6, 24);
			file[24] = '\0';
			break;
		}
	}
	fclose(f);
	if (!file[0]) {
		err_set(e, "no start WAL file in '%s'", label);
		goto out;
	}
	/*
	 * As the archive's owner: the instance's user, or 'caliber-db' for a
	 * server an earlier caliberd started and this one adopted.
	 */
	if (lstat(archive, &st) < 0) {
		err_set(e, "unable to stat '%s': %s", archive, strerror(errno));
		goto out;
	}
	u.uid = st.st_uid;
	u.gid = st.st_gid;
	ret = pge_exec(argv, NULL, NULL, &u, 0, e);
out:
	free(label);
	free(archive);
	return ret;
}

double pge_last_archived(const char *id)
{
	char *dir = xasprintf("%s/%s/wal-archive", pge_root_dir, id);
	DIR *d = opendir(dir);
	struct dirent *de;
	double newest = 0;

	if (d != NULL) {
		int dfd = dirfd(d);

		while ((de = readdir(d)) != NULL) {
			struct stat st;
			double t;

			/* segments only: 24 hex digits */
			if (strlen(de->d_name) != 24 ||
				strspn(de->d_name, "0123456789ABCDEF") != 24)
				continue;
			if (fstatat(dfd, de->d_name, &st, 0) < 0)
				continue;
			t = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
			if (t > newest)
				newest = t;
		}
		closedir(d);
	}
	free(dir);
	return newest;
}

int pge_free_port(const int *avoid, size_t n_avoid, int *port, struct err *e)
{
	int tries, fd;
	size_t i;

	for (tries = 0; tries < 50; tries++) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);
		int p, clash = 0;

		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return err_set(e, "unable to open a socket: %s", strerror(errno));
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
			getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
			close(fd);
			return err_set(e, "unable to find a free port: %s", strerror(errno));
		}
		close(fd);
		p = ntohs(a.sin_port);
		for (i = 0; i < n_avoid; i++)
			clash |= avoid[i] == p;
		if (!clash) {
			*port = p;
			return 0;
		}
	}
	return err_set(e, "unable to find a free port");
}

/* Whether the servers' user can search (traverse) dir: test(1) run as that user. */
static int pge_user_reaches(const char *dir)
{
	static const char *const env[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
	char *argv[] = { "/usr/bin/test", "-x", (char *)dir, NULL };
	struct spawn_child c = { .path = argv[0], .argv = argv, .env = env, .fd_in = -1,
		.fd_out = -1, .fd_err = -1, .cwd = "/", .drop = 1, .uid = pge_uid, .gid = pge_gid };
	struct err e = ERR_INIT;
	pid_t pid;

	if (geteuid() != 0 || spawn_start(&c, &pid, &e) < 0)
		return 0;
	return spawn_wait(pid, "test", NULL, &e) == 0;
}

static int pge_user_ensure(struct err *e)
{
	struct passwd *pw = getpwnam(PGE_USER);
	char *argv[] = { "useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
		"/nonexistent", "--shell", "/usr/sbin/nologin", "--comment",
		"caliberd database servers", PGE_USER, NULL };
	struct spawn_opts opts = { 0 };
	struct err ue = ERR_INIT;

	if (pw == NULL) {
		opts.stderr_null = 1;
		/* a concurrent caliberd may win the race: look again either way */
		spawn_run(argv, &opts, NULL, &ue);
		pw = getpwnam(PGE_USER);
		if (pw == NULL)
			return err_set(e, "unable to create the system user '%s': %s", PGE_USER,
				ue.msg[0] ? ue.msg : "useradd failed");
	}
	pge_uid = pw->pw_uid;
	pge_gid = pw->pw_gid;
	return 0;
}

/* Remove the system users of the instances under root (about to be removed). */
static void pge_remove_root_users(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			pge_instance_user_remove(root, de->d_name);
	closedir(d);
}

/* Roots under PGE_SHARED_ROOT whose state directory is gone: stop and remove. */
static void pge_collect_stale(void)
{
	DIR *d = opendir(PGE_SHARED_ROOT);
	struct dirent *de;
	struct err e = ERR_INIT;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *root, *home_file, home[4096];
		FILE *f;
		size_t n = 0;

		if (de->d_name[0] == '.')
			continue;
		root = xasprintf("%s/%s", PGE_SHARED_ROOT, de->d_name);
		home_file = xasprintf("%s/.home", root);
		f = fopen(home_file, "re");
		if (f != NULL) {
			n = fread(home, 1, sizeof(home) - 1, f);
			fclose(f);
		}
		home[n] = '\0';
		if (n > 0 && !pge_file_exists(home)) {
			pge_stop_root(root);
			pge_remove_root_users(root);
			pge_rmtree(root, &e);
		}
		free(root);
		free(home_file);
	}
	closedir(d);
}

/*
 * Copy the guard module built next to caliberd's executable into
 * <root>/.lib (root's, 0755 and 0644): the instances' users may not reach
 * the build directory, and must not be able to change what their servers
 * preload.  Missing, pge_guard_path stays NULL and pge_available() says so.
 */
static int pge_guard_install(struct err *e)
{
	char exe[4096], chunk[65536];
	char *slash, *src = NULL, *lib = NULL, *dst = NULL, *tmp = NULL;
	int in = -1, out_fd = -1, ret = -1;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return err_set(e, "unable to find caliberd's own path: %s", strerror(errno));
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash != NULL)
		*slash = '\0';
	src = xasprintf("%s/%s", exe, PGE_GUARD);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		ret = 0;	/* pge_available() explains */
		goto out;
	}
	lib = xasprintf("%s/.lib", pge_root_dir);
	dst = xasprintf("%s/%s", lib, PGE_GUARD);
	tmp = xasprintf("%s.%ld.tmp", dst, (long)getpid());
	/* the server reads the path from a postgresql.conf string */
	if (strpbrk(dst, "'\\\n\r") != NULL) {
		err_set(e, "the RDS root '%s' holds a quote, backslash or newline", pge_root_dir);
		goto out;
	}
	if (pge_mkdir(lib, 0755, 0, 0, e) < 0)
		goto out;
	out_fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (out_fd < 0) {
		err_set(e, "unable to create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	while ((n = read(in, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out_fd, chunk, (size_t)n) != n) {
			err_set(e, "unable to copy '%s' to '%s': %s", src, tmp, strerror(errno));
			goto out;
		}
	}
	/* explicit mode: caliberd's umask is 077 and every server must read it */
	if (fchmod(out_fd, 0644) < 0 || fsync(out_fd) < 0 || rename(tmp, dst) < 0) {
		err_set(e, "unable to install '%s': %s", dst, strerror(errno));
		goto out;
	}
	free(pge_guard_path);
	pge_guard_path = dst;
	dst = NULL;
	ret = 0;
out:
	if (out_fd >= 0) {
		close(out_fd);
		if (ret < 0)
			unlink(tmp);
	}
	if (in >= 0)
		close(in);
	free(src);
	free(lib);
	free(dst);
	free(tmp);
	return ret;
}

int pge_setup(const char *home, struct err *e)
{
	char real[4096], hex[17];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char *link_path = NULL, *home_file = NULL;
	char target[4096];
	ssize_t n;
	int ret = -1;

	free(pge_root_dir);
	pge_root_dir = NULL;
	free(pge_guard_path);
	pge_guard_path = NULL;
	if (realpath(home, real) == NULL)
		return err_set(e, "unable to resolve '%s': %s", home, strerror(errno));
	link_path = xasprintf("%s/rds", real);
	if (geteuid() != 0) {
		pge_drop = 0;
		pge_uid = geteuid();
		pge_gid = getegid();
		pge_root_dir = xstrdup(link_path);
		if (pge_mkdir(pge_root_dir, 0700, pge_uid, pge_gid, e) < 0)
			goto out;
		ret = pge_guard_install(e);
		goto out;
	}
	pge_drop = 1;
	if (pge_user_ensure(e) < 0)
		goto out;
	if (pge_user_reaches(real)) {
		n = readlink(link_path, target, sizeof(target) - 1);
		if (n >= 0)
			unlink(link_path);	/* the home became reachable: use it */
		pge_root_dir = xstrdup(link_path);
	} else {
		pge_collect_stale();
		EVP_Digest(real, strlen(real), md, &mdlen, EVP_sha256(), NULL);
		for (i = 0; i < 8 && i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		/*
		 * Explicit modes (caliberd's umask is 077): the servers' users
		 * traverse these to their own root; PGE_SHARED_ROOT is not
		 * listed, so that no instance learns of other local clouds' roots.
		 */
		if (pge_mkdir("/var/lib/caliber", 0755, 0, 0, e) < 0 ||
			pge_mkdir(PGE_SHARED_ROOT, 0711, 0, 0, e) < 0)
			goto out;
		pge_root_dir = xasprintf("%s/%s", PGE_SHARED_ROOT, hex);
	}
	/* root's, traversed by the instances' users (group caliber-db), listed by none */
	if (pge_mkdir(pge_root_dir, 0710, 0, pge_gid, e) < 0)
		goto out;
	if (strcmp(pge_root_dir, link_path) != 0) {
		home_file = xasprintf("%s/.home", pge_root_dir);
		if (pge_write_file(home_file, real, strlen(real), NULL, e) < 0)
			goto out;
		n = readlink(link_path, target, sizeof(target) - 1);
		if (n >= 0)
			target[n] = '\0';
		if (n < 0 || strcmp(target, pge_root_dir) != 0) {
			unlink(link_path);
			if (symlink(pge_root_dir, link_path) < 0) {
				err_set(e, "unable to link '%s': %s", link_path, strerror(errno));
				goto out;
			}
		}
	}
	ret = pge_guard_install(e);
out:
	free(link_path);
	free(home_file);
	return ret;
}
