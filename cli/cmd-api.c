/*
 * cmd-api.c: 'caliber api SERVICE OPERATION [JSON]', one AWS call by name,
 * as 'gh api' is for GitHub.  The input is the operation's input object
 * (what 'aws ... --cli-input-json' takes), from the argument or, with '-',
 * from standard input so that secret values stay out of argv.  The output
 * is the parsed response as JSON on standard output; an AWS error goes to
 * standard error with its code and request id.  Everything else (models,
 * signing, retries) is lib/aws/.
 */
#include "compat.h"

#include <jansson.h>
#include <openssl/crypto.h>

#include "aws/client.h"
#include "cmd.h"

static int cmd_api_exec(int argc, char **argv);

const struct cmd_entry cmd_api_entry = {
	.name = "api",
	.summary = "call one AWS operation by name (JSON in, JSON out)",
	.usage =
		"usage: caliber api [flags] SERVICE OPERATION [JSON | -]\n"
		"       caliber api [flags] --wait WAITER SERVICE [JSON | -]\n"
		"\n"
		"Call one AWS operation, as 'gh api' does for GitHub.  JSON is an object with\n"
		"the operation's input members, the shape 'aws ... --cli-input-json' takes;\n"
		"'-' reads it from standard input (how a secret value stays out of the\n"
		"command line); none means {}.  The response is printed as JSON.\n"
		"\n"
		"flags:\n"
		"  --profile NAME       credentials and configuration profile\n"
		"  --region REGION      region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)\n"
		"  --endpoint-url URL   send requests there (e.g. http://localhost:4566)\n"
		"  --body-file FILE     streaming input payload (s3 PutObject, UploadPart)\n"
		"  --outfile FILE       streaming output payload (s3 GetObject)\n"
		"  --paginate           follow the operation's pages and merge their results\n"
		"  --wait WAITER        poll until the service's waiter (botocore's waiters-2.json,\n"
		"                       e.g. rds DBInstanceAvailable) succeeds; exit 1 if it fails\n"
		"  --wait-delay SECS    seconds between polls (default: the waiter's)\n"
		"  --wait-timeout SECS  give up after this long (default: the waiter's)\n"
		"  --list               list the services, or a SERVICE's operations\n"
		"  -h, --help           this help\n"
		"\n"
		"Services: secretsmanager, ecs, s3, cloudfront, rds, docdb, elbv2, route53, sts,\n"
		"logs (named as awscli names them).  CALIBER_DEBUG=aws logs each request and\n"
		"response to standard error, secrets redacted.\n"
		"\n"
		"Exit codes: 0 success; 1 the service answered with an error or could not be\n"
		"reached; 2 usage error (unknown service or operation, invalid JSON input).\n",
	.exec = cmd_api_exec,
};

static int read_stdin(struct buf *b, struct err *e)
{
	char chunk[8192];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (buf_append(b, chunk, n) < 0)
			return err_usage(e, "input on standard input is too large");
	if (ferror(stdin))
		return err_set(e, "unable to read standard input: %s", strerror(errno));
	return 0;
}

/* "--flag value" or "--flag=value"; returns the value and advances *i, or NULL. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag, struct err *e,
	int *bad)
{
	size_t n = strlen(flag);

	if (strncmp(argv[*i], flag, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		err_usage(e, "%s needs a value", flag);
		*bad = 1;
		return NULL;
	}
	(*i)++;
	return argv[*i];
}

static int print_list(const char *service)
{
	struct buf list = BUF_INIT;
	struct err e = ERR_INIT;
	const struct aws_model *m;

	if (service == NULL) {
		aws_model_list_services(&list);
	} else {
		m = aws_model_get(service, &e);
		if (m == NULL)
			return cmd_usage_error(&cmd_api_entry, &e);
		aws_model_list_operations(m, &list);
	}
	printf("%s\n", buf_str(&list));
	buf_release(&list);
	return EXIT_OK;
}

/* Parse a JSON object from the argument, '-' (stdin) or nothing. */
static json_t *read_input(const char *arg, struct err *e)
{
	struct buf text = BUF_INIT;
	json_error_t je;
	json_t *input = NULL;

	if (arg && !strcmp(arg, "-")) {
		if (read_stdin(&text, e) < 0)
			goto out;
	} else {
		buf_appends(&text, arg ? arg : "{}");
	}
	input = json_loadb(text.data, text.len, 0, &je);
	if (input == NULL)
		err_usage(e, "input is not valid JSON: %s (line %d, column %d)", je.text, je.line,
			je.column);
	else if (!json_is_object(input)) {
		json_decref(input);
		input = NULL;
		err_usage(e, "input must be a JSON object");
	}
out:
	buf_release_secret(&text);
	return input;
}

