/*
 * The fast route for JSON Lines: RFC 8785 (JCS) canonical bytes of a JSON text, and the
 * SHA-256 of each line of a piece of a JSONL file, in C.
 *
 * This is an accelerator, never a second rule: docs/hashing.md specifies the canonical
 * form and canonical.py (with the rfc8785 package) is its exact implementation. Here a line
 * is canonicalised only when this code can vouch for the result byte for byte; anything
 * else is handed back ("slow") and Python takes the exact route, which also words any
 * error. A text is handed back when it
 *   - is not strict UTF-8, or not one JSON value (Python decides what is wrong with it);
 *   - has a repeated object key, a lone surrogate (\ud800), a raw control character in a
 *     string, nesting deeper than MAX_DEPTH;
 *   - has an integer literal of 16 or more digits (the exact route checks ±(2^53 − 1));
 *   - has a number with a fraction or exponent that is not handled exactly below.
 *
 * Numbers with a fraction or exponent are IEEE-754 doubles written in ECMAScript's form
 * (Number::toString): the shortest digits that read back as the same double, closest to it
 * when several. A literal of at most 15 significant digits in the normal range already is
 * those digits: 15-digit decimals map to distinct doubles (DBL_DIG), so no shorter decimal
 * names the same double, and its trailing zeros are dropped. A longer literal is read with
 * strtod (correctly rounded) and printed at 15, 16 and 17 digits, keeping the first that
 * reads back; the correctly rounded p-digit decimal is the closest, so if any p-digit
 * decimal reads back it does, except where the gap below a double is half the gap above
 * (a power of two), which is handed back. Subnormal, overflowing and zero-underflowing
 * values are handed back too.
 *
 * Object keys are sorted by their UTF-16 code units. UTF-8 byte order equals code point
 * order, which equals UTF-16 order except that a supplementary character (a surrogate
 * pair, 0xD800-0xDBFF first) sorts before U+E000-U+FFFF: the comparison below swaps
 * exactly that case.
 *
 * Python API (module modelmint.hashing._jcs):
 *   canonical(data: bytes) -> bytes | None
 *       the canonical bytes of one JSON text (surrounding JSON whitespace allowed), or None.
 *   hash_lines(data: bytes) -> (hashes, lines, slow)
 *       for each line of `data` (split at \n) that is not blank (only space, tab, CR), the
 *       SHA-256 of its canonical bytes, 32 bytes each in `hashes`; `lines` is an array("I")
 *       buffer of each datapoint's line index (from 0); `slow` lists (datapoint index, line
 *       index, start, end) of the lines handed back, whose 32 bytes in `hashes` are zero.
 *       It releases the GIL while it works, so threads hash pieces on every core.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256

/* ---------------------------------------------------------------------------------------
 * SHA-256 (FIPS 180-4): the SHA extensions of x86 CPUs when present, else portable C.
 * ------------------------------------------------------------------------------------- */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t H256[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void blocks_portable(uint32_t state[8], const uint8_t *data, size_t count) {
    while (count--) {
        uint32_t w[64];
        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)data[4 * i] << 24 | (uint32_t)data[4 * i + 1] << 16 | (uint32_t)data[4 * i + 2] << 8 |
                   data[4 * i + 3];
        for (int i = 16; i < 64; i++) {
            uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int i = 0; i < 64; i++) {
            uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
            uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
        }
        state[0] += a; state[1] += b; state[2] += c; state[3] += d;
        state[4] += e; state[5] += f; state[6] += g; state[7] += h;
        data += 64;
    }
}

typedef void (*blocks_fn)(uint32_t state[8], const uint8_t *data, size_t count);
static blocks_fn sha256_blocks = blocks_portable;

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

