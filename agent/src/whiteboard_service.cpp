#include "bbt/agent/whiteboard_service.hpp"
#include "bbt/agent/errors.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/file.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/drivers/whiteboard/calibration.hpp"
#include "bbt/drivers/whiteboard/uinput_sink.hpp"
#include "bbt/drivers/whiteboard/usb_boards.hpp"
#include "bbt/protocol/local_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace bbt::agent {
namespace {

const log::category lg{"whiteboard"};
namespace hid = drivers::hid;
namespace wb = drivers::whiteboard;
using namespace std::chrono_literals;

// GB 50799-2012 §8.3.6: a finger touch lands within 2 mm.
constexpr double accuracy_limit_mm = 2.0;

// Where events go when the OS cannot have them (no uinput): counted only.
class null_sink final : public hid::event_sink {
public:
    result<void> write(hid::node, std::span<const hid::evdev_event>) override { return {}; }
};

int64_t now_us() { return clock::monotonic_now().count(); }

int32_t median(std::vector<int32_t> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

}  // namespace

whiteboard_service::whiteboard_service(asio::any_io_executor executor, agent_config::whiteboard_config config,
                                       ledger_service& ledger, std::filesystem::path state_dir)
    : executor_(executor),
      config_(std::move(config)),
      ledger_(ledger),
      state_dir_(std::move(state_dir)),
      release_timer_(executor),
      idle_timer_(executor) {}

whiteboard_service::~whiteboard_service() = default;

asio::awaitable<result<void>> whiteboard_service::start() {
    if (config_.device.empty()) {
        log::info(lg, "no whiteboard configured (whiteboard.device)");
        co_return result<void>{};
    }
    state_ = "disconnected";
    ledger_.record("whiteboard", state_);
    // "usb" or "usb:VID:PID": a board on USB; anything else names a recording or a FIFO.
    if (auto usb = wb::parse_usb_device(config_.device.string()); usb && *usb) {
        source_ = wb::make_usb_source(executor_, **usb);
    } else {
        source_ = wb::make_replay_source(executor_, config_.device, config_.loop);
    }
    wb::board_events events;
    events.connected = [this](const wb::board_identity& id, std::span<const uint8_t> d) { on_connected(id, d); };
    events.report = [this](std::span<const uint8_t> r) { on_report(r); };
    events.disconnected = [this](const error& why) { on_disconnected(why); };
    source_->start(std::move(events));
    co_return result<void>{};
}

asio::awaitable<void> whiteboard_service::stop() {
    if (source_) source_->stop();
    if (tracker_)
        on_disconnected(error(std::make_error_code(std::errc::operation_canceled),
                              i18n::text({"the agent is stopping", "代理程序正在停止"})));
    release_timer_.cancel();
    idle_timer_.cancel();
    co_return;
}

void whiteboard_service::on_connected(const wb::board_identity& id, std::span<const uint8_t> descriptor) {
    identity_ = id;
    descriptor_.assign(descriptor.begin(), descriptor.end());
    connected_ = true;
    last_error_.clear();
    auto d = hid::parse_descriptor(descriptor);
    if (!d) {
        last_error_ = i18n::format({"the board's report descriptor is invalid: {}; its touches cannot be read",
                                    "白板的报告描述符无效：{}；无法读取触摸"},
                                   d.error().message());
        log::error(lg, "{:04x}:{:04x} at {}: {}", id.vendor, id.product, id.where, last_error_);
        return;
    }
    std::optional<uint32_t> quirks;
    if (!config_.quirks.empty()) quirks = hid::quirks_from_names(config_.quirks).value();
    auto dev = hid::touch_device_for(*d, id.vendor, id.product, quirks);
    if (!dev) {
        last_error_ = dev.error().message();
        log::error(lg, "{:04x}:{:04x} at {}: {}", id.vendor, id.product, id.where, last_error_);
        return;
    }
    hid::tracker_options opts;
    opts.sizes = {config_.tools_by_size, config_.pen_max_mm, config_.eraser_min_mm, config_.palm_min_mm};
    opts.release_after = config_.release_after;
    tracker_.emplace(std::move(*dev), hid::find_pen(*d), opts);

    const auto& t = tracker_->device();
    auto map =
        hid::screen_map::to_screen(t, config_.screen_width, config_.screen_height,
                                   {config_.area_x, config_.area_y, config_.area_width, config_.area_height}, nullptr);
    output_error_.clear();
    sink_.reset();
    if (config_.output == "uinput") {
        hid::uinput_spec spec;
        spec.name = id.product_name.empty() ? fmt::format("bbt whiteboard {:04x}:{:04x}", id.vendor, id.product)
                                            : "bbt " + id.product_name;
        spec.vendor = id.vendor;
        spec.product = id.product;
        spec.phys = "bbt/whiteboard/" + id.calibration_key();
        spec.slots = t.decoder.slot_count();
        spec.x = map.x();
        spec.y = map.y();
        if (const auto& pen = tracker_->pen_layout_of()) spec.pressure_max = pen->pressure_max;
        auto sink = hid::uinput_sink::create(spec, config_.uinput);
        if (sink) {
            log::info(lg, "touch on {}, pen on {}", (*sink)->devnode(hid::node::touch),
                      (*sink)->devnode(hid::node::pen));
            sink_ = std::move(*sink);
        } else {
            output_error_ = sink.error().message();
            log::error(lg, "the board's touches cannot reach the desktop: {}", output_error_);
        }
    }
    if (!sink_) sink_ = std::make_unique<null_sink>();
    output_.emplace(t.decoder.slot_count(), map, map, *sink_);
    apply_maps();
    state_ = "idle";
    ledger_.record("whiteboard", state_);
    log::notice(lg, "whiteboard {:04x}:{:04x} \"{}\" connected at {} ({} contacts, {} mode{})", id.vendor, id.product,
                id.product_name, id.where, t.decoder.slot_count(), hid::to_string(t.touch.mode),
                tracker_->pen_layout_of() ? ", pen" : "");
    std::string key = id.calibration_key();
    asio::co_spawn(executor_, load_calibration(std::move(key)), asio::detached);
}

asio::awaitable<void> whiteboard_service::load_calibration(std::string key) {
    auto c = co_await ledger_.calibration(key);
    if (!c) {
        log::warning(lg, "reading the calibration of {}: {}", key, c.error().what());
        co_return;
    }
    if (!tracker_ || identity_.calibration_key() != key) co_return;  // another board by now
    if (*c && ((*c)->screen_width != config_.screen_width || (*c)->screen_height != config_.screen_height)) {
        log::warning(lg, "the calibration of {} was made on a {}x{} screen, this one is {}x{}; calibrate again", key,
                     (*c)->screen_width, (*c)->screen_height, config_.screen_width, config_.screen_height);
        co_return;
    }
    calibration_ = std::move(*c);
    apply_maps();
    if (calibration_) {
        log::info(lg, "calibration of {} applied ({} points, max error {:.2f} mm)", key, calibration_->points,
                  calibration_->max_error_mm);
    }
}

void whiteboard_service::apply_maps() {
    if (!tracker_ || !output_) return;
    const auto& t = tracker_->device();
    std::optional<wb::homography> h;
    if (calibration_) {
        h.emplace();
        h->h = calibration_->matrix;
    }
    auto touch = hid::screen_map::to_screen(t, config_.screen_width, config_.screen_height,
                                            {config_.area_x, config_.area_y, config_.area_width, config_.area_height},
                                            h ? &*h : nullptr);
    const auto& pen = tracker_->pen_layout_of();
    auto pen_map = pen ? touch.for_axes(t, pen->x_axis, pen->y_axis) : touch;
    output_->set_maps(std::move(touch), std::move(pen_map));
}

void whiteboard_service::on_report(std::span<const uint8_t> report) {
    ++reports_;
    int64_t now = now_us();
    if (recording_) {
        recording_->reports.push_back(
            {static_cast<double>(now - recording_start_us_) / 1e6, {report.begin(), report.end()}});
    }
    if (!tracker_) return;
    tracked_.clear();
    if (auto r = tracker_->feed(report, now, tracked_); !r) {
        // A malformed report is dropped; the board goes on.
        if (dropped_++ % 1000 == 0) {
            log::warning(lg, "{} (dropped reports so far: {})", r.error().message(), dropped_);
        }
        return;
    }
    for (const auto& f : tracked_)
        handle(f, now);
    arm_release_timer();
}

void whiteboard_service::handle(const hid::tracked_frame& f, int64_t now) {
    ++frames_;
    bool touching = (f.touch && f.touch->touch) || (f.pen && (f.pen->in_range || f.pen->tip));
    if (touching) note_touch(now);
    if (session_ && !session_->done) {
        capture(f);
        return;  // a calibration's touches are not clicks
    }
    if (auto r = output_->write(f); !r) {
        if (output_error_.empty()) log::error(lg, "writing touches: {}", r.error().message());
        output_error_ = r.error().message();
    }
}

void whiteboard_service::arm_release_timer() {
    if (release_armed_ || !tracker_) return;
    auto deadline = tracker_->deadline();
    if (!deadline) return;
    release_armed_ = true;
    release_timer_.expires_after(std::chrono::microseconds(std::max<int64_t>(0, *deadline - now_us())));
    release_timer_.async_wait([this](boost::system::error_code ec) {
        release_armed_ = false;
        if (ec || !tracker_) return;
        int64_t now = now_us();
        if (auto f = tracker_->tick(now)) {
            log::debug(lg, "no report for {} ms: contacts lifted", config_.release_after.count());
            handle(*f, now);
        }
        arm_release_timer();
    });
}

void whiteboard_service::note_touch(int64_t now) {
    last_touch_us_ = now;
    if (state_ != "in-use") {
        state_ = "in-use";
        ledger_.record("whiteboard", state_);
    }
    arm_idle_timer();
}

void whiteboard_service::arm_idle_timer() {
    if (idle_armed_) return;
    idle_armed_ = true;
    auto idle_us = std::chrono::duration_cast<std::chrono::microseconds>(config_.activity_idle).count();
    idle_timer_.expires_after(std::chrono::microseconds(std::max<int64_t>(0, last_touch_us_ + idle_us - now_us())));
    idle_timer_.async_wait([this, idle_us](boost::system::error_code ec) {
        idle_armed_ = false;
        if (ec || state_ != "in-use") return;
        if (now_us() - last_touch_us_ >= idle_us) {
            state_ = "idle";
            ledger_.record("whiteboard", state_);
        } else {
            arm_idle_timer();
        }
    });
}

void whiteboard_service::on_disconnected(const error& why) {
    if (tracker_ && output_) {
        // Nothing stays pressed on the desktop.
        if (auto f = tracker_->tick(std::numeric_limits<int64_t>::max() / 2)) {
            if (auto r = output_->write(*f); !r) log::debug(lg, "lifting contacts: {}", r.error().message());
        }
    }
    output_.reset();
    sink_.reset();
    tracker_.reset();
    calibration_.reset();
    bool was = connected_;
    connected_ = false;
    last_error_ = why.message();
    if (session_ && !session_->done) {
        session_->done = true;
        session_->error = i18n::text({"the board was disconnected", "白板已断开"});
    }
    state_ = "disconnected";
    ledger_.record("whiteboard", state_);
    if (was)
        log::warning(lg, "whiteboard disconnected: {}", why.what());
    else
        log::error(lg, "whiteboard: {}", why.what());
}

void whiteboard_service::capture(const hid::tracked_frame& f) {
    auto& s = *session_;
    std::optional<std::pair<int32_t, int32_t>> at;
    if (f.touch) {
        for (const auto& slot : f.touch->slots) {
            if (slot.tracking_id >= 0) {
                at.emplace(slot.x, slot.y);
                break;
            }
        }
    }
    // A contact on the pen node is in touch units unless the board has a pen of its own.
    if (!at && f.pen && f.pen->tip && !tracker_->pen_layout_of()) at.emplace(f.pen->x, f.pen->y);
    if (at) {
        s.down = true;
        s.xs.push_back(at->first);
        s.ys.push_back(at->second);
        return;
    }
    if (!s.down || (!f.touch && !f.pen)) return;
    // Lifted: the contact's median position is this target's touch.
    s.down = false;
    s.touches.push_back({static_cast<double>(median(s.xs)), static_cast<double>(median(s.ys))});
    s.xs.clear();
    s.ys.clear();
    log::info(lg, "calibration target {} of {} touched", s.touches.size(), s.targets.size());
    if (s.touches.size() == s.targets.size()) {
        s.done = true;
        asio::co_spawn(executor_, finish_session(), asio::detached);
    }
}

asio::awaitable<void> whiteboard_service::finish_session() {
    if (!session_ || !tracker_) co_return;
    auto& s = *session_;
    const auto& t = tracker_->device();
    double rx = t.touch.x.resolution, ry = t.touch.y.resolution;
    wb::homography h;
    if (s.check) {
        if (calibration_) {
            h.h = calibration_->matrix;
        } else {
            h = hid::stretch_to_area(t, {config_.area_x, config_.area_y, config_.area_width, config_.area_height});
        }
    } else {
        auto fitted = wb::fit_homography(s.touches, s.targets);
        if (!fitted) {
            s.error = fitted.error().message();
            co_return;
        }
        h = *fitted;
    }
    std::string no_size;  // said once the session is finished
    if (rx <= 0 || ry <= 0) {
        no_size = i18n::text({"the board does not give its physical size, so errors cannot be given in millimetres",
                              "白板未提供物理尺寸，无法以毫米计算误差"});
        if (s.check) {
            s.error = std::move(no_size);
            co_return;
        }
        rx = ry = 1;
    }
    auto acc = wb::check_accuracy(h, s.touches, s.targets, rx, ry);
    if (!acc) {
        s.error = acc.error().message();
        co_return;
    }
    accuracy_result res{acc->max_mm, acc->mean_mm, {}, accuracy_limit_mm, acc->within(accuracy_limit_mm), false};
    for (double e : acc->errors_mm)
        res.errors_mm.push_back(std::round(e * 100) / 100);
    if (s.check) {
        s.result = std::move(res);
        log::notice(lg, "accuracy check of {}: max {:.2f} mm, mean {:.2f} mm ({})", identity_.calibration_key(),
                    acc->max_mm, acc->mean_mm, acc->within(accuracy_limit_mm) ? "pass" : "FAIL");
        co_return;
    }
    stored_calibration c;
    c.board_key = identity_.calibration_key();
    c.matrix = h.h;
    c.screen_width = config_.screen_width;
    c.screen_height = config_.screen_height;
    c.points = static_cast<int>(s.touches.size());
    c.max_error_mm = acc->max_mm;
    c.mean_error_mm = acc->mean_mm;
    c.created_wall_us = clock::wall_now().count();
    // The session shows no result until the save is known: a caller
    // polling it must not take a result without "saved" as the answer.
    const uint64_t serial = s.serial;
    auto saved = co_await ledger_.save_calibration(c);
    // Cancelled or replaced while saving: the calibration still applies.
    session* still = session_ && session_->serial == serial ? &*session_ : nullptr;
    if (!saved) {
        // Applied anyway: the lesson goes on; the technician sees it was not kept.
        if (still)
            still->error =
                i18n::format({"the calibration is applied but could not be saved: {}", "校准已生效但未能保存：{}"},
                             saved.error().message());
    } else {
        res.saved = true;
        if (still) still->error = std::move(no_size);
    }
    if (still) still->result = std::move(res);
    calibration_ = std::move(c);
    apply_maps();
    log::notice(lg, "calibrated {} with {} points: max {:.2f} mm, mean {:.2f} mm", identity_.calibration_key(),
                calibration_->points, acc->max_mm, acc->mean_mm);
}

calibration_session whiteboard_service::session_status() const {
    calibration_session o;
    if (!session_) return o;
    const auto& s = *session_;
    o.exists = true;
    o.active = !s.done;
    o.check = s.check;
    o.next = s.touches.size();
    o.total = s.targets.size();
    o.targets = s.targets;
    o.touches = s.touches;
    o.done = s.done && (s.result || !s.error.empty());
    o.error = s.error;
    o.result = s.result;
    return o;
}

asio::awaitable<result<calibration_session>> whiteboard_service::calibrate(calibration_request req) {
    if (req.action == calibration_action::status) co_return session_status();
    if (req.action == calibration_action::cancel) {
        session_.reset();
        co_return session_status();
    }
    if (!tracker_) {
        co_return error(whiteboard_errc::not_connected,
                        i18n::text({"no whiteboard is connected; check its cable, or whiteboard.device",
                                    "没有连接白板；请检查线缆或 whiteboard.device 设置"}));
    }
    if (req.points != 4 && req.points != 9 && req.points != 16 && req.points != 25) {
        co_return error(whiteboard_errc::bad_request,
                        i18n::text({"\"points\" must be 4, 9, 16 or 25", "“points”必须为 4、9、16 或 25"}));
    }
    int64_t points = req.points;
    session s;
    s.serial = ++session_serial_;
    s.check = req.check;
    int n = static_cast<int>(std::lround(std::sqrt(static_cast<double>(points))));
    for (auto p : wb::grid_targets(config_.area_width, config_.area_height, n)) {
        s.targets.push_back({p.x + config_.area_x, p.y + config_.area_y});
    }
    session_ = std::move(s);
    // A finger already down when the session starts is lifted on the
    // desktop: from now on touches are targets, not clicks.
    if (output_) {
        hid::tracked_frame lift;
        hid::mt_frame m;
        m.slots.resize(tracker_->device().decoder.slot_count());
        m.reported.assign(m.slots.size(), true);
        lift.touch = std::move(m);
        lift.pen = hid::pen_state{};
        if (auto r = output_->write(lift); !r) log::debug(lg, "lifting contacts: {}", r.error().message());
    }
    log::notice(lg, "{} of {} started: {} targets", session_->check ? "accuracy check" : "calibration",
                identity_.calibration_key(), session_->targets.size());
    co_return session_status();
}

asio::awaitable<result<board_recording>> whiteboard_service::record(int64_t seconds) {
    if (seconds < 1 || seconds > 600) {
        co_return error(whiteboard_errc::bad_request, i18n::text({"\"seconds\" must be a whole number from 1 to 600",
                                                                  "“seconds”必须是 1 到 600 的整数"}));
    }
    if (!connected_) {
        co_return error(whiteboard_errc::not_connected,
                        i18n::text({"no whiteboard is connected; check its cable, or whiteboard.device",
                                    "没有连接白板；请检查线缆或 whiteboard.device 设置"}));
    }
    if (recording_) {
        co_return error(whiteboard_errc::busy, i18n::text({"a recording is already running; wait for it to end",
                                                           "已有录制正在进行；请等待其结束"}));
    }
    recording_.emplace();
    recording_->name = identity_.product_name;
    recording_->bus = identity_.bus;
    recording_->vendor = identity_.vendor;
    recording_->product = identity_.product;
    recording_->descriptor = descriptor_;
    recording_start_us_ = now_us();
    asio::steady_timer timer(executor_);
    timer.expires_after(std::chrono::seconds(seconds));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    auto rec = std::move(*recording_);
    recording_.reset();

    auto dir = state_dir_ / "recordings";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    auto stamp = clock::format_local(clock::wall_now());
    std::replace_if(
        stamp.begin(), stamp.end(), [](char c) { return c == ' ' || c == ':'; }, '-');
    auto path = dir / fmt::format("whiteboard-{:04x}-{:04x}-{}.hid", rec.vendor, rec.product, stamp);
    std::string text = "# bbt-agent " + std::string("whiteboard recording\n") + hid::serialize(rec);
    if (auto w = write_file_atomic(path, text); !w) co_return w.error();
    log::notice(lg, "recorded {} reports in {} s to {}", rec.reports.size(), seconds, path.string());
    co_return board_recording{path, rec.reports.size(), seconds};
}

std::optional<protocol::county::device> whiteboard_service::identity() const {
    if (!connected_) return std::nullopt;
    auto vendor = fmt::format("{:04x}", identity_.vendor);
    return protocol::county::device{
        protocol::county::device_kind::whiteboard, identity_.manufacturer.empty() ? vendor : identity_.manufacturer,
        fmt::format("{}:{:04x} {}", vendor, identity_.product, identity_.product_name), identity_.serial, ""};
}

whiteboard_status whiteboard_service::status() const {
    whiteboard_status o;
    o.configured = !config_.device.empty();
    o.state = state_;
    o.connected = connected_;
    o.source = config_.device.string();
    if (connected_) o.identity = identity_;
    if (tracker_) {
        const auto& t = tracker_->device();
        o.touch = whiteboard_status::touch_layout{
            t.cls.name, t.touch.report_id, hid::to_string(t.touch.mode), t.decoder.slot_count(),
            t.touch.x,  t.touch.y,         tracker_->sizes_in_use(),     tracker_->pen_layout_of().has_value()};
        o.output_kind = config_.output;
        if (auto* u = dynamic_cast<const hid::uinput_sink*>(sink_.get())) {
            o.touch_node = u->devnode(hid::node::touch);
            o.pen_node = u->devnode(hid::node::pen);
        }
        o.output_error = output_error_;
        o.calibration_key = identity_.calibration_key();
        o.calibration = calibration_;
    }
    o.reports = reports_;
    o.frames = frames_;
    o.dropped = dropped_;
    o.last_error = last_error_;
    o.session = session_status();
    return o;
}

}  // namespace bbt::agent
