/*
 * credserver.c: serve refreshing credentials to a child on loopback (see
 * credserver.h).
 *
 * One thread, one connection at a time: the only client is the child's SDK,
 * which asks once per credentials' life.  A request is read up to 8 KiB
 * within 5 seconds, or dropped.
 */
#include "compat.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aws/credentials.h"
#include "aws/credserver.h"
#include "buf.h"
#include "hex.h"

#define CREDSERVER_REQUEST_MAX 8192
#define CREDSERVER_READ_TIMEOUT 5
/* refresh before this much is left (or half the life, when shorter) */
#define CREDSERVER_REFRESH_BEFORE 300
/* hand out an Expiration this much before the real one (or a quarter of the life) */
#define CREDSERVER_MARGIN 60

struct credserver {
	char *profile;
	int fd;		/* listening socket */
	int stop[2];	/* a byte on stop[1] ends the thread */
	pthread_t thread;
	char url[64];
	char token[65];
	char source[64];
	pthread_mutex_t lock;	/* guards creds and got */
	struct aws_credentials creds;
	time_t got;	/* when creds were resolved */
};

static long credserver_life(const struct credserver *s)
{
	return s->creds.expiration > s->got ? (long)(s->creds.expiration - s->got) : 0;
}

/* Under s->lock: credentials with enough life left, resolved again when not. */
static int credserver_fresh(struct credserver *s, struct err *e)
{
	time_t now = time(NULL);
	long before = CREDSERVER_REFRESH_BEFORE;

	if (s->creds.access_key_id != NULL && s->creds.expiration == 0)
		return 0;	/* long-term keys */
	if (credserver_life(s) / 2 < before)
		before = credserver_life(s) / 2;
	if (s->creds.access_key_id != NULL && s->creds.expiration - now > before)
		return 0;
	aws_credentials_release(&s->creds);
	if (aws_credentials_resolve(s->profile, &s->creds, e) < 0)
		return -1;
	s->got = now;
	return 0;
}

static void credserver_send(int fd, int status, const char *reason, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
		"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		"Cache-Control: no-store\r\nConnection: close\r\n\r\n",
		status, reason, strlen(body));

	if (n > 0 && (size_t)n < sizeof(head)) {
		(void)!send(fd, head, (size_t)n, MSG_NOSIGNAL);
		(void)!send(fd, body, strlen(body), MSG_NOSIGNAL);
	}
}

/* The value of header name in the request head (NUL-terminated), or NULL; owned. */
static char *credserver_header(const char *head, const char *name)
{
	const char *p = strstr(head, "\r\n");
	size_t n = strlen(name);

	while (p != NULL && p[2] != '\r' && p[2] != '\0') {
		const char *line = p + 2, *end = strstr(line, "\r\n");

		if (end == NULL)
			break;
		if (!strncasecmp(line, name, n) && line[n] == ':') {
			const char *v = line + n + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			return xstrndup(v, (size_t)(end - v));
		}
		p = end;
	}
	return NULL;
}

