#include "quant/recipe.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const keys[RECIPE_TERMS] = {"w", "a", "g", "gx", "m", "v"};

const char *recipe_key(int i) { return keys[i]; }

const char *recipe_term(quant_recipe *r, const char *key, const char *spec, char *msg,
                        size_t msglen)
{
    int i = 0;
    while (i < RECIPE_TERMS && strcmp(key, keys[i]) != 0)
        i++;
    if (i == RECIPE_TERMS) {
        snprintf(msg, msglen, "unknown recipe term \"%.40s\" (expected w, a, g, gx, m or v)",
                 key);
        return msg;
    }
    if (r->q[i].bits) {
        snprintf(msg, msglen, "recipe term \"%s\" given twice", key);
        return msg;
    }
    quant_spec q;
    const char *why = quant_parse(&q, spec);
    if (!why && (i == RECIPE_M || i == RECIPE_V) && q.bits != 4 && q.bits != 8)
        why = "moments are stored in 4 or 8 bits";
    if (!why && (i == RECIPE_M || i == RECIPE_V) && q.gran == QUANT_PER_COLUMN)
        why = "moments take per-tensor, per-row or per-group-G scales";
    if (why) {
        snprintf(msg, msglen, "%s=%.40s: %s", key, spec, why);
        return msg;
    }
    r->q[i] = q;
    return NULL;
}

/* The next word of *p (skipping white space and comments) into word; false at the end. */
static bool next_word(const char **p, char *word, size_t size, int *line)
{
    const char *s = *p;
    for (;;) {
        while (isspace((unsigned char)*s))
            *line += *s++ == '\n';
        if (*s != '#')
            break;
        while (*s && *s != '\n')
            s++;
    }
    if (!*s)
        return false;
    size_t n = 0;
    while (*s && !isspace((unsigned char)*s) && *s != '#') {
        if (n + 1 < size)
            word[n++] = *s;
        s++;
    }
    word[n] = 0;
    *p = s;
    return true;
}

const char *recipe_parse(quant_recipe *r, const char *text, char *msg, size_t msglen)
{
    char word[128], spec[128], why[200];
    int line = 1;
    while (next_word(&text, word, sizeof word, &line)) {
        int at = line;
        char *eq = strchr(word, '=');
        if (eq) {
            *eq = 0;
            snprintf(spec, sizeof spec, "%s", eq + 1);
        } else if (!next_word(&text, spec, sizeof spec, &line)) {
            snprintf(msg, msglen, "line %d: recipe term \"%.40s\" has no spec", at, word);
            return msg;
        }
        if (recipe_term(r, word, spec, why, sizeof why)) {
            snprintf(msg, msglen, "line %d: %s", at, why);
            return msg;
        }
    }
    return NULL;
}

bool recipe_format(const quant_recipe *r, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < RECIPE_TERMS; i++) {
        if (!r->q[i].bits)
            continue;
        char spec[64];
        quant_format(&r->q[i], spec, sizeof spec);
        int n = snprintf(buf + used, size - used, "%s%s=%s", used ? " " : "", keys[i], spec);
        if (n < 0 || (size_t)n >= size - used)
            return false;
        used += (size_t)n;
    }
    return true;
}

bool recipe_has_linear(const quant_recipe *r)
{
    return r->q[RECIPE_W].bits || r->q[RECIPE_A].bits || r->q[RECIPE_G].bits ||
           r->q[RECIPE_GX].bits;
}
