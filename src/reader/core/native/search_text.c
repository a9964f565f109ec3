/* A post's folded search text in C: what `body.search_body` then `text.fold` give, ~10x
 * faster, plus the span of the post's URL (`body.find_url`), in one call per file.
 *
 * It covers the common case and says when it does not: it returns NEEDS_PYTHON for
 * anything it does not reproduce exactly (invalid UTF-8, NUL, "\r", astral characters,
 * characters whose fold is not one unit, `<script`/`<style`/`<!--`, and an `&` that
 * is not "&nbsp;" and could start a character reference). The caller then runs the
 * Python code on that post. Tests compare the two on generated and hostile bodies.
 *
 * The steps follow `search_body`: content lines (blank, chrome and autolink lines
 * dropped, a leading `>` removed) with Markdown links replaced by their text; then block
 * ends turned into line breaks and tags removed; then "&nbsp;" made a space; then each
 * character folded through the caller's table (`search.folding.fold_tables`).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NEEDS_PYTHON (-1)
#define OUT_OF_MEMORY (-2)

/* Whether any byte of `word` is `byte` (the usual bit trick, exact for the answer "none"). */
static inline int has_byte(uint64_t word, uint8_t byte)
{
    uint64_t x = word ^ (0x0101010101010101ULL * byte);
    return ((x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL) != 0;
}

/* Whether s[0..n) is strict UTF-8 free of NUL, "\r", astral characters and surrogates. */
static int is_plain_utf8(const uint8_t *s, int64_t n)
{
    int64_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c == 0 || c == '\r') return 0;
            i++;
            while (i + 8 <= n) { /* a run of ASCII (HTML), eight bytes at a time */
                uint64_t word;
                memcpy(&word, s + i, 8);
                if (word & 0x8080808080808080ULL) break;
                if (has_byte(word, 0) || has_byte(word, '\r')) return 0;
                i += 8;
            }
        } else if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80) return 0;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80) return 0;
            if (c == 0xE0 && s[i + 1] < 0xA0) return 0; /* overlong */
            if (c == 0xED && s[i + 1] >= 0xA0) return 0; /* surrogate */
            i += 3;
        } else {
            return 0; /* astral (4 bytes) or not UTF-8 */
        }
    }
    return 1;
}

/* Bytes of the whitespace character (Python's str.isspace) at s[i], or 0. */
static inline int space_at(const uint8_t *s, int64_t n, int64_t i)
{
    uint8_t c = s[i];
    if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
    if (c == 0xC2 && i + 1 < n) return (s[i + 1] == 0x85 || s[i + 1] == 0xA0) ? 2 : 0;
    if (i + 2 >= n) return 0;
    uint8_t b = s[i + 1], d = s[i + 2];
    if (c == 0xE1) return (b == 0x9A && d == 0x80) ? 3 : 0;                       /* U+1680 */
    if (c == 0xE2 && b == 0x80) return (d <= 0x8A || d == 0xA8 || d == 0xA9 || d == 0xAF) ? 3 : 0;
    if (c == 0xE2 && b == 0x81) return d == 0x9F ? 3 : 0;                          /* U+205F */
    if (c == 0xE3) return (b == 0x80 && d == 0x80) ? 3 : 0;                       /* U+3000 */
    return 0;
}

static inline int lower_is(uint8_t c, char lower) { return (c | 0x20) == (uint8_t)lower; }

/* Whether an opener of a hidden element (`<script`, `<style`, `<!--`, in any case the
 * Python regex allows) starts at s[i] == '<'; a little wider than the regex, never narrower. */
static int hidden_opener_at(const uint8_t *s, int64_t n, int64_t i)
{
    const uint8_t *p = s + i + 1;
    int64_t left = n - i - 1;
    if (left >= 3 && p[0] == '!' && p[1] == '-' && p[2] == '-') return 1;
    if (left >= 2 && p[0] == 0xC5 && p[1] == 0xBF) return 1; /* "ſ", which matches s */
    if (left < 5 || !lower_is(p[0], 's')) return 0;
    if (lower_is(p[1], 't') && lower_is(p[2], 'y') && lower_is(p[3], 'l') && lower_is(p[4], 'e')) return 1;
    if (lower_is(p[1], 'c') && lower_is(p[2], 'r')) {
        if (lower_is(p[3], 'i')) return 1;
        if (p[3] == 0xC4 && left >= 5 && (p[4] == 0xB0 || p[4] == 0xB1)) return 1; /* "İ", "ı" */
    }
    return 0;
}

