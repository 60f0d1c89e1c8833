#!/bin/bash
# Measures which ESP proposals a simulated-Azure charon offers and accepts per exchange role.
# Usage: bash docs/measurements/azure-role-per-exchange/run.sh [experiment ...]   (default: all)
# Creates namespaces rr-<id>-a/-b and two charons, removes them at the end (trap), prints the
# key log lines of every experiment; full logs and configs stay in runs/<id>/<experiment>/.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

PFS_DEV="aes256-sha256-modp2048"     # a device that REQUIRES PFS
DEV_UP() { sw "$DEV" --initiate --child lan --ike az --timeout 5 >"$DEV/initiate.out" 2>&1; }
AZ_UP() { sw "$AZ" --initiate --child "${1:-gw}" --ike dev --timeout 5 >"$AZ/initiate-${1:-gw}.out" 2>&1; }

# (a) one mixed list (the 26-entry responder table, no-PFS entries first); Azure rekeys.
exp_a_azure_rekeys() {
    new_exp a1-mixed-list-azure-rekeys
    write_az "$AZ" 4h "$(az_child gw "$RESP26" 5s 8s)"
    write_dev "$DEV" "$PFS_DEV" 60s 70s
    start_both || return 1
    mark; DEV_UP; sleep 10
    finish_exp
}

# (a) same list; the PFS device rekeys (Azure responds).
exp_a_device_rekeys() {
    new_exp a2-mixed-list-device-rekeys
    write_az "$AZ" 4h "$(az_child gw "$RESP26" 60s 70s)"
    write_dev "$DEV" "$PFS_DEV" 5s 8s
    start_both || return 1
    mark; DEV_UP; sleep 11
    finish_exp
}

# (b) device starts; Azure-sim holds the responder table; then load-conn swaps in the
# initiator table (same conn/child names) and a VICI rekey of Azure's child is requested.
exp_b_swap_then_rekey() {
    new_exp b1-swap-to-initiator-table-then-vici-rekey
    write_az "$AZ" 4h "$(az_child gw "$RESP26" 0 0)"
    write_dev "$DEV" "$PFS_DEV" 60s 70s
    start_both || return 1
    mark; DEV_UP; sleep 1
    write_az "$AZ" 4h "$(az_child gw "$INIT6" 0 0)"
    load "$AZ"; cp "$AZ/load.out" "$AZ/load-swap.out"
    sw "$AZ" --list-conns >"$AZ/list-conns-after-swap.txt" 2>&1
    sw "$AZ" --rekey --child gw >"$AZ/rekey.out" 2>&1; sleep 2
    # a second VICI rekey: the SA born from the first rekey still carries the old child_cfg
    sw "$AZ" --rekey --child gw >"$AZ/rekey2.out" 2>&1; sleep 2
    finish_exp
}

# (b, reverse) Azure starts with the initiator table (today's vpnlab when Azure initiates),
# then load-conn swaps in the responder table, then the PFS device rekeys.
exp_b_swap_then_device_rekey() {
    new_exp b2-azure-starts-swap-to-responder-table-device-rekeys
    write_az "$AZ" 4h "$(az_child gw "$INIT6" 0 0)"
    write_dev "$DEV" "$PFS_DEV" 0 0
    start_both || return 1
    mark; AZ_UP; sleep 1
    sw "$DEV" --rekey --child lan >"$DEV/rekey-before-swap.out" 2>&1; sleep 2
    write_az "$AZ" 4h "$(az_child gw "$RESP26" 0 0)"
    load "$AZ"; cp "$AZ/load.out" "$AZ/load-swap.out"
    sw "$DEV" --rekey --child lan >"$DEV/rekey-after-swap.out" 2>&1; sleep 2
    finish_exp
}

# (c) role-specific children with identical selectors: gw-in (responder table) listed first,
# gw-out (initiator table). Device starts; Azure rekeys its child; Azure starts gw-out.
exp_c_role_children() {
    new_exp c1-role-specific-children
    write_az "$AZ" 4h "$(az_child gw-in "$RESP26" 0 0)" "$(az_child gw-out "$INIT6" 0 0)"
    write_dev "$DEV" "$PFS_DEV" 0 0
    start_both || return 1
    mark; DEV_UP; sleep 1
    sw "$AZ" --rekey --child gw-in >"$AZ/rekey.out" 2>&1; sleep 2
    AZ_UP gw-out; sleep 1
    finish_exp
}

# (d) explicit KE "none" on the first proposal of the responder table. Ticket case 1:
# device starts, Azure rekeys first -> no KE -> device refuses -> CHILD SA expires.
exp_d_azure_rekeys() {
    new_exp d1-none-first-azure-rekeys
    write_az "$AZ" 4h "$(az_child gw "$RESP26_NONE" 5s 8s)"
    write_dev "$DEV" "$PFS_DEV" 60s 70s
    start_both || return 1
    mark; DEV_UP; sleep 11
    finish_exp
}

# (d) ticket case 2: device starts and rekeys first, with PFS -> accepted, stays up.
exp_d_device_rekeys() {
    new_exp d2-none-first-device-rekeys
    write_az "$AZ" 4h "$(az_child gw "$RESP26_NONE" 60s 70s)"
    write_dev "$DEV" "$PFS_DEV" 5s 8s
    start_both || return 1
    mark; DEV_UP; sleep 11
    finish_exp
}

