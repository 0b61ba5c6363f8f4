// SPDX-License-Identifier: MIT
/* push - the final metrics to a Prometheus Pushgateway with libcurl (push.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include "push.h"

#ifndef BMT_VERSION
#define BMT_VERSION "0.0.0"
#endif

#define ANSWER_KEEP 200 /* bytes of the gateway's answer kept for an error message */

struct answer {
	char text[ANSWER_KEEP + 1];
	size_t len;
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static size_t keep_answer(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct answer *a = ctx;
	size_t n = size * nmemb, room = ANSWER_KEEP - a->len;

	memcpy(a->text + a->len, data, n < room ? n : room);
	a->len += n < room ? n : room;
	a->text[a->len] = '\0';
	return n;
}

/* The first line of the answer, printable ASCII only (it goes to a terminal). */
static const char *first_line(struct answer *a)
{
	char *p;

	for (p = a->text; *p && *p != '\n' && *p != '\r'; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
	*p = '\0';
	return a->text;
}

static int safe_char(char c)
{
	return isalnum((unsigned char)c) || strchr("._~-", c);
}

/* "NAME/VALUE", or "NAME@base64/..." (base64url, padded) for any other value, "" too. */
static char *group_path(const char *name, const char *value)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *s = (const unsigned char *)value;
	size_t n = strlen(value), i;
	char *out, *o;
	const char *p;

	for (p = value; *p && safe_char(*p); p++)
		;
	if (!*p && n) {
		if (asprintf(&out, "%s/%s", name, value) < 0)
			return NULL;
		return out;
	}
	out = malloc(strlen(name) + sizeof("@base64/=") + (n + 2) / 3 * 4);
	if (!out)
		return NULL;
	o = out + sprintf(out, "%s@base64/", name);
	for (i = 0; i + 2 < n; i += 3, o += 4) {
		o[0] = b64[s[i] >> 2];
		o[1] = b64[(s[i] & 3) << 4 | s[i + 1] >> 4];
		o[2] = b64[(s[i + 1] & 15) << 2 | s[i + 2] >> 6];
		o[3] = b64[s[i + 2] & 63];
	}
	if (i < n) {
		o[0] = b64[s[i] >> 2];
		o[1] = b64[(s[i] & 3) << 4 | (i + 1 < n ? s[i + 1] >> 4 : 0)];
		o[2] = i + 1 < n ? b64[(s[i + 1] & 15) << 2] : '=';
		o[3] = '=';
		o += 4;
	} else if (!n) {
		*o++ = '='; /* the Pushgateway's spelling of an empty value */
	}
	*o = '\0';
	return out;
}

/* URL/metrics/job/JOB/instance/INSTANCE with the base's trailing slashes dropped. */
static char *push_url(const char *url, const struct push_group *g)
{
	char *job = group_path("job", g->job), *inst = group_path("instance", g->instance);
	char *out = NULL;
	size_t n = strlen(url);

	while (n && url[n - 1] == '/')
		n--;
	if (job && inst && asprintf(&out, "%.*s/metrics/%s/%s", (int)n, url, job, inst) < 0)
		out = NULL;
	free(job);
	free(inst);
	return out;
}

static int post(const char *url, const char *body, size_t len, unsigned int timeout_s,
		char *err, size_t errlen)
{
	char curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL, *h;
	struct answer answer = { .len = 0 };
	CURL *curl = curl_easy_init();
	long status = 0;
	CURLcode rc;

	h = curl_slist_append(NULL, "Content-Type: text/plain; version=0.0.4");
	headers = h ? curl_slist_append(h, "Expect:") : NULL; /* no 100-continue round trip */
	if (!curl || !headers) {
		fail(err, errlen, "pushgateway: cannot set up libcurl");
		curl_slist_free_all(headers ? headers : h);
		curl_easy_cleanup(curl);
		return -1;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "bmtrace/" BMT_VERSION);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)PUSH_CONNECT_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)(timeout_s ? timeout_s : PUSH_TIMEOUT_S));
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_answer);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		fail(err, errlen, "pushgateway: %s", *curl_err ? curl_err : curl_easy_strerror(rc));
		return -1;
	}
	if (status < 200 || status > 299) {
		fail(err, errlen, "pushgateway answered HTTP %ld: %s", status, first_line(&answer));
		return -1;
	}
	return 0;
}

int push_add(const char *url, const struct push_group *group, const struct prom_snapshot *s,
	     bool succeeded, unsigned int timeout_s, char *err, size_t errlen)
{
	struct prom_snapshot copy = *s;
	struct timespec ts;
	char *full, *body;
	size_t len;
	int rc;

	if (!url || (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))) {
		fail(err, errlen, "pushgateway: the URL must start with http:// or https://");
		return -1;
	}
	if (!group->job || !*group->job || !group->instance) {
		fail(err, errlen, "pushgateway: the job name must not be empty");
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	copy.last_success_time = succeeded ? ts.tv_sec + ts.tv_nsec / 1e9 : 0;
	body = prom_render_alloc(&copy, 1, &len);
	if (!body) {
		fail(err, errlen, "pushgateway: cannot render the metrics: %s", strerror(errno));
		return -1;
	}
	full = push_url(url, group);
	if (!full) {
		fail(err, errlen, "pushgateway: out of memory");
		free(body);
		return -1;
	}
	rc = post(full, body, len, timeout_s, err, errlen);
	free(body);
	free(full);
	return rc;
}
