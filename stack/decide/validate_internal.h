/* Private to the validators (validate*.c): helpers they share. */
#ifndef SP_VALIDATE_INTERNAL_H
#define SP_VALIDATE_INTERNAL_H

#include "iface_internal.h"

/* Parses a raw proposal as one IPv4 datagram carrying `proto` from us to the requester, reading
 * the decider's bytes where they are (views never write). On VALID fills *ip and points *l4 /
 * *l4_len at the payload inside the proposal. Checks: length and version (malformed), header
 * checksum (checksum), addresses (address), IHL 5, protocol, TTL 1..255, no MF / fragment offset
 * (header). */
enum sp_verdict sp_validate_raw_ipv4(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                     uint8_t proto, struct sp_ipv4_repr *ip, const uint8_t **l4, size_t *l4_len);

/* Where a valid legal answer departs from native, per kind (sp_decision_deviations). */
uint32_t sp_deviations_icmp(const struct sp_decision_request *req, const struct sp_decision_built *built,
                            uint16_t next_ident, struct sp_decision_chosen *chosen);
uint32_t sp_deviations_arp(const struct sp_decision_request *req, const struct sp_decision_built *built,
                           struct sp_decision_chosen *chosen);
uint32_t sp_deviations_tcp(const struct sp_decision_request *req, const struct sp_decision_built *built,
                           struct sp_decision_chosen *chosen);

/* One bit of a deviation set. */
#define SP_DEV(name) (1u << SP_DEVIATION_##name)

#endif
