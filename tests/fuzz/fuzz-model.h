/*
 * fuzz-model.h: a model fragment for the protocol fuzz targets that holds
 * every kind of shape the parsers handle (recursive structures, wrapped and
 * flattened lists and maps, attributes, headers, timestamps, blobs,
 * documents, a modelled error), in botocore's layout.  PROTOCOL is spliced
 * in by fuzz_model().
 */
#ifndef CALIBER_FUZZ_MODEL_H
#define CALIBER_FUZZ_MODEL_H

#include "aws/proto.h"

static const char fuzz_model_shapes[] =
	"{\"metadata\":{\"protocol\":\"%s\",\"apiVersion\":\"2020-01-01\",\"jsonVersion\":\"1.1\","
	"\"targetPrefix\":\"Fuzz\"},"
	"\"operations\":{\"Op\":{\"name\":\"Op\",\"http\":{\"method\":\"POST\",\"requestUri\":"
	"\"/{lbl}/{greedy+}?x=1\"},\"input\":{\"shape\":\"S\"},\"output\":{\"shape\":\"S\","
	"\"resultWrapper\":\"OpResult\"},\"errors\":[{\"shape\":\"E\"}],"
	"\"endpoint\":{\"hostPrefix\":\"{s}.\"}}},"
	"\"shapes\":{"
	"\"S\":{\"type\":\"structure\",\"members\":{\"s\":{\"shape\":\"Str\"},"
	"\"i\":{\"shape\":\"Int\"},\"b\":{\"shape\":\"Bool\"},\"d\":{\"shape\":\"Dbl\"},"
	"\"t\":{\"shape\":\"Ts\"},\"bl\":{\"shape\":\"Blob\"},\"l\":{\"shape\":\"L\"},"
	"\"fl\":{\"shape\":\"L\",\"flattened\":true,\"locationName\":\"F\"},"
	"\"m\":{\"shape\":\"M\"},\"fm\":{\"shape\":\"M\",\"flattened\":true},"
	"\"n\":{\"shape\":\"S\"},\"a\":{\"shape\":\"Str\",\"xmlAttribute\":true,"
	"\"locationName\":\"attr\"},\"h\":{\"shape\":\"Ts\",\"location\":\"header\","
	"\"locationName\":\"x-h\"},\"hl\":{\"shape\":\"SL\",\"location\":\"header\","
	"\"locationName\":\"x-l\"},\"hs\":{\"shape\":\"SM\",\"location\":\"headers\","
	"\"locationName\":\"x-m-\"},\"q\":{\"shape\":\"SL\",\"location\":\"querystring\","
	"\"locationName\":\"q\"},\"lbl\":{\"shape\":\"Int\",\"location\":\"uri\","
	"\"locationName\":\"lbl\"},\"greedy\":{\"shape\":\"Str\",\"location\":\"uri\","
	"\"locationName\":\"greedy\"},\"st\":{\"shape\":\"Int\",\"location\":\"statusCode\"},"
	"\"doc\":{\"shape\":\"Doc\"},\"tok\":{\"shape\":\"Str\",\"idempotencyToken\":true}},"
	"\"xmlNamespace\":{\"uri\":\"https://example.com/ns\"}},"
	"\"E\":{\"type\":\"structure\",\"members\":{\"Message\":{\"shape\":\"Str\"},"
	"\"n\":{\"shape\":\"S\"}},\"error\":{\"code\":\"E\"}},"
	"\"Str\":{\"type\":\"string\"},\"Int\":{\"type\":\"integer\"},"
	"\"Bool\":{\"type\":\"boolean\"},\"Dbl\":{\"type\":\"double\"},"
	"\"Ts\":{\"type\":\"timestamp\"},\"Blob\":{\"type\":\"blob\"},"
	"\"L\":{\"type\":\"list\",\"member\":{\"shape\":\"S\",\"locationName\":\"item\"}},"
	"\"SL\":{\"type\":\"list\",\"member\":{\"shape\":\"Str\"}},"
	"\"SM\":{\"type\":\"map\",\"key\":{\"shape\":\"Str\"},\"value\":{\"shape\":\"Str\"}},"
	"\"M\":{\"type\":\"map\",\"key\":{\"shape\":\"Str\",\"locationName\":\"k\"},"
	"\"value\":{\"shape\":\"L\"}},"
	"\"Doc\":{\"type\":\"structure\",\"members\":{},\"document\":true}}}";

/* The fragment as a model of protocol ("json", "query", "rest-xml"); 0 or -1. */
static int fuzz_model(struct aws_model *m, const char *protocol)
{
	char *text = xasprintf(fuzz_model_shapes, protocol);
	json_t *root = json_loads(text, 0, NULL);
	struct err e = ERR_INIT;
	int r = root ? aws_model_from_json(m, root, &e) : -1;

	json_decref(root);
	free(text);
	return r;
}

/* Parse data as a response of Op with the given status. */
static void fuzz_parse(const struct aws_model *m, long status, const uint8_t *data, size_t size,
	int with_headers)
{
	struct aws_response resp;
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *out = NULL;

	aws_response_init(&resp);
	resp.status = status;
	if (with_headers) {
		aws_kv_add(&resp.headers, "x-h", "Tue, 29 Apr 2014 18:30:38 GMT");
		aws_kv_add(&resp.headers, "x-l", "a, b,,c ");
		aws_kv_add(&resp.headers, "X-M-One", "1");
		aws_kv_add(&resp.headers, "x-amzn-ErrorType", "E:http://x");
	}
	buf_append(&resp.body, data, size);
	proto_parse(m, "Op", &resp, &out, &ae, &e);
	json_decref(out);
	aws_error_release(&ae);
	aws_response_release(&resp);
}

#endif
