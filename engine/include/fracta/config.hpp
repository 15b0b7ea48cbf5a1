// SPDX-License-Identifier: Apache-2.0
// fracta's configuration: TOML → typed model, every validation rule, SecretValue, safe edits.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fracta/result.hpp"

namespace fracta::config {

/// Where something was written. line/column are 1-based; 0 when unknown. A value type
/// (thread-compatible), as are every struct below.
struct location {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

/// A configuration mistake found at load time. what() is the complete message for people:
/// "<file>:<line>:<col>: server '<name>': <key>: <problem>. <what to do instead>".
/// Never contains a secret value. Immutable once thrown: thread-safe to read.
class config_error final : public std::runtime_error {
 public:
  config_error(const std::string& message, location where, std::string server, std::string key);
  const location& where() const noexcept { return where_; }
  const std::string& server() const noexcept { return server_; }
  const std::string& key() const noexcept { return key_; }

 private:
  location where_;
  std::string server_;
  std::string key_;
};

/// A secret given by reference: exactly one of `value`, `env` or `file`.
struct secret_value {
  enum class source { value, env, file };
  source from = source::value;
  /// The literal (value), the variable name (env), or the absolute path (file; relative paths
  /// in the config are resolved against the config file's directory).
  std::string ref;
  /// Dotted key, e.g. "mcp.servers.github.remote.auth.token"; used in error messages.
  std::string key;
  location where;
};

/// Reads the secret. `file` strips one trailing "\n" or "\r\n", refuses at once (without
/// blocking) a directory, FIFO, socket or device, and refuses a file over 64 KiB. Errors name
/// the key, the source and what to do (the variable name or path, never the value). Blocking
/// for `file` (disk I/O): call it off the event loop. Thread-safe.
result<std::string> resolve(const secret_value& s);

/// The per-server `remote.auth` block.
struct auth {
  std::string type = "none";  // none | bearer | header | basic | oauth | <plugin type>
  location where;             // of the auth table (of `type` when present)

  // bearer
  std::optional<secret_value> token;
  // header
  std::string header_name;
  std::optional<secret_value> header_value;
  // basic
  std::optional<secret_value> username;
  std::optional<secret_value> password;
  // oauth
  std::string grant_type;  // authorization_code (default) | client_credentials | device_code
  std::vector<std::string> scopes;
  std::string token_store;  // auto (default) | keyring | file
  std::optional<secret_value> client_id, client_secret, access_token, refresh_token;
  std::optional<secret_value> passphrase;  // the encrypted file store's passphrase (Argon2id)
  std::optional<std::int64_t> expires_at;  // unix seconds, for inline access_token
  std::optional<secret_value> expires_at_secret;  // or expires_at = { env = "…" }: unix seconds or RFC 3339
  std::string token_file;                  // absolute path
  std::string client_registration_file;    // absolute path
  std::string metadata_url;
  std::string issuer;  // the authorization server an inline refresh_token belongs to

