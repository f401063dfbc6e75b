/*
 * compat.h: included first by every .c file of the project.  It pulls in
 * the system headers nearly every file needs, then banned.h, so that a
 * banned function cannot be reintroduced by a later #include.
 */
#ifndef CALIBER_COMPAT_H
#define CALIBER_COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "banned.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
