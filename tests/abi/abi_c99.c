/* SPDX-License-Identifier: Apache-2.0 */
/* Compiles auth_plugin.h as strict C99 and uses every type and macro it declares. */
#include <fracta/auth_plugin.h>

#include <stdio.h>
#include <string.h>

/* The entry point, declared exactly as a C plugin declares it. */
FRACTA_PLUGIN_EXPORT const fracta_plugin* FRACTA_PLUGIN_ENTRY_V1(uint32_t host_abi_minor);

static int failures = 0;
#define EXPECT(cond)                                            \
  do {                                                          \
    if (!(cond)) {                                              \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                               \
    }                                                           \
  } while (0)

/* ---- one function for each function-pointer type, so each signature is checked ---------- */

static void sink_write(void* ctx, fracta_str s) {
  size_t* total = (size_t*)ctx;
  *total += s.size;
}
static void on_done(void* ctx, int32_t status, const fracta_outcome* outcome) {
  (void)ctx;
  (void)status;
  (void)outcome;
}
static void on_http(void* ctx, int32_t status, const fracta_http_response* response, fracta_str message) {
  (void)ctx;
  (void)status;
  (void)response;
  (void)message;
}
static int32_t req_get_header(void* host_ctx, fracta_str name, fracta_str* value) {
  (void)host_ctx;
  (void)name;
  (void)value;
  return FRACTA_E_NOT_FOUND;
}
static int32_t req_set_header(void* host_ctx, fracta_str name, fracta_str value) {
  (void)host_ctx;
  (void)name;
  (void)value;
  return FRACTA_OK;
}
static void h_log(void* c, int32_t level, fracta_str m) {
  (void)c;
  (void)level;
  (void)m;
}
static int64_t h_clock(void* c) {
  (void)c;
  return 0;
}
static int32_t h_resolve(void* c, fracta_str key, fracta_str json, const fracta_sink* out,
                         const fracta_sink* error) {
  (void)c;
  (void)key;
  (void)json;
  (void)out;
  (void)error;
  return FRACTA_E_CONFIG;
}
static int32_t h_http(void* c, const fracta_http_request* r, fracta_http_completion done, fracta_op_id* op) {
  (void)c;
  (void)r;
  (void)done;
  (void)op;
  return FRACTA_E_UNAVAILABLE;
}
static int32_t h_timer(void* c, int64_t delay, fracta_completion done, fracta_op_id* op) {
  (void)c;
  (void)delay;
  (void)done;
  (void)op;
  return FRACTA_E_UNSUPPORTED;
}
static void h_cancel(void* c, fracta_op_id op) {
  (void)c;
  (void)op;
}
static void h_post(void* c, fracta_completion done) {
  (void)c;
  (void)done;
}
static int32_t h_store_get(void* c, fracta_str key, fracta_completion done) {
  (void)c;
  (void)key;
  (void)done;
  return FRACTA_E_UNSUPPORTED;
}
static int32_t h_store_put(void* c, fracta_str key, fracta_str value, fracta_completion done) {
  (void)c;
  (void)key;
  (void)value;
  (void)done;
  return FRACTA_E_UNSUPPORTED;
}
static int32_t h_json(void* c, fracta_str json, fracta_str pointer, const fracta_sink* out) {
  (void)c;
  (void)json;
  (void)pointer;
  (void)out;
  return FRACTA_E_NOT_FOUND;
}
static int32_t h_resolve_async(void* c, fracta_str key, fracta_str json, fracta_completion done,
                               fracta_op_id* op) {
  (void)c;
  (void)key;
  (void)json;
  (void)done;
  (void)op;
  return FRACTA_PENDING;
}
static int32_t h_open_url(void* c, fracta_str url) {
  (void)c;
  (void)url;
  return FRACTA_OK;
}
static int32_t h_device(void* c, fracta_str uri, fracta_str code, fracta_str complete) {
  (void)c;
  (void)uri;
  (void)code;
  (void)complete;
  return FRACTA_OK;
}
static int32_t h_listen(void* c, fracta_str requested, const fracta_sink* actual) {
  (void)c;
  (void)requested;
  (void)actual;
  return FRACTA_OK;
}
static int32_t h_await(void* c, int64_t timeout, fracta_completion done, fracta_op_id* op) {
  (void)c;
  (void)timeout;
  (void)done;
  (void)op;
  return FRACTA_PENDING;
}

