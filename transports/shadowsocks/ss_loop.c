/*
 * ss_loop.c - the Shadowsocks data path of one connection (portable, over
 * the SDK's system layer, watm_sys.h, and ss_dial of ss.h).
 *
 * Two pumps, one per direction:
 *
 *   enc: plaintext src -> [salt] chunks -> dst
 *        One scatter read (readv) puts the plaintext straight into up to
 *        ENC_SLOTS chunk slots, each at the payload position of a
 *        SS_FRAME_MAX-byte frame; every slot is sealed in place (length
 *        block, then payload), and because every slot but the last is full
 *        the frames are contiguous: one write sends them all. No copy.
 *
 *   dec: chunks -> plaintext dst
 *        Reads ciphertext into a buffer, opens every complete chunk in
 *        place, and writes the payloads with one gather write (writev) of
 *        up to SEG_MAX pieces. The only copy is moving an incomplete chunk
 *        (less than one frame) to the front of the buffer before the next
 *        read.
 *
 * Invariants: a pump reads only when it has no pending output, so nothing
 * is ever overwritten or dropped, and a slow destination stops its source
 * (backpressure through the kernel's buffers). On EOF of its source a pump
 * flushes, then shuts down the write side of its destination.
 *
 * The server starts with only the client's side: dec runs with no
 * destination until the first payload(s) give the SOCKS5 target address
 * (bounded by cfg->header_timeout_ms), which is then dialed through
 * ss_dial; the rest of that payload is the first data for the target.
 */
#include "ss.h"

#include <stdlib.h>
#include <string.h>

#define ENC_SLOTS 4
#define DEC_CAP (ENC_SLOTS * SS_FRAME_MAX)
#define SEG_MAX 64

/* ---- enc: plaintext -> Shadowsocks --------------------------------------- */

struct enc {
    const char *name;
    const struct ss_config *cfg;
    int src, dst;
    struct ss_cipher c;
    uint8_t *buf;          /* SS_KEY_MAX (salt room) + ENC_SLOTS frames */
    size_t off, end;       /* pending output buf[off..end) */
    const uint8_t *prefix; /* client: the target address, first payload */
    size_t prefix_len;
    bool started;          /* salt made, subkey derived */
    bool eof, closed;
};

static int enc_init(struct enc *e, const char *name, const struct ss_config *cfg,
                    int src, int dst)
{
    memset(e, 0, sizeof *e);
    e->name = name;
    e->cfg = cfg;
    e->src = src;
    e->dst = dst;
    e->buf = malloc(SS_KEY_MAX + ENC_SLOTS * SS_FRAME_MAX);
    return e->buf ? 0 : -WATM_ENOMEM;
}

static uint8_t *enc_slot(struct enc *e, size_t k)
{
    return e->buf + SS_KEY_MAX + k * SS_FRAME_MAX;
}

/* Makes the salt (placed right before slot 0) and the subkey; returns where
 * this round's output starts. */
static int enc_start(struct enc *e, size_t *start)
{
    *start = SS_KEY_MAX;
    if (e->started)
        return 0;
    uint8_t *salt = e->buf + SS_KEY_MAX - e->cfg->key_len;
    int r = ss_crypto_random(salt, e->cfg->key_len);
    if (r >= 0)
        r = ss_cipher_init(&e->c, e->cfg, salt);
    if (r < 0) {
        ss_log("cannot make a salt and subkey (host crypto failed)", NULL);
        return r;
    }
    e->started = true;
    *start = SS_KEY_MAX - e->cfg->key_len;
    return 0;
}

/* Seals `total` payload bytes already placed in the slots (slot 0 holds
 * the prefix first) and queues the frames for writing. */
static int enc_seal(struct enc *e, size_t total)
{
    size_t start;
    int r = enc_start(e, &start);
    if (r < 0)
        return r;
    size_t k = 0, out_end = start;
    while (total > 0) {
        size_t n = total < SS_PAYLOAD_MAX ? total : SS_PAYLOAD_MAX;
        r = ss_seal_chunk(&e->c, enc_slot(e, k), n);
        if (r < 0) {
            ss_log("sealing a chunk failed (host crypto)", NULL);
            return r;
        }
        out_end = (size_t)(enc_slot(e, k) - e->buf) + (size_t)r;
        total -= n;
        k++;
    }
    e->off = start;
    e->end = out_end;
    e->prefix_len = 0;
    return 0;
}

