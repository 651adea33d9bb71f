#!/usr/bin/env bash
# shellcheck shell=bash
# Devstack plugin of trove: installs, configures, initialises, starts and
# stops trove-api, trove-taskmanager and trove-conductor.
#
# Devstack sources this file once per phase with "$1" = stack|unstack|clean
# and "$2" = pre-install|install|post-config|extra|test-config.  Everything
# not defined here (is_service_enabled, iniset, run_process, ...) and the
# variables in CAPITALS that settings does not set (DEST, DATA_DIR,
# SERVICE_HOST, ...) come from devstack itself.
#
# shellcheck disable=SC2154  # DEST, DATA_DIR, SERVICE_* etc. are devstack's

# Save trace setting; devstack plugins restore it at the end.
_XTRACE_TROVE=$(set +o | grep xtrace)
set +o xtrace

TROVE_BIN_DIR=${TROVE_BIN_DIR:-$(get_python_exec_prefix)}

# ------------------------------------------------------------ functions ----

# Keystone service user, service "trove" of type "database" and its endpoint.
create_trove_accounts() {
    create_service_user "trove" "admin"
    if is_service_enabled trove-api; then
        local service
        service=$(get_or_create_service "trove" "database" "Trove Database Service")
        get_or_create_endpoint "$service" "$REGION_NAME" \
            "$TROVE_SERVICE_PROTOCOL://$TROVE_SERVICE_HOST:$TROVE_SERVICE_PORT/v1.0/\$(project_id)s"
    fi
}

install_trove() {
    setup_develop "$TROVE_DIR"
}

install_troveclient() {
    if use_library_from_git "python-troveclient"; then
        git_clone_by_name "python-troveclient"
        setup_dev_lib "python-troveclient"
    else
        pip_install_gr python-troveclient
    fi
}

# A random secret for the RPC keys unless local.conf gave one.
_trove_secret() {
    local given=$1
    if [[ -n "$given" ]]; then
        echo "$given"
    else
        openssl rand -hex 32
    fi
}

_configure_trove_conf() {
    local conf=$TROVE_CONF
    iniset "$conf" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$conf" DEFAULT host "$(hostname)"
    iniset "$conf" DEFAULT bind_host "$(ipv6_unquote "$SERVICE_LISTEN_ADDRESS")"
    iniset "$conf" DEFAULT bind_port "$TROVE_SERVICE_PORT"
    iniset "$conf" DEFAULT api_paste_config "$TROVE_API_PASTE_INI"
    iniset "$conf" DEFAULT api_pipeline trove
    iniset "$conf" DEFAULT compute_driver "$TROVE_COMPUTE_DRIVER"
    iniset "$conf" DEFAULT default_datastore "$TROVE_DATASTORE_TYPE"
    iniset "$conf" DEFAULT guest_config "$TROVE_GUESTAGENT_CONF"
    iniset "$conf" DEFAULT region "$REGION_NAME"
    iniset "$conf" DEFAULT enable_secure_rpc_messaging "$TROVE_ENABLE_SECURE_RPC"
    iniset "$conf" DEFAULT inst_rpc_key_encr_key "$(_trove_secret "$TROVE_INST_RPC_KEY_ENCR_KEY")"
    iniset "$conf" DEFAULT taskmanager_rpc_encr_key \
        "$(_trove_secret "$TROVE_TASKMANAGER_RPC_ENCR_KEY")"
    if [[ -n "$TROVE_MGMT_NETWORK_ID" ]]; then
        iniset "$conf" DEFAULT management_networks "$TROVE_MGMT_NETWORK_ID"
    fi
    iniset "$conf" local base_dir "$TROVE_STATE_PATH/local"
    iniset "$conf" database connection "$(database_connection_url trove)"
    iniset_rpc_backend trove "$conf"
    configure_keystone_authtoken_middleware "$conf" trove
    iniset "$conf" service_credentials auth_url "$KEYSTONE_SERVICE_URI/v3"
    iniset "$conf" service_credentials username trove
    iniset "$conf" service_credentials password "$SERVICE_PASSWORD"
    iniset "$conf" service_credentials project_name "$SERVICE_PROJECT_NAME"
    iniset "$conf" service_credentials region_name "$REGION_NAME"
    setup_logging "$conf"
}

# The guest agent only needs the broker; guest_info.conf (identity and its
# own RPC key) is written per instance by the taskmanager.
_configure_guestagent_conf() {
    local conf=$TROVE_GUESTAGENT_CONF
    iniset "$conf" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$conf" DEFAULT transport_url "$(get_transport_url)"
    iniset "$conf" DEFAULT control_exchange trove
    iniset "$conf" DEFAULT log_dir /var/log/trove
}

