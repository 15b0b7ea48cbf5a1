/* SPDX-License-Identifier: Apache-2.0 */
/* A complete fracta auth provider in plain C99 that signs every request with HMAC-SHA256: a tutorial. */

/*
 * How to read this file
 * ---------------------
 * A fracta plugin is a shared library exporting one function, fracta_plugin_entry_v1. fracta
 * calls it once after loading the library and gets back a static description of the plugin:
 * its name, version, and a table of "providers", one per auth type it implements. This
 * plugin implements one auth type, "hmac-example", configured like this:
 *
 *   [mcp.servers.internal.remote.auth]
 *   type = "hmac-example"
 *   key = { env = "HMAC_KEY" }        # a SecretValue: { env = … }, { file = … } or { value = … }
 *
 * and adds two headers to every request the server's client sends:
 *
 *   X-Fracta-Date: <unix seconds>
 *   X-Fracta-Signature: v1=<hex HMAC-SHA256(key, METHOD "\n" PATH "\n" DATE "\n" hex(SHA-256(body)))>
 *
 * PATH is the request target: the URL's path and query ("/" when the path is empty).
 *
 * The rules of the ABI (engine/include/fracta/auth_plugin.h, docs/plugin-abi.md) that this
 * file shows in practice:
 *  - Every struct starts with struct_size. A field may only be read when struct_size covers
 *    it (FRACTA_HAS_FIELD), and an optional function pointer may be NULL: check both.
 *  - fracta_str is a (pointer, length) view, not NUL-terminated, borrowed for one call.
 *  - Outputs go through sinks: the receiver copies what it is given. Nobody frees memory the
 *    other side allocated.
 *  - Never put a secret in a log line or an error message.
 */

#include <fracta/auth_plugin.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* ---- small helpers ------------------------------------------------------------------------ */

/* A fracta_str view of a NUL-terminated string. */
static fracta_str str_of(const char* s) {
  fracta_str r;
  r.data = s;
  r.size = strlen(s);
  return r;
}

/* Writes a message to a sink the host gave us, if it gave us a usable one. */
static void write_message(const fracta_sink* sink, const char* message) {
  if (FRACTA_HAS_FIELD(sink, fracta_sink, write) && sink->write != NULL)
    sink->write(sink->ctx, str_of(message));
}

/* A growable buffer that we lend to the host as a fracta_sink: the host writes into it
   during a call and we own the copy. Used to receive the raw config field and the secret. */
typedef struct buffer {
  unsigned char* data;
  size_t size;
  int failed; /* an allocation failed: the content is incomplete */
} buffer;

static void buffer_write(void* ctx, fracta_str s) {
  buffer* b = (buffer*)ctx;
  unsigned char* grown;
  if (b->failed || s.size == 0) return;
  grown = (unsigned char*)realloc(b->data, b->size + s.size);
  if (grown == NULL) {
    b->failed = 1;
    return;
  }
  memcpy(grown + b->size, s.data, s.size);
  b->data = grown;
  b->size += s.size;
}

static fracta_sink buffer_sink(buffer* b) {
  fracta_sink sink;
  sink.struct_size = sizeof(fracta_sink);
  sink.ctx = b;
  sink.write = buffer_write;
  return sink;
}

/* Frees a buffer, overwriting it first: it may have held a secret. */
static void buffer_free(buffer* b) {
  if (b->data != NULL) {
    OPENSSL_cleanse(b->data, b->size);
    free(b->data);
  }
  b->data = NULL;
  b->size = 0;
}

static void hex_encode(const unsigned char* in, size_t size, char* out /* 2*size+1 */) {
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < size; ++i) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * size] = '\0';
}

/* The request target of an absolute URL: everything from the first '/' or '?' after
   "scheme://authority" up to any '#'. *need_slash is set when the path is empty, so the
   target is "/" followed by the query (if any). Returns 0 when the URL is not absolute. */
static int request_target(fracta_str url, fracta_str* target, int* need_slash) {
  size_t i = 0;
  size_t end;
  /* skip "scheme://" */
  while (i + 2 < url.size && !(url.data[i] == ':' && url.data[i + 1] == '/' && url.data[i + 2] == '/'))
    ++i;
  if (i + 2 >= url.size) return 0;
  i += 3;
  /* skip the authority */
  while (i < url.size && url.data[i] != '/' && url.data[i] != '?' && url.data[i] != '#') ++i;
  /* a fragment is never sent to the server */
  end = i;
  while (end < url.size && url.data[end] != '#') ++end;
  target->data = url.data + i;
  target->size = end - i;
  *need_slash = target->size == 0 || target->data[0] == '?';
  return 1;
}

/* ---- the provider instance ---------------------------------------------------------------- */

/* One instance per configured server. fracta only ever calls an instance from one thread at
   a time (its actor), so it needs no locking. */