static int enc_flush(struct enc *e)
{
    while (e->off < e->end) {
        ssize_t w = watm_sys_write(e->dst, e->buf + e->off, e->end - e->off);
        if (w == -WATM_EAGAIN)
            return 0;
        if (w <= 0)
            return w == 0 ? -WATM_EIO : (int)w;
        e->off += (size_t)w;
    }
    e->off = e->end = 0;
    return 0;
}

/* Sends the prefix alone when no data is waiting (client start). */
static int enc_send_prefix(struct enc *e)
{
    if (e->prefix_len == 0)
        return 0;
    memcpy(enc_slot(e, 0) + SS_LEN_FRAME, e->prefix, e->prefix_len);
    int r = enc_seal(e, e->prefix_len);
    return r < 0 ? r : enc_flush(e);
}

/* One scatter read into the slots, seal, write. Only with no pending
 * output. */
static int enc_read(struct enc *e, bool prefix_now)
{
    struct watm_iov iov[ENC_SLOTS];
    size_t pre = e->prefix_len;
    for (size_t k = 0; k < ENC_SLOTS; k++) {
        iov[k].base = enc_slot(e, k) + SS_LEN_FRAME;
        iov[k].len = SS_PAYLOAD_MAX;
    }
    if (pre > 0) {
        memcpy(iov[0].base, e->prefix, pre);
        iov[0].base += pre;
        iov[0].len -= pre;
    }
    ssize_t n = watm_sys_readv(e->src, iov, ENC_SLOTS);
    if (n == -WATM_EAGAIN)
        return prefix_now ? enc_send_prefix(e) : 0;
    if (n < 0) {
        ss_log("read failed on the way ", e->name);
        return (int)n;
    }
    if (n == 0) {
        e->eof = true;
        return enc_send_prefix(e); /* the server still learns the target */
    }
    int r = enc_seal(e, pre + (size_t)n);
    return r < 0 ? r : enc_flush(e);
}

/* Flushes; after EOF, once flushed, half-closes dst. */
static int enc_pump(struct enc *e)
{
    if (e->closed)
        return 0;
    int r = enc_flush(e);
    if (r < 0)
        return r;
    if (e->eof && e->off == e->end) {
        (void)watm_sys_shutdown_wr(e->dst);
        e->closed = true;
    }
    return 0;
}

static bool enc_wants_read(const struct enc *e)
{
    return !e->eof && e->off == e->end;
}

/* ---- dec: Shadowsocks -> plaintext ---------------------------------------- */

struct dec {
    const char *name;      /* for logs: "from the client" / "from the server" */
    const struct ss_config *cfg;
    int src, dst;          /* dst -1: server before the dial */
    struct ss_cipher c;
    bool have_salt;
    uint8_t *buf;          /* DEC_CAP bytes */
    size_t pos, end;       /* buf[pos..end) not yet opened */
    int cur_len;           /* payload length of the chunk at pos, -1: not opened */
    struct watm_ciov seg[SEG_MAX];
    size_t nseg, segi;     /* pending output seg[segi..nseg) */
    uint64_t chunks;       /* chunks opened so far */
    uint64_t bytes_in;     /* ciphertext bytes read */
    const char *quiet_eof_hint; /* logged at EOF when nothing came */
    bool eof, closed;
};

static int dec_init(struct dec *d, const char *name, const struct ss_config *cfg,
                    int src, int dst)
{
    memset(d, 0, sizeof *d);
    d->name = name;
    d->cfg = cfg;
    d->src = src;
    d->dst = dst;
    d->cur_len = -1;
    d->buf = malloc(DEC_CAP);
    return d->buf ? 0 : -WATM_ENOMEM;
}

static bool dec_pending(const struct dec *d)
{
    return d->segi < d->nseg;
}

static int auth_failed(const struct dec *d, int r)
{
    if (r == -WATM_EPROTO) {
        ss_log("chunk length above 0x3FFF ", d->name);
        return r;
    }
    if (d->chunks == 0)
        ss_log("authentication failed on the first chunk (wrong password or method?) ",
               d->name);
    else
        ss_log("authentication failed on a later chunk (corrupted or forged stream) ",
               d->name);
    return r;
}

