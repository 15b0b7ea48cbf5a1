// SPDX-License-Identifier: Apache-2.0
// Egress policy: which classes of destination address an HTTP request may connect to.
#pragma once
#include "core/internal.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <asio/ip/address.hpp>

namespace fracta::http {

/// Which destinations a request may reach. The client checks every address it connects to
/// after DNS (so a name that resolves, or rebinds, to a refused address is refused too) and
/// every reused connection before the request is sent. Public addresses are always allowed.
struct egress_policy {
  bool allow_loopback = true;     ///< 127.0.0.0/8, ::1, and 0.0.0.0/8 and :: (they reach this host)
  bool allow_private = true;      ///< 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fc00::/7, fec0::/10
  bool allow_link_local = false;  ///< 169.254/16, fe80::/10, cloud metadata (169.254.169.254, fd00:ec2::254)
};

enum class address_class { public_address, loopback, private_network, link_local };

/// The class of `a`. IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible and NAT64 (64:ff9b::/96)
/// IPv6 addresses are classed by the IPv4 address they carry. Thread-safe.
[[nodiscard]] address_class classify(const asio::ip::address& a) noexcept;

/// The address of an IP literal host ("10.0.0.1", "[fe80::1]", "::1"); nullopt for a name.
/// Thread-safe.
[[nodiscard]] std::optional<asio::ip::address> literal_address(std::string_view host);

/// Whether `policy` lets a request connect to an address of class `c`. Thread-safe.
[[nodiscard]] bool allows(const egress_policy& policy, address_class c) noexcept;

/// Why a connection to `a` (of class `c`) was refused, naming the class and what allows it,
/// e.g. "refused to connect to 10.0.0.5, a private address (allow_private_network = true on
/// the server allows private addresses)". Thread-safe.
[[nodiscard]] std::string refusal(const asio::ip::address& a, address_class c);

/// The proxy the user configured, as far as its setting tells: connections to it are not
/// subject to the policy (it is the proxy that reaches the target).
struct proxy_endpoint {
  std::optional<asio::ip::address> address;  ///< when the setting names an IP literal
  std::optional<std::uint16_t> port;         ///< when the setting writes a port
  /// True when a connection to `a`:`port` may be this proxy.
  [[nodiscard]] bool may_be(const asio::ip::address& a, std::uint16_t p) const noexcept;
};
/// Parses a proxy setting ("http://user:pw@10.0.0.1:3128", "proxy.corp:8080", "[::1]:3128");
/// nullopt for an empty setting. Thread-safe.
[[nodiscard]] std::optional<proxy_endpoint> parse_proxy(std::string_view setting);

}  // namespace fracta::http
