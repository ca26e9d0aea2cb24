/*
 * Keccak-256 as Ethereum uses it, and the batch operations of the dataset Merkle tree.
 *
 * Ethereum's keccak256 is the original Keccak submission with a 256-bit output: rate 1088
 * bits (136 bytes), capacity 512 bits, and the padding pad10*1 with a first padding byte of
 * 0x01. NIST's SHA3-256 differs only in that first byte (0x06), so the two never agree.
 *
 * The tree rules (docs/hashing.md, sections 3 and 4) need three kinds of hash in bulk:
 *
 *   leaf(h)   = keccak256(keccak256(h))                 h a 32-byte datapoint hash
 *   H(a, b)   = keccak256(min(a, b) || max(a, b))        a, b 32-byte nodes
 *
 * and a sort of the leaves. Every batch function here works on flat buffers of 32-byte
 * items, releases the GIL, and splits its items across threads that take blocks of work
 * from a shared counter, so a busy core does not hold the others up.
 *
 * Python API (module modelmint.hashing._keccak):
 *   keccak256(data) -> bytes
 *   leaves(hashes, out, threads)           out[i] = leaf(hashes[i])
 *   parents(children, out, threads)        out[i] = H(children[2i], children[2i + 1])
 *   sort_leaves(leaves, order, threads)    sorts leaves in place; order[k] = old position
 *   subtree_roots(sorted, first, out, threads)
 *                                          out[j] = tree[first + j] of OpenZeppelin's layout
 * Buffers are bytes-like objects of whole 32-byte items; `out`, `leaves` and `order` must be
 * writable. `order` holds native uint32 values.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HASH_SIZE 32
#define RATE 136 /* bytes absorbed per permutation: (1600 - 2 * 256) / 8 */
#define MAX_THREADS 256

/* ---------------------------------------------------------------------------------------
 * The Keccak-f[1600] permutation.
 *
 * The state is 25 lanes of 64 bits; lane (x, y) is s[x + 5y]. In the round macro below a
 * lane is named by its row y (b, g, k, m, s for y = 0..4) then its column x (a, e, i, o, u
 * for x = 0..4), as in the Keccak team's reference code: `ge` is (x = 1, y = 1). Each of
 * the 24 rounds is
 *   theta  C[x] = xor of column x; D[x] = C[x - 1] ^ rotl(C[x + 1], 1); every lane ^= D[x]
 *   rho    lane (x, y) is rotated left by a fixed offset (the numbers in the macro)
 *   pi     lane (x, y) moves to (y, 2x + 3y mod 5)
 *   chi    along each row, out[x] = b[x] ^ (~b[x + 1] & b[x + 2])   (the non-linear step)
 *   iota   lane (0, 0) ^= the round constant.
 * One macro does a whole round from state I into state O: per output row it gathers the
 * five lanes that pi brings there (rho applied), then applies chi. Rounds alternate
 * between two sets of local variables, so the state stays in registers.
 * ------------------------------------------------------------------------------------- */

