# Harness library: two namespaces joined by a veth, one charon in each with a private /run.
# Sourced by run.sh. Everything it creates carries the run id $RID (namespaces rr-$RID-a/-b,
# charon env RR_RUN=rr-$RID); cleanup kills only the PIDs it recorded and deletes only its
# own namespaces.
#
#   a = "az"  : simulated Azure gateway, 198.51.100.20, VNet side 192.0.2.0/25
#   b = "dev" : the on-prem device,     198.51.100.10, LAN side  192.0.2.128/25

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RID=${RID:-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')}
NS_A=rr-$RID-a
NS_B=rr-$RID-b
WORK=${WORK:-$HERE/runs/$RID}
PIDS=()
mkdir -p "$WORK"

# The plugin list vpnlab uses (src/strongswan/conf.rs PLUGINS).
PLUGINS="random nonce openssl kdf kernel-libipsec kernel-netlink socket-default counters error-notify vici"

cleanup() {
    local p
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null
    done
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null
    done
    PIDS=()
    ip netns del "$NS_A" 2>/dev/null
    ip netns del "$NS_B" 2>/dev/null
    return 0
}

setup_ns() {
    ip netns add "$NS_A"
    ip netns add "$NS_B"
    for ns in "$NS_A" "$NS_B"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
    ip link add rr$RID-a netns "$NS_A" type veth peer name rr$RID-b netns "$NS_B"
    ip -n "$NS_A" addr add 198.51.100.20/24 dev rr$RID-a
    ip -n "$NS_B" addr add 198.51.100.10/24 dev rr$RID-b
    # an address inside each local selector: kernel-libipsec needs one to route the policy
    ip -n "$NS_A" addr add 192.0.2.1/32 dev lo
    ip -n "$NS_B" addr add 192.0.2.129/32 dev lo
    ip -n "$NS_A" link set rr$RID-a up
    ip -n "$NS_B" link set rr$RID-b up
}

# write_conf <dir>: strongswan.conf for charon (inside: /run) and one for swanctl.
write_conf() {
    local d=$1
    cat >"$d/strongswan.conf" <<EOF
charon {
    load_modular = no
    load = $PLUGINS
    install_routes = no
    install_virtual_ip = no
    retransmit_timeout = 0.5
    retransmit_base = 1.4
    retransmit_tries = 2
    threads = 16
    plugins {
        vici { socket = unix:///run/charon.vici }
        error-notify { socket = unix:///run/charon.enfy }
    }
    filelog {
        charon {
            path = /run/charon.log
            time_format = %H:%M:%S
            time_add_ms = yes
            flush_line = yes
            append = no
            default = 1
            ike = 2
            cfg = 2
            chd = 2
        }
    }
}
EOF
    cat >"$d/swanctl-tool.conf" <<EOF
swanctl { load = random nonce openssl pem pkcs1 pubkey }
EOF
    mkdir -p "$d/x509" "$d/x509ca" "$d/x509aa" "$d/x509ocsp" "$d/x509crl" "$d/x509ac" "$d/pubkey" "$d/private" "$d/rsa" "$d/ecdsa" "$d/bliss" "$d/pkcs8" "$d/pkcs12"
}

# start_charon <ns> <dir>: charon in <ns>, private mount namespace, <dir> bind-mounted on /run.
start_charon() {
    local ns=$1 d=$2
    rm -f "$d/charon.vici" "$d/charon.enfy" "$d/charon.pid" "$d/charon.log"
    # ip netns exec execs unshare, which execs sh, which execs charon: $! is charon's pid.
    ip netns exec "$ns" unshare -m --propagation slave sh -c \
        "mount --bind '$d' /run && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin STRONGSWAN_CONF=/run/strongswan.conf RR_RUN=rr-$RID /usr/lib/ipsec/charon" \
        >"$d/charon.stdout" 2>"$d/charon.stderr" </dev/null &
    PIDS+=($!)
    local i
    for i in $(seq 1 200); do
        [ -S "$d/charon.vici" ] && sw "$d" --stats >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "charon in $ns did not come up: $(tail -3 "$d/charon.stderr" "$d/charon.log" 2>/dev/null)" >&2
    return 1
}

# sw <dir> <swanctl args...>: swanctl against that node's VICI socket, bounded.
sw() {
    local d=$1
    shift
    STRONGSWAN_CONF="$d/swanctl-tool.conf" timeout 15 swanctl "$@" -u "unix://$d/charon.vici"
}

load() { sw "$1" --load-all --file "$1/swanctl.conf" >"$1/load.out" 2>&1 || { cat "$1/load.out"; return 1; }; }

stop_charons() {
    local p
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
    PIDS=()
}

# Tables (Azure Default policy, route-based; src/device/azure/policy.rs).
INIT6="aes256gcm16,aes256-sha1,3des-sha1,aes256-sha256,aes128-sha1,3des-sha256"
RESP26_TAIL="aes256-sha1,3des-sha1,aes256-sha256,aes128-sha1,3des-sha256,des-sha1,aes256-sha1-modp768,aes256-sha1-modp1024,aes256-sha1-modp2048,aes128-sha1-modp768,aes128-sha1-modp1024,aes128-sha1-modp2048,3des-sha1-modp768,3des-sha1-modp1024,3des-sha256-modp1024,aes256-sha256-modp768,aes256-sha256-modp1024,aes256-sha256-modp2048,aes256-sha1-modp2048s256,aes256-sha256-modp2048s256,aes128-sha256,aes128-sha256-modp768,aes128-sha256-modp1024,aes128-sha256-modp2048,3des-sha1-modp2048"
RESP26="aes256gcm16,$RESP26_TAIL"
# Mechanism (d): the same table, its first proposal carrying an explicit KE transform NONE.
RESP26_NONE="aes256gcm16-none,$RESP26_TAIL"
# Hybrid for labs where Azure starts the first exchange: the six initiator offers (first with
# KE NONE) plus the responder table's PFS combinations that use one of those six encr/integ
# pairs, so that the IKE_AUTH offer (KE stripped) is exactly the six.
INIT6_PFS="aes256gcm16-none,aes256-sha1,3des-sha1,aes256-sha256,aes128-sha1,3des-sha256,aes256-sha1-modp768,aes256-sha1-modp1024,aes256-sha1-modp2048,aes128-sha1-modp768,aes128-sha1-modp1024,aes128-sha1-modp2048,3des-sha1-modp768,3des-sha1-modp1024,3des-sha256-modp1024,aes256-sha256-modp768,aes256-sha256-modp1024,aes256-sha256-modp2048,aes256-sha1-modp2048s256,aes256-sha256-modp2048s256,3des-sha1-modp2048"
IKE_AZ="aes256-sha1-modp1024,aes256-sha256-modp1024,aes128-sha1-modp1024,aes128-sha256-modp1024,3des-sha1-modp1024,3des-sha256-modp1024"

# az_child <name> <esp> <rekey> <life> [start_action]: one children{} entry of the Azure-sim.
az_child() {
    cat <<EOF
      $1 {
        local_ts = 192.0.2.0/25
        remote_ts = 192.0.2.128/25
        esp_proposals = $2
        rekey_time = $3
        life_time = $4
        rand_time = 0s
        dpd_action = clear
        start_action = ${5:-none}
      }
EOF
}

# write_az <dir> <ike_rekey_time> <children...>
write_az() {
    local d=$1 ikerk=$2
    shift 2
    {
        cat <<EOF
connections {
  dev {
    version = 2
    local_addrs = 198.51.100.20
    remote_addrs = 198.51.100.10
    proposals = $IKE_AZ
    mobike = no
    rekey_time = $ikerk
    over_time = 10s
    reauth_time = 0
    local { auth = psk
            id = 198.51.100.20 }
    remote { auth = psk }
    children {
EOF
        printf '%s\n' "$@"
        cat <<EOF
    }
  }
}
secrets { ike-1 { id-1 = 198.51.100.20
                  id-2 = 198.51.100.10
                  secret = "rr-lab-psk" } }
EOF
    } >"$d/swanctl.conf"
}

# write_dev <dir> <esp> <rekey> <life> [ike_rekey_time]
write_dev() {
    cat >"$1/swanctl.conf" <<EOF
connections {
  az {
    version = 2
    local_addrs = 198.51.100.10
    remote_addrs = 198.51.100.20
    proposals = aes256-sha1-modp1024
    mobike = no
    rekey_time = ${5:-4h}
    reauth_time = 0
    local { auth = psk
            id = 198.51.100.10 }
    remote { auth = psk
             id = 198.51.100.20 }
    children {
      lan {
        local_ts = 192.0.2.128/25
        remote_ts = 192.0.2.0/25
        esp_proposals = $2
        rekey_time = $3
        life_time = $4
        rand_time = 0s
        start_action = none
      }
    }
  }
}
secrets { ike-1 { id-1 = 198.51.100.20
                  id-2 = 198.51.100.10
                  secret = "rr-lab-psk" } }
EOF
}

# new_exp <name>: fresh daemons and folders for one experiment. Sets AZ and DEV.
new_exp() {
    stop_charons
    EXP=$1
    AZ=$WORK/$EXP/az
    DEV=$WORK/$EXP/dev
    mkdir -p "$AZ" "$DEV"
    write_conf "$AZ"
    write_conf "$DEV"
}

start_both() {
    start_charon "$NS_A" "$AZ" && start_charon "$NS_B" "$DEV" && load "$AZ" && load "$DEV"
}

mark() { date +%H:%M:%S.%3N >"$WORK/$EXP/t0"; }

finish_exp() {
    sw "$AZ" --list-sas >"$AZ/list-sas.txt" 2>&1
    sw "$DEV" --list-sas >"$DEV/list-sas.txt" 2>&1
    stop_charons
    python3 "$HERE/keylines.py" "$WORK/$EXP" | tee "$WORK/$EXP/keylines.txt"
}
