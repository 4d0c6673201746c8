/* file.h: reading whole files (kernels, initrds) with clear errors. */
#ifndef KVMINI_FILE_H
#define KVMINI_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Maps `path` read-only; returns NULL with an error naming `what`. */
uint8_t *file_map(const char *path, const char *what, size_t *len);
void file_unmap(uint8_t *p, size_t len);

#endif