static const uint64_t ROUND_CONSTANTS[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

#define ROL64(x, n) (((x) << (n)) | ((x) >> (64 - (n)))) /* 0 < n < 64 */

#define KECCAK_ROUND(I, O, rc)                                                                        \
    do {                                                                                              \
        uint64_t Ca, Ce, Ci, Co, Cu, Da, De, Di, Do, Du, Ba, Be, Bi, Bo, Bu;                          \
        Ca = I##ba ^ I##ga ^ I##ka ^ I##ma ^ I##sa;                                                   \
        Ce = I##be ^ I##ge ^ I##ke ^ I##me ^ I##se;                                                   \
        Ci = I##bi ^ I##gi ^ I##ki ^ I##mi ^ I##si;                                                   \
        Co = I##bo ^ I##go ^ I##ko ^ I##mo ^ I##so;                                                   \
        Cu = I##bu ^ I##gu ^ I##ku ^ I##mu ^ I##su;                                                   \
        Da = Cu ^ ROL64(Ce, 1);                                                                       \
        De = Ca ^ ROL64(Ci, 1);                                                                       \
        Di = Ce ^ ROL64(Co, 1);                                                                       \
        Do = Ci ^ ROL64(Cu, 1);                                                                       \
        Du = Co ^ ROL64(Ca, 1);                                                                       \
        /* row b */                                                                                   \
        Ba = I##ba ^ Da;                                                                              \
        Be = ROL64(I##ge ^ De, 44);                                                                   \
        Bi = ROL64(I##ki ^ Di, 43);                                                                   \
        Bo = ROL64(I##mo ^ Do, 21);                                                                   \
        Bu = ROL64(I##su ^ Du, 14);                                                                   \
        O##ba = Ba ^ (~Be & Bi) ^ (rc);                                                               \
        O##be = Be ^ (~Bi & Bo);                                                                      \
        O##bi = Bi ^ (~Bo & Bu);                                                                      \
        O##bo = Bo ^ (~Bu & Ba);                                                                      \
        O##bu = Bu ^ (~Ba & Be);                                                                      \
        /* row g */                                                                                   \
        Ba = ROL64(I##bo ^ Do, 28);                                                                   \
        Be = ROL64(I##gu ^ Du, 20);                                                                   \
        Bi = ROL64(I##ka ^ Da, 3);                                                                    \
        Bo = ROL64(I##me ^ De, 45);                                                                   \
        Bu = ROL64(I##si ^ Di, 61);                                                                   \
        O##ga = Ba ^ (~Be & Bi);                                                                      \
        O##ge = Be ^ (~Bi & Bo);                                                                      \
        O##gi = Bi ^ (~Bo & Bu);                                                                      \
        O##go = Bo ^ (~Bu & Ba);                                                                      \
        O##gu = Bu ^ (~Ba & Be);                                                                      \
        /* row k */                                                                                   \
        Ba = ROL64(I##be ^ De, 1);                                                                    \
        Be = ROL64(I##gi ^ Di, 6);                                                                    \
        Bi = ROL64(I##ko ^ Do, 25);                                                                   \
        Bo = ROL64(I##mu ^ Du, 8);                                                                    \
        Bu = ROL64(I##sa ^ Da, 18);                                                                   \
        O##ka = Ba ^ (~Be & Bi);                                                                      \
        O##ke = Be ^ (~Bi & Bo);                                                                      \
        O##ki = Bi ^ (~Bo & Bu);                                                                      \
        O##ko = Bo ^ (~Bu & Ba);                                                                      \
        O##ku = Bu ^ (~Ba & Be);                                                                      \
        /* row m */                                                                                   \
        Ba = ROL64(I##bu ^ Du, 27);                                                                   \
        Be = ROL64(I##ga ^ Da, 36);                                                                   \
        Bi = ROL64(I##ke ^ De, 10);                                                                   \
        Bo = ROL64(I##mi ^ Di, 15);                                                                   \
        Bu = ROL64(I##so ^ Do, 56);                                                                   \
        O##ma = Ba ^ (~Be & Bi);                                                                      \
        O##me = Be ^ (~Bi & Bo);                                                                      \
        O##mi = Bi ^ (~Bo & Bu);                                                                      \
        O##mo = Bo ^ (~Bu & Ba);                                                                      \
        O##mu = Bu ^ (~Ba & Be);                                                                      \
        /* row s */                                                                                   \
        Ba = ROL64(I##bi ^ Di, 62);                                                                   \
        Be = ROL64(I##go ^ Do, 55);                                                                   \
        Bi = ROL64(I##ku ^ Du, 39);                                                                   \
        Bo = ROL64(I##ma ^ Da, 41);                                                                   \
        Bu = ROL64(I##se ^ De, 2);                                                                    \
        O##sa = Ba ^ (~Be & Bi);                                                                      \
        O##se = Be ^ (~Bi & Bo);                                                                      \
        O##si = Bi ^ (~Bo & Bu);                                                                      \
        O##so = Bo ^ (~Bu & Ba);                                                                      \
        O##su = Bu ^ (~Ba & Be);                                                                      \
    } while (0)

static void keccak_f1600(uint64_t s[25]) {
    uint64_t Aba = s[0], Abe = s[1], Abi = s[2], Abo = s[3], Abu = s[4];
    uint64_t Aga = s[5], Age = s[6], Agi = s[7], Ago = s[8], Agu = s[9];
    uint64_t Aka = s[10], Ake = s[11], Aki = s[12], Ako = s[13], Aku = s[14];
    uint64_t Ama = s[15], Ame = s[16], Ami = s[17], Amo = s[18], Amu = s[19];
    uint64_t Asa = s[20], Ase = s[21], Asi = s[22], Aso = s[23], Asu = s[24];
    uint64_t Eba, Ebe, Ebi, Ebo, Ebu, Ega, Ege, Egi, Ego, Egu, Eka, Eke, Eki, Eko, Eku;
    uint64_t Ema, Eme, Emi, Emo, Emu, Esa, Ese, Esi, Eso, Esu;
    for (int round = 0; round < 24; round += 2) {
        KECCAK_ROUND(A, E, ROUND_CONSTANTS[round]);
        KECCAK_ROUND(E, A, ROUND_CONSTANTS[round + 1]);
    }
    s[0] = Aba, s[1] = Abe, s[2] = Abi, s[3] = Abo, s[4] = Abu;
    s[5] = Aga, s[6] = Age, s[7] = Agi, s[8] = Ago, s[9] = Agu;
    s[10] = Aka, s[11] = Ake, s[12] = Aki, s[13] = Ako, s[14] = Aku;
    s[15] = Ama, s[16] = Ame, s[17] = Ami, s[18] = Amo, s[19] = Amu;
    s[20] = Asa, s[21] = Ase, s[22] = Asi, s[23] = Aso, s[24] = Asu;
}

/* Lanes are little-endian; byte by byte keeps this right on any host, and compilers turn
 * it into one load or store on little-endian ones. */
static inline uint64_t load64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline void store64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* keccak256 of any input: absorb whole blocks, then the last partial block with its padding
 * (0x01 after the message, 0x80 in the last byte of the block; one byte 0x81 if they meet). */
static void keccak256(const uint8_t *data, size_t len, uint8_t out[HASH_SIZE]) {
    uint64_t a[25] = {0};
    uint8_t block[RATE];
    while (len >= RATE) {
        for (int i = 0; i < RATE / 8; i++)
            a[i] ^= load64(data + 8 * i);
        keccak_f1600(a);
        data += RATE;
        len -= RATE;
    }
    memset(block, 0, RATE);
    memcpy(block, data, len);
    block[len] ^= 0x01;
    block[RATE - 1] ^= 0x80;
    for (int i = 0; i < RATE / 8; i++)
        a[i] ^= load64(block + 8 * i);
    keccak_f1600(a);
    for (int i = 0; i < 4; i++)
        store64(out + 8 * i, a[i]);
}

/* The padding of a message of 32 bytes (4 lanes) or 64 bytes (8 lanes) in one block: 0x01
 * in the first byte after it, 0x80 in the last byte of the block (byte 135, lane 16). */
#define PAD_FIRST 0x01ULL
#define PAD_LAST 0x8000000000000000ULL

/* leaf(h) = keccak256(keccak256(h)). The first digest's four lanes are the second
 * message's four lanes, so it never leaves registers. */
static void leaf_hash(const uint8_t h[HASH_SIZE], uint8_t out[HASH_SIZE]) {
    uint64_t a[25] = {0};
    for (int i = 0; i < 4; i++)
        a[i] = load64(h + 8 * i);
    a[4] = PAD_FIRST;
    a[16] = PAD_LAST;
    keccak_f1600(a);
    uint64_t d0 = a[0], d1 = a[1], d2 = a[2], d3 = a[3];
    memset(a, 0, sizeof a);
    a[0] = d0, a[1] = d1, a[2] = d2, a[3] = d3;
    a[4] = PAD_FIRST;
    a[16] = PAD_LAST;
    keccak_f1600(a);
    for (int i = 0; i < 4; i++)
        store64(out + 8 * i, a[i]);
}

/* H(a, b) = keccak256(min(a, b) || max(a, b)), comparing nodes as big-endian numbers,
 * which is bytewise comparison. `out` may alias either input. */
static void pair_hash(const uint8_t *x, const uint8_t *y, uint8_t out[HASH_SIZE]) {
    if (memcmp(x, y, HASH_SIZE) > 0) {
        const uint8_t *t = x;
        x = y;
        y = t;
    }
    uint64_t a[25] = {0};
    for (int i = 0; i < 4; i++) {
        a[i] = load64(x + 8 * i);
        a[i + 4] = load64(y + 8 * i);
    }
    a[8] = PAD_FIRST;
    a[16] = PAD_LAST;
    keccak_f1600(a);
    for (int i = 0; i < 4; i++)
        store64(out + 8 * i, a[i]);
}

/* ---------------------------------------------------------------------------------------
 * Threads: run body(job, begin, end) over [0, count) in blocks of `block` items, taken
 * from a shared counter by `threads` workers (the calling thread is one of them).
 * ------------------------------------------------------------------------------------- */

typedef struct job job_t;
typedef void (*body_fn)(job_t *job, size_t begin, size_t end);

struct job {
    body_fn body;
    size_t count, block;
    atomic_size_t next;
    atomic_int failed; /* set by a body that could not allocate */
    /* the operation's arguments */
    const uint8_t *in;
    uint8_t *out;
    uint32_t *order;
    uint64_t *keys;
    const uint32_t *bucket_start; /* bucket b holds order[bucket_start[b] .. bucket_start[b + 1]] */
    size_t n, first, max_bucket;
};

static void *worker(void *arg) {
    job_t *job = arg;
    for (;;) {
        size_t begin = atomic_fetch_add(&job->next, job->block);
        if (begin >= job->count)
            return NULL;
        size_t end = begin + job->block < job->count ? begin + job->block : job->count;
        job->body(job, begin, end);
    }
}

/* Runs the job; the caller releases the GIL around it. Small jobs stay on one thread:
 * starting a thread costs about as much as hashing a few hundred items. */
static void run_job(job_t *job, int threads) {
    pthread_t ids[MAX_THREADS];
    int started = 0;
    size_t blocks = (job->count + job->block - 1) / job->block;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((size_t)threads > blocks)
        threads = (int)blocks;
    atomic_store(&job->next, 0);
    atomic_store(&job->failed, 0);
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&ids[started], NULL, worker, job) == 0)
            started++;
    }
    worker(job); /* if no thread could start, this one does all the work */
    for (int i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
}

/* ---------------------------------------------------------------------------------------
 * Batch bodies.
 * ------------------------------------------------------------------------------------- */

static void leaves_body(job_t *job, size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++)
        leaf_hash(job->in + HASH_SIZE * i, job->out + HASH_SIZE * i);
}

static void parents_body(job_t *job, size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++)
        pair_hash(job->in + 2 * HASH_SIZE * i, job->in + 2 * HASH_SIZE * i + HASH_SIZE, job->out + HASH_SIZE * i);
}

/* Node t of OpenZeppelin's tree over n sorted leaves: tree[t] for t >= n - 1 is the leaf of
 * rank 2n - 2 - t (the smallest leaf goes last), else H(tree[2t + 1], tree[2t + 2]). The
 * recursion is at most 64 deep (the tree's height) and visits the subtree's leaves in order. */
static void tree_node(const uint8_t *sorted, size_t n, size_t t, uint8_t out[HASH_SIZE]) {
    if (t >= n - 1) {
        memcpy(out, sorted + HASH_SIZE * (2 * n - 2 - t), HASH_SIZE);
        return;
    }
    uint8_t left[HASH_SIZE], right[HASH_SIZE];
    tree_node(sorted, n, 2 * t + 1, left);
    tree_node(sorted, n, 2 * t + 2, right);
    pair_hash(left, right, out);
}

static void subtree_body(job_t *job, size_t begin, size_t end) {
    for (size_t j = begin; j < end; j++)
        tree_node(job->in, job->n, job->first + j, job->out + HASH_SIZE * j);
}

/* ---------------------------------------------------------------------------------------
 * Sorting leaves, stably (equal leaves keep dataset order, as JavaScript's sort does in
 * OpenZeppelin's library).
 *
 * 1. A counting pass puts each position in the bucket of its leaf's top bits, positions
 *    ascending within a bucket, and records each leaf's first 8 bytes beside it (`keys`,
 *    as a big-endian number), so that sorting a bucket reads memory in order.
 * 2. Each bucket is sorted by (first 8 bytes, then all 32 bytes, then position): an
 *    insertion sort for the usual few items, a merge sort for big buckets (which only many
 *    repeated datapoints make).
 * 3. The leaves are permuted in place into that order, following its cycles.
 * ------------------------------------------------------------------------------------- */

static inline int leaf_less(const job_t *job, uint64_t ka, uint32_t pa, uint64_t kb, uint32_t pb) {
    if (ka != kb)
        return ka < kb;
    int c = memcmp(job->in + HASH_SIZE * (size_t)pa, job->in + HASH_SIZE * (size_t)pb, HASH_SIZE);
    return c != 0 ? c < 0 : pa < pb;
}

static void insertion_sort(const job_t *job, uint64_t *keys, uint32_t *pos, size_t count) {
    for (size_t i = 1; i < count; i++) {
        uint64_t k = keys[i];
        uint32_t p = pos[i];
        size_t j = i;
        while (j > 0 && leaf_less(job, k, p, keys[j - 1], pos[j - 1])) {
            keys[j] = keys[j - 1];
            pos[j] = pos[j - 1];
            j--;
        }
        keys[j] = k;
        pos[j] = p;
    }
}

/* Bottom-up merge sort of (keys, pos) using scratch arrays of the same size. */
static void merge_sort(const job_t *job, uint64_t *keys, uint32_t *pos, size_t count, uint64_t *tk, uint32_t *tp) {
    const size_t run = 16;
    for (size_t i = 0; i < count; i += run)
        insertion_sort(job, keys + i, pos + i, count - i < run ? count - i : run);
    uint64_t *sk = keys, *dk = tk;
    uint32_t *sp = pos, *dp = tp;
    for (size_t width = run; width < count; width *= 2) {
        for (size_t lo = 0; lo < count; lo += 2 * width) {
            size_t mid = lo + width < count ? lo + width : count;
            size_t hi = lo + 2 * width < count ? lo + 2 * width : count;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (leaf_less(job, sk[j], sp[j], sk[i], sp[i]))
                    dk[k] = sk[j], dp[k++] = sp[j++];
                else
                    dk[k] = sk[i], dp[k++] = sp[i++];
            }
            while (i < mid)
                dk[k] = sk[i], dp[k++] = sp[i++];
            while (j < hi)
                dk[k] = sk[j], dp[k++] = sp[j++];
        }
        uint64_t *xk = sk;
        sk = dk, dk = xk;
        uint32_t *xp = sp;
        sp = dp, dp = xp;
    }
    if (sk != keys) {
        memcpy(keys, sk, count * sizeof *keys);
        memcpy(pos, sp, count * sizeof *pos);
    }
}

static void sort_buckets_body(job_t *job, size_t begin, size_t end) {
    uint64_t *tk = NULL;
    uint32_t *tp = NULL;
    for (size_t b = begin; b < end; b++) {
        size_t lo = job->bucket_start[b], count = job->bucket_start[b + 1] - lo;
        if (count <= 16) {
            insertion_sort(job, job->keys + lo, job->order + lo, count);
            continue;
        }
        if (tk == NULL) {
            tk = malloc(job->max_bucket * sizeof *tk);
            tp = malloc(job->max_bucket * sizeof *tp);
            if (tk == NULL || tp == NULL) {
                atomic_store(&job->failed, 1);
                break;
            }
        }
        merge_sort(job, job->keys + lo, job->order + lo, count, tk, tp);
    }
    free(tk);
    free(tp);
}

static inline uint64_t load64_be(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Returns 0, or -1 when memory ran out. Called without the GIL. */
static int sort_leaves(uint8_t *leaves, uint32_t *order, size_t n, int threads) {
    /* About four leaves a bucket, at most 2^20 buckets (4 MiB of counts). */
    int bits = 1;
    while (bits < 20 && ((size_t)1 << (bits + 2)) < n)
        bits++;
    size_t buckets = (size_t)1 << bits;
    uint32_t *start = calloc(buckets + 1, sizeof *start);
    uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    uint8_t *visited = calloc(n / 8 + 1, 1);
    if (start == NULL || keys == NULL || visited == NULL) {
        free(start), free(keys), free(visited);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        start[(load64_be(leaves + HASH_SIZE * i) >> (64 - bits)) + 1]++;
    size_t max_bucket = 0;
    for (size_t b = 0; b < buckets; b++) {
        if (start[b + 1] > max_bucket)
            max_bucket = start[b + 1];
        start[b + 1] += start[b];
    }
    /* Scatter positions (ascending, so each bucket starts in dataset order); `start[b]`
     * serves as bucket b's cursor and ends at bucket b + 1's start. */
    for (size_t i = 0; i < n; i++) {
        uint64_t key = load64_be(leaves + HASH_SIZE * i);
        uint32_t slot = start[key >> (64 - bits)]++;
        keys[slot] = key;
        order[slot] = (uint32_t)i;
    }
    memmove(start + 1, start, buckets * sizeof *start);
    start[0] = 0;

    job_t job = {.body = sort_buckets_body, .count = buckets, .block = 1024, .in = leaves,
                 .order = order, .keys = keys, .bucket_start = start, .max_bucket = max_bucket};
    run_job(&job, threads);
    free(keys);
    free(start);
    if (atomic_load(&job.failed)) {
        free(visited);
        return -1;
    }

    /* Permute in place: the leaf at rank k is the old leaves[order[k]]. Each cycle of the
     * permutation is walked once, saving its first leaf. */
    for (size_t k = 0; k < n; k++) {
        if ((visited[k / 8] & (1u << (k % 8))) || order[k] == k)
            continue;
        uint8_t first[HASH_SIZE];
        memcpy(first, leaves + HASH_SIZE * k, HASH_SIZE);
        size_t j = k;
        for (;;) {
            visited[j / 8] |= (uint8_t)(1u << (j % 8));
            size_t src = order[j];
            if (src == k) {
                memcpy(leaves + HASH_SIZE * j, first, HASH_SIZE);
                break;
            }
            memcpy(leaves + HASH_SIZE * j, leaves + HASH_SIZE * src, HASH_SIZE);
            j = src;
        }
    }
    free(visited);
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Python bindings.
 * ------------------------------------------------------------------------------------- */

static int check_items(Py_buffer *buf, size_t item, const char *what) {
    if (buf->len % item) {
        PyErr_Format(PyExc_ValueError, "%s must be a whole number of %zu-byte items, got %zd bytes", what, item, buf->len);
        return -1;
    }
    return 0;
}

static int check_threads(int threads) {
    if (threads < 1) {
        PyErr_SetString(PyExc_ValueError, "threads must be at least 1");
        return -1;
    }
    return 0;
}

static PyObject *py_keccak256(PyObject *module, PyObject *arg) {
    Py_buffer data;
    uint8_t out[HASH_SIZE];
    if (PyObject_GetBuffer(arg, &data, PyBUF_SIMPLE) < 0)
        return NULL;
    if (data.len >= 4096) {
        Py_BEGIN_ALLOW_THREADS
        keccak256(data.buf, (size_t)data.len, out);
        Py_END_ALLOW_THREADS
    } else {
        keccak256(data.buf, (size_t)data.len, out);
    }
    PyBuffer_Release(&data);
    return PyBytes_FromStringAndSize((const char *)out, HASH_SIZE);
}

static PyObject *py_leaves(PyObject *module, PyObject *args) {
    Py_buffer in, out;
    int threads;
    if (!PyArg_ParseTuple(args, "y*w*i:leaves", &in, &out, &threads))
        return NULL;
    PyObject *result = NULL;
    if (check_items(&in, HASH_SIZE, "hashes") < 0 || check_threads(threads) < 0)
        goto done;
    if (out.len != in.len) {
        PyErr_SetString(PyExc_ValueError, "out must be as long as hashes");
        goto done;
    }
    job_t job = {.body = leaves_body, .count = (size_t)in.len / HASH_SIZE, .block = 4096, .in = in.buf, .out = out.buf};
    Py_BEGIN_ALLOW_THREADS
    run_job(&job, threads);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&in);
    PyBuffer_Release(&out);
    return result;
}

static PyObject *py_parents(PyObject *module, PyObject *args) {
    Py_buffer in, out;
    int threads;
    if (!PyArg_ParseTuple(args, "y*w*i:parents", &in, &out, &threads))
        return NULL;
    PyObject *result = NULL;
    if (check_items(&in, 2 * HASH_SIZE, "children") < 0 || check_threads(threads) < 0)
        goto done;
    if (out.len != in.len / 2) {
        PyErr_SetString(PyExc_ValueError, "out must be half as long as children");
        goto done;
    }
    job_t job = {.body = parents_body, .count = (size_t)out.len / HASH_SIZE, .block = 4096, .in = in.buf, .out = out.buf};
    Py_BEGIN_ALLOW_THREADS
    run_job(&job, threads);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&in);
    PyBuffer_Release(&out);
    return result;
}

static PyObject *py_sort_leaves(PyObject *module, PyObject *args) {
    Py_buffer leaves, order;
    int threads, failed = 0;
    if (!PyArg_ParseTuple(args, "w*w*i:sort_leaves", &leaves, &order, &threads))
        return NULL;
    PyObject *result = NULL;
    size_t n = (size_t)leaves.len / HASH_SIZE;
    if (check_items(&leaves, HASH_SIZE, "leaves") < 0 || check_threads(threads) < 0)
        goto done;
    if ((size_t)order.len != n * sizeof(uint32_t)) {
        PyErr_SetString(PyExc_ValueError, "order must hold one uint32 per leaf");
        goto done;
    }
    if (n > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "cannot sort more than 2^32 - 1 leaves");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    failed = sort_leaves(leaves.buf, order.buf, n, threads);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&leaves);
    PyBuffer_Release(&order);
    return result;
}

static PyObject *py_subtree_roots(PyObject *module, PyObject *args) {
    Py_buffer sorted, out;
    Py_ssize_t first;
    int threads;
    if (!PyArg_ParseTuple(args, "y*nw*i:subtree_roots", &sorted, &first, &out, &threads))
        return NULL;
    PyObject *result = NULL;
    size_t n = (size_t)sorted.len / HASH_SIZE, count = (size_t)out.len / HASH_SIZE;
    if (check_items(&sorted, HASH_SIZE, "sorted") < 0 || check_items(&out, HASH_SIZE, "out") < 0 ||
        check_threads(threads) < 0)
        goto done;
    if (n == 0 || first < 0 || (size_t)first + count > 2 * n - 1) {
        PyErr_SetString(PyExc_ValueError, "nodes out of the tree's range");
        goto done;
    }
    /* A block of nodes near the root is a lot of work: hand them out one at a time there. */
    job_t job = {.body = subtree_body, .count = count, .block = count < 64 * (size_t)threads ? 1 : 16,
                 .in = sorted.buf, .out = out.buf, .n = n, .first = (size_t)first};
    Py_BEGIN_ALLOW_THREADS
    run_job(&job, threads);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&sorted);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"keccak256", py_keccak256, METH_O, "keccak256(data) -> bytes: Ethereum's Keccak-256 (not SHA3-256)."},
    {"leaves", py_leaves, METH_VARARGS,
     "leaves(hashes, out, threads): out[i] = keccak256(keccak256(hashes[i])) for each 32-byte item."},
    {"parents", py_parents, METH_VARARGS,
     "parents(children, out, threads): out[i] = keccak256(min || max) of the 32-byte items 2i and 2i + 1."},
    {"sort_leaves", py_sort_leaves, METH_VARARGS,
     "sort_leaves(leaves, order, threads): sort 32-byte leaves ascending in place, equal ones by position; "
     "order (uint32 each) receives the old position of each sorted leaf."},
    {"subtree_roots", py_subtree_roots, METH_VARARGS,
     "subtree_roots(sorted, first, out, threads): out[j] = node first + j of OpenZeppelin's tree over the "
     "ascending leaves in sorted."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_keccak",
    "Ethereum's Keccak-256 and the dataset Merkle tree's batch hashing, in C (see _keccak.c).", -1, methods,
};

PyMODINIT_FUNC PyInit__keccak(void) { return PyModule_Create(&module); }
