/* hostile: a guest program that attacks hull-vmm's virtio-mmio devices from
 * user space, for the hostile-guest e2e test (issue 11). Built static; the
 * same binary also serves the host side of the test.
 *
 *   hostile attack MMIO_BASE SLOTS SCRATCH_PA SCRATCH_LEN
 *       guest, as root, booted with initcall_blacklist=virtio_mmio_init (no
 *       driver claims the devices, so /dev/mem may map them) and
 *       memmap=LEN$PA (reserved RAM that /dev/mem may map, for rings and
 *       buffers). Runs the four phases and prints HULL_E2E_HOSTILE lines.
 *   hostile vsock-echo PORT BYTES
 *       guest of the ordinary VM: connects to the host (CID 2), sends BYTES,
 *       reads them back and compares.
 *   hostile host-echo PATH
 *       host: listens on the unix socket PATH (a vsock <uds>_<port>) and
 *       echoes every connection until SIGTERM; prints totals on exit.
 *
 * Everything it writes into the devices is garbage on purpose; the test
 * passes when hull-vmm survives it and still serves valid requests. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

/* virtio-mmio registers (virtio 1.x, 4.2.2) */
enum {
  R_MAGIC = 0x000, R_VERSION = 0x004, R_DEVICE_ID = 0x008, R_DEV_FEAT = 0x010, R_DEV_FEAT_SEL = 0x014,
  R_DRV_FEAT = 0x020, R_DRV_FEAT_SEL = 0x024, R_QUEUE_SEL = 0x030, R_QUEUE_NUM_MAX = 0x034,
  R_QUEUE_NUM = 0x038, R_QUEUE_READY = 0x044, R_QUEUE_NOTIFY = 0x050, R_INT_STATUS = 0x060,
  R_INT_ACK = 0x064, R_STATUS = 0x070, R_DESC_LO = 0x080, R_DESC_HI = 0x084, R_AVAIL_LO = 0x090,
  R_AVAIL_HI = 0x094, R_USED_LO = 0x0a0, R_USED_HI = 0x0a4, R_CONFIG = 0x100,
};
enum { S_ACK = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8, S_NEEDS_RESET = 64 };
enum { D_NEXT = 1, D_WRITE = 2, D_INDIRECT = 4 };
#define F_INDIRECT (1ull << 28)
#define F_VERSION_1 (1ull << 32)
#define MAGIC 0x74726976u
#define QSIZE 16 /* queue size the attack uses (every hull queue allows it) */
#define AREA (1u << 20) /* scratch bytes per device slot */
#define MAX_SLOTS 16
#define MAX_QUEUES 4

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; } __attribute__((packed));

struct queue {
  uint16_t size, avail_idx, used_seen;
  uint64_t desc_pa, avail_pa, used_pa;
  volatile struct desc *desc;
  volatile uint16_t *avail; /* flags, idx, ring[] */
  volatile uint16_t *used;  /* flags, idx, then {u32 id, u32 len}[] */
};

struct dev {
  int slot;
  uint64_t pa;
  volatile uint8_t *regs;
  uint32_t id;
  int nq;
  struct queue q[MAX_QUEUES];
  uint8_t *area; /* this slot's scratch: queues in the first 256 KiB, buffers after */
  uint64_t area_pa;
};

static struct {
  uint8_t *scratch;
  uint64_t scratch_pa, scratch_len;
  uint64_t rng;
  unsigned unexpected, rejected, consumed, silent, recoveries;
} g;

static void die(const char *what) {
  printf("HULL_E2E_HOSTILE_ERROR %s: %s\n", what, strerror(errno));
  fflush(stdout);
  exit(2);
}

static uint64_t rnd(void) { /* xorshift64*: reproducible garbage */
  g.rng ^= g.rng >> 12; g.rng ^= g.rng << 25; g.rng ^= g.rng >> 27;
  return g.rng * 0x2545f4914f6cdd1dull;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

#define BARRIER() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static uint32_t rd(struct dev *d, unsigned off) { return *(volatile uint32_t *)(d->regs + off); }
static void wr(struct dev *d, unsigned off, uint32_t v) { *(volatile uint32_t *)(d->regs + off) = v; }

static const char *dev_name(uint32_t id) {
  switch (id) {
    case 1: return "net";
    case 2: return "blk";
    case 3: return "console";
    case 4: return "rng";
    case 5: return "balloon";
    case 19: return "vsock";
    case 26: return "fs";
    default: return "unknown";
  }
}

static void *map_phys(int fd, uint64_t pa, uint64_t len) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)pa);
  if (p == MAP_FAILED) {
    /* STRICT_DEVMEM refuses RAM and regions a driver claimed */
    printf("HULL_E2E_HOSTILE_ERROR mmap /dev/mem at 0x%llx: %s (a virtio_mmio driver bound despite "
           "initcall_blacklist=virtio_mmio_init, which needs CONFIG_KALLSYMS? RAM not reserved with memmap=?)\n",
           (unsigned long long)pa, strerror(errno));
    fflush(stdout);
    exit(2);
  }
  return p;
}

static uint64_t pa_of(struct dev *d, void *p) { return d->area_pa + (uint64_t)((uint8_t *)p - d->area); }
static uint8_t *buf_at(struct dev *d, unsigned i) { return d->area + 0x40000 + (uint64_t)i * 0x1000; }

/* ---- queue handling ---- */

static void setup_queue(struct dev *d, int i, uint16_t size) {
  struct queue *q = &d->q[i];
  uint8_t *base = d->area + (uint64_t)i * 0x10000;
  memset(base, 0, 0x10000);
  q->size = size;
  q->avail_idx = q->used_seen = 0;
  q->desc = (volatile struct desc *)base;
  q->avail = (volatile uint16_t *)(base + 0x4000);
  q->used = (volatile uint16_t *)(base + 0x8000);
  q->desc_pa = pa_of(d, base);
  q->avail_pa = q->desc_pa + 0x4000;
  q->used_pa = q->desc_pa + 0x8000;
  wr(d, R_QUEUE_SEL, i);
  wr(d, R_QUEUE_NUM, size);
  wr(d, R_DESC_LO, (uint32_t)q->desc_pa); wr(d, R_DESC_HI, (uint32_t)(q->desc_pa >> 32));
  wr(d, R_AVAIL_LO, (uint32_t)q->avail_pa); wr(d, R_AVAIL_HI, (uint32_t)(q->avail_pa >> 32));
  wr(d, R_USED_LO, (uint32_t)q->used_pa); wr(d, R_USED_HI, (uint32_t)(q->used_pa >> 32));
  wr(d, R_QUEUE_READY, 1);
}