/* `<https?://[^<>\s]+>` as the whole of line[0..n) (s may also be "S" or "ſ"). */
static int is_autolink(const uint8_t *line, int64_t n)
{
    if (n < 2 || line[0] != '<' || line[n - 1] != '>') return 0;
    int64_t i = 1;
    if (n < 5 || !lower_is(line[1], 'h') || !lower_is(line[2], 't') || !lower_is(line[3], 't') ||
        !lower_is(line[4], 'p'))
        return 0;
    i = 5;
    if (i < n && lower_is(line[i], 's')) i++;
    else if (i + 1 < n && line[i] == 0xC5 && line[i + 1] == 0xBF) i += 2;
    if (i + 3 > n || line[i] != ':' || line[i + 1] != '/' || line[i + 2] != '/') return 0;
    i += 3;
    int64_t first = i, end = n - 1;
    if (first >= end) return 0;
    while (i < end) {
        if (line[i] == '<' || line[i] == '>' || space_at(line, end, i)) return 0;
        i++;
    }
    return 1;
}

/* Index of the first byte at or after i that is `stop`, or n. */
static inline int64_t skip_to(const uint8_t *s, int64_t n, int64_t i, uint8_t stop)
{
    const void *found = i < n ? memchr(s + i, stop, (size_t)(n - i)) : NULL;
    return found ? (int64_t)((const uint8_t *)found - s) : n;
}

/* Copies s[i..) up to the next `mark` (or the end) to out + *used; returns where it stopped. */
static inline int64_t copy_until(const uint8_t *s, int64_t n, int64_t i, uint8_t mark, uint8_t *out, int64_t *used)
{
    int64_t next = skip_to(s, n, i, mark);
    memcpy(out + *used, s + i, (size_t)(next - i));
    *used += next - i;
    return next;
}

/* `\[返回[^\]]*\]\([^)]*\)(?:[ \t]*[｜|][ \t]*\[[^\]]*\]\([^)]*\))*` as the whole line
 * (every part is forced, so a single left-to-right pass decides it). */
static int is_chrome_line(const uint8_t *line, int64_t n)
{
    static const uint8_t opener[] = {'[', 0xE8, 0xBF, 0x94, 0xE5, 0x9B, 0x9E}; /* "[返回" */
    if (n < (int64_t)sizeof opener || memcmp(line, opener, sizeof opener) != 0) return 0;
    int64_t i = sizeof opener;
    for (;;) {
        i = skip_to(line, n, i, ']');
        if (i + 1 >= n || line[i + 1] != '(') return 0;
        i = skip_to(line, n, i + 2, ')');
        if (i >= n) return 0;
        i++;
        if (i == n) return 1;
        while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
        if (i < n && line[i] == '|') i++;
        else if (i + 2 < n && line[i] == 0xEF && line[i + 1] == 0xBD && line[i + 2] == 0x9C) i += 3; /* ｜ */
        else return 0;
        while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
        if (i >= n || line[i] != '[') return 0;
        i++;
    }
}

/* Copies line[0..n) to out with `\[([^\[\]\n]*)\]\([^()\s]*\)` replaced by its text. */
static int64_t copy_replacing_links(const uint8_t *line, int64_t n, uint8_t *out)
{
    int64_t used = 0, i = 0;
    while (i < n) {
        if (line[i] != '[') {
            i = copy_until(line, n, i, '[', out, &used);
            continue;
        }
        int64_t j = i + 1;
        while (j < n && line[j] != '[' && line[j] != ']') j++;
        if (j + 1 < n && line[j] == ']' && line[j + 1] == '(') {
            int64_t k = j + 2;
            while (k < n && line[k] != '(' && line[k] != ')' && !space_at(line, n, k)) k++;
            if (k < n && line[k] == ')') {
                memcpy(out + used, line + i + 1, (size_t)(j - i - 1));
                used += j - i - 1;
                i = k + 1;
                continue;
            }
        }
        out[used++] = '[';
        i++;
    }
    return used;
}

/* Whether the `<` at s[i] starts a block end: `</p>`, `</div>`, `</tr>`, `</td>`, `</th>`,
 * `</li>`, `</center>` or any `<br`. */
static int block_end_at(const uint8_t *s, int64_t n, int64_t i)
{
    const uint8_t *p = s + i + 1;
    int64_t left = n - i - 1;
    if (left >= 2 && p[0] == 'b') return p[1] == 'r';
    if (left < 3 || p[0] != '/') return 0;
#define ENDS_WITH(word) (left >= (int64_t)sizeof(word) && memcmp(p + 1, word ">", sizeof(word)) == 0)
    switch (p[1]) {
        case 'p': return p[2] == '>';
        case 'd': return ENDS_WITH("div");
        case 't': return left >= 4 && (p[2] == 'r' || p[2] == 'd' || p[2] == 'h') && p[3] == '>';
        case 'l': return left >= 4 && p[2] == 'i' && p[3] == '>';
        case 'c': return ENDS_WITH("center");
        default: return 0;
    }
#undef ENDS_WITH
}