/* Opens every complete chunk in buf[pos..end) (up to SEG_MAX payloads) and
 * queues the payloads. */
static int dec_parse(struct dec *d)
{
    d->nseg = d->segi = 0;
    for (;;) {
        size_t avail = d->end - d->pos;
        if (!d->have_salt) {
            if (avail < d->cfg->key_len)
                return 0;
            int r = ss_cipher_init(&d->c, d->cfg, d->buf + d->pos);
            if (r < 0) {
                ss_log("cannot derive the subkey (host crypto failed)", NULL);
                return r;
            }
            d->pos += d->cfg->key_len;
            d->have_salt = true;
            continue;
        }
        if (d->cur_len < 0) {
            if (avail < SS_LEN_FRAME)
                return 0;
            int r = ss_open_len(&d->c, d->buf + d->pos);
            if (r < 0)
                return auth_failed(d, r);
            d->cur_len = r;
        }
        size_t need = SS_LEN_FRAME + (size_t)d->cur_len + SS_TAG_LEN;
        if (avail < need || d->nseg == SEG_MAX)
            return 0;
        uint8_t *payload = d->buf + d->pos + SS_LEN_FRAME;
        int r = ss_open_payload(&d->c, payload, (size_t)d->cur_len);
        if (r < 0)
            return auth_failed(d, r);
        d->chunks++;
        if (d->cur_len > 0)
            d->seg[d->nseg++] = (struct watm_ciov){payload, (size_t)d->cur_len};
        d->pos += need;
        d->cur_len = -1;
    }
}

static int dec_flush(struct dec *d)
{
    while (dec_pending(d) && d->dst >= 0) {
        ssize_t w = watm_sys_writev(d->dst, d->seg + d->segi, d->nseg - d->segi);
        if (w == -WATM_EAGAIN)
            return 0;
        if (w <= 0)
            return w == 0 ? -WATM_EIO : (int)w;
        size_t left = (size_t)w;
        while (left > 0) {
            struct watm_ciov *s = &d->seg[d->segi];
            if (left >= s->len) {
                left -= s->len;
                d->segi++;
            } else {
                s->base += left;
                s->len -= left;
                left = 0;
            }
        }
    }
    return 0;
}

/* EOF of the Shadowsocks side: fine between chunks, an error inside one. */
static int dec_eof(struct dec *d)
{
    d->eof = true;
    if (d->bytes_in == 0 && d->quiet_eof_hint != NULL)
        ss_log(d->quiet_eof_hint, NULL);
    if (d->end > d->pos || d->cur_len >= 0 || (d->bytes_in > 0 && !d->have_salt)) {
        ss_log("the stream ended inside a chunk ", d->name);
        return -WATM_EPROTO;
    }
    return 0;
}

/* Opens what is already buffered (after moving it to the front). */
static int dec_parse_buffered(struct dec *d)
{
    if (d->pos > 0) {
        memmove(d->buf, d->buf + d->pos, d->end - d->pos);
        d->end -= d->pos;
        d->pos = 0;
    }
    return dec_parse(d);
}

/* With no pending output: opens what is buffered and, when that gives
 * nothing to write, reads once and opens again. Does not write. */
static int dec_fill(struct dec *d)
{
    int r = dec_parse_buffered(d);
    if (r < 0 || dec_pending(d))
        return r;
    ssize_t n = watm_sys_read(d->src, d->buf + d->end, DEC_CAP - d->end);
    if (n == -WATM_EAGAIN)
        return 0;
    if (n < 0) {
        ss_log("read failed ", d->name);
        return (int)n;
    }
    if (n == 0)
        return dec_eof(d);
    d->end += (size_t)n;
    d->bytes_in += (uint64_t)n;
    return dec_parse(d);
}

/* Flushes; while everything got written, opens further buffered chunks
 * (a read may have brought more than SEG_MAX of them); after EOF, once
 * flushed, half-closes dst. */
