# A veth pair for Sluice's faster devices to Linux (net_af_packet, net_af_xdp). Source it.
#   veth_up NS_SLUICE NS_PEER IF_SLUICE IF_PEER PEER_IP/N [MTU]
# creates both namespaces (loopback up) and the pair: IF_SLUICE in NS_SLUICE, up, no address (Sluice
# attaches to it: --dev net_af_packet0,iface=IF_SLUICE, run inside NS_SLUICE), IF_PEER in NS_PEER with
# PEER_IP, the Linux peer. Segmentation and checksum offloads of both ends are turned off: with them the
# kernel hands a packet socket 64 KiB GSO frames and partial checksums, which a NIC never would.
#   veth_down NS_SLUICE NS_PEER   deletes both namespaces (and with them the pair)
# shellcheck shell=bash

veth_up() {
  local ns_s="$1" ns_p="$2" if_s="$3" if_p="$4" peer_ip="$5" mtu="${6:-1500}"
  veth_down "$ns_s" "$ns_p"
  ip netns add "$ns_s"
  ip netns add "$ns_p"
  ip netns exec "$ns_s" ip link set lo up
  ip netns exec "$ns_p" ip link set lo up
  ip link add "$if_s" netns "$ns_s" mtu "$mtu" type veth peer name "$if_p" netns "$ns_p" mtu "$mtu"
  ip netns exec "$ns_s" ethtool -K "$if_s" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ip netns exec "$ns_p" ethtool -K "$if_p" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ip netns exec "$ns_s" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
  ip netns exec "$ns_p" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
  ip netns exec "$ns_s" ip link set "$if_s" up
  ip netns exec "$ns_p" ip addr add "$peer_ip" dev "$if_p"
  ip netns exec "$ns_p" ip link set "$if_p" up
}

veth_down() {
  ip netns del "$1" 2>/dev/null || true
  ip netns del "$2" 2>/dev/null || true
}
