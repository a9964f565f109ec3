/* The reader's optional C accelerator: search signatures and bulk stat.
 *
 * Search signatures in C: the same bits as `search.signatures` builds with numpy,
 * about ten times faster. Plain C with no Python API, loaded with ctypes; when it cannot
 * be built or loaded, the reader uses the numpy version (tests check the two agree).
 *
 * Texts are UTF-16 units joined by 0 units; `starts[k]` is where text k starts and
 * starts[count] is one past the end plus one (a separator that is not there). Texts are
 * handled in groups of 64 whose grams never cross the group's end, as in numpy, so that
 * the bits set for grams spanning a separator (junk, harmless) are the same too. The
 * caller passes the scratch buffer, so calls from several threads never share memory.
 */
#include <stdint.h>
#include <string.h>

#define GROUP 64
#define GROUP_BYTES (GROUP / 8)

static inline uint32_t slot_of(uint32_t head, uint32_t tail, int has_tail, uint32_t mix_a, uint32_t mix_b,
                               int table_bits) {
    uint32_t mixed = head * mix_a;
    if (has_tail) mixed ^= tail * mix_b;
    mixed *= mix_a;
    return mixed >> (32 - table_bits);
}

/* Everything one call needs, by name: `accel.SignatureJob` mirrors this field for field
 * (`reader_signature_job_size` lets it check the layout before the first call). */
typedef struct {
    const uint16_t *units;      /* the texts, joined by 0 units */
    const int64_t *starts;      /* count + 1 entries, see above */
    int64_t count;
    const int32_t *unigram_rows; /* the vocabulary's tables, 1 << table_bits entries each */
    const uint32_t *bigram_keys;
    const int32_t *bigram_rows;
    const uint32_t *trigram_heads;
    const uint16_t *trigram_tails;
    const int32_t *trigram_rows;
    int32_t table_bits;         /* the hashing scheme, as `search.vocabulary` defines it */
    uint32_t mix_a;
    uint32_t mix_b;
    int32_t hashed_bits;
    int32_t dedicated_rows;
    int32_t signature_rows;
    uint8_t *out;               /* signature_rows rows of row_bytes bytes */
    int64_t row_bytes;
    uint8_t *scratch;           /* signature_rows * GROUP_BYTES bytes */
} reader_signature_job;

int64_t reader_signature_job_size(void) { return (int64_t)sizeof(reader_signature_job); }

/* The hash of the sources this library was built from (see `reader/core/native/__init__.py`). */
#ifndef READER_SOURCES_HASH
#define READER_SOURCES_HASH "unknown"
#endif
const char *reader_sources_hash(void) { return READER_SOURCES_HASH; }