static int parse_secs(const char *s, double *out, struct err *e)
{
	char *end;

	if (s == NULL)
		return 0;
	*out = strtod(s, &end);
	if (end == s || *end || *out <= 0)
		return err_usage(e, "'%s' is not a number of seconds", s);
	return 0;
}

static int api_wait(const struct aws_client_options *o, const char *waiter, const char *delay,
	const char *timeout, const char **pos, int npos)
{
	struct aws_waiter_options wo = { 0, 0, NULL, NULL };
	struct aws_client *client = NULL;
	struct err e = ERR_INIT;
	json_t *input = NULL;
	int rc;

	if (npos < 1 || npos > 2) {
		err_usage(&e, "--wait takes SERVICE and an optional JSON input");
		return cmd_usage_error(&cmd_api_entry, &e);
	}
	if (aws_model_get(pos[0], &e) == NULL || parse_secs(delay, &wo.delay_secs, &e) < 0 ||
		parse_secs(timeout, &wo.timeout_secs, &e) < 0 ||
		(input = read_input(npos > 1 ? pos[1] : NULL, &e)) == NULL)
		return e.usage ? cmd_usage_error(&cmd_api_entry, &e) : err_print(&e);
	if (aws_client_new(o, &client, &e) < 0) {
		rc = e.usage ? cmd_usage_error(&cmd_api_entry, &e) : err_print(&e);
		goto out;
	}
	if (aws_waiter_wait(client, pos[0], waiter, input, &wo, &e) < 0) {
		rc = e.usage ? cmd_usage_error(&cmd_api_entry, &e) : err_print(&e);
		goto out;
	}
	rc = EXIT_OK;
out:
	json_decref(input);
	aws_client_free(client);
	return rc;
}

