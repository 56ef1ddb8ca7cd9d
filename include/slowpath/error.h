/* Error codes shared by every slowpath module: 0 is success, failures are negative. */
#ifndef SLOWPATH_ERROR_H
#define SLOWPATH_ERROR_H

#define SP_ERRNO_MAP(X)                                               \
    X(TRUNCATED, -1, "buffer too short for the header")              \
    X(MALFORMED, -2, "malformed header")                             \
    X(CHECKSUM, -3, "bad checksum")                                  \
    X(UNSUPPORTED, -4, "unsupported protocol or format")             \
    X(INVAL, -5, "invalid argument")                                 \
    X(NOBUFS, -6, "no buffer space")                                 \
    X(AGAIN, -7, "resource temporarily unavailable")                 \
    X(EOF, -8, "end of input")                                       \
    X(IO, -9, "device i/o error")                                    \
    X(ADDRINUSE, -10, "address already in use")                      \
    X(NOTCONN, -11, "not connected")                                 \
    X(CONNREFUSED, -12, "connection refused")                        \
    X(CONNRESET, -13, "connection reset")                            \
    X(TIMEDOUT, -14, "timed out")                                    \
    X(NOROUTE, -15, "no route to host")                              \
    X(CLOSED, -16, "closed")                                         \
    X(MSGSIZE, -17, "message too long")                              \
    X(BUSY, -18, "busy")                                             \
    X(STATE, -19, "operation not valid in this state")

enum sp_errno {
#define SP_ERRNO_ENUM(name, val, text) SP_E##name = (val),
    SP_ERRNO_MAP(SP_ERRNO_ENUM)
#undef SP_ERRNO_ENUM
};

/* End of a finite input (a replayed capture); reads better than the generated SP_EEOF. */
#define SP_EOF SP_EEOF

/* A short English description of an error code (never NULL). */
const char *sp_strerror(int err);

#endif