static int32_t p_create(const fracta_host* host, fracta_str config, void** instance, const fracta_sink* error) {
  (void)host;
  (void)config;
  (void)error;
  *instance = NULL;
  return FRACTA_E_CONFIG;
}
static void p_destroy(void* instance) { (void)instance; }
static int32_t p_apply(void* instance, fracta_request* request, const fracta_sink* error) {
  (void)instance;
  (void)request;
  (void)error;
  return FRACTA_NEED_REFRESH;
}
static int32_t p_refresh(void* instance, fracta_completion done) {
  (void)instance;
  (void)done;
  return FRACTA_E_DENIED;
}
static int32_t p_challenge(void* instance, const fracta_challenge* challenge, fracta_completion done) {
  (void)instance;
  (void)challenge;
  (void)done;
  return FRACTA_NEED_REFRESH;
}
static int32_t p_login(void* instance, fracta_str options, fracta_completion done) {
  (void)instance;
  (void)options;
  (void)done;
  return FRACTA_E_NEEDS_LOGIN;
}
static int32_t p_logout(void* instance, fracta_completion done) {
  (void)instance;
  (void)done;
  return FRACTA_OK;
}
static int32_t p_status(void* instance, const fracta_sink* json_out) {
  (void)instance;
  (void)json_out;
  return FRACTA_OK;
}
static void p_cancel(void* instance) { (void)instance; }
static int32_t p_export(void* instance, fracta_completion done) {
  (void)instance;
  (void)done;
  return FRACTA_E_NOT_FOUND;
}

static const fracta_provider provider = {
    sizeof(fracta_provider), "abi-c99", FRACTA_PROVIDER_INTERACTIVE,
    p_create, p_destroy, p_apply, p_refresh, p_challenge, p_login, p_logout, p_status, p_cancel, p_export,
};
static const fracta_provider* const providers[] = {&provider};
static const fracta_plugin plugin = {
    sizeof(fracta_plugin), FRACTA_ABI_MAJOR, FRACTA_ABI_MINOR, "abi-c99", "1.0.0", 1, providers,
};

FRACTA_PLUGIN_EXPORT const fracta_plugin* FRACTA_PLUGIN_ENTRY_V1(uint32_t host_abi_minor) {
  (void)host_abi_minor;
  return &plugin;
}