static int cmd_api_exec(int argc, char **argv)
{
	struct aws_client_options o = { 0 };
	struct aws_call_options co = { NULL, NULL, 0, 0 };
	struct aws_client *client = NULL;
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	const char *pos[3] = { NULL, NULL, NULL }, *v;
	json_t *input = NULL, *out = NULL;
	int i, npos = 0, bad = 0, list = 0, paginate = 0, rc = EXIT_FAILED, r;
	const char *wait = NULL, *wait_delay = NULL, *wait_timeout = NULL;
	char *dumped;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return cmd_help(&cmd_api_entry);
		if ((v = flag_value(argc, argv, &i, "--profile", &e, &bad)))
			o.profile = v;
		else if ((v = flag_value(argc, argv, &i, "--region", &e, &bad)))
			o.region = v;
		else if ((v = flag_value(argc, argv, &i, "--endpoint-url", &e, &bad)))
			o.endpoint_url = v;
		else if ((v = flag_value(argc, argv, &i, "--body-file", &e, &bad)))
			co.body_file = v;
		else if ((v = flag_value(argc, argv, &i, "--outfile", &e, &bad)))
			co.out_file = v;
		else if ((v = flag_value(argc, argv, &i, "--wait-delay", &e, &bad)))
			wait_delay = v;
		else if ((v = flag_value(argc, argv, &i, "--wait-timeout", &e, &bad)))
			wait_timeout = v;
		else if ((v = flag_value(argc, argv, &i, "--wait", &e, &bad)))
			wait = v;
		else if (!strcmp(argv[i], "--paginate"))
			paginate = 1;
		else if (!strcmp(argv[i], "--list"))
			list = 1;
		else if (bad)
			return cmd_usage_error(&cmd_api_entry, &e);
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			err_usage(&e, "unknown flag '%s'", argv[i]);
			return cmd_usage_error(&cmd_api_entry, &e);
		} else if (npos < 3) {
			pos[npos++] = argv[i];
		} else {
			err_usage(&e, "unexpected argument '%s'", argv[i]);
			return cmd_usage_error(&cmd_api_entry, &e);
		}
		if (bad)
			return cmd_usage_error(&cmd_api_entry, &e);
	}
	if (list)
		return print_list(pos[0]);
	if (wait)
		return api_wait(&o, wait, wait_delay, wait_timeout, pos, npos);
	if (npos < 2) {
		struct buf names = BUF_INIT;
		const struct aws_model *m = npos ? aws_model_get(pos[0], &e) : NULL;

		if (npos && m == NULL)
			return cmd_usage_error(&cmd_api_entry, &e);
		if (m)
			aws_model_list_operations(m, &names);
		else
			aws_model_list_services(&names);
		err_clear(&e);
		err_usage(&e, npos ? "missing OPERATION" : "missing SERVICE and OPERATION");
		rc = cmd_usage_error(&cmd_api_entry, &e);
		fprintf(stderr, "%s: %s\n", m ? "Operations" : "Services", buf_str(&names));
		buf_release(&names);
		return rc;
	}
	if (aws_model_get(pos[0], &e) == NULL)
		return cmd_usage_error(&cmd_api_entry, &e);
	if (aws_model_operation(aws_model_get(pos[0], &e), pos[1]) == NULL) {
		struct buf ops = BUF_INIT;

		aws_model_list_operations(aws_model_get(pos[0], &e), &ops);
		err_usage(&e, "unknown operation '%s' of '%s'; valid operations: %s", pos[1],
			pos[0], buf_str(&ops));
		buf_release(&ops);
		return cmd_usage_error(&cmd_api_entry, &e);
	}
	input = read_input(pos[2], &e);
	if (input == NULL) {
		rc = e.usage ? cmd_usage_error(&cmd_api_entry, &e) : err_print(&e);
		goto out;
	}
	if (aws_client_new(&o, &client, &e) < 0) {
		rc = e.usage ? cmd_usage_error(&cmd_api_entry, &e) : err_print(&e);
		goto out;
	}
	if (paginate)
		r = aws_paginate_all(client, pos[0], pos[1], input, &out, &ae, &e);
	else
		r = aws_client_call_ex(client, pos[0], pos[1], input, &co, &out, &ae, &e);
	if (r == 1) {
		if (ae.message[0])
			fprintf(stderr, "caliber: error: %s: %s (request id %s)\n", ae.code,
				ae.message, ae.request_id[0] ? ae.request_id : "none");
		else
			fprintf(stderr, "caliber: error: %s (HTTP %ld, request id %s)\n", ae.code,
				ae.status, ae.request_id[0] ? ae.request_id : "none");
		rc = EXIT_FAILED;
		goto out;
	}
	if (r < 0) {
		rc = e.usage ? cmd_usage_error(&cmd_api_entry, &e) : err_print(&e);
		goto out;
	}
	dumped = json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	printf("%s\n", dumped ? dumped : "{}");
	if (dumped) {
		/* outputs carry secret values (GetSecretValue) */
		OPENSSL_cleanse(dumped, strlen(dumped));
		free(dumped);
	}
	rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
out:
	aws_error_release(&ae);
	json_decref(input);
	json_decref(out);
	aws_client_free(client);
	return rc;
}
