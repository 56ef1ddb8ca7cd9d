/* Bytes as hex text, the one form in which wire bytes enter a prompt or leave an answer (the wire
 * layer has no text form for them). Private to llm/. */
#ifndef SP_LLM_HEX_H
#define SP_LLM_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decodes hex (even length, [0-9a-fA-F] only, nothing else) into out; returns the bytes, or -1
 * when the text is not that or does not fit cap. */
long sp_llm_hex_decode(const char *s, uint8_t *out, size_t cap);
/* Encodes n bytes as lower-case hex into out (2n+1 bytes with the NUL). */
void sp_llm_hex_encode(const uint8_t *in, size_t n, char *out);

#endif
