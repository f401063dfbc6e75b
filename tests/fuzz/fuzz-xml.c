/*
 * fuzz-xml.c: arbitrary bytes as the XML body of a Query or REST-XML
 * response (success and error), parsed along a model fragment that holds
 * every shape kind, and along the embedded model of RDS
 * DescribeDBInstances.  Also the timestamp parser, which reads text from
 * those bodies.
 */
#include "compat.h"

#include "fuzz-model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct aws_model query, restxml;
	static int ready;
	const struct aws_model *real;
	char *text;
	double t;

	if (!ready) {
		if (fuzz_model(&query, "query") < 0 || fuzz_model(&restxml, "rest-xml") < 0)
			abort();
		ready = 1;
	}
	fuzz_parse(&query, 200, data, size, 0);
	fuzz_parse(&query, 400, data, size, 0);
	fuzz_parse(&restxml, 200, data, size, 1);
	fuzz_parse(&restxml, 404, data, size, 1);
	if ((real = aws_model_get("rds", NULL)))
		fuzz_parse(real, 200, data, size, 0);
	text = xstrndup((const char *)data, size);
	aws_time_parse(text, &t);
	free(text);
	return 0;
}
