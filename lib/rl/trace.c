/* Reading and writing trace records: one table of the schema's keys serves both. */
#include "rl/trace.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

typedef enum { K_EVENT, K_STEP, K_NUM, K_INT, K_BOOL, K_STR, K_COUNTS, K_FINAL_OBS, K_LAYERS } key_kind;

typedef struct {
    const char *name;
    key_kind kind;
    int id; /* trace_field for K_NUM and K_INT, TB_* bit for K_BOOL and K_STR */
} key_def;

/* In the order trace_write() emits them.  K_INT numbers are written as integers. */
static const key_def keys[] = {
    {"event", K_EVENT, 0},
    {"step", K_STEP, 0},
    {"env", K_STR, TB_ENV},
    {"agent", K_STR, TB_AGENT},
    {"gamma", K_NUM, TF_GAMMA},
    {"lr", K_NUM, TF_LR},
    {"total_steps", K_INT, TF_TOTAL_STEPS},
    {"max_episode_steps", K_INT, TF_MAX_EPISODE_STEPS},
    {"reward_threshold", K_NUM, TF_REWARD_THRESHOLD},
    {"n_actions", K_INT, TF_N_ACTIONS},
    {"seed", K_INT, TF_SEED},
    {"episode", K_INT, TF_EPISODE},
    {"return", K_NUM, TF_RETURN},
    {"length", K_INT, TF_LENGTH},
    {"terminated", K_BOOL, TB_TERMINATED},
    {"truncated", K_BOOL, TB_TRUNCATED},
    {"action_counts", K_COUNTS, TB_ACTION_COUNTS},
    {"obs_min", K_NUM, TF_OBS_MIN},
    {"obs_max", K_NUM, TF_OBS_MAX},
    {"obs_mean", K_NUM, TF_OBS_MEAN},
    {"obs_std", K_NUM, TF_OBS_STD},
    {"reward_min", K_NUM, TF_REWARD_MIN},
    {"reward_max", K_NUM, TF_REWARD_MAX},
    {"final_obs", K_FINAL_OBS, TB_FINAL_OBS},
    {"updates", K_INT, TF_UPDATES},
    {"loss", K_NUM, TF_LOSS},
    {"value_loss", K_NUM, TF_VALUE_LOSS},
    {"policy_loss", K_NUM, TF_POLICY_LOSS},
    {"entropy", K_NUM, TF_ENTROPY},
    {"grad_norm", K_NUM, TF_GRAD_NORM},
    {"kl", K_NUM, TF_KL},
    {"q_mean", K_NUM, TF_Q_MEAN},
    {"q_max", K_NUM, TF_Q_MAX},
    {"td_error", K_NUM, TF_TD_ERROR},
    {"epsilon", K_NUM, TF_EPSILON},
    {"target_updated", K_BOOL, TB_TARGET_UPDATED},
    {"target_updates", K_INT, TF_TARGET_UPDATES},
    {"layers", K_LAYERS, TB_LAYERS},
    {"episodes", K_INT, TF_EPISODES},
    {"mean_return", K_NUM, TF_MEAN_RETURN},
    {"solved_step", K_INT, TF_SOLVED_STEP},
};
enum { N_KEYS = sizeof keys / sizeof keys[0], MAX_KEY_LEN = 17 };

static const char *const layer_keys[TL_COUNT] = {
    "w_mean", "w_std", "w_maxabs", "g_norm", "frac_dead", "frac_saturated", "update_ratio",
};
static const unsigned char layer_key_len[TL_COUNT] = {6, 5, 8, 6, 9, 14, 12};

static const char *const event_names[] = {"config", "episode", "update", "eval", "done"};
static const unsigned char event_len[] = {6, 7, 6, 4, 4};

const char *trace_event_name(trace_event e) { return e < TR_OTHER ? event_names[e] : "other"; }

const char *trace_field_name(trace_field f)
{
    for (int i = 0; i < N_KEYS; i++)
        if ((keys[i].kind == K_NUM || keys[i].kind == K_INT) && keys[i].id == (int)f)
            return keys[i].name;
    return "?";
}

const char *trace_layer_field_name(trace_layer_field f) { return layer_keys[f]; }

void trace_clear(trace_rec *t, trace_event event, uint64_t step)
{
    t->event = event;
    t->step = step;
    t->has = 0;
    t->flags = 0;
    t->n_action_counts = t->n_final_obs = t->n_layers = 0;
    t->env[0] = t->agent[0] = 0;
}

/* ---- reading ---- */

/* The keys by length, so a lookup compares a few candidates. */
static signed char by_len[MAX_KEY_LEN + 1][8];
static bool by_len_ready;

static void index_keys(void)
{
    memset(by_len, -1, sizeof by_len);
    for (int i = 0; i < N_KEYS; i++) {
        size_t n = strlen(keys[i].name);
        int j = 0;
        while (by_len[n][j] >= 0)
            j++;
        by_len[n][j] = (signed char)i;
    }
    by_len_ready = true;
}