/* Four rounds per step; steps 3-14 extend the message schedule (sha256msg1/msg2). */
#define SHA_STEP(g, M0, M1, M2, M3)                                                         \
    do {                                                                                    \
        msg = _mm_add_epi32(M0, _mm_loadu_si128((const __m128i *)&K256[4 * (g)]));          \
        s1 = _mm_sha256rnds2_epu32(s1, s0, msg);                                            \
        if ((g) >= 3 && (g) <= 14) {                                                        \
            tmp = _mm_alignr_epi8(M0, M3, 4);                                               \
            M1 = _mm_add_epi32(M1, tmp);                                                    \
            M1 = _mm_sha256msg2_epu32(M1, M0);                                              \
        }                                                                                   \
        msg = _mm_shuffle_epi32(msg, 0x0E);                                                 \
        s0 = _mm_sha256rnds2_epu32(s0, s1, msg);                                            \
        if ((g) >= 1 && (g) <= 12) M3 = _mm_sha256msg1_epu32(M3, M0);                       \
    } while (0)

__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_shani(uint32_t state[8], const uint8_t *data,
                                                                      size_t count) {
    const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i s1 = _mm_loadu_si128((const __m128i *)&state[4]);
    tmp = _mm_shuffle_epi32(tmp, 0xB1);          /* CDAB */
    s1 = _mm_shuffle_epi32(s1, 0x1B);            /* EFGH */
    __m128i s0 = _mm_alignr_epi8(tmp, s1, 8);    /* ABEF */
    s1 = _mm_blend_epi16(s1, tmp, 0xF0);         /* CDGH */
    while (count--) {
        __m128i save0 = s0, save1 = s1, msg;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 0)), mask);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16)), mask);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 32)), mask);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 48)), mask);
        /* step g uses W[g mod 4] (M0), completes W[g+1] (M1) and starts W[g-1] (M3) */
        SHA_STEP(0, m0, m1, m2, m3);
        SHA_STEP(1, m1, m2, m3, m0);
        SHA_STEP(2, m2, m3, m0, m1);
        SHA_STEP(3, m3, m0, m1, m2);
        SHA_STEP(4, m0, m1, m2, m3);
        SHA_STEP(5, m1, m2, m3, m0);
        SHA_STEP(6, m2, m3, m0, m1);
        SHA_STEP(7, m3, m0, m1, m2);
        SHA_STEP(8, m0, m1, m2, m3);
        SHA_STEP(9, m1, m2, m3, m0);
        SHA_STEP(10, m2, m3, m0, m1);
        SHA_STEP(11, m3, m0, m1, m2);
        SHA_STEP(12, m0, m1, m2, m3);
        SHA_STEP(13, m1, m2, m3, m0);
        SHA_STEP(14, m2, m3, m0, m1);
        SHA_STEP(15, m3, m0, m1, m2);
        s0 = _mm_add_epi32(s0, save0);
        s1 = _mm_add_epi32(s1, save1);
        data += 64;
    }
    tmp = _mm_shuffle_epi32(s0, 0x1B);           /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1);            /* DCHG */
    s0 = _mm_blend_epi16(tmp, s1, 0xF0);         /* DCBA */
    s1 = _mm_alignr_epi8(s1, tmp, 8);            /* HGFE */
    _mm_storeu_si128((__m128i *)&state[0], s0);
    _mm_storeu_si128((__m128i *)&state[4], s1);
}

static void choose_sha256(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3)) return;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29))) return;
    sha256_blocks = blocks_shani;
}
#else
static void choose_sha256(void) {}
#endif

static void sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
    uint32_t state[8];
    memcpy(state, H256, sizeof state);
    size_t whole = len / 64;
    if (whole) sha256_blocks(state, data, whole);
    uint8_t tail[128] = {0};
    size_t rest = len - 64 * whole;
    memcpy(tail, data + 64 * whole, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha256_blocks(state, tail, tail_len / 64);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(state[i] >> 24);
        out[4 * i + 1] = (uint8_t)(state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(state[i] >> 8);
        out[4 * i + 3] = (uint8_t)state[i];
    }
}

/* ---------------------------------------------------------------------------------------
 * Growable buffers; the canonicaliser keeps its state between lines to reuse memory.
 * ------------------------------------------------------------------------------------- */