int main(void) {
  size_t written = 0;
  fracta_str hello;
  fracta_sink sink;
  fracta_outcome outcome;
  fracta_completion completion;
  fracta_request request;
  fracta_challenge challenge;
  fracta_http_header header;
  fracta_http_request http_request;
  fracta_http_response http_response;
  fracta_http_completion http_completion;
  fracta_op_id op = 1;
  fracta_host host;
  fracta_status st = FRACTA_OK;
  fracta_plugin_entry_v1_fn entry = FRACTA_PLUGIN_ENTRY_V1;
  const fracta_plugin* p;
  int32_t all[] = {FRACTA_OK, FRACTA_PENDING, FRACTA_NEED_REFRESH, FRACTA_E_CONFIG,
                   FRACTA_E_NEEDS_LOGIN, FRACTA_E_TRANSIENT, FRACTA_E_DENIED, FRACTA_E_UNSUPPORTED,
                   FRACTA_E_CANCELLED, FRACTA_E_TIMEOUT, FRACTA_E_NOT_FOUND, FRACTA_E_UNAVAILABLE,
                   FRACTA_E_INVALID_ARGUMENT, FRACTA_E_INTERNAL};
  int32_t levels[] = {FRACTA_LOG_DEBUG, FRACTA_LOG_INFO, FRACTA_LOG_WARN, FRACTA_LOG_ERROR};
  size_t i, j;

  hello.data = "hello";
  hello.size = 5;
  sink.struct_size = sizeof sink;
  sink.ctx = &written;
  sink.write = sink_write;
  sink.write(sink.ctx, hello);
  EXPECT(written == 5);

  memset(&outcome, 0, sizeof outcome);
  outcome.struct_size = sizeof outcome;
  outcome.message = hello;
  outcome.expires_at_unix_ms = 0;
  outcome.value = hello;
  completion.fn = on_done;
  completion.ctx = NULL;
  completion.fn(completion.ctx, FRACTA_OK, &outcome);

  memset(&request, 0, sizeof request);
  request.struct_size = sizeof request;
  request.method = hello;
  request.url = hello;
  request.body = hello;
  request.host_ctx = NULL;
  request.get_header = req_get_header;
  request.set_header = req_set_header;
  EXPECT(request.get_header(request.host_ctx, hello, &hello) == FRACTA_E_NOT_FOUND);
  EXPECT(request.set_header(request.host_ctx, hello, hello) == FRACTA_OK);

  memset(&challenge, 0, sizeof challenge);
  challenge.struct_size = sizeof challenge;
  challenge.http_status = 401;
  challenge.www_authenticate = hello;
  challenge.resource_url = hello;
  challenge.body = hello;

  header.name = hello;
  header.value = hello;
  memset(&http_request, 0, sizeof http_request);
  http_request.struct_size = sizeof http_request;
  http_request.method = hello;
  http_request.url = hello;
  http_request.headers = &header;
  http_request.header_count = 1;
  http_request.body = hello;
  http_request.timeout_ms = 0;
  memset(&http_response, 0, sizeof http_response);
  http_response.struct_size = sizeof http_response;
  http_response.status = 200;
  http_response.headers = &header;
  http_response.header_count = 1;
  http_response.body = hello;
  http_completion.fn = on_http;
  http_completion.ctx = NULL;
  http_completion.fn(http_completion.ctx, FRACTA_OK, &http_response, hello);

  memset(&host, 0, sizeof host);
  host.struct_size = sizeof host;
  host.abi_major = FRACTA_ABI_MAJOR;
  host.abi_minor = FRACTA_ABI_MINOR;
  host.host_ctx = NULL;
  host.server_name = hello;
  host.server_url = hello;
  host.log = h_log;
  host.wall_clock_ms = h_clock;
  host.monotonic_ms = h_clock;
  host.resolve_secret = h_resolve;
  host.http_send = h_http;
  host.timer_start = h_timer;
  host.cancel = h_cancel;
  host.post = h_post;
  host.store_get = h_store_get;
  host.store_put = h_store_put;
  host.store_erase = h_store_get;
  host.json_get_raw = h_json;
  host.json_get_string = h_json;
  host.open_url = h_open_url;
  host.show_device_code = h_device;
  host.redirect_listen = h_listen;
  host.redirect_await = h_await;
  host.resolve_secret_async = h_resolve_async;
  EXPECT(host.http_send(host.host_ctx, &http_request, http_completion, &op) == FRACTA_E_UNAVAILABLE);
  host.cancel(host.host_ctx, op);

  /* FRACTA_HAS_FIELD follows struct_size, and is false for NULL. */
  EXPECT(FRACTA_HAS_FIELD(&host, fracta_host, resolve_secret_async));
  host.struct_size = offsetof(fracta_host, json_get_raw);
  EXPECT(FRACTA_HAS_FIELD(&host, fracta_host, store_erase));
  EXPECT(!FRACTA_HAS_FIELD(&host, fracta_host, json_get_raw));
  {
    const fracta_host* none = NULL;
    EXPECT(!FRACTA_HAS_FIELD(none, fracta_host, log));
  }

  /* The entry point, through its typedef. */
  p = entry(FRACTA_ABI_MINOR);
  EXPECT(p->abi_major == FRACTA_ABI_MAJOR);
  EXPECT(p->provider_count == 1);
  EXPECT(p->providers[0]->struct_size >= FRACTA_PROVIDER_MIN_SIZE);
  EXPECT(FRACTA_PROVIDER_MIN_SIZE == offsetof(fracta_provider, refresh));
  EXPECT((p->providers[0]->flags & FRACTA_PROVIDER_INTERACTIVE) != 0);
  EXPECT(FRACTA_HAS_FIELD(p->providers[0], fracta_provider, export_credentials));
  EXPECT(strcmp(FRACTA_PLUGIN_ENTRY_V1_NAME, "fracta_plugin_entry_v1") == 0);

  /* Statuses: distinct, errors negative, log levels increasing. */
  for (i = 0; i < sizeof all / sizeof all[0]; ++i) {
    for (j = i + 1; j < sizeof all / sizeof all[0]; ++j) EXPECT(all[i] != all[j]);
    EXPECT((i < 3) == (all[i] >= 0));
  }
  for (i = 1; i < sizeof levels / sizeof levels[0]; ++i) EXPECT(levels[i - 1] < levels[i]);
  EXPECT(st == 0);

  if (failures == 0) printf("auth_plugin.h: C99 use OK\n");
  return failures == 0 ? 0 : 1;
}