static const key_def *lookup(const char *k, uint32_t n)
{
    if (n > MAX_KEY_LEN)
        return NULL;
    for (int j = 0; j < 8 && by_len[n][j] >= 0; j++) {
        const key_def *d = &keys[(int)by_len[n][j]];
        if (d->name[0] == k[0] && memcmp(d->name, k, n) == 0)
            return d;
    }
    return NULL;
}

static bool is_number(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64 ||
           o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

static double number(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return (double)o->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return (double)o->via.i64;
    default: return o->via.f64;
    }
}

static _Noreturn void wrong(const rec *r, const char *key, const char *want, const msgpack_object *o)
{
    rec_fail(r, "key \"%s\": expected %s, found %s", key, want, rec_type_name(o));
}

static void copy_name(char *dst, const msgpack_object_str *s)
{
    size_t n = s->size < TRACE_NAME_MAX - 1 ? s->size : TRACE_NAME_MAX - 1;
    memcpy(dst, s->ptr, n);
    dst[n] = 0;
}

static int numbers(const rec *r, const char *key, const msgpack_object *o, double *out,
                   bool counts)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        wrong(r, key, "an array of numbers", o);
    if (o->via.array.size > TRACE_MAX_ARRAY)
        rec_fail(r, "key \"%s\": %u entries, at most %d are allowed", key, o->via.array.size,
                 TRACE_MAX_ARRAY);
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        if (!is_number(e))
            rec_fail(r, "key \"%s\": entry %u: expected a number, found %s", key, i + 1,
                     rec_type_name(e));
        out[i] = number(e);
        if (counts && out[i] < 0)
            rec_fail(r, "key \"%s\": entry %u: a count must not be negative", key, i + 1);
    }
    return (int)o->via.array.size;
}

static void parse_layers(const rec *r, const msgpack_object *o, trace_rec *t)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        wrong(r, "layers", "an array of maps", o);
    if (o->via.array.size > TRACE_MAX_LAYERS)
        rec_fail(r, "key \"layers\": %u layers, at most %d are allowed", o->via.array.size,
                 TRACE_MAX_LAYERS);
    t->n_layers = (int)o->via.array.size;
    for (int i = 0; i < t->n_layers; i++) {
        const msgpack_object *m = &o->via.array.ptr[i];
        trace_layer *l = &t->layers[i];
        if (m->type != MSGPACK_OBJECT_MAP)
            rec_fail(r, "key \"layers\": entry %d: expected a map, found %s", i + 1,
                     rec_type_name(m));
        l->has = 0;
        /* the default name, the layer's index (i < TRACE_MAX_LAYERS: at most two digits;
         * snprintf here cost a tenth of diagnose's time) */
        char *nm = l->name;
        if (i >= 10)
            *nm++ = (char)('0' + i / 10);
        nm[0] = (char)('0' + i % 10);
        nm[1] = 0;
        for (uint32_t k = 0; k < m->via.map.size; k++) {
            const msgpack_object *key = &m->via.map.ptr[k].key, *v = &m->via.map.ptr[k].val;
            if (key->type != MSGPACK_OBJECT_STR)
                continue;
            const char *ks = key->via.str.ptr;
            uint32_t kn = key->via.str.size;
            if (kn == 4 && memcmp(ks, "name", 4) == 0) {
                if (v->type != MSGPACK_OBJECT_STR)
                    rec_fail(r, "key \"layers\": entry %d: key \"name\": expected a string, "
                             "found %s", i + 1, rec_type_name(v));
                copy_name(l->name, &v->via.str);
                continue;
            }
            for (int f = 0; f < TL_COUNT; f++) {
                if (layer_key_len[f] != kn || layer_keys[f][0] != ks[0] ||
                    memcmp(layer_keys[f], ks, kn) != 0)
                    continue;
                if (!is_number(v))
                    rec_fail(r, "key \"layers\": entry %d: key \"%s\": expected a number, "
                             "found %s", i + 1, layer_keys[f], rec_type_name(v));
                layer_set(l, (trace_layer_field)f, number(v));
                break;
            }
        }
    }
}

