// SPDX-License-Identifier: Apache-2.0
// Destination address classes (loopback, private, link-local, public) and the egress policy over them.
#include "http/egress.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace fracta::http {
namespace {

address_class classify_v4(std::uint32_t a) noexcept {
  const auto in = [a](std::uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  if (in(0x7f000000, 8) || in(0x00000000, 8)) return address_class::loopback;  // 0.0.0.0/8 reaches this host
  if (in(0xa9fe0000, 16)) return address_class::link_local;                     // 169.254/16, metadata included
  if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16) || in(0x64400000, 10)) {
    return address_class::private_network;  // RFC 1918 and 100.64/10 (CGNAT)
  }
  return address_class::public_address;
}

std::uint32_t embedded_v4(const asio::ip::address_v6::bytes_type& b) noexcept {
  return (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) | (std::uint32_t{b[14]} << 8) | b[15];
}

address_class classify_v6(const asio::ip::address_v6& v6) noexcept {
  const auto b = v6.to_bytes();
  const auto zero_prefix = [&b](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (b[i] != 0) return false;
    }
    return true;
  };
  if (v6.is_loopback() || v6.is_unspecified()) return address_class::loopback;
  if (v6.is_v4_mapped() || zero_prefix(12)) return classify_v4(embedded_v4(b));  // ::ffff:a.b.c.d, ::a.b.c.d
  constexpr std::array<unsigned char, 12> nat64 = {0x00, 0x64, 0xff, 0x9b};      // 64:ff9b::/96
  if (std::equal(nat64.begin(), nat64.end(), b.begin())) return classify_v4(embedded_v4(b));
  constexpr asio::ip::address_v6::bytes_type aws_metadata = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0,
                                                             0,    0,    0,    0,    0, 0, 0x02, 0x54};
  if (b == aws_metadata) return address_class::link_local;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return address_class::link_local;       // fe80::/10
  if ((b[0] & 0xfe) == 0xfc) return address_class::private_network;                  // fc00::/7 (ULA)
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return address_class::private_network;  // fec0::/10
  return address_class::public_address;
}

}  // namespace

address_class classify(const asio::ip::address& a) noexcept {
  return a.is_v4() ? classify_v4(a.to_v4().to_uint()) : classify_v6(a.to_v6());
}

std::optional<asio::ip::address> literal_address(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::error_code ec;
  const auto a = asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return a;
}

bool allows(const egress_policy& policy, address_class c) noexcept {
  switch (c) {
    case address_class::public_address:
      return true;
    case address_class::loopback:
      return policy.allow_loopback;
    case address_class::private_network:
      return policy.allow_private;
    case address_class::link_local:
      return policy.allow_link_local;
  }
  return false;
}

std::string refusal(const asio::ip::address& a, address_class c) {
  std::string out = "refused to connect to " + a.to_string();
  switch (c) {
    case address_class::loopback:
      return out + ", a loopback address (only a server that is itself on loopback may reach this machine; "
                   "allow_private_network does not change that)";
    case address_class::private_network:
      return out + ", a private address (allow_private_network = true on the server allows private addresses)";
    case address_class::link_local:
      return out + ", a link-local address (link-local and cloud metadata addresses are never contacted; "
                   "allow_private_network does not change that)";
    case address_class::public_address:
      break;
  }
  return out;
}

bool proxy_endpoint::may_be(const asio::ip::address& a, std::uint16_t p) const noexcept {
  if (port && *port != p) return false;
  if (address && *address != a) return false;
  return true;
}

std::optional<proxy_endpoint> parse_proxy(std::string_view setting) {
  if (setting.empty()) return std::nullopt;
  if (const auto scheme = setting.find("://"); scheme != std::string_view::npos) setting.remove_prefix(scheme + 3);
  setting = setting.substr(0, setting.find('/'));
  if (const auto at = setting.rfind('@'); at != std::string_view::npos) setting.remove_prefix(at + 1);
  std::string_view host = setting, port;
  if (setting.starts_with('[')) {
    const auto close = setting.find(']');
    host = setting.substr(0, close == std::string_view::npos ? setting.size() : close + 1);
    if (close != std::string_view::npos && close + 1 < setting.size() && setting[close + 1] == ':') {
      port = setting.substr(close + 2);
    }
  } else if (const auto colon = setting.rfind(':'); colon != std::string_view::npos) {
    host = setting.substr(0, colon);
    port = setting.substr(colon + 1);
  }
  proxy_endpoint out;
  out.address = literal_address(host);
  std::uint16_t n = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (!port.empty() && ec == std::errc() && end == port.data() + port.size()) out.port = n;
  return out;
}

}  // namespace fracta::http
