/* C versions of the raw-HTML scans of the fast engine, with the same results as the Python ones.
 *
 * Each function computes exactly what a regular expression of extractors/ computes (the pattern is
 * quoted above it), so that extractors/_scan.py can use either and the tests compare the two on real
 * pages. Python's `re` spends most of the fast engine's own time on these scans of 140 KB pages; a
 * loop over the characters does the same in a fraction. `\s` is Python's (str.isspace()).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define LINK_START 0xFDD0
#define LINK_END 0xFDD1
#define HEADING_MARK_1 0xFDD2 /* <h1>; <h6> is 0xFDD7 */
#define LONG_TAG_RUN 2000     /* extractors.guard: 2 * MAX_ATTRIBUTES */

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} Text;

/* One branch per character on the string's kind; the loops below are short and the branch predicts
 * perfectly, as a page is one kind throughout. */
static inline Py_UCS4 at(const Text *t, Py_ssize_t i) {
    if (t->kind == PyUnicode_1BYTE_KIND) return ((const Py_UCS1 *)t->data)[i];
    if (t->kind == PyUnicode_2BYTE_KIND) return ((const Py_UCS2 *)t->data)[i];
    return ((const Py_UCS4 *)t->data)[i];
}

static int text_of(PyObject *obj, Text *t) {
    if (!PyUnicode_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "expected str");
        return -1;
    }
    t->kind = PyUnicode_KIND(obj);
    t->data = PyUnicode_DATA(obj);
    t->n = PyUnicode_GET_LENGTH(obj);
    return 0;
}

/* The first c (under 256) in [i, stop), or stop. memchr on the string's bytes for every kind: in a 2- or
 * 4-byte string a byte equal to c is the character c only at a character's first byte with the other
 * bytes zero (little-endian), else the search goes on past it. */
static Py_ssize_t find_char(const Text *t, Py_ssize_t i, Py_ssize_t stop, Py_UCS4 c) {
    if (i >= stop) return stop;
    const int size = t->kind;
#if PY_LITTLE_ENDIAN
    const unsigned char *base = (const unsigned char *)t->data;
    const unsigned char *p = base + i * size, *end = base + stop * size;
    while (p < end) {
        const unsigned char *found = memchr(p, (int)c, (size_t)(end - p));
        if (found == NULL) return stop;
        Py_ssize_t offset = found - base;
        if (offset % size == 0) {
            Py_ssize_t index = offset / size;
            if (at(t, index) == c) return index;
        }
        p = found + 1;
    }
    return stop;
#else
    for (; i < stop; i++)
        if (at(t, i) == c) return i;
    return stop;
#endif
}

static inline Py_ssize_t next_lt(const Text *t, Py_ssize_t i) { return find_char(t, i, t->n, '<'); }

