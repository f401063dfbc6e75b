/*
 * cmd-local-image.c: 'caliber local push-image DIR --name NAME --tag TAG',
 * the local cloud's equivalent of docker push: DIR becomes an immutable
 * image in $CALIBER_HOME/images, addressed by its content digest, and
 * NAME:TAG points at it (moving if it pointed elsewhere).  An ECS task
 * definition then names it as "image": "NAME:TAG" or "NAME@sha256:...".
 * caliberd need not run: the store is files under the state directory.
 */
#include "compat.h"

#include "cmd-local-image.h"
#include "localcloud/config.h"
#include "localcloud/images.h"

static const char push_usage[] = "usage: caliber local push-image DIR --name NAME [--tag TAG]\n";

int cmd_local_push_image(int argc, char **argv)
{
	struct localcloud_config cfg = LOCALCLOUD_CONFIG_INIT;
	struct err e = ERR_INIT;
	const char *dir = NULL, *name = NULL, *tag = "latest";
	char digest[IMAGES_DIGEST_LEN];
	int i, rc = EXIT_FAILED;

	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "--name") || !strcmp(argv[i], "--tag")) && i + 1 < argc) {
			if (!strcmp(argv[i], "--name"))
				name = argv[++i];
			else
				tag = argv[++i];
		} else if (argv[i][0] != '-' && dir == NULL) {
			dir = argv[i];
		} else {
			fprintf(stderr, "caliber: usage error: unexpected argument '%s'\n%s",
				argv[i], push_usage);
			return EXIT_USAGE;
		}
	}
	if (dir == NULL || name == NULL) {
		fprintf(stderr, "caliber: usage error: %s\n%s",
			dir == NULL ? "missing DIR" : "missing --name", push_usage);
		return EXIT_USAGE;
	}
	if (localcloud_config_load(&cfg, &e) < 0 ||
		images_push(cfg.home, dir, name, tag, digest, &e) < 0) {
		rc = e.usage ? EXIT_USAGE : EXIT_FAILED;
		if (e.usage)
			fprintf(stderr, "caliber: usage error: %s\n%s", e.msg, push_usage);
		else
			err_print(&e);
		goto out;
	}
	printf("%s:%s %s\n", name, tag, digest);
	rc = EXIT_OK;
out:
	localcloud_config_release(&cfg);
	return rc;
}