/* `\n` before each block end, then every `<[^<>]*>` removed. */
static int64_t strip_tags(const uint8_t *s, int64_t n, uint8_t *out)
{
    int64_t used = 0, i = 0;
    while (i < n) {
        if (s[i] != '<') {
            i = copy_until(s, n, i, '<', out, &used);
            continue;
        }
        if (block_end_at(s, n, i)) out[used++] = '\n';
        int64_t j = i + 1;
        while (j < n && s[j] != '<' && s[j] != '>') j++;
        if (j < n && s[j] == '>') {
            i = j + 1;
        } else {
            memcpy(out + used, s + i, (size_t)(j - i));
            used += j - i;
            i = j;
        }
    }
    return used;
}

/* Folded UTF-16 units of the (valid, BMP-only) UTF-8 in s[0..n), "&nbsp;" as a space when
 * `entities`; NEEDS_PYTHON for a character the table cannot fold or an `&` that could
 * start a character reference. */
static int64_t fold_units(const uint8_t *s, int64_t n, int entities, const uint16_t *table,
                          const uint8_t *slow, uint16_t *out)
{
    int64_t used = 0, i = 0;
    while (i < n) {
        uint32_t code = s[i];
        if (code < 0x80) {
            if (code == '&' && entities) {
                if (n - i >= 6 && memcmp(s + i + 1, "nbsp;", 5) == 0) {
                    out[used++] = ' ';
                    i += 6;
                    continue;
                }
                uint8_t next = i + 1 < n ? s[i + 1] : ' ';
                if (!(next == '\t' || next == '\n' || next == '\f' || next == ' ' || next == '<' || next == '&' ||
                      next == ';'))
                    return NEEDS_PYTHON;
            }
            i++;
        } else if (code < 0xE0) {
            code = ((code & 0x1F) << 6) | (s[i + 1] & 0x3F);
            i += 2;
        } else {
            code = ((code & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
            i += 3;
        }
        if (slow[code]) return NEEDS_PYTHON;
        out[used++] = table[code];
    }
    return used;
}

/* Writes fold(prefix + search_body(body)) to `out` (room for prefix_n + 2 * body_n units)
 * and returns the units written, or NEEDS_PYTHON / OUT_OF_MEMORY. url[0..1] gets the byte
 * span of the URL `find_url` gives, or -1, -1. */
int64_t reader_search_text(const uint8_t *prefix, int64_t prefix_n, const uint8_t *body, int64_t body_n,
                           const uint16_t *table, const uint8_t *slow, uint16_t *out, int64_t *url)
{
    url[0] = url[1] = -1;
    if (!is_plain_utf8(prefix, prefix_n) || !is_plain_utf8(body, body_n)) return NEEDS_PYTHON;
    for (const uint8_t *p = body; (p = memchr(p, '<', (size_t)(body + body_n - p))) != NULL; p++)
        if (hidden_opener_at(body, body_n, p - body)) return NEEDS_PYTHON;

    uint8_t *lines = malloc((size_t)body_n + 1), *text = malloc(2 * (size_t)body_n + 1);
    if (lines == NULL || text == NULL) {
        free(lines);
        free(text);
        return OUT_OF_MEMORY;
    }
    int64_t used = 0, start = 0;
    int first_kept = 1;
    while (start <= body_n) {
        int64_t end = skip_to(body, body_n, start, '\n'), next = end + 1;
        while (start < end && (body[start] == ' ' || body[start] == '\t')) start++;
        while (end > start && (body[end - 1] == ' ' || body[end - 1] == '\t')) end--;
        const uint8_t *line = body + start;
        int64_t length = end - start;
        int keep = length > 0;
        if (keep && line[0] == '<' && is_autolink(line, length)) {
            url[0] = start + 1;
            url[1] = end - 1;
            keep = 0;
        } else if (keep && line[0] == '>') {
            line++;
            length--;
        } else if (keep && line[0] == '[' && is_chrome_line(line, length)) {
            keep = 0;
        }
        if (keep) {
            if (!first_kept) lines[used++] = '\n';
            first_kept = 0;
            used += copy_replacing_links(line, length, lines + used);
        }
        start = next;
    }
    int64_t text_n = strip_tags(lines, used, text);
    int entities = memchr(text, '&', (size_t)text_n) != NULL;
    int64_t written = fold_units(prefix, prefix_n, 0, table, slow, out);
    if (written >= 0) {
        int64_t more = fold_units(text, text_n, entities, table, slow, out + written);
        written = more < 0 ? more : written + more;
    }
    free(lines);
    free(text);
    return written;
}
