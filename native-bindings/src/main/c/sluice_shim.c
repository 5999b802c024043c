/*
 * libsluice_shim: exports DPDK 22.11's static inline fast-path functions so that Java
 * can call them through FFM (jextract cannot bind inline functions, and the symbols do
 * not exist in the shared libraries), plus thread-local state Java cannot read
 * (rte_errno, the lcore id), plus C reference loops used by bench/ to put the C
 * figure beside each Java one.
 *
 * Every function here is a thin, allocation-free wrapper. Keep it that way: logic
 * belongs in Java.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_version.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ethdev.h>

#define SLUICE_EXPORT __attribute__((visibility("default")))

/* ---- fast path ---------------------------------------------------------------- */

SLUICE_EXPORT uint16_t sluice_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
    return rte_eth_rx_burst(port, queue, pkts, n);
}

SLUICE_EXPORT uint16_t sluice_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
    return rte_eth_tx_burst(port, queue, pkts, n);
}

SLUICE_EXPORT int sluice_pktmbuf_alloc_bulk(struct rte_mempool *pool, struct rte_mbuf **mbufs, unsigned int n)
{
    return rte_pktmbuf_alloc_bulk(pool, mbufs, n);
}

/*
 * Single-mbuf alloc and free pass the mbuf as an integer address: a pointer crossing FFM
 * becomes a MemorySegment object per call, which the per-frame path must not allocate.
 */
SLUICE_EXPORT uintptr_t sluice_pktmbuf_alloc(struct rte_mempool *pool)
{
    return (uintptr_t)rte_pktmbuf_alloc(pool);
}

SLUICE_EXPORT void sluice_pktmbuf_free(uintptr_t m)
{
    rte_pktmbuf_free((struct rte_mbuf *)m);
}

/* ---- external buffers: zero-copy transmit ------------------------------------ */

/*
 * The free callback of Sluice's shared infos. The stack holds one reference on every
 * shared info for as long as the memory exists, so DPDK never drops the count to 0 and
 * never calls this; if it ever does, it only counts (the memory is the stack's, never
 * DPDK's to free), and tests assert the count stays 0.
 */
static void sluice_extbuf_free_cb(void *addr, void *opaque)
{
    (void)addr;
    __atomic_add_fetch((uint64_t *)opaque, 1, __ATOMIC_RELAXED);
}

/*
 * Initialises n shared infos stride bytes apart (a cache line each: the sender's increments and a
 * receiver's decrements of neighbouring chunks must not share a line): the counting free
 * callback, refcnt 1 (the owner's).
 */
SLUICE_EXPORT void sluice_extbuf_shinfo_init(uintptr_t shinfo, unsigned int n, unsigned int stride, uintptr_t freed)
{
    for (unsigned int i = 0; i < n; i++) {
        struct rte_mbuf_ext_shared_info *s = (struct rte_mbuf_ext_shared_info *)(shinfo + (uintptr_t)i * stride);
        s->free_cb = sluice_extbuf_free_cb;
        s->fcb_opaque = (void *)freed;
        rte_mbuf_ext_refcnt_set(s, 1);
    }
}

/*
 * Takes an mbuf from pool (mbufs without data room), points it at len bytes of external
 * memory at addr (rte_pktmbuf_attach_extbuf; IOVA = the virtual address: only for PMDs
 * that read memory through the CPU), takes one reference on shinfo for it, and chains it
 * after tail, the last segment of the frame whose first segment is head (nb_segs + 1;
 * the caller sets pkt_len). Returns the mbuf, or 0 (nothing changed) if the pool is empty.
 * Freeing the mbuf (with its frame) detaches it and drops the reference.
 */
SLUICE_EXPORT uintptr_t sluice_attach_extbuf(struct rte_mempool *pool, uintptr_t head, uintptr_t tail,
                                             uintptr_t addr, uint16_t len, uintptr_t shinfo)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
    if (unlikely(m == NULL))
        return 0;
    struct rte_mbuf_ext_shared_info *s = (struct rte_mbuf_ext_shared_info *)shinfo;
    rte_mbuf_ext_refcnt_update(s, 1);
    rte_pktmbuf_attach_extbuf(m, (void *)addr, (rte_iova_t)addr, len, s);
    m->data_len = len;
    m->pkt_len = len;
    ((struct rte_mbuf *)tail)->next = m;
    ((struct rte_mbuf *)head)->nb_segs++;
    return (uintptr_t)m;
}

