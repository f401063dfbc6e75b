/*
 * cmd-local-image.h: 'caliber local push-image', dispatched from
 * cmd-local.c (argv[0] is "push-image").  Returns an exit code.
 */
#ifndef CALIBER_CMD_LOCAL_IMAGE_H
#define CALIBER_CMD_LOCAL_IMAGE_H

int cmd_local_push_image(int argc, char **argv);

#endif