/* The driver's side of the handshake (3.1.1) with the queues in `qmask` set
 * up at `qsize` (or the device's maximum when smaller); 0 when the device is
 * live. Every exit to the VMM costs time under nested virtualization, so only
 * the queues a step needs are set up. */
static int init_dev_queues(struct dev *d, uint64_t want, unsigned qmask, uint16_t qsize) {
  wr(d, R_STATUS, 0);
  wr(d, R_STATUS, S_ACK);
  wr(d, R_STATUS, S_ACK | S_DRIVER);
  wr(d, R_DEV_FEAT_SEL, 1);
  uint64_t feats = (uint64_t)rd(d, R_DEV_FEAT) << 32;
  wr(d, R_DEV_FEAT_SEL, 0);
  feats |= rd(d, R_DEV_FEAT);
  feats &= want | F_VERSION_1;
  wr(d, R_DRV_FEAT_SEL, 0); wr(d, R_DRV_FEAT, (uint32_t)feats);
  wr(d, R_DRV_FEAT_SEL, 1); wr(d, R_DRV_FEAT, (uint32_t)(feats >> 32));
  wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
  if (!(rd(d, R_STATUS) & S_FEATURES_OK)) return -1;
  d->nq = 0;
  for (int i = 0; i < MAX_QUEUES; i++) {
    wr(d, R_QUEUE_SEL, i);
    uint32_t max = rd(d, R_QUEUE_NUM_MAX);
    if (max == 0) break;
    if (qmask & (1u << i)) setup_queue(d, i, max < qsize ? (uint16_t)max : qsize);
    d->nq = i + 1;
  }
  wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  return (rd(d, R_STATUS) & S_NEEDS_RESET) ? -2 : 0;
}

static int init_dev(struct dev *d, uint64_t want) { return init_dev_queues(d, want, ~0u, QSIZE); }

static void set_desc(struct queue *q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
  q->desc[i].addr = addr;
  q->desc[i].len = len;
  q->desc[i].flags = flags;
  q->desc[i].next = next;
}

/* Publishes head `head` (or a raw avail idx jump when `jump` != 0) and rings. */
static void publish(struct dev *d, int qi, uint16_t head, uint16_t jump) {
  struct queue *q = &d->q[qi];
  q->avail[2 + (q->avail_idx % q->size)] = head;
  BARRIER();
  q->avail_idx = (uint16_t)(q->avail_idx + (jump ? jump : 1));
  q->avail[1] = q->avail_idx;
  BARRIER();
  wr(d, R_QUEUE_NOTIFY, qi);
}

enum outcome { REJECTED, CONSUMED, SILENT };
static const char *outcome_name[] = {"rejected", "consumed", "silent"};

/* Waits until the device either fails (NEEDS_RESET) or uses a buffer. */
static enum outcome await(struct dev *d, int qi, double seconds) {
  struct queue *q = &d->q[qi];
  double end = now() + seconds;
  do {
    if (rd(d, R_STATUS) & S_NEEDS_RESET) return REJECTED;
    BARRIER();
    if (q->used[1] != q->used_seen) {
      q->used_seen = q->used[1];
      return CONSUMED;
    }
    pause_us(1000);
  } while (now() < end);
  return SILENT;
}

/* ---- phase 1: every register, garbage and boundary values ---- */

static const uint32_t boundary[] = {0, 1, 0x10000, 0x80000000, 0xffffffff};

static void phase_registers(struct dev *d) {
  unsigned writes = 0, reads = 0;
  uint32_t sink = 0;
  /* every 32-bit register and config offset, then past the register file */
  for (unsigned off = 0; off < 0x1000; off += 4) {
    if (off >= 0x200 && off % 0x100 != 0) continue; /* sample the rest of the page */
    /* boundary values into the registers; config space and beyond get the
     * random value only */
    for (unsigned v = 0; off < R_CONFIG && v < sizeof boundary / sizeof boundary[0]; v++) {
      wr(d, off, boundary[v]); writes++;
    }
    /* Random ring addresses stay out of guest RAM: the device would really
     * use them, and corrupting this guest's own kernel ends the test early.
     * (The boundary values above land below 1 MiB, which Linux never uses,
     * or outside RAM.) */
    uint32_t v = (uint32_t)rnd();
    if (off >= R_DESC_LO && off <= R_USED_HI) v |= 0xe0000000u;
    wr(d, off, v); writes++;
    sink ^= rd(d, off); reads++;
  }
  /* odd widths and unaligned offsets (1, 2 and 8 bytes) */
  for (unsigned off = 0; off < 0x200; off += 29) {
    *(volatile uint8_t *)(d->regs + off) = (uint8_t)rnd();
    sink ^= *(volatile uint8_t *)(d->regs + off);
    *(volatile uint16_t *)(d->regs + (off & ~1u)) = (uint16_t)rnd();
    sink ^= *(volatile uint16_t *)(d->regs + (off & ~1u));
    *(volatile uint64_t *)(d->regs + (off & ~7u)) = rnd();
    sink ^= (uint32_t) * (volatile uint64_t *)(d->regs + (off & ~7u));
    writes += 3; reads += 3;
  }
  /* queue-specific nonsense: absent queues, sizes past the maximum, rings
   * outside RAM / in the MMIO hole / misaligned, then DRIVER_OK */
  static const uint64_t ring_addrs[] = {0xfffffffffffff000ull, 0xd0001000ull, 0x100000000ull,
                                        0x0fffffffull, 0xffffffffull, 0x1001ull};
  for (unsigned k = 0; k < 3; k++) {
    wr(d, R_STATUS, 0);
    wr(d, R_STATUS, S_ACK | S_DRIVER);
    wr(d, R_DRV_FEAT_SEL, 1); wr(d, R_DRV_FEAT, 1); /* VERSION_1 */
    wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    for (uint32_t sel = 0; sel < 6; sel++) {
      wr(d, R_QUEUE_SEL, sel == 5 ? 0xffffffffu : sel);
      uint32_t max = rd(d, R_QUEUE_NUM_MAX);
      wr(d, R_QUEUE_NUM, k % 2 ? max + 1 : (k == 2 ? 3 : 0x10000));
      wr(d, R_DESC_LO, (uint32_t)ring_addrs[k]); wr(d, R_DESC_HI, (uint32_t)(ring_addrs[k] >> 32));
      wr(d, R_AVAIL_LO, (uint32_t)ring_addrs[(k + 1) % 6]); wr(d, R_AVAIL_HI, (uint32_t)(ring_addrs[(k + 1) % 6] >> 32));
      wr(d, R_USED_LO, (uint32_t)ring_addrs[(k + 2) % 6]); wr(d, R_USED_HI, (uint32_t)(ring_addrs[(k + 2) % 6] >> 32));
      wr(d, R_QUEUE_READY, 1);
      writes += 10;
    }
    wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    for (uint32_t n = 0; n < 8; n++) wr(d, R_QUEUE_NOTIFY, n == 7 ? 0xffffffffu : n * 1000);
    writes += 9;
  }
  uint32_t status = rd(d, R_STATUS);
  wr(d, R_STATUS, 0);
  printf("HULL_E2E_HOSTILE phase=registers slot=%d dev=%s writes=%u reads=%u last_status=0x%x magic_after=0x%x (%x)\n",
         d->slot, dev_name(d->id), writes, reads, status, rd(d, R_MAGIC), sink & 0);
  fflush(stdout);
}