# (d) ticket case 3: Azure starts, the device rekeys with PFS -> accepted. Then (limit) a
# rekey Azure starts on that PFS-born CHILD SA reuses its DH group.
exp_d_azure_starts() {
    new_exp d3-none-first-azure-starts-device-rekeys
    write_az "$AZ" 4h "$(az_child gw "$RESP26_NONE" 60s 70s)"
    write_dev "$DEV" "$PFS_DEV" 5s 8s
    start_both || return 1
    mark; AZ_UP; sleep 6
    sw "$AZ" --rekey --child gw >"$AZ/rekey.out" 2>&1; sleep 2
    finish_exp
}

# (d) a device without PFS: Azure's no-KE rekey is accepted (no regression); shows the
# offer Azure sends in CREATE_CHILD_SA.
exp_d_nopfs_device() {
    new_exp d4-none-first-nopfs-device-azure-rekeys
    write_az "$AZ" 4h "$(az_child gw "$RESP26_NONE" 5s 8s)"
    write_dev "$DEV" "aes256-sha256" 60s 70s
    start_both || return 1
    mark; DEV_UP; sleep 7
    finish_exp
}

# (d) what Azure offers in IKE_AUTH when it starts: a device that accepts only
# aes128-sha256 (in the responder table, not in the initiator table).
exp_d_offer_limit() {
    new_exp d5-none-first-azure-starts-offer
    write_az "$AZ" 4h "$(az_child gw "$RESP26_NONE" 60s 70s)"
    write_dev "$DEV" "aes128-sha256" 60s 70s
    start_both || return 1
    mark; AZ_UP; sleep 1
    finish_exp
}

# (d) Azure starts with the none-first list, the CHILD SA was born in IKE_AUTH (no DH):
# when Azure's own rekey timer fires first, PFS device refuses -> expires (ticket case 1
# with Azure as first initiator).
exp_d_azure_starts_azure_rekeys() {
    new_exp d6-none-first-azure-starts-azure-rekeys
    write_az "$AZ" 4h "$(az_child gw "$RESP26_NONE" 5s 8s)"
    write_dev "$DEV" "$PFS_DEV" 60s 70s
    start_both || return 1
    mark; AZ_UP; sleep 10
    finish_exp
}

# IKE rekey started by Azure: always KE, old group reused, ike proposals of the IKE_SA's ike_cfg.
exp_ike_rekey() {
    new_exp e1-ike-rekey-by-azure
    write_az "$AZ" 4s "$(az_child gw "$RESP26_NONE" 60s 70s)"
    write_dev "$DEV" "$PFS_DEV" 60s 70s
    start_both || return 1
    mark; DEV_UP; sleep 6
    finish_exp
}

# IKE reauthentication started by Azure (vpnlab sets reauth_time=0; shown for completeness):
# fresh IKE_SA_INIT/IKE_AUTH from Azure's ike_cfg, CHILD SAs recreated from their old child_cfg.
exp_ike_reauth() {
    new_exp e2-ike-reauth-by-azure
    write_az "$AZ" 4h "$(az_child gw "$RESP26_NONE" 60s 70s)"
    write_dev "$DEV" "$PFS_DEV" 60s 70s
    start_both || return 1
    mark; DEV_UP; sleep 1
    sw "$AZ" --rekey --ike dev --reauth >"$AZ/reauth.out" 2>&1; sleep 2
    finish_exp
}

# (d) the KE-NONE proposal as responder: a GCM device without PFS rekeys -> accepted; a GCM
# device with PFS rekeys -> refused (Azure lists GCM only without PFS).
exp_d_gcm_nopfs() {
    new_exp d7-none-first-gcm-nopfs-device-rekeys
    write_az "$AZ" 4h "$(az_child gw "$RESP26_NONE" 60s 70s)"
    write_dev "$DEV" "aes256gcm16" 5s 8s
    start_both || return 1
    mark; DEV_UP; sleep 6
    finish_exp
}
exp_d_gcm_pfs() {
    new_exp d8-none-first-gcm-pfs-device-rekeys
    write_az "$AZ" 4h "$(az_child gw "$RESP26_NONE" 60s 70s)"
    write_dev "$DEV" "aes256gcm16-modp2048" 5s 8s
    start_both || return 1
    mark; DEV_UP; sleep 6
    finish_exp
}

# Hybrid list for labs where Azure starts: IKE_AUTH offer is exactly the six (a device that
# accepts only aes128-sha256 fails, as today), and a PFS rekey of the device is accepted.
exp_f_offer() {
    new_exp f1-init6-pfs-azure-starts-offer
    write_az "$AZ" 4h "$(az_child gw "$INIT6_PFS" 60s 70s)"
    write_dev "$DEV" "aes128-sha256" 60s 70s
    start_both || return 1
    mark; AZ_UP; sleep 1
    finish_exp
}
exp_f_device_rekeys() {
    new_exp f2-init6-pfs-device-pfs-rekey
    write_az "$AZ" 4h "$(az_child gw "$INIT6_PFS" 60s 70s)"
    write_dev "$DEV" "$PFS_DEV" 5s 30s
    start_both || return 1
    mark; AZ_UP; sleep 6
    finish_exp
}

ALL="exp_a_azure_rekeys exp_a_device_rekeys exp_b_swap_then_rekey exp_b_swap_then_device_rekey exp_c_role_children exp_d_azure_rekeys exp_d_device_rekeys exp_d_azure_starts exp_d_nopfs_device exp_d_offer_limit exp_d_azure_starts_azure_rekeys exp_ike_rekey exp_ike_reauth exp_d_gcm_nopfs exp_d_gcm_pfs exp_f_offer exp_f_device_rekeys"
setup_ns || exit 1
echo "run id $RID, namespaces $NS_A $NS_B, output $WORK"
for e in ${@:-$ALL}; do
    $e || echo "!! $e failed"
done