static int dec_pump(struct dec *d)
{
    if (d->closed)
        return 0;
    for (;;) {
        int r = dec_flush(d);
        if (r < 0)
            return r;
        if (dec_pending(d) || d->end == d->pos)
            break;
        r = dec_parse_buffered(d);
        if (r < 0)
            return r;
        if (!dec_pending(d))
            break;
    }
    if (d->eof && !dec_pending(d)) {
        if (d->dst >= 0)
            (void)watm_sys_shutdown_wr(d->dst);
        d->closed = true;
    }
    return 0;
}

static bool dec_wants_read(const struct dec *d)
{
    return !d->eof && !dec_pending(d);
}

/* ---- the loop ------------------------------------------------------------- */

/*
 * Runs both pumps between plain_fd and net_fd until both are closed.
 * e: plain_fd -> net_fd, d: net_fd -> plain_fd.
 */
static int relay(struct enc *e, struct dec *d, int plain_fd, int net_fd, int ctrl_fd,
                 uint64_t reply_deadline)
{
    for (;;) {
        int r = enc_pump(e);
        if (r == 0)
            r = dec_pump(d);
        if (r < 0)
            return r;
        if (e->closed && d->closed)
            return 0;
        struct watm_pollfd p[3] = {
            {.fd = ctrl_fd, .want_read = true},
            {.fd = plain_fd, .want_read = enc_wants_read(e), .want_write = dec_pending(d)},
            {.fd = net_fd, .want_read = dec_wants_read(d), .want_write = e->off < e->end},
        };
        int timeout = -1;
        if (reply_deadline != 0 && d->bytes_in == 0 && !d->eof) {
            /* Client: nothing from the server yet. */
            uint64_t now = watm_sys_now_ms();
            if (now >= reply_deadline) {
                ss_log("no reply from the server in time (wrong password or method? "
                       "shadowsocks-libev keeps such connections open); closing",
                       NULL);
                return -SS_ETIMEDOUT;
            }
            uint64_t wait = reply_deadline - now;
            timeout = wait > 0x7fffffff ? 0x7fffffff : (int)wait;
        }
        r = watm_sys_poll(p, 3, timeout);
        if (r < 0) {
            ss_log("poll failed", NULL);
            return r;
        }
        if (p[0].can_read && (r = watm_ctrl_check(ctrl_fd)) < 0)
            return r;
        if (p[1].can_read && enc_wants_read(e) && (r = enc_read(e, false)) < 0)
            return r;
        if (p[2].can_read && dec_wants_read(d) &&
            ((r = dec_fill(d)) < 0 || (r = dec_flush(d)) < 0))
            return r;
    }
}

static void free_pumps(struct enc *e, struct dec *d)
{
    free(e->buf);
    free(d->buf);
    e->buf = d->buf = NULL;
}

static int set_nonblock(int fd)
{
    int r = watm_sys_set_nonblock(fd);
    if (r < 0)
        ss_log("cannot make an fd non-blocking", NULL);
    return r;
}

int ss_run_client(const struct ss_config *cfg, int app_fd, int net_fd, int ctrl_fd)
{
    struct enc e;
    struct dec d;
    int r;

    if (cfg->target_len == 0) {
        ss_log("the client needs \"target\" in its config", NULL);
        return -WATM_EINVAL;
    }
    if ((r = set_nonblock(app_fd)) < 0 || (r = set_nonblock(net_fd)) < 0 ||
        (r = set_nonblock(ctrl_fd)) < 0)
        return r;
    r = enc_init(&e, "to the server", cfg, app_fd, net_fd);
    int r2 = dec_init(&d, "from the server", cfg, net_fd, app_fd);
    if (r == 0)
        r = r2;
    if (r == 0) {
        d.quiet_eof_hint = "the server closed the connection without sending anything "
                           "(wrong password or method? target unreachable?)";
        e.prefix = cfg->target;
        e.prefix_len = cfg->target_len;
        /* The target goes out at once: with the first data when the
         * application has already written some, alone otherwise (for
         * protocols where the server speaks first). */
        r = enc_read(&e, true);
    }
    if (r == 0)
        r = relay(&e, &d, app_fd, net_fd, ctrl_fd,
                  watm_sys_now_ms() + cfg->header_timeout_ms);
    if (r < 0 && r != -WATM_EPROTO && r != -SS_EBADMSG && r != -WATM_ECANCELED &&
        r != -SS_ETIMEDOUT)
        ss_log("connection failed", r == -WATM_ECONNRESET ? " (reset)" : NULL);
    free_pumps(&e, &d);
    return r;
}