/* ---- phase 2: malformed descriptor chains ---- */

/* Queues the device pops as soon as they are notified (driver -> device). */
static int pops_on_notify(uint32_t id, int qi) {
  switch (id) {
    case 2: case 4: return qi == 0;       /* blk requests, rng requests */
    case 1: case 19: return qi == 1;      /* net tx, vsock tx */
    case 5: return qi == 0 || qi == 1;    /* balloon inflate, deflate */
    case 26: return qi == 1;              /* virtio-fs requests (hiprio FORGETs get no reply) */
    default: return 0;
  }
}

struct scenario { const char *name; int malformed; };
static const struct scenario scenarios[] = {
    {"self-loop", 1},           {"two-loop", 1},          {"longer-than-queue", 1},
    {"next-out-of-range", 1},   {"head-out-of-range", 1}, {"buf-beyond-ram", 1},
    {"buf-mmio-hole", 1},       {"buf-wraps-2^64", 1},    {"len-near-2^32", 1},
    {"buf-crosses-ram-end", 1}, {"zero-length", 1},       {"read-after-write", 1},
    {"indirect-nested", 1},     {"indirect-loop", 1},     {"indirect-bad-len", 1},
    {"indirect-huge-len", 1},   {"indirect-outside", 1},  {"indirect-with-next", 1},
    {"avail-far-ahead", 1},     {"garbage-payload", 0},
};

static void build_scenario(struct dev *d, int qi, int s, uint64_t ram_end) {
  struct queue *q = &d->q[qi];
  uint8_t *buf = buf_at(d, 0);
  uint8_t *ind = buf_at(d, 8);
  volatile struct desc *it = (volatile struct desc *)ind;
  uint64_t bpa = pa_of(d, buf), ipa = pa_of(d, ind);
  uint16_t head = 0, jump = 0;
  for (unsigned i = 0; i < 0x1000; i++) buf[i] = (uint8_t)rnd();
  memset(ind, 0, 0x1000);
  const uint16_t w = pops_on_notify(d->id, qi) ? 0 : D_WRITE; /* device-writable for rx-style queues */
  switch (s) {
    case 0: set_desc(q, 0, bpa, 64, D_NEXT | w, 0); break;
    case 1: set_desc(q, 0, bpa, 64, D_NEXT, 1); set_desc(q, 1, bpa + 64, 64, D_NEXT | w, 0); break;
    case 2: for (unsigned i = 0; i < q->size; i++) set_desc(q, i, bpa + 64 * i, 64, D_NEXT, (uint16_t)((i + 1) % q->size)); break;
    case 3: set_desc(q, 0, bpa, 64, D_NEXT, (uint16_t)(q->size + 5)); break;
    case 4: set_desc(q, 0, bpa, 64, w, 0); head = (uint16_t)(q->size + 1); break;
    case 5: set_desc(q, 0, 0x100000000ull, 512, w, 0); break;
    case 6: set_desc(q, 0, 0xd0001000ull, 0x100, w, 0); break;
    case 7: set_desc(q, 0, 0xffffffffffffff00ull, 0x200, w, 0); break;
    case 8: set_desc(q, 0, bpa, 0xfffffff0u, w, 0); break;
    case 9: set_desc(q, 0, ram_end - 8, 0x1000, w, 0); break;
    case 10: set_desc(q, 0, bpa, 0, w, 0); break;
    case 11: set_desc(q, 0, bpa, 64, D_WRITE | D_NEXT, 1); set_desc(q, 1, bpa + 64, 64, 0, 0); break;
    case 12:
      it[0].addr = ipa + 0x100; it[0].len = 32; it[0].flags = D_INDIRECT;
      set_desc(q, 0, ipa, 32, D_INDIRECT, 0); break;
    case 13:
      it[0].addr = bpa; it[0].len = 64; it[0].flags = D_NEXT; it[0].next = 1;
      it[1].addr = bpa + 64; it[1].len = 64; it[1].flags = D_NEXT; it[1].next = 0;
      set_desc(q, 0, ipa, 32, D_INDIRECT, 0); break;
    case 14: set_desc(q, 0, ipa, 17, D_INDIRECT, 0); break;
    case 15: set_desc(q, 0, ipa, 0xfffffff0u, D_INDIRECT, 0); break;
    case 16: set_desc(q, 0, 0xd0002000ull, 64, D_INDIRECT, 0); break;
    case 17:
      it[0].addr = bpa; it[0].len = 64;
      set_desc(q, 0, ipa, 16, D_INDIRECT | D_NEXT, 1); set_desc(q, 1, bpa, 64, w, 0); break;
    case 18: set_desc(q, 0, bpa, 64, w, 0); jump = 0x8000; break;
    case 19:
      /* well-formed chain, garbage request: readable header + data, writable tail */
      set_desc(q, 0, bpa, 16, D_NEXT, 1);
      set_desc(q, 1, bpa + 512, 512, D_NEXT, 2);
      set_desc(q, 2, bpa + 2048, 513, D_WRITE, 0);
      if (d->id == 2) { /* a blk read far past the disk's end */
        uint32_t t = 0; uint64_t sector = 0xfffffffffffffff0ull;
        memcpy(buf, &t, 4); memcpy(buf + 8, &sector, 8);
      }
      break;
  }
  BARRIER();
  publish(d, qi, head, jump);
}