typedef struct hmac_instance {
  const fracta_host* host; /* lent by the host until destroy() returns */
  buffer key;              /* the resolved secret, owned by us */
} hmac_instance;

/* create(): validate the configuration and resolve the key. config_json is the server's auth
   table as JSON, e.g. {"type":"hmac-example","key":{"env":"HMAC_KEY"}}; we read it with the
   host's JSON services, so a C plugin needs no JSON library. */
static int32_t hmac_create(const fracta_host* host, fracta_str config_json, void** instance,
                           const fracta_sink* error) {
  buffer key_json = {NULL, 0, 0};
  buffer key = {NULL, 0, 0};
  fracta_sink key_json_sink = buffer_sink(&key_json);
  fracta_sink key_sink = buffer_sink(&key);
  hmac_instance* self;
  int32_t st;

  if (host == NULL || instance == NULL) return FRACTA_E_INVALID_ARGUMENT;
  *instance = NULL;

  /* Host services are optional fields too: check that the ones we need are there. */
  if (!FRACTA_HAS_FIELD(host, fracta_host, json_get_raw) || host->json_get_raw == NULL ||
      !FRACTA_HAS_FIELD(host, fracta_host, resolve_secret) || host->resolve_secret == NULL) {
    write_message(error, "hmac-example needs a host with json_get_raw and resolve_secret");
    return FRACTA_E_UNSUPPORTED;
  }

  /* 1. The SecretValue, as raw JSON, e.g. {"env":"HMAC_KEY"}. */
  st = host->json_get_raw(host->host_ctx, config_json, str_of("/key"), &key_json_sink);
  if (st == FRACTA_E_NOT_FOUND) {
    write_message(error, "auth type \"hmac-example\" needs `key`, a secret given as "
                         "{ env = \"NAME\" }, { file = \"PATH\" } or { value = \"...\" }");
    return FRACTA_E_CONFIG;
  }
  if (st != FRACTA_OK || key_json.failed) {
    buffer_free(&key_json);
    write_message(error, "hmac-example: the auth table could not be read");
    return st == FRACTA_OK ? FRACTA_E_INTERNAL : FRACTA_E_CONFIG;
  }

  /* 2. Resolve it. On failure the host writes a message naming the key and its source to
        the error sink we pass through; it never contains the secret. */
  {
    fracta_str raw;
    raw.data = (const char*)key_json.data;
    raw.size = key_json.size;
    st = host->resolve_secret(host->host_ctx, str_of("key"), raw, &key_sink, error);
  }
  buffer_free(&key_json);
  if (st != FRACTA_OK || key.failed) {
    buffer_free(&key);
    return st != FRACTA_OK ? st : FRACTA_E_INTERNAL;
  }
  if (key.size == 0 || key.size > INT_MAX) {
    buffer_free(&key);
    write_message(error, "hmac-example: the key must not be empty");
    return FRACTA_E_CONFIG;
  }

  self = (hmac_instance*)malloc(sizeof(hmac_instance));
  if (self == NULL) {
    buffer_free(&key);
    write_message(error, "hmac-example: out of memory");
    return FRACTA_E_INTERNAL;
  }
  self->host = host;
  self->key = key; /* ownership moves to the instance */
  *instance = self;
  return FRACTA_OK;
}

/* destroy(): this provider has no asynchronous operations, so nothing can be pending. */
static void hmac_destroy(void* instance) {
  hmac_instance* self = (hmac_instance*)instance;
  if (self == NULL) return;
  buffer_free(&self->key);
  free(self);
}

/* Sets one header, checking that the request offers set_header. */
static int32_t set_header(fracta_request* request, const char* name, const char* value) {
  if (!FRACTA_HAS_FIELD(request, fracta_request, set_header) || request->set_header == NULL)
    return FRACTA_E_UNSUPPORTED;
  return request->set_header(request->host_ctx, str_of(name), str_of(value));
}

