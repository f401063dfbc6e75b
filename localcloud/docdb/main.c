/*
 * main.c: caliber-docdb's process: options, the listening socket, TLS, and
 * one thread per client connection reading wire messages and answering
 * them.  See docs/localcloud.md, "DocumentDB", for the contract with the
 * supervisor that starts it.
 *
 *   caliber-docdb --listen HOST:PORT [--advertise HOST:PORT]
 *                 (--tls-cert FILE --tls-key FILE | --tls-ca-dir DIR --state-dir DIR
 *                  [--tls-name NAME]... | --tls disabled)
 *                 [--master-user NAME] [--master-password-file FILE]
 *                 [--max-connections N]
 *   environment: CALIBER_DOCDB_PG              libpq conninfo of the cluster's PostgreSQL
 *                CALIBER_DOCDB_MASTER_PASSWORD the master password (or the file above)
 * Both secrets are read once and removed from the environment; neither is
 * ever logged or put in argv.  Exit status: 0 on SIGTERM, 1 on a failure
 * to start, 2 on a usage error.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "buf.h"
#include "core/ca.h"
#include "cmd.h"
#include "store.h"
#include "wire.h"

static struct docdb_server server;

/* PostgreSQL's notices ("already exists, skipping") are not ours to log. */
static void quiet_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static int io_read(struct docdb_conn *c, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r;

		if (c->ssl != NULL) {
			int k = SSL_read(c->ssl, (char *)p + got, (int)(n - got > INT32_MAX ? INT32_MAX : n - got));

			r = k > 0 ? k : -1;
		} else {
			r = read(c->fd, (char *)p + got, n - got);
			if (r < 0 && errno == EINTR)
				continue;
		}
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int io_write(struct docdb_conn *c, const void *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r;

		if (c->ssl != NULL) {
			int k = SSL_write(c->ssl, (const char *)p + done, (int)(n - done > INT32_MAX ? INT32_MAX : n - done));

			r = k > 0 ? k : -1;
		} else {
			r = write(c->fd, (const char *)p + done, n - done);
			if (r < 0 && errno == EINTR)
				continue;
		}
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* Serve one connection until the peer closes it or breaks the protocol. */
static void conn_serve(struct docdb_conn *c)
{
	uint8_t hdr[WIRE_HEADER_LEN];
	struct buf out = BUF_INIT;
	int32_t reply_id = 1;

	buf_init(&out);
	for (;;) {
		struct wire_msg m;
		struct err e = ERR_INIT;
		int32_t len;
		uint8_t *msg;
		bson_t reply;

		if (io_read(c, hdr, sizeof(hdr)) < 0)
			break;
		len = wire_frame_len(hdr, DOCDB_MAX_MESSAGE);
		if (len < 0) {
			docdb_log("connection %lld from %s: message length outside 16..%d bytes; closing", c->id, c->peer,
				DOCDB_MAX_MESSAGE);
			break;
		}
		msg = xmalloc((size_t)len);
		memcpy(msg, hdr, sizeof(hdr));
		if (io_read(c, msg + sizeof(hdr), (size_t)len - sizeof(hdr)) < 0) {
			free(msg);
			break;
		}
		if (wire_parse(msg, (size_t)len, &m, &e) < 0) {
			docdb_log("connection %lld from %s: %s; closing", c->id, c->peer, e.msg);
			free(msg);
			break;
		}
		free(msg);
		cmd_dispatch(c, m.db, m.cmd, &reply);
		buf_reset(&out);
		wire_reply(&out, &m, reply_id++, &reply);
		bson_destroy(&reply);
		if (!(m.opcode == WIRE_OP_MSG && (m.flags & WIRE_FLAG_MORE_TO_COME)) && io_write(c, out.data, out.len) < 0) {
			wire_msg_release(&m);
			break;
		}
		wire_msg_release(&m);
		if (PQstatus(c->pg) != CONNECTION_OK)
			PQreset(c->pg);
	}
	buf_release(&out);
}

static void *conn_thread(void *arg)
{
	struct docdb_conn *c = arg;

	if (c->srv->tls != NULL) {
		/* a peer that never finishes its handshake must not keep a slot */
		struct timeval hs = { 30, 0 }, none = { 0, 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &hs, sizeof(hs));
		c->ssl = SSL_new(c->srv->tls);
		SSL_set_fd(c->ssl, c->fd);
		if (SSL_accept(c->ssl) != 1) {
			docdb_log("connection %lld from %s: TLS handshake failed (TLS is required; connect with tls=true)",
				c->id, c->peer);
			goto out;
		}
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	}
	c->pg = PQconnectdb(c->srv->pg_conninfo);
	PQsetNoticeProcessor(c->pg, quiet_notice, NULL);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		docdb_log("connection %lld: cannot reach PostgreSQL: %s", c->id, PQerrorMessage(c->pg));
		goto out;
	}
	conn_serve(c);
out:
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->pg != NULL)
		PQfinish(c->pg);
	close(c->fd);
	auth_conn_release(c);
	pthread_mutex_lock(&c->srv->lock);
	c->srv->nconns--;
	pthread_mutex_unlock(&c->srv->lock);
	free(c);
	return NULL;
}

