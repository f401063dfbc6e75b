/*
 * fetch.c: a single capped HTTP exchange over libcurl (see fetch.h).
 */
#include "compat.h"

#include <curl/curl.h>

#include "aws/fetch.h"

static size_t fetch_write(char *data, size_t size, size_t nmemb, void *user)
{
	struct buf *b = user;

	if (buf_append(b, data, size * nmemb) < 0)
		return 0; /* over the cap: curl reports a write error */
	return size * nmemb;
}

int aws_fetch(const struct aws_fetch_request *req, long *status, struct buf *response,
	struct err *e)
{
	CURL *curl = NULL;
	struct curl_slist *headers = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	size_t i;
	int ret = -1;

	*status = 0;
	buf_set_cap(response, AWS_FETCH_MAX_RESPONSE);
	curl = curl_easy_init();
	if (curl == NULL)
		return err_set(e, "unable to initialise libcurl");
	for (i = 0; req->headers && req->headers[i]; i++)
		headers = curl_slist_append(headers, req->headers[i]);
	/* curl would add "Expect: 100-continue" to POSTs: one round trip less */
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	if (req->ca_bundle)
		curl_easy_setopt(curl, CURLOPT_CAINFO, req->ca_bundle);
	if (req->no_proxy)
		curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		if (rc == CURLE_WRITE_ERROR)
			err_set(e, "response from '%s' is larger than %d bytes", req->url,
				AWS_FETCH_MAX_RESPONSE);
		else
			err_set(e, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	ret = 0;
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return ret;
}