/* apply(): synchronous. Computes the signature and sets the two headers. */
static int32_t hmac_apply(void* instance, fracta_request* request, const fracta_sink* error) {
  hmac_instance* self = (hmac_instance*)instance;
  const fracta_host* host;
  int64_t now_ms;
  char date[24];
  unsigned char body_hash[EVP_MAX_MD_SIZE];
  unsigned int body_hash_size = 0;
  char body_hash_hex[2 * EVP_MAX_MD_SIZE + 1];
  fracta_str target;
  int need_slash = 0;
  char* to_sign;
  size_t to_sign_size;
  size_t n = 0;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  char signature[3 + 2 * EVP_MAX_MD_SIZE + 1];
  int32_t st;

  /* body comes after method and url: when struct_size covers it, it covers them too. */
  if (self == NULL || !FRACTA_HAS_FIELD(request, fracta_request, body)) {
    write_message(error, "hmac-example: apply() needs an instance and a request");
    return FRACTA_E_INVALID_ARGUMENT;
  }
  host = self->host;

  /* DATE: the host's wall clock (it may be a fake one in tests), else the system's. */
  if (FRACTA_HAS_FIELD(host, fracta_host, wall_clock_ms) && host->wall_clock_ms != NULL)
    now_ms = host->wall_clock_ms(host->host_ctx);
  else
    now_ms = (int64_t)time(NULL) * 1000;
  snprintf(date, sizeof(date), "%lld", (long long)(now_ms / 1000));

  /* PATH */
  if (!request_target(request->url, &target, &need_slash)) {
    write_message(error, "hmac-example: the request URL is not absolute");
    return FRACTA_E_INVALID_ARGUMENT;
  }

  /* hex(SHA-256(body)). A view's data may be NULL when its size is 0. */
  if (!EVP_Digest(request->body.data != NULL ? request->body.data : "", request->body.size,
                  body_hash, &body_hash_size, EVP_sha256(), NULL)) {
    write_message(error, "hmac-example: SHA-256 failed");
    return FRACTA_E_INTERNAL;
  }
  hex_encode(body_hash, body_hash_size, body_hash_hex);

  /* METHOD "\n" PATH "\n" DATE "\n" BODY-HASH */
  to_sign_size = request->method.size + 1 + (size_t)need_slash + target.size + 1 + strlen(date) +
                 1 + strlen(body_hash_hex);
  to_sign = (char*)malloc(to_sign_size);
  if (to_sign == NULL) {
    write_message(error, "hmac-example: out of memory");
    return FRACTA_E_INTERNAL;
  }
  if (request->method.size > 0) memcpy(to_sign, request->method.data, request->method.size);
  n = request->method.size;
  to_sign[n++] = '\n';
  if (need_slash) to_sign[n++] = '/';
  if (target.size > 0) memcpy(to_sign + n, target.data, target.size);
  n += target.size;
  to_sign[n++] = '\n';
  memcpy(to_sign + n, date, strlen(date));
  n += strlen(date);
  to_sign[n++] = '\n';
  memcpy(to_sign + n, body_hash_hex, strlen(body_hash_hex));
  n += strlen(body_hash_hex);

  /* HMAC-SHA256(key, to_sign) */
  if (HMAC(EVP_sha256(), self->key.data, (int)self->key.size, (const unsigned char*)to_sign, n,
           mac, &mac_size) == NULL) {
    free(to_sign);
    write_message(error, "hmac-example: HMAC-SHA256 failed");
    return FRACTA_E_INTERNAL;
  }
  free(to_sign);
  memcpy(signature, "v1=", 3);
  hex_encode(mac, mac_size, signature + 3);

  /* The host copies header names and values during set_header. */
  st = set_header(request, "X-Fracta-Date", date);
  if (st == FRACTA_OK) st = set_header(request, "X-Fracta-Signature", signature);
  if (st != FRACTA_OK) write_message(error, "hmac-example: the host refused a header");
  return st;
}

/* status(): a JSON object describing the credential, for `fracta config mcp auth status`.
   Never the secret. (A status with dynamic strings must escape them as JSON.) */
static int32_t hmac_status(void* instance, const fracta_sink* json_out) {
  (void)instance;
  write_message(json_out, "{\"type\":\"hmac-example\",\"credential\":\"key\"}");
  return FRACTA_OK;
}

/* ---- the tables fracta reads -------------------------------------------------------------- */

/* Operations we do not offer stay NULL: a static key has nothing to refresh, no login. */
static const fracta_provider hmac_provider = {
    .struct_size = sizeof(fracta_provider),
    .type = "hmac-example",
    .flags = 0,
    .create = hmac_create,
    .destroy = hmac_destroy,
    .apply = hmac_apply,
    .refresh = NULL,
    .on_challenge = NULL,
    .login = NULL,
    .logout = NULL,
    .status = hmac_status,
    .cancel = NULL,
};

static const fracta_provider* const providers[] = {&hmac_provider};

static const fracta_plugin plugin = {
    .struct_size = sizeof(fracta_plugin),
    .abi_major = FRACTA_ABI_MAJOR,
    .abi_minor = FRACTA_ABI_MINOR, /* the minor we were compiled against */
    .name = "fracta-hmac-example",
    .version = "1.0.0",
    .provider_count = sizeof(providers) / sizeof(providers[0]),
    .providers = providers,
};

/* The entry point. A host with a newer minor can load us: it sees our struct sizes and
   only reads what they cover. We only use 1.0 fields, each checked, so any host minor works. */
FRACTA_PLUGIN_EXPORT const fracta_plugin* fracta_plugin_entry_v1(uint32_t host_abi_minor);

FRACTA_PLUGIN_EXPORT const fracta_plugin* fracta_plugin_entry_v1(uint32_t host_abi_minor) {
  (void)host_abi_minor;
  return &plugin;
}