void trace_parse(const rec *r, trace_rec *t)
{
    if (!by_len_ready)
        index_keys();
    trace_clear(t, TR_OTHER, 0);
    bool have_event = false, have_step = false;
    for (uint32_t i = 0; i < r->map->size; i++) {
        const msgpack_object_str *ks = &r->map->ptr[i].key.via.str;
        const msgpack_object *v = &r->map->ptr[i].val;
        const key_def *d = lookup(ks->ptr, ks->size);
        if (!d)
            continue;
        switch (d->kind) {
        case K_EVENT:
            if (v->type != MSGPACK_OBJECT_STR)
                wrong(r, d->name, "a string", v);
            have_event = true;
            for (int e = 0; e < TR_OTHER; e++)
                if (v->via.str.size == event_len[e] && v->via.str.ptr[0] == event_names[e][0] &&
                    memcmp(v->via.str.ptr, event_names[e], v->via.str.size) == 0)
                    t->event = (trace_event)e;
            break;
        case K_STEP:
            if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                rec_fail(r, "key \"step\": expected a non-negative integer, found %lld",
                         (long long)v->via.i64);
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                wrong(r, d->name, "a non-negative integer", v);
            t->step = v->via.u64;
            have_step = true;
            break;
        case K_NUM:
        case K_INT:
            if (!is_number(v))
                wrong(r, d->name, "a number", v);
            trace_set(t, (trace_field)d->id, number(v));
            if (d->id == TF_SEED)
                t->seed = v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? v->via.u64 : 0;
            break;
        case K_BOOL:
            if (v->type != MSGPACK_OBJECT_BOOLEAN)
                wrong(r, d->name, "a boolean", v);
            t->flags |= (unsigned)d->id;
            if (d->id == TB_TERMINATED)
                t->terminated = v->via.boolean;
            else if (d->id == TB_TRUNCATED)
                t->truncated = v->via.boolean;
            else
                t->target_updated = v->via.boolean;
            break;
        case K_STR:
            if (v->type != MSGPACK_OBJECT_STR)
                wrong(r, d->name, "a string", v);
            t->flags |= (unsigned)d->id;
            copy_name(d->id == TB_ENV ? t->env : t->agent, &v->via.str);
            break;
        case K_COUNTS:
            t->n_action_counts = numbers(r, d->name, v, t->action_counts, true);
            t->flags |= TB_ACTION_COUNTS;
            break;
        case K_FINAL_OBS:
            t->n_final_obs = numbers(r, d->name, v, t->final_obs, false);
            t->flags |= TB_FINAL_OBS;
            break;
        case K_LAYERS:
            parse_layers(r, v, t);
            t->flags |= TB_LAYERS;
            break;
        }
    }
    if (!have_event)
        rec_fail(r, "key \"event\" is missing");
    if (!have_step)
        rec_fail(r, "key \"step\" is missing");
}

/* ---- writing ---- */

static void put_number(rec_writer *w, const char *key, double v, bool integer)
{
    if (integer && v >= 0 && v <= 9007199254740992.0 && v == floor(v))
        rec_put_u64(w, key, (uint64_t)v);
    else
        rec_put_f64(w, key, v);
}

static void put_layers(rec_writer *w, const trace_rec *t)
{
    msgpack_packer *pk = rec_put_key(w, "layers");
    msgpack_pack_array(pk, (size_t)t->n_layers);
    for (int i = 0; i < t->n_layers; i++) {
        const trace_layer *l = &t->layers[i];
        msgpack_pack_map(pk, 1 + (size_t)__builtin_popcount(l->has));
        msgpack_pack_str_with_body(pk, "name", 4);
        msgpack_pack_str_with_body(pk, l->name, strlen(l->name));
        for (int f = 0; f < TL_COUNT; f++) {
            if (!layer_has(l, (trace_layer_field)f))
                continue;
            msgpack_pack_str_with_body(pk, layer_keys[f], strlen(layer_keys[f]));
            msgpack_pack_double(pk, l->v[f]);
        }
    }
}

void trace_write(rec_writer *w, const trace_rec *t)
{
    rec_begin(w);
    for (int i = 0; i < N_KEYS; i++) {
        const key_def *d = &keys[i];
        switch (d->kind) {
        case K_EVENT:
            rec_put_cstr(w, "event", trace_event_name(t->event));
            break;
        case K_STEP: rec_put_u64(w, "step", t->step); break;
        case K_NUM:
        case K_INT:
            if (!trace_has(t, (trace_field)d->id))
                break;
            if (d->id == TF_SEED)
                rec_put_u64(w, d->name, t->seed);
            else
                put_number(w, d->name, t->v[d->id], d->kind == K_INT);
            break;
        case K_BOOL:
            if (t->flags & (unsigned)d->id)
                rec_put_bool(w, d->name, d->id == TB_TERMINATED ? t->terminated
                                         : d->id == TB_TRUNCATED ? t->truncated
                                                                 : t->target_updated);
            break;
        case K_STR:
            if (t->flags & (unsigned)d->id)
                rec_put_cstr(w, d->name, d->id == TB_ENV ? t->env : t->agent);
            break;
        case K_COUNTS:
            if (t->flags & TB_ACTION_COUNTS) {
                msgpack_packer *pk = rec_put_key(w, d->name);
                msgpack_pack_array(pk, (size_t)t->n_action_counts);
                for (int k = 0; k < t->n_action_counts; k++)
                    msgpack_pack_uint64(pk, (uint64_t)t->action_counts[k]);
            }
            break;
        case K_FINAL_OBS:
            if (t->flags & TB_FINAL_OBS) {
                msgpack_packer *pk = rec_put_key(w, d->name);
                msgpack_pack_array(pk, (size_t)t->n_final_obs);
                for (int k = 0; k < t->n_final_obs; k++)
                    msgpack_pack_float(pk, (float)t->final_obs[k]);
            }
            break;
        case K_LAYERS:
            if (t->flags & TB_LAYERS)
                put_layers(w, t);
            break;
        }
    }
    rec_end(w);
}
