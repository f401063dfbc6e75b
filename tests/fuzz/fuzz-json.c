/*
 * fuzz-json.c: arbitrary bytes as the JSON body of a JSON-protocol
 * response (success and error), and as the input object that the three
 * serialisers turn into requests ('caliber api' passes user JSON there),
 * along a model fragment holding every shape kind.  Input starting with
 * 'J' is a JMESPath expression for the waiter evaluator instead.
 */
#include "compat.h"

#include "aws/client.h"
#include "fuzz-model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_serialize(const struct aws_model *m, const json_t *input)
{
	struct aws_request req;
	struct err e = ERR_INIT;

	aws_request_init(&req);
	proto_serialize(m, "Op", input, &req, &e);
	aws_request_release(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct aws_model json, query, restxml;
	static int ready;
	json_t *input;

	if (!ready) {
		if (fuzz_model(&json, "json") < 0 || fuzz_model(&query, "query") < 0 ||
			fuzz_model(&restxml, "rest-xml") < 0)
			abort();
		ready = 1;
	}
	if (size && data[0] == 'J') {
		static const char doc[] = "{\"services\":[{\"deployments\":[{}],\"runningCount\":1,"
					  "\"desiredCount\":1,\"status\":\"ACTIVE\"}],\"n\":[[1,2],[3]]}";
		json_t *d = json_loads(doc, 0, NULL);
		char *expr = xstrndup((const char *)data + 1, size - 1);
		struct err e = ERR_INIT;

		json_decref(aws_jmespath(d, expr, &e));
		free(expr);
		json_decref(d);
		return 0;
	}
	fuzz_parse(&json, 200, data, size, 0);
	fuzz_parse(&json, 400, data, size, 1);
	input = json_loadb((const char *)data, size, 0, NULL);
	if (input) {
		fuzz_serialize(&json, input);
		fuzz_serialize(&query, input);
		fuzz_serialize(&restxml, input);
		json_decref(input);
	}
	return 0;
}
