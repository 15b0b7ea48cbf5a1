// SPDX-License-Identifier: Apache-2.0
// `fracta config mcp auth export` (and the deprecated `fracta mcp export`): a server's stored
// credentials as files, environment variables or a Kubernetes Secret, for a headless machine.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <system_error>

#include "commands.hpp"
#include "export/format.hpp"
#include "fracta/config.hpp"
#include "fracta/engine.hpp"
#include "output.hpp"
#include "run.hpp"

namespace fracta::cli {
namespace {

namespace fs = std::filesystem;

asio::awaitable<result<exported_credentials>> export_of(mcp_session& s) { co_return co_await s.export_credentials(); }

// Overwrites secret text before its memory is released.
void wipe(std::string& s) {
  volatile char* p = s.data();
  for (std::size_t n = 0; n < s.size(); ++n) p[n] = 0;
}

void wipe(exported_credentials& c) {
  for (auto* items : {&c.files, &c.fields}) {
    for (auto& i : *items) wipe(i.text);
  }
}

// Refuses an existing path unless --force; makes an existing file 0600 before it is replaced
// (write_file_atomically keeps the mode it finds).
bool may_write(const fs::path& p, bool force) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(p, ec))) return true;
  if (!force) {
    print_error(p.string() + " exists; nothing was written (pass --force to replace it)");
    return false;
  }
  ::chmod(p.c_str(), 0600);
  return true;
}

bool write_secret_file(const fs::path& p, std::string_view text) {
  try {
    config::write_file_atomically(p, text);
    return true;
  } catch (const std::system_error& e) {
    print_error(std::string(e.what()) + "; nothing else was changed");
    return false;
  }
}

int write_files(const std::string& server, const export_options& o, const exported_credentials& c) {
  std::error_code ec;
  const fs::path dir = fs::absolute(o.out, ec).lexically_normal();
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    print_error("--out " + o.out + " is not a directory; --format files writes token.json (and "
                "client-registration.json) into a directory");
    return exit_usage;
  }
  for (const auto& f : c.files) {
    if (!may_write(dir / f.name, o.force)) return exit_usage;
  }
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      print_error("cannot create the directory " + dir.string() + " (" + ec.message() + ")");
      return exit_usage;
    }
    ::chmod(dir.c_str(), 0700);
  }
  std::string written;
  for (const auto& f : c.files) {
    if (!write_secret_file(dir / f.name, f.text)) return exit_usage;
    written += (written.empty() ? "" : " and ") + (dir / f.name).string();
  }
  std::cerr << "Wrote " << written << " (mode 0600) with the credentials of " << server
            << ". On the other machine, point the server's auth table at them:\n";
  std::string table = exporting::auth_table_for_files(dir.string(), c);
  for (std::size_t at = 0; at < table.size();) {
    const std::size_t nl = table.find('\n', at);
    std::cerr << "  " << table.substr(at, nl - at) << "\n";
    at = nl + 1;
  }
  return exit_ok;
}

int print_or_write(const export_options& o, const std::string& text) {
  if (!o.out.empty()) {
    const fs::path p = fs::absolute(o.out).lexically_normal();
    if (!may_write(p, o.force) || !write_secret_file(p, text)) return exit_usage;
    std::cerr << "Wrote " << p.string() << " (mode 0600)\n";
    return exit_ok;
  }
  std::cout << text << std::flush;
  return std::cout ? exit_ok : exit_usage;
}

}  // namespace

int cmd_auth_export(const global_options& g, const std::string& server, const export_options& o) {
  if (o.format != "env" && o.format != "files" && o.format != "k8s-secret") {
    print_error("--format must be env, files or k8s-secret, not \"" + o.format + "\"");
    return exit_usage;
  }
  if (o.format == "files" && o.out.empty()) {
    print_error("--format files needs --out DIR (the directory to write token.json into)");
    return exit_usage;
  }
  if (o.format == "files" && o.to_stdout) {
    print_error("--format files writes files; use --format env or k8s-secret with --stdout");
    return exit_usage;
  }
  if (!o.out.empty() && o.to_stdout) {
    print_error("--out and --stdout are two places for one output: pass one");
    return exit_usage;
  }
  if (!o.k8s_namespace.empty() && o.format != "k8s-secret") {
    print_error("--namespace applies to --format k8s-secret only");
    return exit_usage;
  }
  if (!o.k8s_namespace.empty() && !exporting::is_k8s_namespace(o.k8s_namespace)) {
    print_error("--namespace \"" + o.k8s_namespace + "\" is not a Kubernetes namespace name (lower-case letters, "
                "digits and '-', at most 63)");
    return exit_usage;
  }
  if (o.format != "files" && o.out.empty() && !o.to_stdout && ::isatty(STDOUT_FILENO)) {
    print_error("refusing to print the credentials of " + server + " to a terminal; pass --stdout to print them "
                "anyway, or --out FILE to write a file (mode 0600), or pipe the output (e.g. | kubectl apply -f -)");
    return exit_usage;
  }
  auto cfg = load_config(g);
  if (!cfg) return exit_usage;
  asio::io_context io(1);
  engine eng(io.get_executor(), std::move(*cfg), make_engine_options(g, false, false, log_level::warn));
  auto session = eng.open(server);
  if (!session) {
    print_error(session.err().message);
    return exit_code_for(session.err());
  }
  auto r = run_on_loop(io, export_of(**session));
  if (!r) {
    print_error(r.err().message);
    return exit_code_for(r.err());
  }
  exported_credentials& c = *r;
  int code = exit_ok;
  if (o.format == "files") {
    code = write_files(server, o, c);
  } else {
    std::string text = o.format == "env" ? exporting::env_lines(server, c)
                                         : exporting::k8s_secret_yaml(server, o.k8s_namespace, c);
    code = print_or_write(o, text);
    wipe(text);
  }
  wipe(c);
  return code;
}

}  // namespace fracta::cli
