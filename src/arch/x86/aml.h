/* aml.h: a tiny ACPI Machine Language encoder for kvmini's DSDT. */
#ifndef KVMINI_AML_H
#define KVMINI_AML_H

#include <stddef.h>
#include <stdint.h>

#define AML_MAX 2048

struct aml {
	uint8_t buf[AML_MAX];
	size_t len;
	int overflow;
};

void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* Name(NAME, <value encoded by the caller into `value`>) */
void aml_name(struct aml *a, const char *seg, const struct aml *value);
/* Device(NAME) { body }, Scope(PATH) { body }, Package(n) { elements } */
void aml_device(struct aml *a, const char *seg, const struct aml *body);
void aml_scope(struct aml *a, const char *path, const struct aml *body);
void aml_package(struct aml *a, uint8_t count, const struct aml *elements);
/* Buffer holding a resource template (End tag appended). */
void aml_resource_template(struct aml *a, const struct aml *descriptors);
void aml_io_port(struct aml *a, uint16_t port, uint8_t len);
void aml_irq(struct aml *a, uint8_t irq);
/* Address-space descriptors for a host bridge's windows (ACPI 6.4, 6.4.3.5). */
void aml_word_bus_range(struct aml *a, uint16_t min, uint16_t max);
void aml_word_io_range(struct aml *a, uint16_t min, uint16_t max);
void aml_dword_memory_range(struct aml *a, uint32_t min, uint32_t max);
/* EisaId("PNP0501") as the DWord AML wants. */
uint32_t aml_eisa_id(const char *id);

#endif