configure_trove() {
    sudo install -d -o "$STACK_USER" "$TROVE_CONF_DIR" "$TROVE_STATE_PATH" \
        "$TROVE_AUTH_CACHE_DIR"
    cp "$TROVE_DIR/etc/trove/api-paste.ini" "$TROVE_API_PASTE_INI"
    # Keys live in trove.conf: readable by the stack user only.
    touch "$TROVE_CONF"
    chmod 0600 "$TROVE_CONF"
    _configure_trove_conf
    _configure_guestagent_conf
    if is_service_enabled keystone; then
        create_trove_accounts
    fi
}

_trove_manage() {
    "$TROVE_BIN_DIR/trove-manage" --config-file "$TROVE_CONF" "$@"
}

# Build the guest image of the datastore's engine from this checkout and
# upload its kernel, initrd and disk; print the disk image's id.
_build_guest_image() {
    sudo "$TROVE_DIR/tools/guest-image/build" --cache "$TROVE_GUEST_IMAGE_CACHE" \
        --engine "$TROVE_DATASTORE_MANAGER" >&2
    OS_REGION_NAME=$REGION_NAME "$TROVE_DIR/tools/guest-image/upload" \
        --output "$TROVE_GUEST_IMAGE_CACHE/out" --engine "$TROVE_DATASTORE_MANAGER" \
        --name "$TROVE_GUEST_IMAGE_NAME" -- \
        --project "$SERVICE_PROJECT_NAME" --private --tag trove
}

# Upload the guest image (when one is configured or built) and print its id.
_upload_guest_image() {
    local file
    if [[ -z "$TROVE_GUEST_IMAGE_URL" ]]; then
        if [[ "$TROVE_GUEST_IMAGE_BUILD" == True ]]; then
            _build_guest_image
        fi
        return 0
    fi
    file=$FILES/$(basename "$TROVE_GUEST_IMAGE_URL")
    if [[ ! -f "$file" ]]; then
        curl -fsSL -o "$file" "$TROVE_GUEST_IMAGE_URL"
    fi
    openstack --os-region-name "$REGION_NAME" image create "$TROVE_GUEST_IMAGE_NAME" \
        --project "$SERVICE_PROJECT_NAME" --private --disk-format qcow2 \
        --container-format bare --tag trove --file "$file" -f value -c id
}

init_trove() {
    local image_id=""
    recreate_database trove
    _trove_manage db_sync
    if is_service_enabled g-api; then
        image_id=$(_upload_guest_image)
    fi
    _trove_manage datastore_update "$TROVE_DATASTORE_TYPE"
    _trove_manage datastore_version_update "$TROVE_DATASTORE_TYPE" \
        "$TROVE_DATASTORE_VERSION" "$TROVE_DATASTORE_MANAGER" "$image_id" "" 1
    _trove_manage datastore_update "$TROVE_DATASTORE_TYPE" "$TROVE_DATASTORE_VERSION"
    local rules=$TROVE_DIR/trove/templates/$TROVE_DATASTORE_MANAGER/validation-rules.json
    if [[ -f "$rules" ]]; then
        _trove_manage db_load_datastore_config_parameters "$TROVE_DATASTORE_TYPE" \
            "$TROVE_DATASTORE_VERSION" "$rules"
    fi
}

start_trove() {
    run_process trove-api "$TROVE_BIN_DIR/trove-api --config-file $TROVE_CONF"
    run_process trove-tmgr "$TROVE_BIN_DIR/trove-taskmanager --config-file $TROVE_CONF"
    run_process trove-cond "$TROVE_BIN_DIR/trove-conductor --config-file $TROVE_CONF"
    if is_service_enabled trove-api; then
        echo "Waiting for trove-api to answer on port $TROVE_SERVICE_PORT"
        if ! wait_for_service "$SERVICE_TIMEOUT" \
                "$TROVE_SERVICE_PROTOCOL://$TROVE_SERVICE_HOST:$TROVE_SERVICE_PORT/"; then
            die $LINENO "trove-api did not start"
        fi
    fi
}

stop_trove() {
    local service
    for service in trove-api trove-tmgr trove-cond; do
        stop_process "$service"
    done
}

cleanup_trove() {
    rm -rf "${TROVE_STATE_PATH:?}" "${TROVE_AUTH_CACHE_DIR:?}"
    sudo rm -rf "${TROVE_CONF_DIR:?}"
}

# --------------------------------------------------------------- phases ----

if is_service_enabled trove; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing Trove"
        install_trove
        install_troveclient
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring Trove"
        configure_trove
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Initializing and starting Trove"
        init_trove
        start_trove
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_trove
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_trove
    fi
fi

# Restore xtrace.
$_XTRACE_TROVE