static void phase_chains(struct dev *d, uint64_t ram_end) {
  unsigned counts[3] = {0, 0, 0};
  for (int qi = 0; qi < MAX_QUEUES; qi++) {
    for (int s = 0; s < (int)(sizeof scenarios / sizeof scenarios[0]); s++) {
      /* device -> driver queues are only looked at when the device has
       * something to deliver: a sample of the chains is enough there */
      if (!pops_on_notify(d->id, qi) && s != 0 && s != 5 && s != 18) continue;
      if (init_dev_queues(d, F_INDIRECT, 1u << qi, QSIZE) != 0) {
        printf("HULL_E2E_HOSTILE_UNEXPECTED slot=%d dev=%s: handshake refused before scenario %s\n", d->slot,
               dev_name(d->id), scenarios[s].name);
        g.unexpected++;
        return;
      }
      if (qi >= d->nq) goto done;
      build_scenario(d, qi, s, ram_end);
      /* generous for queues the device must answer (a loaded host is slow),
       * short for the others, which only ever time out */
      enum outcome o = await(d, qi, pops_on_notify(d->id, qi) ? 10.0 : 0.05);
      counts[o]++;
      if (o == REJECTED) g.rejected++;
      if (o == CONSUMED) g.consumed++;
      if (o == SILENT) g.silent++;
      /* a malformed chain on a queue the device pops must fail the device */
      if (scenarios[s].malformed && pops_on_notify(d->id, qi) && o != REJECTED) {
        printf("HULL_E2E_HOSTILE_UNEXPECTED slot=%d dev=%s queue=%d chain=%s outcome=%s (wanted rejected)\n",
               d->slot, dev_name(d->id), qi, scenarios[s].name, outcome_name[o]);
        g.unexpected++;
      }
      /* and a well-formed one must be used, or the checks above prove nothing */
      if (!scenarios[s].malformed && pops_on_notify(d->id, qi) && o != CONSUMED) {
        printf("HULL_E2E_HOSTILE_UNEXPECTED slot=%d dev=%s queue=%d chain=%s outcome=%s (wanted consumed)\n",
               d->slot, dev_name(d->id), qi, scenarios[s].name, outcome_name[o]);
        g.unexpected++;
      }
    }
  }
done:
  wr(d, R_STATUS, 0);
  printf("HULL_E2E_HOSTILE phase=chains slot=%d dev=%s queues=%d rejected=%u consumed=%u silent=%u\n", d->slot,
         dev_name(d->id), d->nq, counts[REJECTED], counts[CONSUMED], counts[SILENT]);
  fflush(stdout);
}

/* ---- phase 3: vsock flood ---- */

