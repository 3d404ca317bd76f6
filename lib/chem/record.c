#include "chem/record.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

bool mol_coords_from_record(const rec *r, const char *key, chem_mol *m, char *msg, size_t cap)
{
    const msgpack_object *o = rec_find(r, key);
    size_t n = m->n_atoms, got = 0;
    if (!o) {
        snprintf(msg, cap, "key \"%s\" is missing (a SMILES needs coordinates to dock)", key);
        return false;
    }
    if (o->type == MSGPACK_OBJECT_MAP) {
        rec_tensor t;
        rec_get_tensor(r, key, &t);
        bool f32 = strcmp(t.dtype, "f32") == 0, f64 = strcmp(t.dtype, "f64") == 0;
        if ((!f32 && !f64) || t.ndim != 2 || t.shape[1] != 3) {
            snprintf(msg, cap, "%s: expected an f32 or f64 tensor of shape (N, 3)", key);
            return false;
        }
        got = t.shape[0];
        for (size_t i = 0; i < n && i < got; i++)
            for (int c = 0; c < 3; c++) {
                const unsigned char *p = (const unsigned char *)t.data + (3 * i + c) * (f32 ? 4 : 8);
                if (f32) {
                    float v;
                    memcpy(&v, p, 4);
                    m->atoms[i].xyz[c] = v;
                } else
                    memcpy(&m->atoms[i].xyz[c], p, 8);
            }
    } else if (o->type == MSGPACK_OBJECT_ARRAY) {
        const msgpack_object_array *a = &o->via.array;
        bool nested = a->size > 0 && a->ptr[0].type == MSGPACK_OBJECT_ARRAY;
        got = nested ? a->size : a->size / 3;
        for (size_t i = 0; i < a->size; i++) {
            const msgpack_object *row = nested ? a->ptr[i].via.array.ptr : &a->ptr[i];
            size_t k = nested ? (a->ptr[i].type == MSGPACK_OBJECT_ARRAY ? a->ptr[i].via.array.size : 0) : 1;
            if (nested && k != 3) {
                snprintf(msg, cap, "%s: row %zu is not three numbers", key, i + 1);
                return false;
            }
            for (size_t c = 0; c < k; c++) {
                const msgpack_object *v = &row[c];
                double x = v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64 ? v->via.f64
                           : v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (double)v->via.u64
                           : v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? (double)v->via.i64
                                                                        : NAN;
                size_t idx = nested ? 3 * i + c : i;
                if (!isfinite(x)) {
                    snprintf(msg, cap, "%s: value %zu is not a number", key, idx + 1);
                    return false;
                }
                if (idx / 3 < n)
                    m->atoms[idx / 3].xyz[idx % 3] = x;
            }
        }
        if (!nested && a->size % 3) {
            snprintf(msg, cap, "%s: %u numbers is not a multiple of 3", key, a->size);
            return false;
        }
    } else {
        snprintf(msg, cap, "%s: expected an array or a tensor, found %s", key, rec_type_name(o));
        return false;
    }
    if (got != n) {
        snprintf(msg, cap, "%s: %zu positions for %zu atoms", key, got, n);
        return false;
    }
    m->has_coords = true;
    return true;
}