typedef struct {
    uint8_t *data;
    size_t len, cap;
} Buf;

static int buf_reserve(Buf *b, size_t more) {
    if (b->len + more <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more) cap *= 2;
    uint8_t *data = realloc(b->data, cap);
    if (!data) return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

typedef struct {
    size_t key, key_len; /* the raw key in `keys` */
    size_t start, end;   /* its canonical "key" + value in `out` */
} Member;

typedef struct {
    Buf out;     /* canonical bytes */
    Buf keys;    /* raw (unescaped) keys of the open objects, for sorting */
    Buf scratch; /* an object's members, while they are written back in order */
    Member *members;
    size_t member_count, member_cap;
    const uint8_t *p, *end;
    int depth;
} Jcs;

enum { OK = 0, SLOW = 1, NOMEM = 2 };

static int push_member(Jcs *j, Member m) {
    if (j->member_count == j->member_cap) {
        size_t cap = j->member_cap ? 2 * j->member_cap : 64;
        Member *members = realloc(j->members, cap * sizeof(Member));
        if (!members) return NOMEM;
        j->members = members;
        j->member_cap = cap;
    }
    j->members[j->member_count++] = m;
    return OK;
}

static void skip_ws(Jcs *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) j->p++;
}

static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_hex4(Jcs *j, uint32_t *cp) {
    if (j->end - j->p < 4) return SLOW;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(j->p[i]);
        if (h < 0) return SLOW;
        v = v << 4 | (uint32_t)h;
    }
    j->p += 4;
    *cp = v;
    return OK;
}