/* ---- thread-local state -------------------------------------------------------- */

SLUICE_EXPORT unsigned int sluice_lcore_id(void)
{
    return rte_lcore_id();
}

SLUICE_EXPORT int sluice_errno(void)
{
    return rte_errno;
}

/* ---- build identity: compared with rte_version() at start-up ------------------- */

/* RTE_VERSION as a number (year << 24 | month << 16 | minor << 8 | release) */
SLUICE_EXPORT unsigned int sluice_shim_built_against(void)
{
    return RTE_VERSION;
}

/* ---- EAL log capture: so that an EAL failure can show DPDK's own reason -------- */

static FILE *capture_stream;
static char *capture_buf;
static size_t capture_len;

/* Starts capturing DPDK's log into memory (until sluice_log_capture_end). */
SLUICE_EXPORT int sluice_log_capture_begin(void)
{
    if (capture_stream != NULL)
        return -1;
    capture_stream = open_memstream(&capture_buf, &capture_len);
    if (capture_stream == NULL)
        return -1;
    return rte_openlog_stream(capture_stream);
}

/*
 * Stops capturing, restores the default log stream (stderr) and copies what was
 * captured into out (NUL-terminated, truncated from the front to keep the end).
 * Returns the number of bytes copied.
 */
SLUICE_EXPORT size_t sluice_log_capture_end(char *out, size_t out_len)
{
    size_t n = 0;
    if (capture_stream == NULL || out_len == 0)
        return 0;
    rte_openlog_stream(NULL);
    fclose(capture_stream);
    capture_stream = NULL;
    if (capture_buf != NULL) {
        size_t start = capture_len >= out_len ? capture_len - (out_len - 1) : 0;
        n = capture_len - start;
        memcpy(out, capture_buf + start, n);
        free(capture_buf);
        capture_buf = NULL;
    }
    out[n] = '\0';
    return n;
}

/* ---- C reference loops for bench/ (each returns elapsed ns for `iterations`) --- */

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* rx burst of up to 32 on a queue expected to be empty; returns ns, or 0 if a packet arrived */
SLUICE_EXPORT uint64_t sluice_cref_rx_burst_empty(uint16_t port, uint16_t queue, uint64_t iterations)
{
    struct rte_mbuf *pkts[32];
    uint64_t start = now_ns();
    for (uint64_t i = 0; i < iterations; i++) {
        uint16_t n = rte_eth_rx_burst(port, queue, pkts, 32);
        if (unlikely(n != 0)) {
            rte_pktmbuf_free_bulk(pkts, n);
            return 0;
        }
    }
    return now_ns() - start;
}

/*
 * 32 mbufs allocated once, then per iteration: tx burst of 32 on tx_port, rx burst
 * on rx_port (the other end of a crossed ring pair). Returns ns, or 0 on a short burst.
 */
SLUICE_EXPORT uint64_t sluice_cref_tx_rx_32(uint16_t tx_port, uint16_t rx_port, struct rte_mempool *pool,
                                           uint64_t iterations)
{
    struct rte_mbuf *pkts[32];
    if (rte_pktmbuf_alloc_bulk(pool, pkts, 32) != 0)
        return 0;
    for (int i = 0; i < 32; i++) {
        pkts[i]->data_len = 64;
        pkts[i]->pkt_len = 64;
    }
    uint64_t start = now_ns();
    for (uint64_t i = 0; i < iterations; i++) {
        uint16_t sent = rte_eth_tx_burst(tx_port, 0, pkts, 32);
        uint16_t got = rte_eth_rx_burst(rx_port, 0, pkts, 32);
        if (unlikely(sent != 32 || got != 32)) {
            rte_pktmbuf_free_bulk(pkts, got);
            return 0;
        }
    }
    uint64_t elapsed = now_ns() - start;
    rte_pktmbuf_free_bulk(pkts, 32);
    return elapsed;
}

/* alloc bulk 32 + free bulk 32 per iteration; returns ns, or 0 if the pool ran dry */
SLUICE_EXPORT uint64_t sluice_cref_alloc_free_32(struct rte_mempool *pool, uint64_t iterations)
{
    struct rte_mbuf *pkts[32];
    uint64_t start = now_ns();
    for (uint64_t i = 0; i < iterations; i++) {
        if (unlikely(rte_pktmbuf_alloc_bulk(pool, pkts, 32) != 0))
            return 0;
        rte_pktmbuf_free_bulk(pkts, 32);
    }
    return now_ns() - start;
}