struct vsock_hdr {
  uint64_t src_cid, dst_cid;
  uint32_t src_port, dst_port, len;
  uint16_t type, op;
  uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

static void post_rx(struct dev *d) {
  struct queue *q = &d->q[0];
  for (unsigned i = 0; i < q->size; i++) {
    set_desc(q, i, pa_of(d, buf_at(d, 64 + i)), 0x1000, D_WRITE, 0);
    q->avail[2 + (q->avail_idx % q->size)] = (uint16_t)i;
    q->avail_idx++;
  }
  BARRIER();
  q->avail[1] = q->avail_idx;
  BARRIER();
  wr(d, R_QUEUE_NOTIFY, 0);
}

#define FLOOD_QSIZE 128

static void phase_vsock_flood(struct dev *d, unsigned packets, uint32_t listen_port) {
  if (init_dev_queues(d, 0, 0x3, FLOOD_QSIZE) != 0) { printf("HULL_E2E_HOSTILE_UNEXPECTED vsock handshake refused\n"); g.unexpected++; return; }
  uint64_t cid;
  memcpy(&cid, (const void *)(d->regs + R_CONFIG), 8);
  post_rx(d);
  static const uint64_t cids[] = {2, 0xffffffffull, 0, 1, 3, 0xffffffffffffffffull};
  unsigned sent = 0, resets = 0, batches = 0;
  double t0 = now();
  while (sent < packets) {
    struct queue *q = &d->q[1];
    for (unsigned i = 0; i < q->size && sent < packets; i++, sent++) {
      uint8_t *b = buf_at(d, 16) + 128 * i;
      struct vsock_hdr h;
      memset(&h, 0, sizeof h);
      h.src_cid = (sent % 7 == 0) ? rnd() : cid;
      h.dst_cid = cids[sent % 6];
      h.src_port = 1024 + (uint32_t)(sent % 512);
      h.dst_port = (sent % 3 == 0) ? listen_port : (sent % 3 == 1 ? listen_port + 1 : (uint32_t)rnd());
      h.op = (uint16_t)(sent % 9 == 8 ? rnd() : sent % 8);
      h.type = (uint16_t)(sent % 11 == 0 ? 2 : (sent % 13 == 0 ? rnd() : 1));
      h.len = (sent % 5 == 0) ? 0xffffffffu : (sent % 5 == 1 ? 0x10001u : (uint32_t)(sent % 64));
      h.buf_alloc = (uint32_t)rnd();
      h.fwd_cnt = (uint32_t)rnd();
      memcpy(b, &h, sizeof h);
      for (unsigned k = sizeof h; k < sizeof h + 64; k++) b[k] = (uint8_t)k;
      /* header and payload in one descriptor, or split (every 4th) */
      if (i % 4 == 3 && i + 1 < q->size) {
        set_desc(q, i, pa_of(d, b), sizeof h, D_NEXT, (uint16_t)(i + 1));
        set_desc(q, i + 1, pa_of(d, b) + sizeof h, 64, 0, 0);
        q->avail[2 + (q->avail_idx % q->size)] = (uint16_t)i;
        q->avail_idx++;
        i++;
      } else {
        set_desc(q, i, pa_of(d, b), sizeof h + 64, 0, 0);
        q->avail[2 + (q->avail_idx % q->size)] = (uint16_t)i;
        q->avail_idx++;
      }
    }
    BARRIER();
    q->avail[1] = q->avail_idx;
    BARRIER();
    wr(d, R_QUEUE_NOTIFY, 1);
    batches++;
    /* wait for the tx ring to drain (or the device to give up) */
    double end = now() + 2.0;
    while (now() < end) {
      if (rd(d, R_STATUS) & S_NEEDS_RESET) break;
      BARRIER();
      if (q->used[1] == q->avail_idx) break;
      pause_us(200);
    }
    if ((rd(d, R_STATUS) & S_NEEDS_RESET) || q->used[1] != q->avail_idx) {
      resets++;
      if (init_dev_queues(d, 0, 0x3, FLOOD_QSIZE) != 0) { printf("HULL_E2E_HOSTILE_UNEXPECTED vsock re-init refused\n"); g.unexpected++; return; }
      post_rx(d);
    }
    /* re-post consumed rx buffers now and then so replies keep flowing */
    if (batches % 4 == 0) {
      wr(d, R_STATUS, 0);
      if (init_dev_queues(d, 0, 0x3, FLOOD_QSIZE) != 0) { g.unexpected++; return; }
      post_rx(d);
    }
  }
  printf("HULL_E2E_HOSTILE phase=vsock-flood slot=%d packets=%u batches=%u device_resets=%u guest_cid=%llu in %.1f s\n",
         d->slot, sent, batches, resets, (unsigned long long)cid, now() - t0);
  fflush(stdout);
}

/* After the flood: a clean connection to the host listener must still work:
 * REQUEST -> RESPONSE, RW data -> echoed RW back. */
static void vsock_check(struct dev *d, uint32_t listen_port) {
  if (init_dev(d, 0) != 0) { printf("HULL_E2E_HOSTILE_UNEXPECTED vsock check handshake refused\n"); g.unexpected++; return; }
  uint64_t cid;
  memcpy(&cid, (const void *)(d->regs + R_CONFIG), 8);
  post_rx(d);
  struct queue *tx = &d->q[1], *rx = &d->q[0];
  const char *msg = "HOSTILE-VSOCK-STILL-WORKS";
  int got_response = 0, got_echo = 0;
  for (int step = 0; step < 2; step++) {
    struct vsock_hdr h = {cid, 2, 7777, listen_port, 0, 1, (uint16_t)(step == 0 ? 1 : 5), 0, 65536, 0};
    uint8_t *b = buf_at(d, 16 + step);
    if (step == 1) h.len = (uint32_t)strlen(msg);
    memcpy(b, &h, sizeof h);
    memcpy(b + sizeof h, msg, strlen(msg));
    set_desc(tx, step, pa_of(d, b), (uint32_t)(sizeof h + h.len), 0, 0);
    publish(d, 1, (uint16_t)step, 0);
    double end = now() + 20.0;
    while (now() < end && !(step == 0 ? got_response : got_echo)) {
      BARRIER();
      while (rx->used_seen != rx->used[1]) {
        volatile uint32_t *e = (volatile uint32_t *)(rx->used + 2) + 2 * (rx->used_seen % rx->size);
        struct vsock_hdr r;
        memcpy(&r, buf_at(d, 64 + e[0]), sizeof r);
        if (r.op == 2 && r.dst_port == 7777) got_response = 1;
        if (r.op == 5 && r.dst_port == 7777 && r.len == strlen(msg) &&
            memcmp(buf_at(d, 64 + e[0]) + sizeof r, msg, r.len) == 0)
          got_echo = 1;
        rx->used_seen++;
      }
      pause_us(1000);
    }
  }
  struct vsock_hdr rst = {cid, 2, 7777, listen_port, 0, 1, 3, 0, 0, 0};
  memcpy(buf_at(d, 20), &rst, sizeof rst);
  set_desc(tx, 2, pa_of(d, buf_at(d, 20)), sizeof rst, 0, 0);
  publish(d, 1, 2, 0);
  printf("HULL_E2E_HOSTILE_VSOCK_AFTER_FLOOD response=%d echo=%d\n", got_response, got_echo);
  if (!got_response || !got_echo) g.unexpected++;
  wr(d, R_STATUS, 0);
}

/* ---- phase 4: reset with requests in flight, then a valid request ---- */

struct blk_req { uint32_t type, reserved; uint64_t sector; };

/* Queues a read of `sector` into buffer slot `bi` (descriptors 3*k..3*k+2). */
static void blk_read(struct dev *d, unsigned k, uint64_t sector, unsigned bi, uint32_t type) {
  struct queue *q = &d->q[0];
  uint8_t *hb = buf_at(d, 100 + k);
  struct blk_req r = {type, 0, sector};
  memcpy(hb, &r, sizeof r);
  hb[64] = 0xee; /* status, the device sets it */
  set_desc(q, 3 * k, pa_of(d, hb), sizeof r, D_NEXT, (uint16_t)(3 * k + 1));
  set_desc(q, 3 * k + 1, pa_of(d, buf_at(d, bi)), 512, D_NEXT | D_WRITE, (uint16_t)(3 * k + 2));
  set_desc(q, 3 * k + 2, pa_of(d, hb) + 64, 1, D_WRITE, 0);
  q->avail[2 + (q->avail_idx % q->size)] = (uint16_t)(3 * k);
  q->avail_idx++;
}

static int blk_roundtrip(struct dev *d, uint64_t sector, uint32_t type, uint8_t *out512) {
  struct queue *q = &d->q[0];
  memset(buf_at(d, 40), 0, 512);
  if (type == 1) memcpy(buf_at(d, 40), out512, 512);
  blk_read(d, 0, sector, 40, type);
  if (type == 1) q->desc[1].flags = D_NEXT; /* a write: data is device-readable */
  BARRIER();
  q->avail[1] = q->avail_idx;
  BARRIER();
  wr(d, R_QUEUE_NOTIFY, 0);
  if (await(d, 0, 10.0) != CONSUMED) return -1;
  if (buf_at(d, 100)[64] != 0) return -2;
  if (type == 0) memcpy(out512, buf_at(d, 40), 512);
  return 0;
}

static void phase_reset(struct dev *d, const char *pattern) {
  unsigned rounds = 8, in_flight_total = 0;
  for (unsigned r = 0; r < rounds; r++) {
    if (init_dev(d, 0) != 0) { printf("HULL_E2E_HOSTILE_UNEXPECTED slot=%d dev=%s re-init refused\n", d->slot, dev_name(d->id)); g.unexpected++; return; }
    if (d->id == 2) {
      struct queue *q = &d->q[0];
      for (unsigned k = 0; k < q->size / 3; k++) blk_read(d, k, (r * 97 + k * 13) % 2048, 41 + k, 0);
      BARRIER();
      q->avail[1] = q->avail_idx;
      BARRIER();
      wr(d, R_QUEUE_NOTIFY, 0);
      in_flight_total += q->size / 3;
    } else {
      for (int qi = 0; qi < d->nq; qi++) {
        struct queue *q = &d->q[qi];
        const uint16_t w = pops_on_notify(d->id, qi) ? 0 : D_WRITE;
        for (unsigned i = 0; i < q->size; i++) {
          set_desc(q, i, pa_of(d, buf_at(d, 16 + i)), 0x1000, w, 0);
          q->avail[2 + (q->avail_idx % q->size)] = (uint16_t)i;
          q->avail_idx++;
        }
        BARRIER();
        q->avail[1] = q->avail_idx;
        BARRIER();
        wr(d, R_QUEUE_NOTIFY, qi);
        in_flight_total += q->size;
      }
    }
    if (r % 2) pause_us(100 * r); /* sometimes mid-request, sometimes at once */
    wr(d, R_STATUS, 0);
    if (rd(d, R_STATUS) != 0) { printf("HULL_E2E_HOSTILE_UNEXPECTED slot=%d status after reset 0x%x\n", d->slot, rd(d, R_STATUS)); g.unexpected++; }
  }
  /* a valid request must work after all that */
  const char *result = "none";
  if (init_dev(d, 0) != 0) { result = "handshake-refused"; g.unexpected++; }
  else if (d->id == 2) {
    uint8_t sector[512], back[512];
    int rc = blk_roundtrip(d, 0, 0, sector);
    if (rc != 0 || memcmp(sector, pattern, strlen(pattern)) != 0) {
      result = "blk-read-wrong"; g.unexpected++;
      printf("HULL_E2E_HOSTILE_UNEXPECTED blk read after reset rc=%d got '%.24s' want '%s'\n", rc, (char *)sector, pattern);
    } else {
      for (unsigned i = 0; i < 512; i++) sector[i] = (uint8_t)rnd();
      if (blk_roundtrip(d, 8, 1, sector) != 0 || blk_roundtrip(d, 8, 0, back) != 0 || memcmp(sector, back, 512) != 0) {
        result = "blk-write-read-differs"; g.unexpected++;
      } else {
        result = "blk-read-matches-and-write-reads-back";
      }
    }
  } else if (d->id == 4) {
    struct queue *q = &d->q[0];
    set_desc(q, 0, pa_of(d, buf_at(d, 40)), 64, D_WRITE, 0);
    publish(d, 0, 0, 0);
    if (await(d, 0, 10.0) == CONSUMED && ((volatile uint32_t *)(q->used + 2))[1] == 64) result = "rng-64-bytes";
    else { result = "rng-no-answer"; g.unexpected++; }
  } else {
    result = (rd(d, R_STATUS) & S_NEEDS_RESET) ? "needs-reset" : "live";
    if (rd(d, R_STATUS) & S_NEEDS_RESET) g.unexpected++;
  }
  wr(d, R_STATUS, 0);
  printf("HULL_E2E_HOSTILE phase=reset slot=%d dev=%s rounds=%u buffers_in_flight=%u after=%s\n", d->slot,
         dev_name(d->id), rounds, in_flight_total, result);
  fflush(stdout);
}

/* ---- phase 5: a second vCPU resets the device while the first drives it ---- */

struct racer {
  struct dev *d;
  volatile int stop;
  unsigned resets;
};

static void *reset_loop(void *arg) {
  struct racer *r = arg;
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(1, &cpus);
  sched_setaffinity(0, sizeof cpus, &cpus); /* the other vCPU, when there is one */
  uint64_t x = 0x1234567;
  while (!r->stop) {
    wr(r->d, R_STATUS, 0);
    r->resets++;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    pause_us((long)(x % 3000));
  }
  return NULL;
}

/* For `seconds`, this vCPU sets the device up and queues requests (blk:
 * reads; others: buffers on every queue) while the other resets it at random
 * moments; then a valid request must work. */
static void phase_race(struct dev *d, const char *pattern, double seconds) {
  struct racer r = {d, 0, 0};
  pthread_t t;
  if (pthread_create(&t, NULL, reset_loop, &r) != 0) die("pthread_create");
  unsigned rounds = 0, handshakes_ok = 0;
  double end = now() + seconds;
  while (now() < end) {
    rounds++;
    if (init_dev(d, 0) != 0) continue;
    handshakes_ok++;
    for (int qi = 0; qi < d->nq; qi++) {
      struct queue *q = &d->q[qi];
      if (d->id == 2) {
        for (unsigned k = 0; k < q->size / 3; k++) blk_read(d, k, (rounds * 31 + k) % 2048, 41 + k, 0);
      } else {
        const uint16_t w = pops_on_notify(d->id, qi) ? 0 : D_WRITE;
        for (unsigned i = 0; i < q->size; i++) {
          set_desc(q, i, pa_of(d, buf_at(d, 16 + i)), 0x1000, w, 0);
          q->avail[2 + (q->avail_idx % q->size)] = (uint16_t)i;
          q->avail_idx++;
        }
      }
      BARRIER();
      q->avail[1] = q->avail_idx;
      BARRIER();
      wr(d, R_QUEUE_NOTIFY, qi);
    }
    pause_us(500);
  }
  r.stop = 1;
  pthread_join(t, NULL);
  const char *after = "live";
  if (init_dev(d, 0) != 0) { after = "handshake-refused"; g.unexpected++; }
  else if (d->id == 2) {
    uint8_t sector[512];
    if (blk_roundtrip(d, 0, 0, sector) != 0 || memcmp(sector, pattern, strlen(pattern)) != 0) { after = "blk-read-wrong"; g.unexpected++; }
    else after = "blk-read-matches";
  }
  wr(d, R_STATUS, 0);
  printf("HULL_E2E_HOSTILE phase=race slot=%d dev=%s rounds=%u handshakes=%u resets_from_other_vcpu=%u after=%s\n",
         d->slot, dev_name(d->id), rounds, handshakes_ok, r.resets, after);
  fflush(stdout);
}

/* Reads sector `sector` of the disk through this program's own requests
 * until it starts with "STOP" (the host's signal) or `limit_s` pass. */
static int wait_for_host_stop(struct dev *blk, uint64_t sector, double limit_s) {
  double end = now() + limit_s;
  for (;;) {
    uint8_t buf[512];
    int stop = init_dev(blk, 0) == 0 && blk_roundtrip(blk, sector, 0, buf) == 0 && memcmp(buf, "STOP", 4) == 0;
    wr(blk, R_STATUS, 0);
    if (stop) return 1;
    if (now() >= end) return 0;
    pause_us(300000);
  }
}

/* Opens `count` connections to the host's listener on `port` and holds them
 * until the host, which checks meanwhile that hull-vmm still serves its API,
 * writes STOP into sector 3; then a device reset drops them all. */
static void phase_vsock_exhaust(struct dev *d, struct dev *blk, unsigned count, uint32_t port) {
  if (init_dev_queues(d, 0, 0x3, FLOOD_QSIZE) != 0) { printf("HULL_E2E_HOSTILE_UNEXPECTED vsock handshake refused\n"); g.unexpected++; return; }
  uint64_t cid;
  memcpy(&cid, (const void *)(d->regs + R_CONFIG), 8);
  post_rx(d);
  struct queue *q = &d->q[1];
  unsigned sent = 0;
  while (sent < count) {
    for (unsigned i = 0; i < q->size && sent < count; i++, sent++) {
      struct vsock_hdr h = {cid, 2, 20000 + sent, port, 0, 1, 1 /* REQUEST */, 0, 65536, 0};
      uint8_t *b = buf_at(d, 16) + 128 * i;
      memcpy(b, &h, sizeof h);
      set_desc(q, i, pa_of(d, b), sizeof h, 0, 0);
      q->avail[2 + (q->avail_idx % q->size)] = (uint16_t)i;
      q->avail_idx++;
    }
    BARRIER();
    q->avail[1] = q->avail_idx;
    BARRIER();
    wr(d, R_QUEUE_NOTIFY, 1);
    double end = now() + 5.0;
    while (now() < end && q->used[1] != q->avail_idx && !(rd(d, R_STATUS) & S_NEEDS_RESET)) pause_us(1000);
  }
  printf("HULL_E2E_HOSTILE_EXHAUST_HOLDING requested=%u status=0x%x\n", sent, rd(d, R_STATUS));
  fflush(stdout);
  int stopped = blk ? wait_for_host_stop(blk, 3, 120.0) : 0;
  wr(d, R_STATUS, 0);
  printf("HULL_E2E_HOSTILE_EXHAUST_RELEASED %s\n", stopped ? "stopped-by-host" : "time-limit");
  fflush(stdout);
}

/* Keeps attacking (chains on every device, a vsock flood) until the host
 * writes "STOP" into sector 2 of the disk, read through this program's own
 * virtio-blk requests: the host holds the attack on until the ordinary VM
 * beside it has finished, so the two really overlap. */
static void keep_attacking(struct dev *devs, int n, uint64_t ram_end, double limit_s) {
  struct dev *blk = NULL;
  for (int i = 0; i < n; i++)
    if (devs[i].id == 2) blk = &devs[i];
  if (blk == NULL) {
    printf("HULL_E2E_HOSTILE_EXTRA_ROUNDS 0 (no disk to read the host's STOP from)\n");
    return;
  }
  double end = now() + limit_s;
  unsigned rounds = 0;
  int stopped = 0;
  while (!stopped && now() < end) {
    for (int i = 0; i < n; i++) {
      if (devs[i].id == 19) phase_vsock_flood(&devs[i], 1000, 6000);
      else phase_chains(&devs[i], ram_end);
    }
    rounds++;
    stopped = wait_for_host_stop(blk, 2, 0);
  }
  printf("HULL_E2E_HOSTILE_EXTRA_ROUNDS %u %s\n", rounds, stopped ? "stopped-by-host" : "time-limit");
  fflush(stdout);
}

static int attack(int argc, char **argv) {
  if (argc != 7) { fprintf(stderr, "usage: hostile attack MMIO_BASE SLOTS SCRATCH_PA SCRATCH_LEN PATTERN\n"); return 2; }
  uint64_t mmio_base = strtoull(argv[2], NULL, 0);
  int slots = atoi(argv[3]);
  g.scratch_pa = strtoull(argv[4], NULL, 0);
  g.scratch_len = strtoull(argv[5], NULL, 0);
  const char *pattern = argv[6];
  g.rng = 0x9e3779b97f4a7c15ull;
  if (slots < 1 || slots > MAX_SLOTS || g.scratch_len < (uint64_t)MAX_SLOTS * AREA) {
    fprintf(stderr, "hostile: need 1..%d slots and %u bytes of scratch\n", MAX_SLOTS, MAX_SLOTS * AREA);
    return 2;
  }
  int fd = open("/dev/mem", O_RDWR | O_SYNC);
  if (fd < 0) die("open /dev/mem");
  g.scratch = map_phys(fd, g.scratch_pa, g.scratch_len);
  uint64_t ram_end = 0;
  {
    FILE *f = fopen("/proc/iomem", "r"); /* the last System RAM line's end */
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
      unsigned long long a, b;
      if (strstr(line, "System RAM") && sscanf(line, "%llx-%llx", &a, &b) == 2) ram_end = b + 1;
    }
    if (f) fclose(f);
  }
  if (ram_end == 0) ram_end = 0x10000000;
  struct dev devs[MAX_SLOTS];
  int n = 0, empty_slot = -1;
  for (int s = 0; s < slots; s++) {
    struct dev *d = &devs[n];
    memset(d, 0, sizeof *d);
    d->slot = s;
    d->pa = mmio_base + (uint64_t)s * 0x1000;
    d->regs = map_phys(fd, d->pa, 0x1000);
    d->area = g.scratch + (uint64_t)s * AREA;
    d->area_pa = g.scratch_pa + (uint64_t)s * AREA;
    if (rd(d, R_MAGIC) != MAGIC) {
      if (empty_slot < 0) empty_slot = s;
      continue;
    }
    d->id = rd(d, R_DEVICE_ID);
    printf("HULL_E2E_HOSTILE_DEVICE slot=%d pa=0x%llx dev=%s version=%u\n", s, (unsigned long long)d->pa,
           dev_name(d->id), rd(d, R_VERSION));
    n++;
  }
  printf("HULL_E2E_HOSTILE_FOUND devices=%d ram_end=0x%llx\n", n, (unsigned long long)ram_end);
  fflush(stdout);
  double t0 = now();
  /* writes into an empty slot of the MMIO window must be harmless too */
  if (empty_slot >= 0) {
    volatile uint32_t *hole = map_phys(fd, mmio_base + (uint64_t)empty_slot * 0x1000, 0x1000);
    for (unsigned off = 0; off < 0x1000 / 4; off += 3) { hole[off] = (uint32_t)rnd(); (void)hole[off]; }
    printf("HULL_E2E_HOSTILE phase=registers slot=%d dev=none (empty slot) ok\n", empty_slot);
  }
  for (int i = 0; i < n; i++) phase_registers(&devs[i]);
  printf("HULL_E2E_HOSTILE_PHASE_DONE registers %.1f s\n", now() - t0);
  for (int i = 0; i < n; i++) phase_chains(&devs[i], ram_end);
  printf("HULL_E2E_HOSTILE_PHASE_DONE chains %.1f s rejected=%u consumed=%u silent=%u\n", now() - t0, g.rejected,
         g.consumed, g.silent);
  for (int i = 0; i < n; i++) {
    if (devs[i].id != 19) continue;
    phase_vsock_flood(&devs[i], 4000, 6000);
    vsock_check(&devs[i], 6000);
  }
  printf("HULL_E2E_HOSTILE_PHASE_DONE vsock %.1f s\n", now() - t0);
  for (int i = 0; i < n; i++) phase_reset(&devs[i], pattern);
  printf("HULL_E2E_HOSTILE_PHASE_DONE reset %.1f s\n", now() - t0);
  for (int i = 0; i < n; i++) phase_race(&devs[i], pattern, 2.0);
  printf("HULL_E2E_HOSTILE_PHASE_DONE race %.1f s cpus=%ld\n", now() - t0, sysconf(_SC_NPROCESSORS_ONLN));
  printf("HULL_E2E_HOSTILE_MAIN_DONE\n");
  fflush(stdout);
  keep_attacking(devs, n, ram_end, 240.0);
  struct dev *blk = NULL;
  for (int i = 0; i < n; i++)
    if (devs[i].id == 2) blk = &devs[i];
  for (int i = 0; i < n; i++)
    if (devs[i].id == 19) phase_vsock_exhaust(&devs[i], blk, 1200, 6000);
  printf("HULL_E2E_HOSTILE_DONE devices=%d unexpected=%u\n", n, g.unexpected);
  fflush(stdout);
  return g.unexpected ? 1 : 0;
}

