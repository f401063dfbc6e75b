/*
 * http.c: the HTTP front of caliberd on libmicrohttpd.
 *
 * One thread per connection (keep-alive connections stay on their thread,
 * a slow upload or handler blocks nobody else), loopback only.  The access
 * callback turns MHD's calls into the router's three steps: headers
 * (router_begin), body pieces (router_body), end (router_finish).  The
 * path and query are kept exactly as sent (no unescaping by MHD), since
 * the signature covers them as sent.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "caliberd.h"
#include "http.h"
#include "reply.h"
#include "router.h"

/* MHD's per-connection memory: the header section must fit in it */
#define HTTP_CONNECTION_MEMORY (64 * 1024)
#define HTTP_MAX_CONNECTIONS 1024
#define HTTP_IDLE_TIMEOUT 120
/*
 * Slow clients (slowloris): MHD's timeout is an idle one, which a byte now
 * and then defeats.  A connection gets HTTP_HEADER_DEADLINE seconds
 * (CALIBER_HTTP_HEADER_TIMEOUT) from its start, or from the end of its last
 * request, to send a whole header section, and a body must arrive at
 * HTTP_BODY_MIN_RATE bytes a second on average once that long has passed;
 * the watchdog shuts down the socket of one that does not.  What runs in a
 * handler or is being sent back has no deadline here.
 */
#define HTTP_HEADER_DEADLINE 20
#define HTTP_BODY_MIN_RATE 1024.0

enum http_phase { HTTP_WAIT_HEADERS, HTTP_BODY, HTTP_HANDLING };

/* One connection as the watchdog sees it; owned by the watch list. */
struct http_watch {
	int fd;	/* a duplicate of the connection's socket: ours to shut down and close */
	enum http_phase phase;
	double since;	/* when the phase began */
	uint64_t bytes; /* body bytes received in HTTP_BODY */
	int cut;	/* shut down by the watchdog */
	struct http_watch *prev, *next;
};

struct lc_http {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock; /* guards the watch list and stopping */
	pthread_cond_t wake;
	struct http_watch *watched;
	double header_deadline;
	int stopping;
	pthread_t watchdog;
	int watchdog_started;
};

struct http_conn {
	struct lc_request req;
	struct lc_response res;
	double started;
	int queued;
};

static size_t http_unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static enum MHD_Result http_collect(void *cls, enum MHD_ValueKind kind, const char *key,
	const char *value)
{
	struct lc_request *req = cls;
	struct lc_param **arr;
	size_t *n;

	if (kind == MHD_HEADER_KIND) {
		arr = &req->headers;
		n = &req->n_headers;
	} else {
		arr = &req->query;
		n = &req->n_query;
	}
	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	if (kind == MHD_HEADER_KIND) {
		(*arr)[*n].name = xstrdup(key);
		(*arr)[*n].value = xstrdup(value ? value : "");
	} else {
		size_t klen, vlen = 0;

		(*arr)[*n].name = lcproto_decode(key, strlen(key), 0, &klen);
		(*arr)[*n].value = value ? lcproto_decode(value, strlen(value), 0, &vlen)
					 : xstrdup("");
		/* "%00": a C string would end there and name something else */
		if (strlen((*arr)[*n].name) != klen || strlen((*arr)[*n].value) != vlen)
			req->encoded_nul = 1;
	}
	(*n)++;
	return MHD_YES;
}

static enum MHD_Result http_collect_raw_query(void *cls, enum MHD_ValueKind kind, const char *key,
	const char *value)
{
	struct buf *q = cls;

	(void)kind;
	if (q->len)
		buf_appendc(q, '&');
	buf_appends(q, key);
	if (value != NULL) {
		buf_appendc(q, '=');
		buf_appends(q, value);
	}
	return MHD_YES;
}

static void http_request_init(struct lc_server *srv, struct http_conn *hc,
	struct MHD_Connection *c, const char *url, const char *method)
{
	struct lc_request *req = &hc->req;
	struct buf q = BUF_INIT;
	const char *cl, *te;
	char *end = NULL;

