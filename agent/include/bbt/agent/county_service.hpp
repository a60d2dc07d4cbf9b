// The agent's side of the county link: enrolment with a one-time code, then
// delivery of the outbox over mutual TLS, in batches, until acknowledged;
// back-off with jitter while the county cannot be reached; heartbeats and
// inventory; commands from the county checked (signature, expiry, nonce,
// allowlist), audited and answered.
//
// The agent always initiates; commands ride on the county's replies.
// Runs on the control thread; the outbox lives on the ledger's thread.
#pragma once

#include "bbt/agent/config.hpp"
#include "bbt/agent/ledger_service.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/protocol/https_client.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <random>
#include <string>

namespace bbt::agent {

struct county_status {
    bool configured = false;
    std::string url;
    bool enrolled = false;
    std::string device_id;
    int64_t delivered = 0;              // messages the county acknowledged since start
    std::optional<outbox_stats> queue;  // nothing while the ledger is not open
    int64_t last_success_wall_us = 0;   // 0: none yet
    int64_t last_attempt_wall_us = 0;
    std::string last_error;  // of the last attempt, if it failed
    int64_t next_attempt_wall_us = 0;
    int64_t certificate_expires_wall_us = 0;  // 0: no certificate
    int64_t renew_at_wall_us = 0;             // two thirds into its life
    std::string renewal_error;                // of the last renewal attempt, if it failed
};

class county_service final : public service {
public:
    // `health` gives each part's state for heartbeats, `lamps` the projector's
    // lamp hours for them; `inventory` what is installed.
    county_service(asio::any_io_executor executor, agent_config::county_config config, ledger_service& ledger,
                   std::filesystem::path state_dir, std::function<std::map<std::string, std::string>()> health,
                   std::function<std::vector<protocol::county::device>()> inventory,
                   std::function<std::vector<protocol::county::lamp>()> lamps = {});
    ~county_service() override;

    [[nodiscard]] std::string_view name() const override { return "county"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    // bbtctl county enrol CODE: the device id the county gave.
    asio::awaitable<result<std::string>> enrol(std::string code);
    // bbtctl county status: enrolment, queue depth, last success, last error.
    asio::awaitable<county_status> status();

    // Wakes the sender (something important was queued).
    void wake();

    // GETs a document the county publishes for this set ("/v1/catalogue",
    // "/v1/timetable") over the enrolled identity; 304 when `etag` is current.
    asio::awaitable<result<protocol::https_response>> fetch(std::string path, std::string etag);
    // Any request to the county over the enrolled identity; `request.url` is
    // the path ("/v1/uploads/..."), `request.method` the method.
    asio::awaitable<result<protocol::https_response>> send(protocol::https_request request);

private:
    asio::awaitable<void> send_loop();
    // Renews the certificate two thirds into its life (a new key made here,
    // EST's simplereenroll over the current certificate), retrying with
    // back-off; alerts while it fails and once it has expired.
    asio::awaitable<void> renew_loop();
    asio::awaitable<result<void>> renew_now();
    // Puts a key and its certificate in place as one step: a crash between
    // the files is finished (or undone) by the next load_identity().
    result<void> install_identity(const std::string& key_pem, const std::string& cert_pem);
    void read_certificate_dates();
    void certificate_alert(std::string_view severity, std::string message, bool open);
    asio::awaitable<void> heartbeat_loop();
    void queue_inventory_if_changed();
    // `county_offset_us`: the county's clock less this set's, from the reply.
    asio::awaitable<void> handle_commands(const std::vector<protocol::county::command>& commands,
                                          int64_t county_offset_us);

public:
    // Carries out a verified command from the county: a detail for its
    // result, or the error. Without one, every command is answered "not
    // available on this set".
    using command_handler = std::function<asio::awaitable<result<std::string>>(protocol::county::command)>;
    void on_command(command_handler h) { command_handler_ = std::move(h); }
    // Called once this set is enrolled (what waited for the county may go).
    void on_enrolled(std::function<void()> f) { enrolled_.push_back(std::move(f)); }

private:
    command_handler command_handler_;
    std::vector<std::function<void()>> enrolled_;
    result<void> load_identity();
    // Full jitter after `failures` failures in a row.
    std::chrono::milliseconds next_delay(std::optional<int64_t> retry_after_s, int failures);

    asio::any_io_executor executor_;
    agent_config::county_config config_;
    ledger_service& ledger_;
    std::filesystem::path dir_;  // state_dir/county
    std::function<std::map<std::string, std::string>()> health_;
    std::function<std::vector<protocol::county::device>()> inventory_;
    std::function<std::vector<protocol::county::lamp>()> lamps_;
    std::string last_inventory_;  // as sent: sent again when it changes, and daily
    int64_t last_inventory_us_ = 0;
    asio::steady_timer wake_timer_;
    asio::steady_timer beat_timer_;
    asio::steady_timer renew_timer_;
    bool stopping_ = false;
    bool sending_ = false;

    // The enrolment.
    std::string device_id_;
    std::string ca_pem_, cert_pem_, key_pem_, command_key_pem_;
    int64_t cert_not_before_us_ = 0, cert_not_after_us_ = 0;  // 0: no readable certificate

    // Renewal.
    int renew_failures_ = 0;
    int64_t last_renewal_us_ = 0;  // wall clock of the last renewal
    std::string renewal_error_;
    bool certificate_alert_open_ = false;

    // Delivery.
    int failures_ = 0;
    std::mt19937_64 rng_{std::random_device{}()};
    std::string last_error_;
    int64_t last_success_wall_us_ = 0;
    int64_t last_attempt_wall_us_ = 0;
    int64_t delivered_ = 0;
    int64_t next_attempt_wall_us_ = 0;
};

}  // namespace bbt::agent
