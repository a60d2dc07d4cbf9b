// Multitouch reports to frames, as the kernel's hid-multitouch does it: the
// touch report's fields grouped into contacts, Contact Count and hybrid
// frames spread over several reports, contact validity and slot assignment
// by the device's quirks, tracking ids, and BTN_TOUCH.
//
// Pure and single-threaded: reports in, frames out; no I/O, no clock (the
// caller supplies timestamps and the release of stuck contacts).
#pragma once

#include "bbt/drivers/whiteboard/hid_descriptor.hpp"
#include "bbt/drivers/whiteboard/touch_layout.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bbt::drivers::hid {

// hid-multitouch's quirk bits (MT_QUIRK_*), the ones this decoder follows.
namespace quirk {
inline constexpr uint32_t not_seen_means_up = 1u << 0;
inline constexpr uint32_t slot_is_contactid = 1u << 1;
inline constexpr uint32_t always_valid = 1u << 4;
inline constexpr uint32_t valid_is_inrange = 1u << 5;
inline constexpr uint32_t valid_is_confidence = 1u << 6;
inline constexpr uint32_t confidence = 1u << 7;
inline constexpr uint32_t slot_is_contactid_minus_one = 1u << 8;
inline constexpr uint32_t no_area = 1u << 9;
inline constexpr uint32_t ignore_duplicates = 1u << 10;
inline constexpr uint32_t hovering = 1u << 11;
inline constexpr uint32_t contact_cnt_accurate = 1u << 12;
inline constexpr uint32_t touch_size_scaling = 1u << 16;
inline constexpr uint32_t sticky_fingers = 1u << 17;
inline constexpr uint32_t win8_ptp_buttons = 1u << 19;
}  // namespace quirk

// Quirks from their kernel names ("NOT_SEEN_MEANS_UP" ...), for the override
// table and the configuration; an unknown name is an error naming it.
[[nodiscard]] result<uint32_t> quirks_from_names(const std::vector<std::string>& names);

// The class the kernel binds a device to from its descriptor alone:
// MT_CLS_WIN_8 when it carries the Windows 8 certification feature, else
// MT_CLS_DEFAULT.
[[nodiscard]] uint32_t default_quirks(const descriptor& d);

// How the kernel treats one device: its quirks, and a fixed slot count
// where the class has one (0: from the descriptor).
struct device_class {
    const char* name;
    uint32_t quirks;
    uint32_t max_contacts;
    // The class's signal-to-noise ratio of movement: the position axes get a
    // fuzz of their range / sn_move (0: none), so the input core drops jitter.
    uint32_t sn_move = 0;

    [[nodiscard]] int32_t fuzz(int32_t min, int32_t max) const noexcept {
        return sn_move ? (max - min) / static_cast<int32_t>(sn_move) : 0;
    }
};

// The class of a device: the override table by vendor and product for the
// boards that break hid-multitouch's defaults, else default_quirks().
[[nodiscard]] device_class class_for(uint16_t vendor, uint16_t product, const descriptor& d);

// Where one contact's values sit in the touch report.
struct value_location {
    uint32_t bit_offset = 0;
    uint32_t bit_size = 0;
    bool is_signed = false;
    bool present = false;
};

// Where element `element` of field `f` sits.
[[nodiscard]] value_location location_of(const field& f, uint32_t element) noexcept;

struct contact_location {
    value_location contact_id, tip, in_range, confidence, x, y, width, height, pressure;
    // An X (or Y) repeated right after X in one field: the tool's position
    // (ABS_MT_TOOL_X/Y in the kernel), not the next contact's.
    value_location tool_x, tool_y;
};

struct mt_layout {
    uint8_t report_id = 0;
    uint32_t report_bytes = 0;
    std::vector<contact_location> contacts;
    value_location contact_count, scan_time;
    int64_t scan_time_max = 0;  // its logical maximum, where it wraps
};

// Groups the touch report's fields into contacts as hid-multitouch's
// mt_store_field does: a usage seen again starts the next contact.
[[nodiscard]] mt_layout make_mt_layout(const descriptor& d, const touch_layout& t);

// A field's value from a report, sign-extended when its range is signed.
[[nodiscard]] int64_t extract(std::span<const uint8_t> report, const value_location& at) noexcept;

// What touches the board. The values are the kernel's MT_TOOL_* where one
// exists; an eraser is not an MT tool and goes to the pen node.
enum class contact_tool : uint8_t { finger = 0, pen = 1, palm = 2, eraser = 3 };
[[nodiscard]] const char* to_string(contact_tool t) noexcept;

struct slot_state {
    int tracking_id = -1;  // -1: no contact in this slot
    int32_t x = 0;
    int32_t y = 0;
    int32_t key = 0;  // the contact id that owns the slot
    contact_tool tool = contact_tool::finger;
    int32_t width = 0;  // contact size in device units; 0 when the device does not say
    int32_t height = 0;
    int32_t pressure = 0;
};

// The multitouch state after a frame.
struct mt_frame {
    bool touch = false;  // BTN_TOUCH
    std::vector<slot_state> slots;
    std::vector<bool> reported;  // slots the device reported in this frame (active or lifting)
    int64_t scan_time = -1;      // the device's Scan Time (units of 100 us), -1 when it has none
};

class mt_decoder {
public:
    mt_decoder(mt_layout layout, uint32_t quirks, uint32_t max_contacts);

    // Feeds one input report (starting with its report id byte when the
    // device uses ids). Returns the frame when this report completed one;
    // reports of other ids are ignored. A report of the wrong size is an error.
    [[nodiscard]] result<std::optional<mt_frame>> feed(std::span<const uint8_t> report);

    // Lifts every contact (no report for too long: the kernel's 100 ms).
    [[nodiscard]] mt_frame release_all();

    // The frame that lifts palms which were lifting when the device marked
    // them (CONFIDENCE quirk: the kernel reports such a contact as a palm in
    // its frame and lifts it in the next); nothing when there are none.
    [[nodiscard]] std::optional<mt_frame> release_pending_palms();

    [[nodiscard]] const mt_layout& layout() const noexcept { return layout_; }
    [[nodiscard]] size_t slot_count() const noexcept { return slots_.size(); }

private:
    int slot_for(int32_t contact_id);
    void report_slot(int slot, bool active, const slot_state& values);
    mt_frame sync();

    mt_layout layout_;
    uint32_t quirks_;
    std::vector<slot_state> slots_;
    std::vector<bool> used_;  // slots reported in the frame being assembled
    std::vector<bool> pending_palm_;
    int next_tracking_id_ = 0;
    uint32_t expected_ = 0;
    uint32_t received_ = 0;
    int64_t scan_time_ = -1;
};

// Everything needed to decode one device's touch: its touch report, its
// class (override table or descriptor), and a decoder with the slot count
// the class or the descriptor gives.
struct touch_device {
    touch_layout touch;
    device_class cls;
    mt_decoder decoder;
};

// Fails for a device without a touch report (no Contact ID). `quirks`
// replaces the class's quirks (configuration for a board that needs it).
[[nodiscard]] result<touch_device> touch_device_for(const descriptor& d, uint16_t vendor, uint16_t product,
                                                    std::optional<uint32_t> quirks = std::nullopt);

}  // namespace bbt::drivers::hid
