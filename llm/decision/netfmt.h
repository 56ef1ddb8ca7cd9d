/* Private text forms of addresses and bytes used in prompts and answers. All parsers are
 * strict: exact syntax, no leading/trailing junk. */
#ifndef SP_LLM_NETFMT_H
#define SP_LLM_NETFMT_H

#include <stddef.h>
#include <stdint.h>

int sp_llm_ip4_parse(const char *s, uint8_t out[4]);    /* dotted quad; 0 or -1 */
int sp_llm_mac_parse(const char *s, uint8_t out[6]);    /* aa:bb:cc:dd:ee:ff; 0 or -1 */
void sp_llm_ip4_fmt(const uint8_t ip[4], char out[16]);
void sp_llm_mac_fmt(const uint8_t mac[6], char out[18]);
/* Decodes hex (even length, [0-9a-fA-F] only) into out; returns bytes or -1. */
long sp_llm_hex_decode(const char *s, uint8_t *out, size_t cap);
/* Encodes n bytes as lower-case hex into out (2n+1 bytes). */
void sp_llm_hex_encode(const uint8_t *in, size_t n, char *out);
/* RFC 1071 Internet checksum over buf, starting from a partial sum. */
uint16_t sp_llm_csum(const uint8_t *buf, size_t n, uint32_t sum);
uint32_t sp_llm_csum_partial(const uint8_t *buf, size_t n, uint32_t sum);

#endif
