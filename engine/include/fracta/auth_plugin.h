/* SPDX-License-Identifier: Apache-2.0 */
/* The stable C ABI between fracta and auth provider plugins: the only header a plugin needs. */
#ifndef FRACTA_AUTH_PLUGIN_H
#define FRACTA_AUTH_PLUGIN_H

/*
 * Rules every declaration below follows (docs/plugin-abi.md explains them at length):
 *
 *  - C99. No C++ type crosses the boundary. Statuses are int32_t constants, never enums.
 *  - Every struct starts with `struct_size` (sizeof as the writer compiled it) and only ever
 *    grows at its end. A reader uses a field only when struct_size covers it
 *    (FRACTA_HAS_FIELD). Optional function pointers may be NULL: check before each call.
 *  - fracta_str views are BORROWED for the duration of the call that passes them, never
 *    longer. Copy what you keep. Outputs go through host-provided sinks; the host copies.
 *    Neither side ever frees memory the other allocated.
 *  - An async operation either returns a final status, or returns FRACTA_PENDING and then
 *    calls its completion exactly once (success, failure, cancel or teardown). Only a
 *    completion can carry a message or an expiry: a provider that wants to say why it failed
 *    returns FRACTA_PENDING and fails through its completion. A completion may be called
 *    before the call that received it returns; the host copes. The host itself never calls a
 *    completion from inside the call that received it: host completions arrive later, on the
 *    instance's actor, and so does the FRACTA_E_CANCELLED that cancel() causes.
 *  - Teardown order: the host first completes every host operation still pending for the
 *    instance (timers, HTTP, post, store, resolve_secret_async) with FRACTA_E_CANCELLED, then
 *    calls the provider's cancel() (if any), then destroy(). Callbacks that hold the instance
 *    pointer can rely on it being alive when they run.
 *  - Threading: the host calls a provider instance, and delivers every completion addressed
 *    to it, on that instance's actor (one logical thread at a time). A plugin never blocks,
 *    and calls host services only from inside a host call or a host completion.
 *  - Nothing unwinds across the boundary (no C++ exceptions, no longjmp).
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- versions ---------------------------------------------------------------------------- */

#define FRACTA_ABI_MAJOR 1
/* Minor versions only append fields at the end of structs. */
#define FRACTA_ABI_MINOR 1

/* The one exported symbol. Its name carries the major version. */
#define FRACTA_PLUGIN_ENTRY_V1 fracta_plugin_entry_v1
#define FRACTA_PLUGIN_ENTRY_V1_NAME "fracta_plugin_entry_v1"

