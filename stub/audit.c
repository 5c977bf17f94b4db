/* SPDX-License-Identifier: MIT */
/*
 * stub/audit.c - audit events to syslog and an optional JSON-lines file.
 *
 * (Placeholder: the interface of stub/audit.h with no sink yet.)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "audit.h"

struct audit {
	int fd;
};

int audit__new(struct audit **out, const char *file, char *err, size_t errlen)
{
	struct audit *a = calloc(1, sizeof(*a));

	(void)file;
	(void)err;
	(void)errlen;
	*out = a;
	if (!a)
		return -ENOMEM;
	a->fd = -1;
	return 0;
}

void audit__free(struct audit *a)
{
	free(a);
}

void audit__log(struct audit *a, const char *event, ...)
{
	(void)a;
	(void)event;
}