/* Length of the strict UTF-8 sequence at p (as Python's decoder accepts), or 0. */
static size_t utf8_len(const uint8_t *p, const uint8_t *end) {
    uint8_t c = p[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return end - p >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0) return 0; /* a surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

static size_t put_utf8(uint8_t *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { o[0] = 0xC0 | cp >> 6; o[1] = 0x80 | (cp & 0x3F); return 2; }
    if (cp < 0x10000) { o[0] = 0xE0 | cp >> 12; o[1] = 0x80 | (cp >> 6 & 0x3F); o[2] = 0x80 | (cp & 0x3F); return 3; }
    o[0] = 0xF0 | cp >> 18; o[1] = 0x80 | (cp >> 12 & 0x3F); o[2] = 0x80 | (cp >> 6 & 0x3F); o[3] = 0x80 | (cp & 0x3F);
    return 4;
}

/* Writes one decoded character to the canonical output (escaped as RFC 8785 says) and,
 * when `raw` is given, its UTF-8 to `raw`. */
static int put_char(Jcs *j, Buf *raw, uint32_t cp) {
    if (buf_reserve(&j->out, 6) || (raw && buf_reserve(raw, 4))) return NOMEM;
    uint8_t *o = j->out.data + j->out.len;
    if (cp < 0x20 || cp == '"' || cp == '\\') {
        static const char *shorts[0x20] = {[8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r"};
        if (cp == '"' || cp == '\\') {
            o[0] = '\\'; o[1] = (uint8_t)cp; j->out.len += 2;
        } else if (shorts[cp]) {
            memcpy(o, shorts[cp], 2); j->out.len += 2;
        } else {
            static const char hex[] = "0123456789abcdef";
            memcpy(o, "\\u00", 4); o[4] = hex[cp >> 4]; o[5] = hex[cp & 15]; j->out.len += 6;
        }
    } else {
        j->out.len += put_utf8(o, cp);
    }
    if (raw) raw->len += put_utf8(raw->data + raw->len, cp);
    return OK;
}

/* A string at j->p (the opening quote): canonical form to out, raw text to `raw` if given. */
static int parse_string(Jcs *j, Buf *raw) {
    j->p++;
    if (buf_reserve(&j->out, 1)) return NOMEM;
    j->out.data[j->out.len++] = '"';
    for (;;) {
        /* a run of characters written as they are */
        const uint8_t *run = j->p;
        while (j->p < j->end) {
            uint8_t c = *j->p;
            if (c == '"' || c == '\\' || c < 0x20) break;
            if (c < 0x80) { j->p++; continue; }
            size_t n = utf8_len(j->p, j->end);
            if (!n) return SLOW;
            j->p += n;
        }
        size_t n = (size_t)(j->p - run);
        if (n) {
            if (buf_reserve(&j->out, n) || (raw && buf_reserve(raw, n))) return NOMEM;
            memcpy(j->out.data + j->out.len, run, n);
            j->out.len += n;
            if (raw) { memcpy(raw->data + raw->len, run, n); raw->len += n; }
        }
        if (j->p >= j->end) return SLOW;
        uint8_t c = *j->p;
        if (c == '"') { j->p++; break; }
        if (c < 0x20) return SLOW; /* Python's strict parser refuses raw controls */
        /* an escape */
        if (j->end - j->p < 2) return SLOW;
        uint8_t e = j->p[1];
        j->p += 2;
        uint32_t cp;
        switch (e) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = 8; break;
        case 'f': cp = 12; break;
        case 'n': cp = 10; break;
        case 'r': cp = 13; break;
        case 't': cp = 9; break;
        case 'u': {
            if (read_hex4(j, &cp)) return SLOW;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return SLOW; /* a lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t low;
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u') return SLOW;
                j->p += 2;
                if (read_hex4(j, &low) || low < 0xDC00 || low > 0xDFFF) return SLOW;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            break;
        }
        default: return SLOW;
        }
        int r = put_char(j, raw, cp);
        if (r) return r;
    }
    if (buf_reserve(&j->out, 1)) return NOMEM;
    j->out.data[j->out.len++] = '"';
    return OK;
}

static int emit(Jcs *j, const char *s, size_t n) {
    if (buf_reserve(&j->out, n)) return NOMEM;
    memcpy(j->out.data + j->out.len, s, n);
    j->out.len += n;
    return OK;
}

/* ECMAScript's Number::toString for the value 0.d1d2..dk × 10^n (digits without leading or
 * trailing zeros), with a sign. */
static int emit_ecma(Jcs *j, int negative, const char *digits, int k, int n) {
    char text[64];
    size_t t = 0;
    if (negative) text[t++] = '-';
    if (k <= n && n <= 21) {
        memcpy(text + t, digits, k); t += k;
        for (int i = k; i < n; i++) text[t++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(text + t, digits, n); t += n;
        text[t++] = '.';
        memcpy(text + t, digits + n, k - n); t += k - n;
    } else if (-6 < n && n <= 0) {
        text[t++] = '0'; text[t++] = '.';
        for (int i = 0; i < -n; i++) text[t++] = '0';
        memcpy(text + t, digits, k); t += k;
    } else {
        text[t++] = digits[0];
        if (k > 1) { text[t++] = '.'; memcpy(text + t, digits + 1, k - 1); t += k - 1; }
        t += (size_t)snprintf(text + t, sizeof text - t, "e%c%d", n - 1 > 0 ? '+' : '-', abs(n - 1));
    }
    return emit(j, text, t);
}

static int parse_number(Jcs *j) {
    const uint8_t *start = j->p, *p = j->p, *end = j->end;
    int negative = 0;
    if (p < end && *p == '-') { negative = 1; p++; }
    if (p >= end || *p < '0' || *p > '9') return SLOW;
    const uint8_t *int_start = p;
    if (*p == '0') p++;
    else while (p < end && *p >= '0' && *p <= '9') p++;
    const uint8_t *int_end = p, *frac_start = p, *frac_end = p;
    if (p < end && *p == '.') {
        p++;
        frac_start = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        frac_end = p;
        if (frac_end == frac_start) return SLOW;
    }
    int has_exp = 0;
    long exp = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        has_exp = 1;
        p++;
        int exp_negative = 0;
        if (p < end && (*p == '+' || *p == '-')) exp_negative = *p++ == '-';
        const uint8_t *exp_start = p;
        while (p < end && *p >= '0' && *p <= '9') {
            if (p - exp_start >= 6) return SLOW;
            exp = exp * 10 + (*p++ - '0');
        }
        if (p == exp_start) return SLOW;
        if (exp_negative) exp = -exp;
    }
    j->p = p;
    if (!has_exp && frac_end == frac_start) { /* an integer literal */
        if (int_end - int_start >= 16) return SLOW;
        if (int_end - int_start == 1 && *int_start == '0') return emit(j, "0", 1); /* -0 is 0 */
        return emit(j, (const char *)start, (size_t)(p - start));
    }
    /* A double. Its significant digits, and n with value = 0.digits × 10^n. */
    char digits[32];
    int k = 0, n = 0, seen = 0, leading_frac_zeros = 0, total = 0;
    for (const uint8_t *q = int_start; q < int_end; q++) {
        if (!seen && *q == '0') continue;
        seen = 1;
        n++;
        if (k < 31) digits[k] = (char)*q;
        k++;
    }
    for (const uint8_t *q = frac_start; q < frac_end; q++) {
        if (!seen && *q == '0') { leading_frac_zeros++; continue; }
        seen = 1;
        if (k < 31) digits[k] = (char)*q;
        k++;
    }
    total = k;
    if (!seen) return emit(j, "0", 1); /* any zero, -0.0 too */
    if (n == 0) n = -leading_frac_zeros;
    n += (int)exp;
    if (total <= 15) {
        while (k > 1 && digits[k - 1] == '0') k--;
        if (n < -290 || n > 290) return SLOW; /* near subnormal or overflow */
        return emit_ecma(j, negative, digits, k, n);
    }
    /* More digits than a double holds: read it, and find its shortest form. */
    struct lconv *lc = localeconv();
    if (lc->decimal_point[0] != '.' || lc->decimal_point[1]) return SLOW;
    char literal[400];
    size_t len = (size_t)(p - start);
    if (len >= sizeof literal) return SLOW;
    memcpy(literal, start, len);
    literal[len] = 0;
    errno = 0;
    double v = strtod(literal, NULL);
    if (errno || !isfinite(v) || v == 0 || fabs(v) < 2.2250738585072014e-308) return SLOW;
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    if ((bits & 0x000FFFFFFFFFFFFFULL) == 0) return SLOW; /* a power of two: uneven gaps */
    char printed[40];
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(printed, sizeof printed, "%.*e", precision - 1, fabs(v));
        if (strtod(printed, NULL) != fabs(v)) continue;
        /* printed is d.ddd...e±XX */
        k = 0;
        char *q = printed;
        for (; *q && *q != 'e'; q++)
            if (*q != '.') digits[k++] = *q;
        int e10 = atoi(q + 1);
        while (k > 1 && digits[k - 1] == '0') k--;
        return emit_ecma(j, negative, digits, k, e10 + 1);
    }
    return SLOW;
}

static int compare_keys(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++) {
        if (a[i] == b[i]) continue;
        /* a lead byte of 4 (a surrogate pair in UTF-16) against one of U+E000-U+FFFF */
        if (a[i] >= 0xF0 && (b[i] == 0xEE || b[i] == 0xEF)) return -1;
        if (b[i] >= 0xF0 && (a[i] == 0xEE || a[i] == 0xEF)) return 1;
        return a[i] < b[i] ? -1 : 1;
    }
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static int parse_value(Jcs *j);

static int parse_object(Jcs *j) {
    j->p++;
    size_t base = j->member_count, keys_base = j->keys.len, start = j->out.len;
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') { j->p++; return emit(j, "{}", 2); }
    for (;;) {
        skip_ws(j);
        if (j->p >= j->end || *j->p != '"') return SLOW;
        Member m;
        m.key = j->keys.len;
        m.start = j->out.len;
        int r = parse_string(j, &j->keys);
        if (r) return r;
        m.key_len = j->keys.len - m.key;
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':') return SLOW;
        j->p++;
        if ((r = emit(j, ":", 1))) return r;
        if ((r = parse_value(j))) return r;
        m.end = j->out.len;
        if ((r = push_member(j, m))) return r;
        skip_ws(j);
        if (j->p >= j->end) return SLOW;
        if (*j->p == ',') { j->p++; continue; }
        if (*j->p == '}') { j->p++; break; }
        return SLOW;
    }
    /* Sort the members by key (insertion sort: objects are small), refuse repeats, and
     * write them back in order. */
    Member *ms = j->members + base;
    size_t count = j->member_count - base;
    const uint8_t *keys = j->keys.data;
    for (size_t i = 1; i < count; i++) {
        Member m = ms[i];
        size_t at = i;
        while (at > 0) {
            int c = compare_keys(keys + ms[at - 1].key, ms[at - 1].key_len, keys + m.key, m.key_len);
            if (c == 0) return SLOW; /* a repeated key: the exact route words the error */
            if (c < 0) break;
            ms[at] = ms[at - 1];
            at--;
        }
        ms[at] = m;
    }
    size_t body = j->out.len - start;
    j->scratch.len = 0;
    if (buf_reserve(&j->scratch, body) || buf_reserve(&j->out, count + 1)) return NOMEM;
    memcpy(j->scratch.data, j->out.data + start, body);
    uint8_t *o = j->out.data + start;
    *o++ = '{';
    for (size_t i = 0; i < count; i++) {
        if (i) *o++ = ',';
        size_t n = ms[i].end - ms[i].start;
        memcpy(o, j->scratch.data + (ms[i].start - start), n);
        o += n;
    }
    *o++ = '}';
    j->out.len = (size_t)(o - j->out.data);
    j->member_count = base;
    j->keys.len = keys_base;
    return OK;
}

static int parse_array(Jcs *j) {
    j->p++;
    int r = emit(j, "[", 1);
    if (r) return r;
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') { j->p++; return emit(j, "]", 1); }
    for (;;) {
        if ((r = parse_value(j))) return r;
        skip_ws(j);
        if (j->p >= j->end) return SLOW;
        if (*j->p == ',') { j->p++; if ((r = emit(j, ",", 1))) return r; continue; }
        if (*j->p == ']') { j->p++; return emit(j, "]", 1); }
        return SLOW;
    }
}

static int literal(Jcs *j, const char *word, size_t n) {
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n)) return SLOW;
    j->p += n;
    return emit(j, word, n);
}

static int parse_value(Jcs *j) {
    skip_ws(j);
    if (j->p >= j->end) return SLOW;
    int r;
    switch (*j->p) {
    case '{':
    case '[':
        if (++j->depth > MAX_DEPTH) return SLOW;
        r = *j->p == '{' ? parse_object(j) : parse_array(j);
        j->depth--;
        return r;
    case '"': return parse_string(j, NULL);
    case 't': return literal(j, "true", 4);
    case 'f': return literal(j, "false", 5);
    case 'n': return literal(j, "null", 4);
    default: return parse_number(j);
    }
}

/* Canonicalises one JSON text into j->out; OK, SLOW or NOMEM. */
static int canonicalise(Jcs *j, const uint8_t *data, size_t len) {
    j->out.len = j->keys.len = 0;
    j->member_count = 0;
    j->depth = 0;
    j->p = data;
    j->end = data + len;
    int r = parse_value(j);
    if (r) return r;
    skip_ws(j);
    return j->p == j->end ? OK : SLOW;
}

static void jcs_free(Jcs *j) {
    free(j->out.data);
    free(j->keys.data);
    free(j->scratch.data);
    free(j->members);
}

/* ---------------------------------------------------------------------------------------
 * Python functions.
 * ------------------------------------------------------------------------------------- */

static PyObject *py_canonical(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    Jcs j = {0};
    int r = canonicalise(&j, view.buf, (size_t)view.len);
    PyObject *result;
    if (r == NOMEM) result = PyErr_NoMemory();
    else if (r == SLOW) result = Py_NewRef(Py_None);
    else result = PyBytes_FromStringAndSize((const char *)j.out.data, (Py_ssize_t)j.out.len);
    jcs_free(&j);
    PyBuffer_Release(&view);
    return result;
}

typedef struct {
    size_t datapoint, start, end;
    uint32_t line;
} Slow;

/* The loop of hash_lines, without the GIL: pieces of one file hash on every core in threads. */
static int hash_lines_loop(const uint8_t *data, size_t size, Buf *hashes, Buf *lines, Buf *slow) {
    const uint8_t *end = data + size;
    Jcs j = {0};
    int r = OK;
    uint32_t line = 0;
    size_t datapoints = 0;
    for (const uint8_t *p = data; p <= end; line++) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *line_end = nl ? nl : end;
        const uint8_t *q = p;
        while (q < line_end && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q < line_end) { /* not blank */
            if (buf_reserve(hashes, 32) || buf_reserve(lines, 4)) { r = NOMEM; break; }
            int c = canonicalise(&j, p, (size_t)(line_end - p));
            if (c == NOMEM) { r = NOMEM; break; }
            if (c == OK) {
                sha256(j.out.data, j.out.len, hashes->data + hashes->len);
            } else {
                Slow s = {datapoints, (size_t)(p - data), (size_t)(line_end - data), line};
                if (buf_reserve(slow, sizeof s)) { r = NOMEM; break; }
                memcpy(slow->data + slow->len, &s, sizeof s);
                slow->len += sizeof s;
                memset(hashes->data + hashes->len, 0, 32);
            }
            hashes->len += 32;
            memcpy(lines->data + lines->len, &line, 4);
            lines->len += 4;
            datapoints++;
        }
        if (!nl) break;
        p = nl + 1;
    }
    jcs_free(&j);
    return r;
}

static PyObject *py_hash_lines(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    Buf hashes = {0}, lines = {0}, slow = {0};
    PyObject *list = NULL, *result = NULL;
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = hash_lines_loop(view.buf, (size_t)view.len, &hashes, &lines, &slow);
    Py_END_ALLOW_THREADS
    if (r == NOMEM) { PyErr_NoMemory(); goto done; }
    size_t count = slow.len / sizeof(Slow);
    if (!(list = PyList_New((Py_ssize_t)count))) goto done;
    for (size_t i = 0; i < count; i++) {
        Slow s;
        memcpy(&s, slow.data + i * sizeof s, sizeof s);
        PyObject *item = Py_BuildValue("(nInn)", (Py_ssize_t)s.datapoint, s.line, (Py_ssize_t)s.start, (Py_ssize_t)s.end);
        if (!item) goto done;
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    result = Py_BuildValue("(y#y#O)", hashes.data ? (const char *)hashes.data : "", (Py_ssize_t)hashes.len,
                           lines.data ? (const char *)lines.data : "", (Py_ssize_t)lines.len, list);
done:
    Py_XDECREF(list);
    free(hashes.data);
    free(lines.data);
    free(slow.data);
    PyBuffer_Release(&view);
    return result;
}

static PyObject *py_sha256(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    uint8_t out[32];
    sha256(view.buf, (size_t)view.len, out);
    PyBuffer_Release(&view);
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

static PyMethodDef methods[] = {
    {"canonical", py_canonical, METH_O,
     "canonical(data) -> bytes | None: the RFC 8785 bytes of one JSON text, or None where the exact route must decide."},
    {"hash_lines", py_hash_lines, METH_O,
     "hash_lines(data) -> (hashes, lines, slow): SHA-256 of each non-blank line's canonical bytes; "
     "slow lists (datapoint, line, start, end) of the lines left to the exact route."},
    {"sha256", py_sha256, METH_O, "sha256(data) -> bytes: this module's SHA-256, for tests."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jcs", "RFC 8785 canonical JSON and SHA-256 of JSONL lines.",
                                    -1, methods};

PyMODINIT_FUNC PyInit__jcs(void) {
    choose_sha256();
    return PyModule_Create(&module);
}
