// The agent's whiteboard: the board's reports through the touch path
// (decoder, contact tracker, calibration, uinput), its identity and state
// for the inventory, touch activity for the usage ledger, calibration and
// the acceptance's accuracy check, and recordings of the board.
//
// Runs on the control thread; reports are handled as they arrive.
#pragma once

#include "bbt/agent/config.hpp"
#include "bbt/agent/ledger_service.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/drivers/whiteboard/board_source.hpp"
#include "bbt/drivers/whiteboard/contact_tracker.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"
#include "bbt/drivers/whiteboard/output.hpp"
#include "bbt/protocol/county.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bbt::agent {

class whiteboard_service final : public service {
public:
    whiteboard_service(asio::any_io_executor executor, agent_config::whiteboard_config config, ledger_service& ledger,
                       std::filesystem::path state_dir);
    ~whiteboard_service() override;

    [[nodiscard]] std::string_view name() const override { return "whiteboard"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    // The local API's whiteboard.status: identity, state, output, calibration.
    [[nodiscard]] boost::json::object status() const;
    [[nodiscard]] bool configured() const noexcept { return !config_.device.empty(); }
    // As in the ledger: "disconnected", "idle", "in-use".
    [[nodiscard]] const std::string& state() const noexcept { return state_; }
    // The connected board, as the inventory lists it; nothing while none is connected.
    [[nodiscard]] std::optional<protocol::county::device> identity() const;
    // whiteboard.calibrate: {"action": "start"|"status"|"cancel", "mode": "calibrate"|"check", "points": 4..25}.
    asio::awaitable<result<boost::json::value>> calibrate(boost::json::object params);
    // whiteboard.record: {"seconds": N}; the recording's path when done.
    asio::awaitable<result<boost::json::value>> record(boost::json::object params);

private:
    void on_connected(const drivers::whiteboard::board_identity& id, std::span<const uint8_t> descriptor);
    void on_report(std::span<const uint8_t> report);
    void on_disconnected(const error& why);
    void handle(const drivers::hid::tracked_frame& f, int64_t now_us);
    void arm_release_timer();
    void note_touch(int64_t now_us);
    void arm_idle_timer();
    void apply_maps();
    asio::awaitable<void> load_calibration(std::string key);
    void capture(const drivers::hid::tracked_frame& f);
    asio::awaitable<void> finish_session();
    boost::json::object session_json() const;

    asio::any_io_executor executor_;
    agent_config::whiteboard_config config_;
    ledger_service& ledger_;
    std::filesystem::path state_dir_;
    std::unique_ptr<drivers::whiteboard::board_source> source_;

    // The connected board.
    bool connected_ = false;
    drivers::whiteboard::board_identity identity_;
    std::vector<uint8_t> descriptor_;
    std::optional<drivers::hid::contact_tracker> tracker_;
    std::vector<drivers::hid::tracked_frame> tracked_;  // reused for every report
    std::unique_ptr<drivers::hid::event_sink> sink_;
    std::optional<drivers::hid::touch_output> output_;
    std::string output_error_;
    std::string last_error_;
    std::optional<stored_calibration> calibration_;
    std::string state_ = "idle";  // as in the ledger: disconnected, idle, in-use
    uint64_t reports_ = 0, frames_ = 0, dropped_ = 0;

    asio::steady_timer release_timer_;
    bool release_armed_ = false;
    asio::steady_timer idle_timer_;
    bool idle_armed_ = false;
    int64_t last_touch_us_ = 0;

    // A calibration or accuracy check in progress.
    struct session {
        uint64_t serial = 0;  // tells a session from the one that replaced it
        bool check = false;   // the acceptance's check: compare, do not fit
        std::vector<drivers::whiteboard::point> targets;
        std::vector<drivers::whiteboard::point> touches;
        std::vector<int32_t> xs, ys;  // the current contact's positions
        bool down = false;
        bool done = false;
        std::string error;
        boost::json::object result;
    };
    std::optional<session> session_;
    uint64_t session_serial_ = 0;

    // A recording in progress.
    std::optional<drivers::hid::recording> recording_;
    int64_t recording_start_us_ = 0;
};

}  // namespace bbt::agent
