/* Text that arrives on a SYN or a SYN-ACK (RFC 9293 3.10.7.2 and 3.10.7.3): "any other control
 * or text should be queued for processing later", "after the ESTABLISHED state has been
 * reached".
 *
 * The choice: RFC 9293 allows the text to be kept; Linux without TCP Fast Open throws it away
 * and lets the peer send it again. slowpath keeps it, which saves the peer a retransmission, but
 * acknowledges it only once it is really part of the stream, as RFC 9293 orders: the SYN-ACK to a
 * SYN with text acknowledges the SYN alone (SEG.SEQ + 1), and the ACK that covers the text goes
 * out when the connection is ESTABLISHED and the text has been put in the receive buffer. Without
 * Fast Open's cookie (RFC 7413) nothing proves the SYN's sender owns its address, so nothing of it
 * may reach the application before the handshake completes: a spoofed SYN's text is never read.
 *
 * Where it waits: in the receive buffer, as out-of-order data right at RCV.NXT (an out-of-order
 * range, sp_tcp_ooo_*). Until ESTABLISHED nothing reads it and no ACK reports it; a copy that
 * the peer sends again lands on the same bytes, and text that follows it joins the range. On
 * ESTABLISHED the range is taken in like a filled gap: RCV.NXT moves past it and an ACK goes at
 * once (the peer has had these bytes outstanding for a round trip already, and an immediate ACK
 * for a filled gap is what RFC 5681 4.2 asks). Only what fits the receive buffer is kept; the
 * peer sends the rest again. */
#include "tcp_internal.h"

void sp_tcp_syn_text_queue(struct sp_tcp *c, const struct sp_tcp_repr *seg)
{
    uint32_t n = (uint32_t)seg->payload_len;
    if (n == 0 || !c->rcv.cap)
        return;
    uint32_t room = sp_tcp_rcv_wnd(c);
    if (n > room) {
        sp_drop(sp_tcp_iface(c), SP_STAT_drop_tcp_out_of_window, "SYN text beyond the receive buffer");
        n = room;
    }
    /* RCV.NXT is SEG.SEQ + 1 (sp_tcp_take_syn_options): the text starts there. The buffer takes
     * memory only as data needs it. */
    if (n == 0 || sp_tcp_rcv_reserve(c, n) < 0 || !sp_tcp_ooo_add(&c->ooo, c->rcv_nxt, c->rcv_nxt + n))
        return;
    sp_tcp_ring_write_at(&c->rcv, 0, seg->payload, n);
    c->syn_text = true;
    sp_count(sp_tcp_iface(c), SP_STAT_tcp_syn_text_queued);
}

bool sp_tcp_syn_text_deliver(struct sp_tcp *c)
{
    if (!c->syn_text)
        return false;
    c->syn_text = false;
    /* Already taken in when the segment that completed the handshake filled up to it. */
    uint32_t to = sp_tcp_ooo_advance(&c->ooo, c->rcv_nxt);
    if (to == c->rcv_nxt)
        return false;
    sp_tcp_ring_commit(&c->rcv, to - c->rcv_nxt);
    c->unacked_bytes += to - c->rcv_nxt;
    c->rcv_nxt = to;
    c->ack_now = true;
    return true;
}