#if defined(_WIN32)
#define FRACTA_PLUGIN_EXPORT __declspec(dllexport)
#else
#define FRACTA_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* True when a struct of the given (reported) size contains `field`. */
#define FRACTA_HAS_FIELD(ptr, type, field) \
  ((ptr) != NULL && (ptr)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* ---- statuses ---------------------------------------------------------------------------- */

typedef int32_t fracta_status;

#define FRACTA_OK ((int32_t)0)
/* The operation continues; its completion will be called exactly once. */
#define FRACTA_PENDING ((int32_t)1)
/* apply(): no usable credential is cached; the host calls refresh() and then apply() again. */
#define FRACTA_NEED_REFRESH ((int32_t)2)

/* Errors are negative. The class drives engine policy. */
/* Permanent: the configuration is wrong; nothing will work until it is fixed. */
#define FRACTA_E_CONFIG ((int32_t)-1)
/* Permanent: an interactive login is needed (no credential, or the grant is dead). */
#define FRACTA_E_NEEDS_LOGIN ((int32_t)-2)
/* Transient: keep every credential, back off, try again later. */
#define FRACTA_E_TRANSIENT ((int32_t)-3)
/* The credential was refused and the provider has no other to offer. */
#define FRACTA_E_DENIED ((int32_t)-4)
/* The operation is not offered by this provider or host. */
#define FRACTA_E_UNSUPPORTED ((int32_t)-5)
#define FRACTA_E_CANCELLED ((int32_t)-6)
#define FRACTA_E_TIMEOUT ((int32_t)-7)
/* A store lookup found nothing (distinct from FRACTA_E_UNAVAILABLE). */
#define FRACTA_E_NOT_FOUND ((int32_t)-8)
/* A host facility (keyring, network) cannot be reached right now. Transient. */
#define FRACTA_E_UNAVAILABLE ((int32_t)-9)
/* Bad arguments in a call across the boundary: a programming error on the caller's side. */
#define FRACTA_E_INVALID_ARGUMENT ((int32_t)-10)
#define FRACTA_E_INTERNAL ((int32_t)-11)

/* ---- basic types ------------------------------------------------------------------------- */

/* A borrowed UTF-8 (or binary) view. Not NUL-terminated. data may be NULL when size is 0. */
typedef struct fracta_str {
  const char* data;
  size_t size;
} fracta_str;

/* An output sink. The receiver copies `s` during the call; ctx belongs to the caller. */
typedef struct fracta_sink {
  size_t struct_size;
  void* ctx;
  void (*write)(void* ctx, fracta_str s);
} fracta_sink;

/* Log levels for fracta_host.log. */
#define FRACTA_LOG_DEBUG ((int32_t)10)
#define FRACTA_LOG_INFO ((int32_t)20)
#define FRACTA_LOG_WARN ((int32_t)30)
#define FRACTA_LOG_ERROR ((int32_t)40)

/* The result of an async operation, passed (borrowed) to its completion. */
typedef struct fracta_outcome {
  size_t struct_size;
  /* Human-readable detail for errors (never a secret). */
  fracta_str message;
  /* Expiry of the credential the operation produced, unix milliseconds; 0 = none known. */
  int64_t expires_at_unix_ms;
  /* Operation-specific payload (e.g. the value read by store_get, the redirect URL of
     await_redirect). Borrowed for the duration of the completion call. */
  fracta_str value;
} fracta_outcome;

/* A completion: called exactly once with a final status (never FRACTA_PENDING).
   outcome may be NULL. Passed by value: both pointers stay valid until it is called. */
typedef struct fracta_completion {
  void (*fn)(void* ctx, int32_t status, const fracta_outcome* outcome);
  void* ctx;
} fracta_completion;

/* ---- requests a provider decorates ------------------------------------------------------- */

/* An outgoing request, lent to apply() for the duration of the call. */
typedef struct fracta_request {
  size_t struct_size;
  fracta_str method; /* upper case, e.g. "POST" */
  fracta_str url;    /* absolute */
  fracta_str body;
  void* host_ctx;
  /* Looks up a header (case-insensitive). Returns FRACTA_OK and sets *value (borrowed until
     the next call on this request), or FRACTA_E_NOT_FOUND. */
  int32_t (*get_header)(void* host_ctx, fracta_str name, fracta_str* value);
  /* Sets a header, replacing any of the same name (case-insensitive). The host copies. */
  int32_t (*set_header)(void* host_ctx, fracta_str name, fracta_str value);
} fracta_request;

/* A 401/403 answer the remote server gave, lent to on_challenge(). */
typedef struct fracta_challenge {
  size_t struct_size;
  int32_t http_status;           /* 401 or 403 */
  fracta_str www_authenticate;   /* all WWW-Authenticate values joined with ", "; may be empty */
  fracta_str resource_url;       /* the remote MCP server URL */
  fracta_str body;               /* the response body (may be empty) */
} fracta_challenge;

/* ---- host services ----------------------------------------------------------------------- */

typedef struct fracta_http_header {
  fracta_str name;
  fracta_str value;
} fracta_http_header;

typedef struct fracta_http_request {
  size_t struct_size;
  fracta_str method;
  fracta_str url;
  const fracta_http_header* headers;
  size_t header_count;
  fracta_str body;
  uint32_t timeout_ms;  /* 0 = host default */
} fracta_http_request;

typedef struct fracta_http_response {
  size_t struct_size;
  int32_t status; /* HTTP status code */
  const fracta_http_header* headers;
  size_t header_count;
  fracta_str body;
} fracta_http_response;

/* HTTP completion: status is FRACTA_OK with a response (any HTTP status), or an error
   (FRACTA_E_TIMEOUT, FRACTA_E_CANCELLED, FRACTA_E_UNAVAILABLE for network failures) with
   response NULL and message set. Everything is borrowed for the duration of the call. */
typedef struct fracta_http_completion {
  void (*fn)(void* ctx, int32_t status, const fracta_http_response* response, fracta_str message);
  void* ctx;
} fracta_http_completion;

/* Identifies a pending host operation, for cancel(). 0 is never a valid id. */
typedef uint64_t fracta_op_id;

/* Services the host lends to one provider instance. Valid from create() until destroy()
   returns. `host_ctx` must be passed back on every call. */
typedef struct fracta_host {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  void* host_ctx;

  /* The server this instance serves (its configured name) and its remote URL. */
  fracta_str server_name;
  fracta_str server_url;

  /* Logging. Never pass a secret value. */
  void (*log)(void* host_ctx, int32_t level, fracta_str message);

  /* Clocks, in milliseconds. The wall clock is unix time; the monotonic clock only moves
     forward. Both may be fake in tests. */
  int64_t (*wall_clock_ms)(void* host_ctx);
  int64_t (*monotonic_ms)(void* host_ctx);

  /* Resolves a SecretValue given as JSON ({"value":…} | {"env":…} | {"file":…}) as it appears
     in the provider's configuration. `key` names the field for error messages (e.g. "token").
     On FRACTA_OK the secret goes to `out`; otherwise a message for people goes to `error`
     (FRACTA_E_CONFIG). Synchronous: it may read a small file, so call it from create() only
     (start-up); later, use resolve_secret_async. */
  int32_t (*resolve_secret)(void* host_ctx, fracta_str key, fracta_str secret_json,
                            const fracta_sink* out, const fracta_sink* error);

  /* Sends an HTTP request through the host's client (TLS, proxies, CA bundle as configured).
     Always asynchronous: returns FRACTA_PENDING and sets *op, or an error without calling
     the completion. */
  int32_t (*http_send)(void* host_ctx, const fracta_http_request* request,
                       fracta_http_completion done, fracta_op_id* op);

  /* Calls done (status FRACTA_OK) after delay_ms on the instance's actor. Returns
     FRACTA_PENDING and sets *op. */
  int32_t (*timer_start)(void* host_ctx, int64_t delay_ms, fracta_completion done,
                         fracta_op_id* op);

  /* Cancels a pending http_send or timer: its completion is then called with
     FRACTA_E_CANCELLED (unless it had already completed). Unknown ids are ignored. */
  void (*cancel)(void* host_ctx, fracta_op_id op);

  /* Runs done (status FRACTA_OK) later on the instance's actor. */
  void (*post)(void* host_ctx, fracta_completion done);

  /* Credential store for this server, keyed by `key` (e.g. "tokens", "registration").
     store_get completes with FRACTA_OK and the value in outcome->value, FRACTA_E_NOT_FOUND,
     or FRACTA_E_UNAVAILABLE. May be NULL when the host has no store for this server. */
  int32_t (*store_get)(void* host_ctx, fracta_str key, fracta_completion done);
  int32_t (*store_put)(void* host_ctx, fracta_str key, fracta_str value, fracta_completion done);
  int32_t (*store_erase)(void* host_ctx, fracta_str key, fracta_completion done);

  /* JSON access for plugins written in C. `pointer` is an RFC 6901 JSON Pointer into
     `json` (e.g. "/token"). json_get_raw writes the element as minified JSON;
     json_get_string writes an unescaped string value. FRACTA_E_NOT_FOUND when absent,
     FRACTA_E_INVALID_ARGUMENT when `json` is not JSON or (json_get_string) not a string. */
  int32_t (*json_get_raw)(void* host_ctx, fracta_str json, fracta_str pointer, const fracta_sink* out);
  int32_t (*json_get_string)(void* host_ctx, fracta_str json, fracta_str pointer, const fracta_sink* out);

  /* Interactive login only (NULL in hosts without a user, e.g. the gateway). */
  /* Opens a URL in the user's browser ($BROWSER, else xdg-open) and/or prints it. */
  int32_t (*open_url)(void* host_ctx, fracta_str url);
  /* Shows a device-code prompt to the user. */
  int32_t (*show_device_code)(void* host_ctx, fracta_str verification_uri, fracta_str user_code,
                              fracta_str verification_uri_complete);
  /* Starts the loopback redirect listener: binds 127.0.0.1 (the port of `requested_uri` when
     non-empty, else an ephemeral one) and writes the exact redirect URI to `actual_uri`. */
  int32_t (*redirect_listen)(void* host_ctx, fracta_str requested_uri, const fracta_sink* actual_uri);
  /* Waits for the browser to reach the redirect URI (or for the user to paste it); completes
     with the full redirect URL in outcome->value. */
  int32_t (*redirect_await)(void* host_ctx, int64_t timeout_ms, fracta_completion done,
                            fracta_op_id* op);

  /* Like resolve_secret, but never blocks: a `file` source is read on the host's blocking-work
     pool, off the event loop. Use it in refresh() and anything after create(). Returns
     FRACTA_PENDING and sets *op, then completes with FRACTA_OK and the secret in
     outcome->value (borrowed for the call: copy it, and wipe your copy when done), or with
     FRACTA_E_CONFIG and a message for people in outcome->message. */
  int32_t (*resolve_secret_async)(void* host_ctx, fracta_str key, fracta_str secret_json,
                                  fracta_completion done, fracta_op_id* op);
} fracta_host;

/* ---- provider operations ----------------------------------------------------------------- */

/* Status document flags for fracta_provider.flags. */
#define FRACTA_PROVIDER_INTERACTIVE ((uint32_t)1) /* offers login() */

typedef struct fracta_provider {
  size_t struct_size;
  /* The auth type this provider implements (config `auth.type`), NUL-terminated, static. */
  const char* type;
  uint32_t flags;

  /* REQUIRED. Creates an instance from the server's auth table (JSON object). Validates it:
     on a mistake returns FRACTA_E_CONFIG and writes a message for people to `error`.
     `host` stays valid until destroy() returns. */
  int32_t (*create)(const fracta_host* host, fracta_str config_json, void** instance,
                    const fracta_sink* error);

  /* REQUIRED. Destroys an instance. Every pending operation of the instance must have called
     its completion (with FRACTA_E_CANCELLED) before this returns. */
  void (*destroy)(void* instance);

  /* REQUIRED. Synchronous: attaches the cached credential to `request` (FRACTA_OK), or says
     FRACTA_NEED_REFRESH, or fails (message to `error`). */
  int32_t (*apply)(void* instance, fracta_request* request, const fracta_sink* error);

  /* Optional. Obtains a fresh credential (async allowed). On success the outcome may carry
     its expiry; the host schedules the next refresh from it. FRACTA_E_DENIED means there is
     nothing newer to offer. */
  int32_t (*refresh)(void* instance, fracta_completion done);

  /* Optional. The server answered 401/403. FRACTA_OK means "retry with apply()";
     FRACTA_NEED_REFRESH means "refresh first, then retry"; an error ends the request. */
  int32_t (*on_challenge)(void* instance, const fracta_challenge* challenge,
                          fracta_completion done);

  /* Optional. Interactive login with options as JSON (e.g. {"scopes":[…],"timeout_ms":…}). */
  int32_t (*login)(void* instance, fracta_str options_json, fracta_completion done);

  /* Optional. Forgets stored credentials for this server. */
  int32_t (*logout)(void* instance, fracta_completion done);

  /* Optional. Writes a JSON object describing the credential state (never a secret). */
  int32_t (*status)(void* instance, const fracta_sink* json_out);

  /* Optional. Cancels every pending operation of the instance: each completes with
     FRACTA_E_CANCELLED. */
  void (*cancel)(void* instance);

  /* Optional (ABI 1.1). Hands over the credentials the instance holds, for another machine
     (`fracta config mcp auth export`): completes with FRACTA_OK and, as the outcome's value,
     a JSON object {"files": {NAME: TEXT, ...}, "fields": {AUTH_KEY: TEXT, ...}} where files
     are what the auth table reads back from a file: NAME is "<k>.json" for the auth-table
     key "<k, with - as _>_file" (token.json: token_file; client-registration.json:
     client_registration_file), [a-z0-9._-], at most 64 bytes; and fields are the same
     credentials as auth-table keys, for injection through the environment. The value holds secrets: the host never logs it.
     FRACTA_E_NOT_FOUND: nothing is held (the message says how to get it). Never contacts a
     server. */
  int32_t (*export_credentials)(void* instance, fracta_completion done);
} fracta_provider;

/* The smallest provider table the host accepts: create, destroy and apply present. */
#define FRACTA_PROVIDER_MIN_SIZE (offsetof(fracta_provider, apply) + sizeof(void*))

/* ---- the plugin ------------------------------------------------------------------------- */

typedef struct fracta_plugin {
  size_t struct_size;
  uint32_t abi_major; /* must equal FRACTA_ABI_MAJOR */
  uint32_t abi_minor; /* the minor the plugin was built against */
  const char* name;    /* NUL-terminated, static */
  const char* version; /* NUL-terminated, static */
  size_t provider_count;
  const fracta_provider* const* providers;
} fracta_plugin;

/* The entry point every plugin exports under FRACTA_PLUGIN_ENTRY_V1_NAME. Called once after
   loading, with the host's ABI minor. Returns a static descriptor, or NULL to refuse. */
typedef const fracta_plugin* (*fracta_plugin_entry_v1_fn)(uint32_t host_abi_minor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FRACTA_AUTH_PLUGIN_H */