static inline int ascii_letter(Py_UCS4 c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* long_tags(html) -> list[int]: [m.start() for m in re.finditer(r"<[A-Za-z][^<>]{2000}", html)]. */
static PyObject *long_tags(PyObject *self, PyObject *arg) {
    Text t;
    if (text_of(arg, &t) < 0) return NULL;
    PyObject *starts = PyList_New(0);
    if (starts == NULL) return NULL;
    Py_ssize_t i = next_lt(&t, 0);
    while (i < t.n) {
        if (i + 1 >= t.n || !ascii_letter(at(&t, i + 1))) {
            i = next_lt(&t, i + 1);
            continue;
        }
        Py_ssize_t limit = i + 2 + LONG_TAG_RUN;
        if (limit > t.n) limit = t.n;
        Py_ssize_t lt = find_char(&t, i + 2, limit, '<');
        Py_ssize_t gt = find_char(&t, i + 2, lt, '>');
        if (gt - (i + 2) == LONG_TAG_RUN) {
            PyObject *start = PyLong_FromSsize_t(i);
            if (start == NULL || PyList_Append(starts, start) < 0) {
                Py_XDECREF(start);
                Py_DECREF(starts);
                return NULL;
            }
            Py_DECREF(start);
            i = next_lt(&t, i + 2 + LONG_TAG_RUN); /* finditer resumes after the match */
        } else {
            i = gt < lt ? next_lt(&t, gt) : lt; /* no '<' before the run's end: the next one is past it */
        }
    }
    return starts;
}

/* mark_tags(html) -> str: extractors.line_rules' _TAG.sub(_mark, html), where
 * _TAG = r"<(/?)([aA]|[hH][1-6])(?=[\s/>])[^>]*>": a link start tag gets LINK_START after it, a link end
 * tag LINK_END before it, a heading start tag its level's mark after it. */
static PyObject *mark_tags(PyObject *self, PyObject *arg) {
    Text t;
    if (text_of(arg, &t) < 0) return NULL;
    Py_ssize_t cap = 256, count = 0;
    Py_ssize_t *where = PyMem_Malloc(cap * sizeof(Py_ssize_t));
    Py_UCS4 *what = PyMem_Malloc(cap * sizeof(Py_UCS4));
    if (where == NULL || what == NULL) goto nomem;
    for (Py_ssize_t i = next_lt(&t, 0); i < t.n; i = next_lt(&t, i + 1)) {
        Py_ssize_t j = i + 1;
        int closing = 0, level = 0;
        if (j < t.n && at(&t, j) == '/') closing = 1, j++;
        if (j >= t.n) break;
        Py_UCS4 c = at(&t, j);
        if (c == 'a' || c == 'A') {
            j += 1;
        } else if ((c == 'h' || c == 'H') && j + 1 < t.n && at(&t, j + 1) >= '1' && at(&t, j + 1) <= '6') {
            level = (int)(at(&t, j + 1) - '0');
            j += 2;
        } else {
            continue;
        }
        if (j >= t.n) break;
        c = at(&t, j);
        if (!(c == '/' || c == '>' || Py_UNICODE_ISSPACE(c))) continue;
        Py_ssize_t end = find_char(&t, j, t.n, '>');
        if (end >= t.n) break; /* no '>' left: no later tag can match either */
        Py_UCS4 mark = 0;
        Py_ssize_t pos = 0;
        if (level == 0) {
            mark = closing ? LINK_END : LINK_START;
            pos = closing ? i : end + 1;
        } else if (!closing) {
            mark = (Py_UCS4)(HEADING_MARK_1 + level - 1);
            pos = end + 1;
        }
        if (mark) {
            if (count == cap) {
                cap *= 2;
                Py_ssize_t *w = PyMem_Realloc(where, cap * sizeof(Py_ssize_t));
                if (w == NULL) goto nomem;
                where = w;
                Py_UCS4 *m = PyMem_Realloc(what, cap * sizeof(Py_UCS4));
                if (m == NULL) goto nomem;
                what = m;
            }
            where[count] = pos, what[count] = mark, count++;
        }
        i = end; /* the match ends at its '>': scanning resumes after it */
    }
    PyObject *out;
    if (count == 0) {
        out = PyUnicode_Substring(arg, 0, t.n);
    } else {
        Py_UCS4 maxchar = PyUnicode_MAX_CHAR_VALUE(arg);
        if (maxchar < LINK_START + 7) maxchar = LINK_START + 7;
        out = PyUnicode_New(t.n + count, maxchar);
        if (out != NULL) {
            Py_ssize_t from = 0, to = 0;
            for (Py_ssize_t k = 0; k < count; k++) {
                Py_ssize_t len = where[k] - from;
                if (len && PyUnicode_CopyCharacters(out, to, arg, from, len) < 0) {
                    Py_CLEAR(out);
                    break;
                }
                to += len, from = where[k];
                PyUnicode_WRITE(PyUnicode_KIND(out), PyUnicode_DATA(out), to, what[k]);
                to++;
            }
            if (out != NULL && t.n > from && PyUnicode_CopyCharacters(out, to, arg, from, t.n - from) < 0)
                Py_CLEAR(out);
        }
    }
    PyMem_Free(where);
    PyMem_Free(what);
    return out;
nomem:
    PyMem_Free(where);
    PyMem_Free(what);
    return PyErr_NoMemory();
}

static inline int unquoted_char(Py_UCS4 c) {
    return !(Py_UNICODE_ISSPACE(c) || c == '"' || c == '\'' || c == '=' || c == '<' || c == '>' || c == '`');
}

/* Match name\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)) at i (name already matched, ending at j).
 * Returns the match end (> 0) and the value's bounds, or -1. */
static Py_ssize_t attribute_at(const Text *t, Py_ssize_t j, Py_ssize_t *value_start, Py_ssize_t *value_end) {
    while (j < t->n && Py_UNICODE_ISSPACE(at(t, j))) j++;
    if (j >= t->n || at(t, j) != '=') return -1;
    j++;
    while (j < t->n && Py_UNICODE_ISSPACE(at(t, j))) j++;
    if (j >= t->n) return -1;
    Py_UCS4 quote = at(t, j);
    if (quote == '"' || quote == '\'') {
        Py_ssize_t k = find_char(t, j + 1, t->n, quote);
        if (k >= t->n) return -1;
        *value_start = j + 1, *value_end = k;
        return k + 1;
    }
    Py_ssize_t k = j;
    while (k < t->n && unquoted_char(at(t, k))) k++;
    if (k == j) return -1;
    *value_start = j, *value_end = k;
    return k;
}

static inline int name_before(Py_UCS4 c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '"' || c == '\'' || c == '/';
}

/* The tag name of the start tag whose attribute begins at i: r"<([A-Za-z][^\s/>]*)" at the last '<'
 * before i, when that '<' comes after the last '>' before i; else NULL without an error. */
static PyObject *enclosing_tag(PyObject *html, const Text *t, Py_ssize_t i) {
    Py_ssize_t k = i - 1;
    while (k >= 0 && at(t, k) != '<' && at(t, k) != '>') k--;
    if (k < 0 || at(t, k) == '>' || k + 1 >= t->n || !ascii_letter(at(t, k + 1))) return NULL;
    Py_ssize_t end = k + 2;
    while (end < t->n) {
        Py_UCS4 c = at(t, end);
        if (c == '/' || c == '>' || Py_UNICODE_ISSPACE(c)) break;
        end++;
    }
    return PyUnicode_Substring(html, k + 1, end);
}

/* attribute_hits(html, name, cache, test) -> list[tuple[int, str, str]]
 * For each match m of re.compile(name + r'\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))').finditer(html):
 * hit = cache[m[0]], computed as bool(test(value)) and stored when missing. Returns (m.end(), value,
 * tag name) of each hit that stands in a start tag as extractors.boilerplate reads one: preceded by
 * whitespace, a quote or '/' (or at the start), its last '<' after its last '>', and that '<' followed
 * by r"[A-Za-z][^\s/>]*" (the tag name). Matches are found from the '=' they hold: '=' is rarer than
 * any name's first letter, and each '=' ends at most one name. */
static PyObject *attribute_hits(PyObject *self, PyObject *args) {
    PyObject *html, *name_obj, *cache, *test;
    if (!PyArg_ParseTuple(args, "UUO!O", &html, &name_obj, &PyDict_Type, &cache, &test)) return NULL;
    Text t, name;
    if (text_of(html, &t) < 0 || text_of(name_obj, &name) < 0) return NULL;
    if (name.n == 0) {
        PyErr_SetString(PyExc_ValueError, "empty attribute name");
        return NULL;
    }
    PyObject *hits = PyList_New(0);
    if (hits == NULL) return NULL;
    Py_ssize_t done = 0; /* the end of the last match: finditer's matches never overlap */
    for (Py_ssize_t eq = find_char(&t, 0, t.n, '='); eq < t.n; eq = find_char(&t, eq + 1, t.n, '=')) {
        Py_ssize_t k = eq;
        while (k > done && Py_UNICODE_ISSPACE(at(&t, k - 1))) k--;
        Py_ssize_t i = k - name.n; /* where the name must start */
        if (i < done) continue;
        Py_ssize_t c = 0;
        while (c < name.n && at(&t, i + c) == at(&name, c)) c++;
        if (c < name.n) continue;
        Py_ssize_t value_start = 0, value_end = 0;
        Py_ssize_t end = attribute_at(&t, k, &value_start, &value_end);
        if (end < 0) continue;
        done = end;
        PyObject *whole = PyUnicode_Substring(html, i, end);
        if (whole == NULL) goto fail;
        PyObject *known = PyDict_GetItemWithError(cache, whole); /* borrowed */
        int hit;
        if (known != NULL) {
            hit = PyObject_IsTrue(known);
        } else if (PyErr_Occurred()) {
            hit = -1;
        } else {
            PyObject *value = PyUnicode_Substring(html, value_start, value_end);
            PyObject *verdict = value ? PyObject_CallOneArg(test, value) : NULL;
            Py_XDECREF(value);
            hit = verdict ? PyObject_IsTrue(verdict) : -1;
            Py_XDECREF(verdict);
            if (hit >= 0 && PyDict_SetItem(cache, whole, hit ? Py_True : Py_False) < 0) hit = -1;
        }
        Py_DECREF(whole);
        if (hit < 0) goto fail;
        if (!hit || (i > 0 && !name_before(at(&t, i - 1)))) continue;
        PyObject *tag = enclosing_tag(html, &t, i);
        if (tag == NULL) {
            if (PyErr_Occurred()) goto fail;
            continue;
        }
        PyObject *item = Py_BuildValue("(nNN)", end, PyUnicode_Substring(html, value_start, value_end), tag);
        if (item == NULL || PyList_Append(hits, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    return hits;
fail:
    Py_DECREF(hits);
    return NULL;
}

static PyMethodDef methods[] = {
    {"long_tags", long_tags, METH_O, "the starts of re.finditer(r'<[A-Za-z][^<>]{2000}', html)"},
    {"mark_tags", mark_tags, METH_O, "extractors.line_rules' link and heading marks, in C"},
    {"attribute_hits", attribute_hits, METH_VARARGS, "the boilerplate scan of one attribute, in C"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