static void credserver_answer(struct credserver *s, int fd)
{
	char req[CREDSERVER_REQUEST_MAX + 1], exp[32];
	struct timeval tv = { CREDSERVER_READ_TIMEOUT, 0 };
	struct err e = ERR_INIT;
	size_t len = 0;
	char *auth = NULL, *body = NULL;
	json_t *doc = NULL;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < CREDSERVER_REQUEST_MAX) {
		n = recv(fd, req + len, CREDSERVER_REQUEST_MAX - len, 0);
		if (n <= 0)
			goto out;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	if (strstr(req, "\r\n\r\n") == NULL)
		goto out;
	if (strncmp(req, "GET /credentials ", 17) != 0) {
		credserver_send(fd, 404, "Not Found", "{\"code\":\"NotFound\"}");
		goto out;
	}
	auth = credserver_header(req, "Authorization");
	if (auth == NULL || strlen(auth) != strlen(s->token) ||
		CRYPTO_memcmp(auth, s->token, strlen(s->token)) != 0) {
		credserver_send(fd, 403, "Forbidden",
			"{\"code\":\"AccessDenied\",\"message\":\"no or wrong authorization token\"}");
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	if (credserver_fresh(s, &e) < 0) {
		pthread_mutex_unlock(&s->lock);
		doc = json_pack("{s:s, s:s}", "code", "CredentialsUnavailable", "message", e.msg);
		body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
		credserver_send(fd, 500, "Internal Server Error", body ? body : "{}");
		goto out;
	}
	doc = json_pack("{s:s, s:s}", "AccessKeyId", s->creds.access_key_id, "SecretAccessKey",
		s->creds.secret_access_key);
	if (doc != NULL && s->creds.session_token != NULL)
		json_object_set_new(doc, "Token", json_string(s->creds.session_token));
	if (doc != NULL && s->creds.expiration != 0) {
		long margin = credserver_life(s) / 4;
		time_t shown;
		struct tm tm;

		if (margin > CREDSERVER_MARGIN)
			margin = CREDSERVER_MARGIN;
		shown = s->creds.expiration - margin;
		gmtime_r(&shown, &tm);
		strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_set_new(doc, "Expiration", json_string(exp));
	}
	pthread_mutex_unlock(&s->lock);
	body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (body != NULL)
		credserver_send(fd, 200, "OK", body);
out:
	if (body != NULL) {
		OPENSSL_cleanse(body, strlen(body));
		free(body);
	}
	json_decref(doc);
	free(auth);
	OPENSSL_cleanse(req, sizeof(req));
	close(fd);
}

static void *credserver_loop(void *arg)
{
	struct credserver *s = arg;
	struct pollfd p[2] = { { s->fd, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };

	for (;;) {
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			credserver_answer(s, fd);
	}
	return NULL;
}

int credserver_start(const char *profile, struct credserver **out, struct err *e)
{
	struct credserver *s = xcalloc(1, sizeof(*s));
	struct sockaddr_in sa = { 0 };
	socklen_t salen = sizeof(sa);
	unsigned char raw[32];

	*out = NULL;
	s->fd = -1;
	s->stop[0] = s->stop[1] = -1;
	s->profile = profile ? xstrdup(profile) : NULL;
	pthread_mutex_init(&s->lock, NULL);
	if (aws_credentials_resolve(profile, &s->creds, e) < 0)
		goto fail;
	s->got = time(NULL);
	snprintf(s->source, sizeof(s->source), "%s", s->creds.source);
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		err_set(e, "unable to make a token for the credentials endpoint");
		goto fail;
	}
	hex_encode(raw, sizeof(raw), s->token);
	OPENSSL_cleanse(raw, sizeof(raw));
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		listen(s->fd, 16) < 0 || getsockname(s->fd, (struct sockaddr *)&sa, &salen) < 0) {
		err_set(e, "unable to listen on 127.0.0.1 for the credentials endpoint: %s",
			strerror(errno));
		goto fail;
	}
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d/credentials", ntohs(sa.sin_port));
	if (pipe2(s->stop, O_CLOEXEC) < 0) {
		err_set(e, "unable to create a pipe: %s", strerror(errno));
		goto fail;
	}
	if (pthread_create(&s->thread, NULL, credserver_loop, s) != 0) {
		err_set(e, "unable to start the credentials endpoint");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->stop[0] >= 0) {
		close(s->stop[0]);
		close(s->stop[1]);
	}
	s->stop[0] = -1;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->thread = 0;
	credserver_stop(s);
	return -1;
}

const char *credserver_url(const struct credserver *s)
{
	return s->url;
}

const char *credserver_token(const struct credserver *s)
{
	return s->token;
}

const char *credserver_source(const struct credserver *s)
{
	return s->source;
}

void credserver_stop(struct credserver *s)
{
	if (s == NULL)
		return;
	if (s->stop[0] >= 0) {
		(void)!write(s->stop[1], "x", 1);
		pthread_join(s->thread, NULL);
		close(s->stop[0]);
		close(s->stop[1]);
	}
	if (s->fd >= 0)
		close(s->fd);
	aws_credentials_release(&s->creds);
	pthread_mutex_destroy(&s->lock);
	OPENSSL_cleanse(s->token, sizeof(s->token));
	free(s->profile);
	free(s);
}