  /// The whole auth table as JSON, keys as written (SecretValue tables stay references and are
  /// resolved by the host on the provider's request); relative `file` paths made absolute.
  std::string json = "{}";
};

/// A server's `[mcp.servers.<name>.gateway]` table: how `fracta gateway` exposes it.
struct server_gateway {
  std::string prefix;                    // the names' prefix; empty: the server's name
  std::vector<std::string> tools_allow;  // tools.allow: globs ('*') on the server's tool names; empty: all
  std::vector<std::string> tools_deny;   // tools.deny: globs; a denied tool is hidden even when allowed
};

struct server {
  std::string name;
  location where;  // of the server's first table header
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // remote.headers, in file order
  std::string ca_bundle;                                      // remote.ca_bundle (absolute), optional
  std::uint32_t timeout_seconds = 30;                         // remote.timeout_seconds
  bool allow_insecure_http = false;    // remote.allow_insecure_http: plain http to a non-loopback host
  bool allow_private_network = false;  // remote.allow_private_network: plugin requests to private addresses
  /// remote.protocol: "auto" (probe the server's era) or the MCP version to speak, pinned.
  std::string protocol = "auto";
  struct auth auth;
  server_gateway gateway;
};

/// The `[gateway]` table: `fracta gateway`'s listener, names and front-end authentication.
struct gateway_section {
  bool present = false;  // the file has a [gateway] table
  location where;
  std::string listen = "127.0.0.1:8710";  // address:port ([v6]:port for IPv6)
  std::string tool_prefix = "always";     // always | on_collision | never
  std::string separator = "__";           // between the prefix and a tool or prompt name
  std::vector<std::string> allowed_origins;  // Origin values browsers may send (scheme://host[:port])
  std::vector<std::string> allowed_hosts;    // Host values accepted besides loopback names
  std::string tls_cert, tls_key;             // PEM files (absolute); both or neither
  std::uint32_t threads = 0;                 // loop threads; 0: one per core
  /// [gateway.auth]: who may use the gateway. Static bearer tokens, JWT access tokens from an
  /// issuer, or both; neither: only loopback listeners are allowed.
  std::vector<secret_value> tokens;
  std::string jwt_issuer;                 // jwt.issuer
  std::vector<std::string> jwt_audiences;  // jwt.audience (string or list)
  std::string jwt_jwks_url;               // jwt.jwks_url
  std::vector<std::string> jwt_scopes;    // jwt.scopes: required of every token, and advertised
  std::string resource;                   // the gateway's public URL (its RFC 9728 resource)
};

/// The MCP revisions fracta speaks, newest first: the stateless ones (2026-07-28 on, no
/// initialize) and the 2025 ones, spoken over initialize. remote.protocol may pin any of them.
inline constexpr std::array<std::string_view, 1> modern_protocol_versions = {"2026-07-28"};
inline constexpr std::array<std::string_view, 3> legacy_protocol_versions = {"2025-11-25", "2025-06-18", "2025-03-26"};

/// The `[plugins]` table.
struct plugins_section {
  std::vector<std::string> paths;            // directories, absolute
  std::vector<std::string> replace_builtin;  // shipped provider types a plugin may replace
};

struct config {
  std::string path;                         // the file it came from ("" when parsed from text)
  plugins_section plugins;                  // [plugins]
  std::vector<server> servers;              // in file order
  gateway_section gateway;                  // [gateway]
  /// The server named `name`, or nullptr. Thread-safe on a config no one modifies.
  const server* find(std::string_view name) const noexcept;
  /// Why find(name) found nothing, in the one phrasing every command uses: "no server named
  /// 'ntion' in PATH; did you mean 'notion'? Configured servers: …" (or how to add one).
  /// Thread-safe on a config no one modifies.
  std::string no_such_server(std::string_view name) const;
};

/// $FRACTA_CONFIG, else $XDG_CONFIG_HOME/fracta/config.toml, else ~/.config/fracta/config.toml.
/// Reads the environment: thread-safe unless another thread changes it (setenv).
std::filesystem::path default_path();

/// Parses and validates. Throws config_error (every rule of the product brief). `path` is where
/// relative paths resolve and what messages name. Thread-safe (no shared state); no I/O.
config parse(std::string_view text, const std::string& path);
/// Reads `path` (read_text) then parse(). A missing file is a config_error telling how to
/// create one. Blocking (disk I/O). Thread-safe.
config load(const std::filesystem::path& path);

/// The largest config file read_text() accepts.
inline constexpr std::size_t max_config_bytes = 1024 * 1024;

/// The text of a config file, following symlinks; nullopt when nothing exists at `path`.
/// Refuses (config_error naming the path) a directory, FIFO, socket or device without ever
/// blocking on it, a file over max_config_bytes, and a file that cannot be read. Blocking
/// (disk I/O). Thread-safe.
std::optional<std::string> read_text(const std::filesystem::path& path);

/// `url` safe to print: scheme://host[:port]/path, without userinfo, query or fragment. Text
/// that does not parse as a URL is cut the same way by hand. Thread-safe.
std::string redacted_url(std::string_view url);

/// Description of a server for `fracta config mcp add`, or for an embedder building a config in
/// code (with_server_added, then parse). A value type (thread-compatible).
struct new_server {
  std::string name;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::uint32_t timeout_seconds = 0;  // remote.timeout_seconds; 0 → not written (the default)
  std::string auth_type;  // empty → no auth table
  std::vector<std::pair<std::string, std::string>> auth_strings;               // key = "text"
  std::vector<std::pair<std::string, secret_value>> auth_secrets;              // key = { env = … }
  std::vector<std::pair<std::string, std::vector<std::string>>> auth_lists;    // key = ["a", "b"]
};

/// The file text with `s` appended as `[mcp.servers.<name>.remote]` (+ `.auth`) tables; every
/// existing byte is kept. The result is validated with parse() before it is returned. Throws
/// config_error when the name exists or the result would be invalid. Thread-safe; no I/O.
std::string with_server_added(std::string_view text, const std::string& path, const new_server& s);

/// The file text without server `name`'s tables; every other byte is kept, comments included.
/// Throws config_error when absent, or when the server is written in a form (dotted keys or
/// inline tables in a parent table) that cannot be removed without rewriting other lines.
/// Thread-safe; no I/O.
std::string with_server_removed(std::string_view text, const std::string& path, std::string_view name);

/// One change of `fracta config mcp set`: KEY=VALUE, or KEY removed (no value). A value type
/// (thread-compatible).
struct server_change {
  /// A key under the server, as the file writes it (`remote.url`, `remote.headers.X-Team`,
  /// `remote.auth.client_id`), or a short form: without `remote.` (`url`, `timeout_seconds`,
  /// `headers.NAME`, `auth.KEY`), `header.NAME`, `request-timeout`, or the full
  /// `mcp.servers.<name>.remote.…`.
  std::string key;
  /// The text after '=': the key's type decides how it is written (a string; an integer or a
  /// duration such as 30s for timeout_seconds; true/false; a list "read,write" for scopes;
  /// env:NAME, file:PATH or value:TEXT for a SecretValue). nullopt: remove the key.
  std::optional<std::string> value;
};

/// What with_server_changed() made.
struct changed_server {
  std::string text;                   // the whole new file text
  std::vector<std::string> set;       // the full dotted key of each value written, in order
  std::vector<std::string> unset;     // the full dotted key of each key removed
  /// The SecretValues written, for literal_secret_warning() (as new_server::auth_secrets).
  std::vector<std::pair<std::string, secret_value>> secrets;
  /// The server's URL changed to another canonical URL while its credentials are kept in a
  /// persistent store: they are filed under the name and the old URL and no longer used.
  bool stored_credentials_left_behind = false;
  std::string old_url;  // the URL before, set when it changed
};

/// The file text with `changes` applied to server `name` in order; every byte outside the
/// changed values is kept. A changed key gets only its value rewritten; a new key goes into its
/// table (created, e.g. `[mcp.servers.<name>.remote.headers]`, when absent); a removed key loses
/// its line. The result is validated with parse() before it is returned. Throws config_error: no
/// such server (config::no_such_server's phrasing), an unknown key (with a did-you-mean), a
/// value of the wrong type, a server written in a form that cannot be edited without rewriting
/// other lines (say to edit by hand), or the parser's error for the result. Thread-safe; reads
/// the current directory (a relative file: PATH is made absolute against it), no other I/O.
changed_server with_server_changed(std::string_view text, const std::string& path,
                                   std::string_view name, const std::vector<server_change>& changes);

/// `path` with a leading `~` or `~/` replaced by the home directory ($HOME, else the password
/// database), as the config reads its paths; any other path as it is. Thread-safe.
std::string expand_home(std::string_view path);

/// The SecretValue a command-line argument stands for: `env:NAME`, `file:PATH` (a relative PATH
/// made absolute against the current directory; `~/…` and `$CREDENTIALS_DIRECTORY/…` kept for
/// the config to read) or `value:TEXT` (the form of `config mcp add
/// --secret` and `config mcp set`); nullopt without one of these sources. `key` is left empty.
/// Thread-safe; reads the current directory, no other I/O.
std::optional<secret_value> secret_from_argument(std::string_view text);

/// Atomic replace: temp file in the same directory, fsync, rename, fsync the directory.
/// A symlink is followed to its final target, which is replaced (the link stays). Anything
/// that exists and is not a regular file (a device such as /dev/null, a FIFO, a directory)
/// is refused and left untouched. Keeps the existing file's mode (0600 for a new file).
/// Creates parent directories (0700). Blocking: call off the event loop. Throws
/// std::system_error naming the path. No shared state: any thread (one writer per path).
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

/// The warning `fracta config mcp add` prints when `s` writes a literal secret
/// (`{ value = "…" }`; client_id does not count) into `path`, an existing file that group or
/// others may read; "" when there is nothing to warn about. Names the keys, never the values.
/// Thread-safe.
std::string literal_secret_warning(const std::filesystem::path& path, const new_server& s);

}  // namespace fracta::config