/*
 * Server, before the dial: opens the client's first chunks and collects the
 * SOCKS5 address from the front of the plaintext. Returns 1 when the
 * address is complete (the remaining payload stays queued in d), 0 when
 * more is needed, or a negative errno.
 */
static int take_header(struct dec *d, uint8_t *hdr, size_t *hdr_len, char *text)
{
    while (d->segi < d->nseg) {
        struct watm_ciov *s = &d->seg[d->segi];
        size_t room = SS_ADDR_MAX - *hdr_len;
        size_t take = s->len < room ? s->len : room;
        memcpy(hdr + *hdr_len, s->base, take);
        int r = ss_addr_decode(hdr, *hdr_len + take, text);
        if (r < 0) {
            ss_log("the client sent a bad target address", NULL);
            return r;
        }
        if (r > 0) {
            size_t used = (size_t)r - *hdr_len;
            s->base += used;
            s->len -= used;
            if (s->len == 0)
                d->segi++;
            *hdr_len = (size_t)r;
            return 1;
        }
        *hdr_len += take;
        d->segi++;
    }
    return 0;
}

static int await_target(struct dec *d, int ctrl_fd, char *text)
{
    uint8_t hdr[SS_ADDR_MAX];
    size_t hdr_len = 0;
    uint64_t deadline = watm_sys_now_ms() + d->cfg->header_timeout_ms;
    bool readable = false;

    for (;;) {
        /* Open what is buffered, read once when the socket is ready. */
        int r = readable ? dec_fill(d) : dec_parse_buffered(d);
        if (r < 0)
            return r;
        r = take_header(d, hdr, &hdr_len, text);
        if (r != 0)
            return r < 0 ? r : 0;
        if (d->eof) {
            ss_log("the client closed the connection before sending a target address",
                   d->bytes_in ? NULL : " (it sent nothing)");
            return -WATM_EPIPE;
        }
        if (readable) {
            readable = false;
            continue; /* parse what that read brought before waiting */
        }
        uint64_t now = watm_sys_now_ms();
        if (now >= deadline) {
            ss_log("no target address from the client in time; closing", NULL);
            return -SS_ETIMEDOUT;
        }
        struct watm_pollfd p[2] = {
            {.fd = ctrl_fd, .want_read = true},
            {.fd = d->src, .want_read = true},
        };
        uint64_t wait = deadline - now;
        r = watm_sys_poll(p, 2, wait > 0x7fffffff ? 0x7fffffff : (int)wait);
        if (r < 0) {
            ss_log("poll failed", NULL);
            return r;
        }
        if (p[0].can_read && (r = watm_ctrl_check(ctrl_fd)) < 0)
            return r;
        readable = p[1].can_read;
    }
}

int ss_run_server(const struct ss_config *cfg, int net_fd, int ctrl_fd)
{
    struct enc e;
    struct dec d;
    char target[SS_ADDR_TEXT_MAX];
    int r;

    if ((r = set_nonblock(net_fd)) < 0 || (r = set_nonblock(ctrl_fd)) < 0)
        return r;
    r = enc_init(&e, "to the client", cfg, -1, net_fd);
    int r2 = dec_init(&d, "from the client", cfg, net_fd, -1);
    if (r == 0)
        r = r2;
    if (r == 0)
        r = await_target(&d, ctrl_fd, target);
    if (r == 0) {
        int fd = ss_dial(target);
        if (fd < 0) {
            ss_log("cannot dial the target (refused, unreachable, or not in the host's "
                   "--allow-dial list): ",
                   target);
            r = fd;
        } else if ((r = set_nonblock(fd)) == 0) {
            e.src = fd;
            d.dst = fd;
            r = relay(&e, &d, fd, net_fd, ctrl_fd, 0);
            if (r < 0 && r != -WATM_ECANCELED && r != -WATM_EPROTO && r != -SS_EBADMSG)
                ss_log("connection failed; target ", target);
        }
    }
    free_pumps(&e, &d);
    return r;
}