static int split_hostport(const char *s, char **host, char **port)
{
	const char *colon = strrchr(s, ':');

	if (colon == NULL || colon == s || colon[1] == 0)
		return -1;
	*host = xstrndup(s, (size_t)(colon - s));
	*port = xstrdup(colon + 1);
	return 0;
}

static int listen_on(const char *addr, struct err *e)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL;
	char *host = NULL, *port = NULL;
	int fd = -1, one = 1, rc;

	if (split_hostport(addr, &host, &port) < 0) {
		err_usage(e, "--listen '%s' is not HOST:PORT", addr);
		goto out;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		err_set(e, "cannot resolve '%s': %s", addr, gai_strerror(rc));
		goto out;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		err_set(e, "cannot listen on '%s': %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	if (res)
		freeaddrinfo(res);
	free(host);
	free(port);
	return fd;
}

static SSL_CTX *tls_context(const char *cert, const char *key, struct err *e)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		char why[256];

		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		err_set(e, "cannot use the TLS certificate '%s' and key '%s': %s", cert, key, why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Take a secret from the environment, leaving none behind. */
static char *take_env(const char *name)
{
	const char *v = getenv(name);
	char *copy;

	if (v == NULL)
		return NULL;
	copy = xstrdup(v);
	OPENSSL_cleanse((void *)v, strlen(v));
	unsetenv(name);
	return copy;
}

static char *read_secret_file(const char *path, struct err *e)
{
	FILE *f = fopen(path, "r");
	char buf[1024];
	size_t n;

	if (f == NULL) {
		err_set(e, "cannot read the master password file '%s': %s", path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = 0;
	{
		char *s = xstrdup(buf);

		OPENSSL_cleanse(buf, sizeof(buf));
		return s;
	}
}

static int usage(const char *msg)
{
	fprintf(stderr, "caliber-docdb: %s\n"
		"usage: caliber-docdb --listen HOST:PORT [--advertise HOST:PORT]\n"
		"         (--tls-cert FILE --tls-key FILE | --tls-ca-dir DIR --state-dir DIR [--tls-name NAME]...\n"
		"          | --tls disabled) [--master-user NAME] [--master-password-file FILE]\n"
		"         [--max-connections N]\n"
		"environment: CALIBER_DOCDB_PG (libpq conninfo), CALIBER_DOCDB_MASTER_PASSWORD\n", msg);
	return EXIT_USAGE;
}

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *listen_addr = NULL, *advertise = NULL, *cert = NULL, *key = NULL, *ca_dir = NULL;
	const char *state_dir = NULL, *master_user = "master", *pwfile = NULL, *tls_mode = "required";
	const char *names[8];
	size_t nnames = 0;
	char *password = NULL, *issued_cert = NULL, *issued_key = NULL;
	struct err e = ERR_INIT;
	PGconn *pg;
	int lfd;

	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			return usage("an option without its value");
		if (strcmp(a, "--listen") == 0) listen_addr = v;
		else if (strcmp(a, "--advertise") == 0) advertise = v;
		else if (strcmp(a, "--tls-cert") == 0) cert = v;
		else if (strcmp(a, "--tls-key") == 0) key = v;
		else if (strcmp(a, "--tls-ca-dir") == 0) ca_dir = v;
		else if (strcmp(a, "--state-dir") == 0) state_dir = v;
		else if (strcmp(a, "--tls-name") == 0 && nnames < ARRAY_SIZE(names)) names[nnames++] = v;
		else if (strcmp(a, "--tls") == 0) tls_mode = v;
		else if (strcmp(a, "--master-user") == 0) master_user = v;
		else if (strcmp(a, "--master-password-file") == 0) pwfile = v;
		else if (strcmp(a, "--max-connections") == 0) server.max_conns = atoi(v);
		else
			return usage("unknown option");
	}
	if (listen_addr == NULL)
		return usage("--listen is required");
	if (strcmp(tls_mode, "required") != 0 && strcmp(tls_mode, "disabled") != 0)
		return usage("--tls takes 'required' (the default) or 'disabled'");
	if (strcmp(tls_mode, "required") == 0 && !(cert && key) && !(ca_dir && state_dir))
		return usage("TLS is required: give --tls-cert and --tls-key, or --tls-ca-dir and --state-dir");
	if (server.max_conns <= 0)
		server.max_conns = 64;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	server.pg_conninfo = take_env("CALIBER_DOCDB_PG");
	password = pwfile ? read_secret_file(pwfile, &e) : take_env("CALIBER_DOCDB_MASTER_PASSWORD");
	if (server.pg_conninfo == NULL) {
		fprintf(stderr, "caliber-docdb: set CALIBER_DOCDB_PG to the libpq conninfo of the cluster's PostgreSQL\n");
		return EXIT_FAILED;
	}
	if (password == NULL || *password == 0) {
		fprintf(stderr, "caliber-docdb: %s\n", e.msg[0] ? e.msg :
			"no master password: set CALIBER_DOCDB_MASTER_PASSWORD or --master-password-file");
		return EXIT_FAILED;
	}
	lfd = listen_on(listen_addr, &e);
	if (lfd < 0) {
		fprintf(stderr, "caliber-docdb: %s\n", e.msg);
		return e.usage ? EXIT_USAGE : EXIT_FAILED;
	}
	server.advertise = xstrdup(advertise ? advertise : listen_addr);
	if (strcmp(tls_mode, "required") == 0) {
		if (cert == NULL) {
			struct ca *ca = NULL;
			char *host = NULL, *port = NULL;

			split_hostport(server.advertise, &host, &port);
			if (nnames == 0) {
				names[nnames++] = host;
				if (strcmp(host, "localhost") != 0)
					names[nnames++] = "localhost";
			}
			mkdir(state_dir, 0700);
			issued_cert = xasprintf("%s/docdb-cert.pem", state_dir);
			issued_key = xasprintf("%s/docdb-key.pem", state_dir);
			if (ca_open(ca_dir, &ca, &e) < 0 || ca_issue(ca, names, nnames, issued_cert, issued_key, &e) < 0) {
				fprintf(stderr, "caliber-docdb: %s\n", e.msg);
				return EXIT_FAILED;
			}
			ca_close(ca);
			free(host);
			free(port);
			cert = issued_cert;
			key = issued_key;
		}
		server.tls = tls_context(cert, key, &e);
		if (server.tls == NULL) {
			fprintf(stderr, "caliber-docdb: %s\n", e.msg);
			return EXIT_FAILED;
		}
	}
	pthread_mutex_init(&server.lock, NULL);
	pg = PQconnectdb(server.pg_conninfo);
	PQsetNoticeProcessor(pg, quiet_notice, NULL);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "caliber-docdb: cannot reach PostgreSQL: %s", PQerrorMessage(pg));
		return EXIT_FAILED;
	}
	if (store_init(pg, &e) < 0 || auth_ensure_master(pg, master_user, password, &e) < 0) {
		fprintf(stderr, "caliber-docdb: %s\n", e.msg);
		return EXIT_FAILED;
	}
	PQfinish(pg);
	OPENSSL_cleanse(password, strlen(password));
	free(password);
	docdb_log("listening on %s (replica set %s, TLS %s), advertised as %s", listen_addr, DOCDB_SET_NAME, tls_mode,
		server.advertise);
	for (;;) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC), one = 1;
		struct docdb_conn *c;
		pthread_t t;
		pthread_attr_t attr;
		char host[NI_MAXHOST], serv[NI_MAXSERV];

		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				docdb_log("accept: %s", strerror(errno));
			continue;
		}
		pthread_mutex_lock(&server.lock);
		if (server.nconns >= server.max_conns) {
			pthread_mutex_unlock(&server.lock);
			docdb_log("refusing a connection: %d connections open, the cap (--max-connections)", server.max_conns);
			close(fd);
			continue;
		}
		server.nconns++;
		c = xcalloc(1, sizeof(*c));
		c->id = ++server.next_conn_id;
		pthread_mutex_unlock(&server.lock);
		c->srv = &server;
		c->fd = fd;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (getnameinfo((struct sockaddr *)&sa, sl, host, sizeof(host), serv, sizeof(serv),
			    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
			snprintf(c->peer, sizeof(c->peer), "%s:%s", host, serv);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, conn_thread, c) != 0) {
			close(fd);
			free(c);
			pthread_mutex_lock(&server.lock);
			server.nconns--;
			pthread_mutex_unlock(&server.lock);
		}
		pthread_attr_destroy(&attr);
	}
}