void reader_signatures(const reader_signature_job *job)
{
    const uint16_t *units = job->units;
    const int64_t *starts = job->starts;
    const int64_t count = job->count;
    const int32_t *unigram_rows = job->unigram_rows;
    const uint32_t *bigram_keys = job->bigram_keys;
    const int32_t *bigram_rows = job->bigram_rows;
    const uint32_t *trigram_heads = job->trigram_heads;
    const uint16_t *trigram_tails = job->trigram_tails;
    const int32_t *trigram_rows = job->trigram_rows;
    const int32_t table_bits = job->table_bits, hashed_bits = job->hashed_bits;
    const uint32_t mix_a = job->mix_a, mix_b = job->mix_b;
    const int32_t dedicated_rows = job->dedicated_rows, signature_rows = job->signature_rows;
    uint8_t *out = job->out, *local = job->scratch;
    const int64_t row_bytes = job->row_bytes;
    /* A group's bits first go to `local`, small enough to stay in the CPU cache. */
    for (int64_t first = 0; first < count; first += GROUP) {
        int64_t last = first + GROUP < count ? first + GROUP : count;
        int64_t group_end = starts[last] - 1; /* the separator after the group is not in it */
        memset(local, 0, (size_t)signature_rows * GROUP_BYTES);
        for (int64_t text = first; text < last; text++) {
            int64_t position = starts[text];
            int64_t end = text + 1 < last ? starts[text + 1] : group_end; /* + its separator */
            uint8_t *column = local + ((text - first) >> 3);
            uint8_t bit = (uint8_t)(0x80u >> (text & 7));
            for (; position < end; position++) {
                uint32_t unit = units[position];
                int32_t row = unigram_rows[unit];
                if (row < signature_rows) column[row * GROUP_BYTES] |= bit;
                if (position + 1 >= group_end) continue;
                uint32_t head = (unit << 16) | units[position + 1];
                uint32_t slot = slot_of(head, 0, 0, mix_a, mix_b, table_bits);
                row = bigram_keys[slot] == head
                    ? bigram_rows[slot]
                    : (int32_t)(((head * mix_b) >> (32 - hashed_bits)) + (uint32_t)dedicated_rows);
                if (row < signature_rows) column[row * GROUP_BYTES] |= bit;
                if (position + 2 >= group_end) continue;
                uint16_t tail = units[position + 2];
                slot = slot_of(head, tail, 1, mix_a, mix_b, table_bits);
                if (trigram_heads[slot] == head && trigram_tails[slot] == tail) {
                    row = trigram_rows[slot];
                    if (row < signature_rows) column[row * GROUP_BYTES] |= bit;
                }
            }
        }
        int64_t bytes = (last - first + 7) / 8;
        for (int32_t row = 0; row < signature_rows; row++)
            memcpy(out + row * row_bytes + first / 8, local + row * GROUP_BYTES, (size_t)bytes);
    }
}

/* Size and modification time (ns) of many files in one call, so checking 100k files
 * for the start-up cache takes the interpreter lock once, not 100k times (with a busy
 * UI thread, each re-acquisition can wait a whole switch interval). `paths` holds
 * `count` NUL-terminated paths back to back; a file that cannot be stat'ed gets -1, -1.
 */
#include <sys/stat.h>

#ifdef __APPLE__
#define MTIME_NS(info) ((int64_t)(info).st_mtimespec.tv_sec * 1000000000LL + (info).st_mtimespec.tv_nsec)
#else
#define MTIME_NS(info) ((int64_t)(info).st_mtim.tv_sec * 1000000000LL + (info).st_mtim.tv_nsec)
#endif

void reader_stat_many(const char *paths, int64_t count, int64_t *out)
{
    for (int64_t index = 0; index < count; index++) {
        struct stat info;
        if (stat(paths, &info) == 0) {
            out[2 * index] = (int64_t)info.st_size;
            out[2 * index + 1] = MTIME_NS(info);
        } else {
            out[2 * index] = -1;
            out[2 * index + 1] = -1;
        }
        while (*paths) paths++;
        paths++;
    }
}

/* The entries of a directory in one call (os.scandir lets go of the interpreter lock
 * once per entry: 100k entries meant 100k waits behind a busy UI thread). Writes
 * "<kind><name>\0" per entry, kind being f(ile), d(irectory), l(ink), o(ther) or
 * u(nknown, the file system did not say); returns the bytes needed, -1 when the
 * directory cannot be opened (errno kept). When the result exceeds `capacity`, call
 * again with a larger buffer.
 */
#include <dirent.h>
#include <errno.h>

int64_t reader_list_dir(const char *path, char *out, int64_t capacity)
{
    DIR *directory = opendir(path);
    if (directory == NULL) return -1;
    int64_t used = 0;
    struct dirent *entry;
    errno = 0;
    while ((entry = readdir(directory)) != NULL) {
        const char *name = entry->d_name;
        if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
        char kind;
        switch (entry->d_type) {
            case DT_REG: kind = 'f'; break;
            case DT_DIR: kind = 'd'; break;
            case DT_LNK: kind = 'l'; break;
            case DT_UNKNOWN: kind = 'u'; break;
            default: kind = 'o'; break;
        }
        int64_t length = (int64_t)strlen(name);
        if (used + length + 2 <= capacity) {
            out[used] = kind;
            memcpy(out + used + 1, name, (size_t)length + 1);
        }
        used += length + 2;
    }
    int failed = errno != 0;
    closedir(directory);
    return failed ? -1 : used;
}
