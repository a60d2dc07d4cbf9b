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

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bbt::agent {

// A calibration or accuracy check, as whiteboard.calibrate reports it.
struct accuracy_result {
    double max_mm = 0, mean_mm = 0;
    std::vector<double> errors_mm;  // per target, to 0.01 mm
    double limit_mm = 0;
    bool within_limit = false;
    bool saved = false;  // a calibration that was kept in the ledger
};
struct calibration_session {
    bool exists = false;  // false: none started (the rest is empty)
    bool active = false;
    bool check = false;  // an accuracy check (compare, do not fit)
    size_t next = 0, total = 0;
    std::vector<drivers::whiteboard::point> targets, touches;
    bool done = false;  // finished, with its result or error known
    std::string error;
    std::optional<accuracy_result> result;
};
enum class calibration_action { status, start, cancel };
struct calibration_request {
    calibration_action action = calibration_action::status;
    bool check = false;
    int points = 9;  // 4, 9, 16 or 25
};

// whiteboard.status: the board, its touch layout, output and calibration.
struct whiteboard_status {
    bool configured = false;
    std::string state;  // as in the ledger: disconnected, idle, in-use
    bool connected = false;
    std::string source;  // whiteboard.device
    std::optional<drivers::whiteboard::board_identity> identity;
    struct touch_layout {
        std::string device_class;
        int report_id = 0;
        std::string mode;
        size_t max_contacts = 0;
        drivers::hid::touch_axis x, y;
        bool tools_by_size = false;
        bool pen = false;
    };
    std::optional<touch_layout> touch;  // once its descriptor is read
    std::string output_kind, touch_node, pen_node, output_error;
    std::string calibration_key;
    std::optional<stored_calibration> calibration;
    uint64_t reports = 0, frames = 0, dropped = 0;
    std::string last_error;
    calibration_session session;
};

// whiteboard.record: the hid-recorder file written.
struct board_recording {
    std::filesystem::path path;
    size_t reports = 0;
    int64_t seconds = 0;
};

class whiteboard_service final : public service {
public:
    whiteboard_service(asio::any_io_executor executor, agent_config::whiteboard_config config, ledger_service& ledger,
                       std::filesystem::path state_dir);
    ~whiteboard_service() override;

    [[nodiscard]] std::string_view name() const override { return "whiteboard"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    [[nodiscard]] whiteboard_status status() const;
    [[nodiscard]] bool configured() const noexcept { return !config_.device.empty(); }
    // As in the ledger: "disconnected", "idle", "in-use".
    [[nodiscard]] const std::string& state() const noexcept { return state_; }
    // The connected board, as the inventory lists it; nothing while none is connected.
    [[nodiscard]] std::optional<protocol::county::device> identity() const;
    // Starts, shows or cancels a calibration or accuracy check.
    asio::awaitable<result<calibration_session>> calibrate(calibration_request r);
    // Records the board's reports for `seconds` (1 to 600) into a hid-recorder file.
    asio::awaitable<result<board_recording>> record(int64_t seconds);

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
    [[nodiscard]] calibration_session session_status() const;

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
        std::optional<accuracy_result> result;
    };
    std::optional<session> session_;
    uint64_t session_serial_ = 0;

    // A recording in progress.
    std::optional<drivers::hid::recording> recording_;
    int64_t recording_start_us_ = 0;
};

}  // namespace bbt::agent