	memset(req, 0, sizeof(*req));
	req->body_fd = -1;
	req->srv = srv;
	buf_init(&req->body);
	lc_response_init(&hc->res);
	hc->started = lc_now();
	lc_request_id_new(req->request_id);
	snprintf(req->region, sizeof(req->region), "%s", LOCALCLOUD_DEFAULT_REGION);
	req->method = xstrdup(method);
	req->raw_path = xstrdup(url);
	{
		size_t plen;

		req->path = lcproto_decode(url, strlen(url), 0, &plen);
		if (strlen(req->path) != plen)
			req->encoded_nul = 1;
	}
	MHD_get_connection_values(c, MHD_HEADER_KIND, http_collect, req);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, http_collect, req);
	buf_init(&q);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, http_collect_raw_query, &q);
	req->raw_query = buf_detach(&q);
	req->content_length = UINT64_MAX;
	cl = lc_request_header(req, "Content-Length");
	te = lc_request_header(req, "Transfer-Encoding");
	if (cl != NULL && te == NULL) {
		errno = 0;
		req->content_length = strtoull(cl, &end, 10);
		if (errno || end == cl || *end != '\0')
			req->content_length = UINT64_MAX;
	}
}

static enum MHD_Result http_queue(struct MHD_Connection *c, struct http_conn *hc)
{
	struct lc_response *res = &hc->res;
	struct MHD_Response *r;
	enum MHD_Result ok;
	size_t i;

	if (res->fd >= 0) {
		r = MHD_create_response_from_fd_at_offset64(res->fd_len, res->fd, res->fd_offset);
		if (r != NULL)
			res->fd = -1; /* MHD closes it */
	} else {
		/* the body lives in hc until the request completes: wiped there */
		r = MHD_create_response_from_buffer(res->body.len, res->body.data,
			MHD_RESPMEM_PERSISTENT);
	}
	if (r == NULL)
		return MHD_NO;
	for (i = 0; i < res->n_headers; i++)
		MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
	if (res->content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
	ok = MHD_queue_response(c, (unsigned int)(res->status ? res->status : 500), r);
	MHD_destroy_response(r);
	hc->queued = 1;
	return ok;
}

static struct http_watch *http_watch_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* The connection's request moved on: a new phase, or more body bytes. */
static void http_watch_set(struct lc_server *srv, struct MHD_Connection *c, enum http_phase phase,
	size_t bytes)
{
	struct http_watch *w = http_watch_of(c);

	if (w == NULL)
		return;
	pthread_mutex_lock(&srv->http->lock);
	if (w->phase != phase) {
		w->phase = phase;
		w->since = lc_now();
		w->bytes = 0;
	}
	w->bytes += bytes;
	pthread_mutex_unlock(&srv->http->lock);
}

static void http_notify(void *cls, struct MHD_Connection *c, void **socket_context,
	enum MHD_ConnectionNotificationCode code)
{
	struct lc_server *srv = cls;
	struct lc_http *h = srv->http;
	struct http_watch *w = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		int fd = ci != NULL ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;

		if (fd < 0)
			return; /* not watched: MHD's idle timeout still applies */
		w = xcalloc(1, sizeof(*w));
		w->fd = fd;
		w->phase = HTTP_WAIT_HEADERS;
		w->since = lc_now();
		pthread_mutex_lock(&h->lock);
		w->next = h->watched;
		if (h->watched != NULL)
			h->watched->prev = w;
		h->watched = w;
		pthread_mutex_unlock(&h->lock);
		*socket_context = w;
		return;
	}
	if (w == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		h->watched = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&h->lock);
	close(w->fd);
	free(w);
	*socket_context = NULL;
}

