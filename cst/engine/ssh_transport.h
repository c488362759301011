/* The Engine API through `ssh HOST docker system dial-stdio`, one ssh
 * process per libcurl connection (ssh_transport.c). */
#ifndef CST_ENGINE_SSH_TRANSPORT_H
#define CST_ENGINE_SSH_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "cst/engine/client.h"
#include "cst/error.h"

struct dk_ssh;

/* For ep's ssh_host, ssh_user and ssh_port. */
int dk_ssh_new(const struct dk_endpoint *ep, struct dk_ssh **ret, struct cst_error *err);
/* Makes every new connection of h an ssh of its own; again after each
 * curl_easy_reset(). */
void dk_ssh_setopt(struct dk_ssh *s, CURL *h);
/* What the last ssh that failed said (its last stderr line, else its
 * status), once; false when none failed since the last call. */
bool dk_ssh_take_words(struct dk_ssh *s, char *ret, size_t size);
/* Ends and reaps every ssh still running.  After every handle that used
 * s is cleaned up. */
void dk_ssh_free(struct dk_ssh *s);

#endif