/* ---- the ordinary VM's vsock echo and the host's echo server ---- */

static int vsock_echo(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: hostile vsock-echo PORT BYTES\n"); return 2; }
  size_t bytes = strtoul(argv[3], NULL, 0);
  int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (fd < 0) die("socket AF_VSOCK");
  struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = 2, .svm_port = (unsigned)atoi(argv[2])};
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("vsock connect to the host");
  uint8_t *out = malloc(bytes), *in = malloc(bytes);
  if (!out || !in) die("malloc");
  for (size_t i = 0; i < bytes; i++) out[i] = (uint8_t)(i * 7 + 3);
  size_t sent = 0, got = 0;
  while (got < bytes) { /* interleave, so neither side's buffers fill up */
    if (sent < bytes) {
      ssize_t n = write(fd, out + sent, bytes - sent > 4096 ? 4096 : bytes - sent);
      if (n < 0) die("vsock write");
      sent += (size_t)n;
    }
    ssize_t n = read(fd, in + got, bytes - got);
    if (n <= 0) die("vsock read (the echo stopped)");
    got += (size_t)n;
  }
  close(fd);
  printf("HULL_E2E_NORMAL_VSOCK_ECHO %s bytes=%zu\n", memcmp(in, out, bytes) == 0 ? "match" : "differs", bytes);
  return memcmp(in, out, bytes) == 0 ? 0 : 1;
}

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static int host_echo(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: hostile host-echo PATH\n"); return 2; }
  signal(SIGTERM, on_term);
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[2]);
  unlink(a.sun_path);
  if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 256) != 0) die("host-echo listen");
  /* Accept (and hold) as many connections as a guest opens: the test wants
   * hull-vmm, not this listener, to be the limit. */
  struct rlimit lim = {8192, 8192};
  setrlimit(RLIMIT_NOFILE, &lim);
  enum { MAXC = 4096 };
  static struct pollfd p[MAXC + 1];
  int nc = 0;
  unsigned long long accepted = 0, bytes = 0;
  p[0].fd = ls; p[0].events = POLLIN;
  while (!stop) {
    if (poll(p, nc + 1, 200) < 0) continue;
    if ((p[0].revents & POLLIN) && nc < MAXC) {
      int c = accept(ls, NULL, NULL);
      if (c >= 0) { p[++nc].fd = c; p[nc].events = POLLIN; p[nc].revents = 0; accepted++; }
    }
    for (int i = 1; i <= nc; i++) {
      if (!p[i].revents) continue;
      char buf[65536];
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n > 0 && write(p[i].fd, buf, (size_t)n) == n) { bytes += (unsigned long long)n; continue; }
      close(p[i].fd);
      p[i] = p[nc--];
      i--;
    }
  }
  unlink(a.sun_path);
  printf("host-echo: accepted=%llu echoed_bytes=%llu\n", accepted, bytes);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 2 && strcmp(argv[1], "attack") == 0) return attack(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "vsock-echo") == 0) return vsock_echo(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "host-echo") == 0) return host_echo(argc, argv);
  fprintf(stderr, "usage: hostile attack|vsock-echo|host-echo ...\n");
  return 2;
}