/* Shut down the sockets of connections too slow with their request. */
static void *http_watchdog(void *arg)
{
	struct lc_http *h = arg;

	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		struct timespec until;
		struct http_watch *w;
		double now = lc_now();

		for (w = h->watched; w != NULL; w = w->next) {
			double age = now - w->since;
			int slow = 0;

			if (w->cut || w->phase == HTTP_HANDLING)
				continue;
			if (w->phase == HTTP_WAIT_HEADERS)
				slow = age > h->header_deadline;
			else
				slow = age > h->header_deadline &&
				       (double)w->bytes / age < HTTP_BODY_MIN_RATE;
			if (slow) {
				/* logged first: whoever sees the connection cut finds the line */
				lc_log("http: closed a connection whose %s did not arrive in time"
				       " (%.0f s)",
					w->phase == HTTP_WAIT_HEADERS ? "request header"
								      : "request body",
					age);
				shutdown(w->fd, SHUT_RDWR);
				w->cut = 1;
			}
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&h->wake, &h->lock, &until);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *c, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_data_size, void **con_cls)
{
	struct lc_server *srv = cls;
	struct http_conn *hc = *con_cls;

	(void)version;
	if (hc == NULL) {
		hc = xcalloc(1, sizeof(*hc));
		*con_cls = hc;
		http_watch_set(srv, c, HTTP_BODY, 0);
		http_request_init(srv, hc, c, url, method);
		if (router_begin(&hc->req, &hc->res) < 0)
			return http_queue(c, hc);
		return MHD_YES;
	}
	if (hc->queued) {
		/* an early reply went out; what still arrives is discarded */
		http_watch_set(srv, c, HTTP_BODY, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		int r;

		http_watch_set(srv, c, HTTP_BODY, *upload_data_size);
		r = router_body(&hc->req, &hc->res, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return r == -2 ? MHD_NO : MHD_YES;
	}
	http_watch_set(srv, c, HTTP_HANDLING, 0);
	router_finish(&hc->req, &hc->res);
	return http_queue(c, hc);
}

static void http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	struct lc_server *srv = cls;
	struct http_conn *hc = *con_cls;
	const struct lc_request *req;

	/* keep-alive: the next request's header is due from now */
	http_watch_set(srv, c, HTTP_WAIT_HEADERS, 0);
	if (hc == NULL)
		return;
	req = &hc->req;
	lc_log("%s %s %s %s -> %d %s%s(%.1f ms)%s", req->request_id, req->method, req->raw_path,
		req->operation ? req->operation : "-", hc->res.status, hc->res.error_code,
		hc->res.error_code[0] ? " " : "", (lc_now() - hc->started) * 1000.0,
		toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection dropped)");
	lc_request_release(&hc->req);
	lc_response_release(&hc->res);
	free(hc);
	*con_cls = NULL;
}

static void http_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	lc_log("http: %s", line);
}

/* Stop the watchdog and free what http_start() made (the daemon is gone). */
static void http_free(struct lc_server *srv)
{
	struct lc_http *h = srv->http;

	if (h->watchdog_started) {
		pthread_mutex_lock(&h->lock);
		h->stopping = 1;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->watchdog, NULL);
	}
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
	srv->http = NULL;
}

int http_start(struct lc_server *srv, struct err *e)
{
	const char *deadline = getenv("CALIBER_HTTP_HEADER_TIMEOUT");
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)srv->cfg.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv->http = xcalloc(1, sizeof(*srv->http));
	pthread_mutex_init(&srv->http->lock, NULL);
	pthread_cond_init(&srv->http->wake, NULL);
	srv->http->header_deadline = HTTP_HEADER_DEADLINE;
	if (deadline != NULL && *deadline != '\0') {
		char *end = NULL;
		double d = strtod(deadline, &end);

		if (*end != '\0' || !(d >= 1 && d <= 3600))
			lc_log("http: ignoring CALIBER_HTTP_HEADER_TIMEOUT='%s': not a number of"
			       " seconds from 1 to 3600",
				deadline);
		else
			srv->http->header_deadline = d;
	}
	if (pthread_create(&srv->http->watchdog, NULL, http_watchdog, srv->http) != 0) {
		http_free(srv);
		return err_set(e, "unable to start the HTTP watchdog");
	}
	srv->http->watchdog_started = 1;
	srv->http->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
						     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
						     MHD_USE_ERROR_LOG,
		(uint16_t)srv->cfg.port, NULL, NULL, http_access, srv,
		MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL, MHD_OPTION_SOCK_ADDR, &sa,
		MHD_OPTION_UNESCAPE_CALLBACK, http_unescape_none, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
		MHD_OPTION_NOTIFY_CONNECTION, http_notify, srv,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT, MHD_OPTION_END);
	if (srv->http->daemon == NULL) {
		http_free(srv);
		return err_set(e, "unable to listen on 127.0.0.1:%d (is the port in use?)",
			srv->cfg.port);
	}
	return 0;
}

void http_stop(struct lc_server *srv)
{
	if (srv->http == NULL)
		return;
	MHD_stop_daemon(srv->http->daemon);
	http_free(srv);
}
