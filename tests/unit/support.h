/* Shared helpers for the cmocka unit tests. */
#ifndef SP_TEST_SUPPORT_H
#define SP_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* Parses a hex string ("00 01 f2", spaces and newlines ignored) into buf; returns the byte count
 * or -1 when the string is not hex or does not fit. */
int sp_test_hex(const char *hex, uint8_t *buf, size_t cap);

/* The path of `rel` in the read-only shared folder (corpus, conformance scripts): $SP_SHARED
 * (the build passes it to every test), or ../shared beside the checkout that holds the tests. */
void sp_test_shared_path(char *out, size_t cap, const char *rel);

#endif
